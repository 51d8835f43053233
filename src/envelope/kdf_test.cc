#include "cipherchart/envelope/kdf.h"

#include <gtest/gtest.h>

#include <vector>

#include "src/envelope/test_vectors.h"

namespace cipherchart::envelope {
namespace {

using testing::ReadVectors;
using testing::ToHex;

TEST(HkdfTest, Rfc5869TestCases1To3) {
  const auto vectors = ReadVectors("hkdf_sha256_rfc5869.txt");
  ASSERT_EQ(vectors.size(), 3u);
  for (const auto& v : vectors) {
    SCOPED_TRACE("vector at line " + std::to_string(v.line));
    const auto ikm = v.Hex("IKM"), salt = v.Hex("Salt"), info = v.Hex("Info");
    const std::size_t length = v.Number("L");
    auto okm = HkdfSha256(ikm, salt, info, length);
    ASSERT_TRUE(okm) << okm.error().ToString();
    EXPECT_EQ(ToHex(okm->span()), v.Get("OKM"));
    auto prk = HkdfSha256Extract(ikm, salt);
    ASSERT_TRUE(prk) << prk.error().ToString();
    EXPECT_EQ(ToHex(prk->span()), v.Get("PRK"));
    auto expanded = HkdfSha256Expand(prk->span(), info, length);
    ASSERT_TRUE(expanded) << expanded.error().ToString();
    EXPECT_EQ(ToHex(expanded->span()), v.Get("OKM"));
  }
}

TEST(HkdfTest, EmptySaltMeansHashLenZeros) {
  const std::vector<std::uint8_t> ikm(22, 0x0b), zeros(32, 0);
  auto a = HkdfSha256(ikm, {}, {}, 42);
  auto b = HkdfSha256(ikm, zeros, {}, 42);
  ASSERT_TRUE(a && b);
  EXPECT_TRUE(*a == *b);
}

TEST(HkdfTest, LongestOutputIsAllowedAndOneMoreIsRefused) {
  const std::vector<std::uint8_t> ikm(32, 1);
  auto max = HkdfSha256(ikm, {}, {}, kHkdfSha256MaxOutput);
  ASSERT_TRUE(max) << max.error().ToString();
  EXPECT_EQ(max->size(), 8160u);
  auto over = HkdfSha256(ikm, {}, {}, kHkdfSha256MaxOutput + 1);
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(over.error().message().find("8161"), std::string::npos);
}

TEST(HkdfTest, ZeroLengthOutputIsRefused) {
  const std::vector<std::uint8_t> ikm(32, 1);
  auto r = HkdfSha256(ikm, {}, {}, 0);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
}

TEST(HkdfTest, InfoUpToTheLimitWorksAndLongerIsRefused) {
  const std::vector<std::uint8_t> ikm(32, 1), info(kHkdfMaxInfo, 7), longer(kHkdfMaxInfo + 1, 7);
  auto ok = HkdfSha256(ikm, {}, info, 32);
  ASSERT_TRUE(ok) << ok.error().ToString();
  auto r = HkdfSha256(ikm, {}, longer, 32);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
}

TEST(HkdfTest, EmptyInputKeyingMaterialIsRefused) {
  auto r = HkdfSha256({}, {}, {}, 32);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
}

TEST(HkdfTest, ExpandRefusesAShortPrk) {
  const std::vector<std::uint8_t> prk(31, 1);
  auto r = HkdfSha256Expand(prk, {}, 32);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
}

TEST(HkdfTest, DifferentInfoGivesUnrelatedKeys) {
  const std::vector<std::uint8_t> ikm(32, 1), a = {'a'}, b = {'b'};
  auto ka = HkdfSha256(ikm, {}, a, 32);
  auto kb = HkdfSha256(ikm, {}, b, 32);
  ASSERT_TRUE(ka && kb);
  EXPECT_FALSE(*ka == *kb);
}

}  // namespace
}  // namespace cipherchart::envelope
