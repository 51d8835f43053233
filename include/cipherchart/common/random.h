// Randomness from the OS CSPRNG (OpenSSL's RAND_bytes, seeded by getrandom()).
#pragma once

#include <cstdint>
#include <span>

#include "cipherchart/common/error.h"

namespace cipherchart {

// Fills `out` with cryptographically secure random bytes. Fails with kRandomnessFailure (and
// leaves `out` wiped) if the CSPRNG cannot deliver; never returns predictable bytes.
Result<void> FillRandom(std::span<std::uint8_t> out);

}  // namespace cipherchart
