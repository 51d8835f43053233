// Zcash encodings: the 0..999 * G vectors of zkcrypto/bls12_381 (shared/data/kat/bls12_381),
// both directions, and each class of malformed input with its own error.
#include <gtest/gtest.h>

#include "cipherchart/pairing/curve.h"
#include "src/pairing/test_util.h"

namespace cipherchart::pairing {
namespace {

using testing::TestRng;

std::vector<std::uint8_t> Kat(const std::string& name) {
  bool ok = false;
  const auto path = testing::SharedDataDir() + "/kat/bls12_381/" + name;
  auto data = testing::ReadFile(path, &ok);
  EXPECT_TRUE(ok) << "cannot read " << path << " (the shared test data must be beside the project)";
  return data;
}

template <class Point, std::size_t Size, class Encode, class Decode>
void CheckMultiplesOfGenerator(const std::string& file, Encode encode, Decode decode) {
  const auto data = Kat(file);
  ASSERT_EQ(data.size(), 1000 * Size) << file;
  Point acc = Point::Identity();
  for (std::size_t k = 0; k < 1000; ++k) {
    const std::span<const std::uint8_t> want(data.data() + k * Size, Size);
    const auto got = encode(acc);
    ASSERT_TRUE(std::equal(got.begin(), got.end(), want.begin())) << file << ": encoding of " << k << " * G";
    auto decoded = decode(want);
    ASSERT_TRUE(decoded.has_value()) << file << ": " << k << " * G: " << decoded.error().ToString();
    ASSERT_EQ(*decoded, acc) << file << ": decoding of " << k << " * G";
    acc += Point::Generator();
  }
}

TEST(EncodingTest, G1CompressedMultiplesOfGenerator) {
  CheckMultiplesOfGenerator<G1, 48>("g1_compressed_0_to_999_times_generator.dat", G1Compress, G1Decompress);
}
TEST(EncodingTest, G1UncompressedMultiplesOfGenerator) {
  CheckMultiplesOfGenerator<G1, 96>("g1_uncompressed_0_to_999_times_generator.dat", G1Serialize,
                                    G1Deserialize);
}
TEST(EncodingTest, G2CompressedMultiplesOfGenerator) {
  CheckMultiplesOfGenerator<G2, 96>("g2_compressed_0_to_999_times_generator.dat", G2Compress, G2Decompress);
}
TEST(EncodingTest, G2UncompressedMultiplesOfGenerator) {
  CheckMultiplesOfGenerator<G2, 192>("g2_uncompressed_0_to_999_times_generator.dat", G2Serialize,
                                     G2Deserialize);
}

template <class R>
ErrorCode CodeOf(const R& r) {
  EXPECT_FALSE(r.has_value());
  return r ? ErrorCode::kInternal : r.error().code();
}

TEST(EncodingTest, G1MalformedInputsGetPreciseErrors) {
  TestRng rng(40);
  const auto good = G1Compress(rng.RandomG1());
  // Length.
  EXPECT_EQ(CodeOf(G1Decompress(std::span(good).first(47))), ErrorCode::kInvalidEncoding);
  // Missing compression flag.
  auto b = good;
  b[0] &= 0x7f;
  EXPECT_EQ(CodeOf(G1Decompress(b)), ErrorCode::kBadFlags);
  // Infinity with sign, infinity with coordinates.
  std::array<std::uint8_t, 48> inf{};
  inf[0] = 0xc0;
  EXPECT_TRUE(G1Decompress(inf).has_value());
  inf[0] = 0xe0;
  EXPECT_EQ(CodeOf(G1Decompress(inf)), ErrorCode::kBadFlags);
  inf[0] = 0xc0;
  inf[47] = 1;
  EXPECT_EQ(CodeOf(G1Decompress(inf)), ErrorCode::kBadFlags);
  // x >= p.
  std::array<std::uint8_t, 48> big;
  big.fill(0xff);
  big[0] = 0x9f;
  EXPECT_EQ(CodeOf(G1Decompress(big)), ErrorCode::kNonCanonical);
  // x with no y: find one.
  for (u64 x = 1;; ++x) {
    const Fp fx = Fp::FromU64(x);
    if (!SqrtFp(fx.Square() * fx + Fp::FromU64(4))) {
      auto enc = fx.ToBytes();
      enc[0] |= 0x80;
      EXPECT_EQ(CodeOf(G1Decompress(enc)), ErrorCode::kNotOnCurve);
      break;
    }
  }
  // On the curve, not in the subgroup.
  for (u64 x = 1;; ++x) {
    const Fp fx = Fp::FromU64(x);
    if (auto y = SqrtFp(fx.Square() * fx + Fp::FromU64(4))) {
      const G1 p = G1::FromAffineUnchecked(fx, *y);
      ASSERT_FALSE(p.IsInSubgroup());
      EXPECT_EQ(CodeOf(G1Decompress(G1Compress(p))), ErrorCode::kNotInSubgroup);
      EXPECT_EQ(CodeOf(G1Deserialize(G1Serialize(p))), ErrorCode::kNotInSubgroup);
      EXPECT_TRUE(G1DecompressUnchecked(G1Compress(p)).has_value());
      break;
    }
  }
  // Uncompressed: compression flag set, sign flag set, off-curve point.
  auto u = G1Serialize(rng.RandomG1());
  auto u2 = u;
  u2[0] |= 0x80;
  EXPECT_EQ(CodeOf(G1Deserialize(u2)), ErrorCode::kBadFlags);
  u2 = u;
  u2[0] |= 0x20;
  EXPECT_EQ(CodeOf(G1Deserialize(u2)), ErrorCode::kBadFlags);
  u2 = u;
  u2[95] ^= 1;
  EXPECT_EQ(CodeOf(G1Deserialize(u2)), ErrorCode::kNotOnCurve);
}

TEST(EncodingTest, G2MalformedInputsGetPreciseErrors) {
  TestRng rng(41);
  const auto good = G2Compress(rng.RandomG2());
  EXPECT_EQ(CodeOf(G2Decompress(std::span(good).first(95))), ErrorCode::kInvalidEncoding);
  auto b = good;
  b[0] &= 0x7f;
  EXPECT_EQ(CodeOf(G2Decompress(b)), ErrorCode::kBadFlags);
  b = good;
  b[48] = 0xff;  // c0 >= p
  b[49] = 0xff;
  for (int i = 48; i < 96; ++i) b[i] = 0xff;
  EXPECT_EQ(CodeOf(G2Decompress(b)), ErrorCode::kNonCanonical);
  auto u = G2Serialize(rng.RandomG2());
  u[191] ^= 1;
  EXPECT_EQ(CodeOf(G2Deserialize(u)), ErrorCode::kNotOnCurve);
  // A curve point outside G2.
  for (u64 x = 1;; ++x) {
    const Fp2 fx{Fp::FromU64(x), Fp::One()};
    if (auto y = SqrtFp2(fx.Square() * fx + G2Curve::MulByB(Fp2::One()))) {
      const G2 q = G2::FromAffineUnchecked(fx, *y);
      EXPECT_EQ(CodeOf(G2Decompress(G2Compress(q))), ErrorCode::kNotInSubgroup);
      EXPECT_EQ(CodeOf(G2Deserialize(G2Serialize(q))), ErrorCode::kNotInSubgroup);
      break;
    }
  }
}

TEST(EncodingTest, RandomBytesNeverCrashTheDecoders) {
  // Whatever a decoder accepts must be a valid subgroup point; everything else is an error.
  TestRng rng(42);
  int accepted = 0;
  auto check = [&](const auto& r) {
    if (!r) return;
    ++accepted;
    EXPECT_TRUE(r->IsOnCurve());
    EXPECT_TRUE(r->IsInSubgroup());
  };
  for (int i = 0; i < 2000; ++i) {
    const auto bytes = rng.Bytes(192);
    for (std::size_t n : {47, 48, 96, 192}) {
      const std::span<const std::uint8_t> s(bytes.data(), n);
      check(G1Decompress(s));
      check(G1Deserialize(s));
      check(G2Decompress(s));
      check(G2Deserialize(s));
    }
  }
  EXPECT_EQ(accepted, 0);  // random bytes essentially never form a valid point
}

TEST(EncodingTest, ScalarsRejectValuesNotBelowR) {
  auto r_bytes = Fr::Zero().ToBytes();
  for (std::size_t i = 0; i < 32; ++i) {
    const std::size_t bit = 8 * (31 - i);
    r_bytes[i] = static_cast<std::uint8_t>(Fr::kModulus[bit / 64] >> (bit % 64));
  }
  EXPECT_EQ(CodeOf(FrFromBytes(r_bytes)), ErrorCode::kNonCanonical);
  r_bytes[31] -= 1;
  auto ok = FrFromBytes(r_bytes);
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(*ok, -Fr::One());
  EXPECT_EQ(FrToBytes(*ok), r_bytes);
}

}  // namespace
}  // namespace cipherchart::pairing
