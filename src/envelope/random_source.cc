#include "cipherchart/envelope/random_source.h"

#include "cipherchart/common/random.h"

namespace cipherchart::envelope {
namespace {

class OsRandomSource final : public RandomSource {
 public:
  Result<void> Fill(std::span<std::uint8_t> out) override { return FillRandom(out); }
};

}  // namespace

RandomSource& OsRandom() {
  static OsRandomSource source;
  return source;
}

}  // namespace cipherchart::envelope
