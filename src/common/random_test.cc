#include "cipherchart/common/random.h"

#include <gtest/gtest.h>

#include <array>
#include <bitset>

namespace cipherchart {
namespace {

TEST(RandomTest, FillsEveryByteAndLooksUniform) {
  std::array<std::uint8_t, 4096> buf{};
  ASSERT_TRUE(FillRandom(buf).has_value());
  // 32768 bits: the count of ones is ~N(16384, 90); 6 sigma either side fails.
  std::size_t ones = 0;
  for (auto b : buf) ones += std::bitset<8>(b).count();
  EXPECT_GT(ones, 16384u - 540u);
  EXPECT_LT(ones, 16384u + 540u);
}

TEST(RandomTest, EmptyRequestSucceeds) {
  std::span<std::uint8_t> none;
  EXPECT_TRUE(FillRandom(none).has_value());
}

}  // namespace
}  // namespace cipherchart
