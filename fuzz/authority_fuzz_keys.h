// The fixed trust anchor and time the authority-certificate fuzz target verifies against, shared
// with fuzz_make_seeds (which signs its seed certificates with this root key, so that mutations
// start from chains that verify). Fuzzing only: the key is public.
#pragma once

#include <cstdint>
#include <vector>

#include "cipherchart/abe/authority.h"
#include "cipherchart/envelope/signature.h"

namespace cipherchart::fuzz {

inline constexpr const char* kFuzzRootNamespace = "hospital_a";
// Inside the validity of every seed certificate except the deliberately expired one.
inline constexpr std::uint64_t kFuzzNow = 1'800'000'000;

inline const envelope::Ed25519SigningKey& FuzzRootKey() {
  static const envelope::Ed25519SigningKey key =
      *envelope::Ed25519SigningKey::FromSeed(SecretBytes(std::vector<std::uint8_t>(32, 0x5A)));
  return key;
}

inline const std::vector<abe::TrustedRoot>& FuzzTrustedRoots() {
  static const std::vector<abe::TrustedRoot> roots = {{kFuzzRootNamespace, FuzzRootKey().public_key()}};
  return roots;
}

}  // namespace cipherchart::fuzz
