#include "cipherchart/common/hex.h"

#include <gtest/gtest.h>

namespace cipherchart {
namespace {

TEST(Hex, RoundTripsAndRejectsMalformedText) {
  const std::vector<std::uint8_t> bytes = {0x00, 0x01, 0xab, 0xff};
  EXPECT_EQ(ToHex(bytes), "0001abff");
  EXPECT_EQ(FromHex("0001ABff"), bytes);
  EXPECT_EQ(FromHex(""), std::vector<std::uint8_t>{});
  EXPECT_FALSE(FromHex("abc").has_value());  // odd length
  EXPECT_FALSE(FromHex("0g").has_value());   // not a hex digit
  EXPECT_FALSE(FromHex("0 ").has_value());
  EXPECT_TRUE((FixedFromHex<2>("beef").has_value()));
  EXPECT_FALSE((FixedFromHex<2>("beefaa").has_value()));  // wrong length
}

}  // namespace
}  // namespace cipherchart
