#include "cipherchart/common/secret.h"

#include <gtest/gtest.h>

#include <vector>

namespace cipherchart {
namespace {

std::vector<std::uint8_t> Bytes(std::initializer_list<int> v) { return {v.begin(), v.end()}; }

TEST(SecretBytesTest, CopiesInputAndComparesByContent) {
  auto raw = Bytes({1, 2, 3, 4});
  SecretBytes a(raw), b(raw);
  EXPECT_EQ(a.size(), 4u);
  EXPECT_TRUE(a == b);
  raw[0] = 9;  // the secret owns its own copy
  EXPECT_EQ(a.data()[0], 1);
  EXPECT_FALSE(a == SecretBytes(raw));
}

TEST(SecretBytesTest, DifferentLengthsAreNotEqual) {
  EXPECT_FALSE(SecretBytes(Bytes({1, 2, 3})) == SecretBytes(Bytes({1, 2, 3, 0})));
  EXPECT_TRUE(SecretBytes() == SecretBytes());
}

TEST(SecretBytesTest, EqualityLooksAtEveryByte) {
  // A difference in the last byte only must still be seen.
  std::vector<std::uint8_t> x(64, 0xAB), y(64, 0xAB);
  y[63] ^= 1;
  EXPECT_FALSE(ConstantTimeEqual(x, y));
  y[63] ^= 1;
  EXPECT_TRUE(ConstantTimeEqual(x, y));
}

TEST(SecretBytesTest, MoveLeavesSourceEmpty) {
  SecretBytes a(Bytes({5, 6, 7}));
  SecretBytes b(std::move(a));
  EXPECT_EQ(b.size(), 3u);
  EXPECT_EQ(a.size(), 0u);  // NOLINT(bugprone-use-after-move): documented state
  EXPECT_EQ(a.data(), nullptr);
}

TEST(SecretBytesTest, ClearWipesAndReleases) {
  SecretBytes a(Bytes({5, 6, 7}));
  a.Clear();
  EXPECT_TRUE(a.empty());
  EXPECT_EQ(a.data(), nullptr);
}

TEST(SecretBytesTest, SecureWipeZeroesTheBuffer) {
  std::vector<std::uint8_t> buf(32, 0x5A);
  SecureWipe(buf.data(), buf.size());
  for (auto b : buf) EXPECT_EQ(b, 0);
}

TEST(SecretBytesTest, RedactedShowsOnlyTheLength) {
  SecretBytes a(Bytes({0x41, 0x42, 0x43}));
  EXPECT_EQ(a.Redacted(), "<secret: 3 bytes>");
  EXPECT_EQ(a.Redacted().find("ABC"), std::string::npos);
}

TEST(SecretBytesTest, RandomSecretsDiffer) {
  auto a = SecretBytes::Random(32);
  auto b = SecretBytes::Random(32);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->size(), 32u);
  EXPECT_FALSE(*a == *b);
}

}  // namespace
}  // namespace cipherchart
