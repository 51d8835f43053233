// The fixed keys and record the envelope fuzz target opens with, shared with fuzz_make_seeds
// (which seals its seed envelopes under them, so that mutations start from inputs that open).
// Fuzzing only: these keys are public.
#pragma once

#include <cstdint>
#include <vector>

#include "cipherchart/envelope/envelope.h"
#include "cipherchart/envelope/passphrase_seal.h"

namespace cipherchart::fuzz {

inline const envelope::Ed25519SigningKey& FuzzAuthor() {
  static const envelope::Ed25519SigningKey key =
      *envelope::Ed25519SigningKey::FromSeed(SecretBytes(std::vector<std::uint8_t>(32, 0xA5)));
  return key;
}

inline const SecretBytes& FuzzKemKey() {
  static const SecretBytes key(std::vector<std::uint8_t>(envelope::kKemKeySize, 0x3C));
  return key;
}

inline envelope::EnvelopeExpectation EnvelopeFuzzExpectation() {
  return {"fuzz/record", 1, FuzzAuthor().public_key()};
}

inline const SecretBytes& FuzzPassphrase() {
  static const SecretBytes passphrase(std::vector<std::uint8_t>{'f', 'u', 'z', 'z'});
  return passphrase;
}

// Argon2 limits small enough that every accepted blob is cheap to open (at most 64 KiB, t = 2).
constexpr envelope::Argon2Limits kFuzzArgon2Limits{8, 64, 1, 2, 2};
constexpr const char* kFuzzPurpose = "fuzz";

}  // namespace cipherchart::fuzz
