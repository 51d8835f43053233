#include "cipherchart/envelope/signature.h"

#include <gtest/gtest.h>

#include "src/envelope/test_random.h"
#include "src/envelope/test_vectors.h"

namespace cipherchart::envelope {
namespace {

using testing::DeterministicRandom;
using testing::ReadVectors;
using testing::ToHex;

TEST(Ed25519Test, Rfc8032Tests1To3) {
  const auto vectors = ReadVectors("ed25519_rfc8032.txt");
  ASSERT_EQ(vectors.size(), 3u);
  for (const auto& v : vectors) {
    SCOPED_TRACE("vector at line " + std::to_string(v.line));
    auto key = Ed25519SigningKey::FromSeed(SecretBytes(v.Hex("SecretKey")));
    ASSERT_TRUE(key) << key.error().ToString();
    EXPECT_EQ(ToHex(key->public_key()), v.Get("PublicKey"));
    const auto message = v.Hex("Message");
    auto signature = key->Sign(message);
    ASSERT_TRUE(signature) << signature.error().ToString();
    EXPECT_EQ(ToHex(*signature), v.Get("Signature"));
    EXPECT_TRUE(Ed25519Verify(key->public_key(), message, v.Hex("Signature")));
  }
}

Ed25519SigningKey KeyFromSeed(std::string_view seed) {
  DeterministicRandom rng(seed);
  auto key = Ed25519SigningKey::Generate(rng);
  EXPECT_TRUE(key);
  return std::move(*key);
}

class Ed25519RejectTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = key_.Sign(message_);
    ASSERT_TRUE(s);
    signature_ = *s;
  }
  std::vector<std::uint8_t> message_ = {'r', 'e', 'c', 'o', 'r', 'd'};
  Ed25519SigningKey key_ = KeyFromSeed("ed25519-reject");
  Ed25519Signature signature_{};
};

TEST_F(Ed25519RejectTest, EveryFlippedSignatureBitFails) {
  for (std::size_t bit = 0; bit < signature_.size() * 8; ++bit) {
    Ed25519Signature bad = signature_;
    bad[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    auto r = Ed25519Verify(key_.public_key(), message_, bad);
    ASSERT_FALSE(r) << "bit " << bit;
    EXPECT_EQ(r.error().code(), ErrorCode::kIntegrity);
  }
}

TEST_F(Ed25519RejectTest, OtherMessageOrKeyFails) {
  auto other_message = message_;
  other_message.back() ^= 1;
  EXPECT_EQ(Ed25519Verify(key_.public_key(), other_message, signature_).error().code(),
            ErrorCode::kIntegrity);
  DeterministicRandom rng("ed25519-other");
  auto other = Ed25519SigningKey::Generate(rng);
  ASSERT_TRUE(other);
  EXPECT_EQ(Ed25519Verify(other->public_key(), message_, signature_).error().code(), ErrorCode::kIntegrity);
}

TEST_F(Ed25519RejectTest, NonCanonicalSIsRejected) {
  // S + L (L = 2^252 + 27742317777372353535851937790883648493) is the same scalar mod L but
  // not canonical; RFC 8032 section 5.1.7 requires rejecting S >= L.
  static constexpr std::uint8_t kL[32] = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
                                          0xa2, 0xde, 0xf9, 0xde, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                          0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10};
  Ed25519Signature bad = signature_;
  unsigned carry = 0;
  for (std::size_t i = 0; i < 32; ++i) {  // little-endian S in bytes 32..63
    const unsigned sum = bad[32 + i] + kL[i] + carry;
    bad[32 + i] = static_cast<std::uint8_t>(sum);
    carry = sum >> 8;
  }
  if (carry == 0 && bad[63] < 0x20) {  // S + L still fits the 253 bits a signature may use
    EXPECT_EQ(Ed25519Verify(key_.public_key(), message_, bad).error().code(), ErrorCode::kIntegrity);
  }
}

TEST_F(Ed25519RejectTest, WrongSignatureLengthIsAnArgumentError) {
  EXPECT_EQ(Ed25519Verify(key_.public_key(), message_, std::span(signature_).first(63)).error().code(),
            ErrorCode::kInvalidArgument);
}

TEST_F(Ed25519RejectTest, PublicKeyThatIsNotAPointFails) {
  // y = 2 is not the y-coordinate of any point on edwards25519.
  Ed25519PublicKey not_a_point{};
  not_a_point[0] = 2;
  auto r = Ed25519Verify(not_a_point, message_, signature_);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kIntegrity);
}

TEST(Ed25519Test, SeedMustBe32Bytes) {
  auto r = Ed25519SigningKey::FromSeed(SecretBytes(31));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
}

TEST(Ed25519Test, GeneratedKeysDifferAndRoundTripThroughTheirSeed) {
  auto a = Ed25519SigningKey::Generate();
  auto b = Ed25519SigningKey::Generate();
  ASSERT_TRUE(a && b);
  EXPECT_NE(a->public_key(), b->public_key());
  auto again = Ed25519SigningKey::FromSeed(a->seed());
  ASSERT_TRUE(again);
  EXPECT_EQ(again->public_key(), a->public_key());
}

}  // namespace
}  // namespace cipherchart::envelope
