// RandomSource: where the envelope layer gets its randomness (stream salts and nonce prefixes,
// Ed25519 seeds, Argon2 salts, AES-GCM nonces).
//
// Production code uses OsRandom(), the OS CSPRNG (cipherchart::FillRandom). The interface exists
// so that tests can inject a seeded deterministic source and produce fixed known-answer vectors;
// that source lives in test code only (src/envelope/test_random.h) and must never be linked
// into anything that seals real data.
#pragma once

#include <cstdint>
#include <span>

#include "cipherchart/common/error.h"

namespace cipherchart::envelope {

class RandomSource {
 public:
  virtual ~RandomSource() = default;
  // Fills `out` entirely, or fails with kRandomnessFailure (and leaves `out` wiped).
  virtual Result<void> Fill(std::span<std::uint8_t> out) = 0;
};

// The OS CSPRNG. Stateless; the returned object lives for the whole program and is safe to use
// from several threads at once.
RandomSource& OsRandom();

}  // namespace cipherchart::envelope
