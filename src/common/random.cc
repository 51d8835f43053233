#include "cipherchart/common/random.h"

#include <openssl/rand.h>

#include <climits>

#include "cipherchart/common/secret.h"

namespace cipherchart {

Result<void> FillRandom(std::span<std::uint8_t> out) {
  std::size_t done = 0;
  while (done < out.size()) {
    const std::size_t chunk = std::min<std::size_t>(out.size() - done, INT_MAX);
    if (RAND_bytes(out.data() + done, static_cast<int>(chunk)) != 1) {
      SecureWipe(out.data(), out.size());
      return Fail(ErrorCode::kRandomnessFailure, "the OS random number generator failed (RAND_bytes)");
    }
    done += chunk;
  }
  return {};
}

}  // namespace cipherchart
