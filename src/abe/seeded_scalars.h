// TEST ONLY: a deterministic scalar source for the schemes' *With(random) entry points
// (fame_kp_internal.h, maabe_internal.h), used by the known-answer tests and the fuzz seed
// corpus: each scalar is Fr::FromBytesWide of the next 64 bytes of DeterministicRandom(seed).
// The objects it makes protect nothing.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include "cipherchart/common/error.h"
#include "cipherchart/pairing/field.h"
#include "src/envelope/test_random.h"

namespace cipherchart::abe::testing {

inline std::function<Result<pairing::Fr>()> SeededScalars(std::string_view seed) {
  auto rng = std::make_shared<envelope::testing::DeterministicRandom>(seed);
  return [rng]() -> Result<pairing::Fr> {
    std::array<std::uint8_t, 64> wide{};
    if (auto ok = rng->Fill(wide); !ok) return std::unexpected(ok.error());
    return pairing::Fr::FromBytesWide(wide);
  };
}

}  // namespace cipherchart::abe::testing
