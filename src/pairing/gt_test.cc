// GtFixedBase against Gt::Pow (itself checked against PowVartime in pairing_test.cc) on random
// scalars and on edge scalars of the base-|x| split and the signed recoding.
#include "cipherchart/pairing/gt.h"

#include <gtest/gtest.h>

#include <vector>

#include "cipherchart/pairing/pairing.h"
#include "src/pairing/test_util.h"

namespace cipherchart::pairing {
namespace {

using testing::TestRng;

Fr FrFromLimbs(const std::array<u64, 4>& v) { return Fr::FromCanonical(v); }

// d0 + d1 |x| + d2 |x|^2 + d3 |x|^3 (mod r): a scalar with chosen base-|x| digits.
Fr FromDigits(u64 d0, u64 d1, u64 d2, u64 d3) {
  const Fr x = Fr::FromU64(kBlsX);
  return Fr::FromU64(d0) + x * (Fr::FromU64(d1) + x * (Fr::FromU64(d2) + x * Fr::FromU64(d3)));
}

// 0, small values, the recoding's boundaries (31, 32, 33: a digit of +-32 and the first
// carry), 2^63 and 2^64 around the split's digit size, |x| and its powers, the largest digits,
// digits whose every 6-bit window is 32 or 63 (a carry out of every window), and r - 1, r - 2.
std::vector<Fr> EdgeScalars() {
  const u64 x = kBlsX;
  const u64 all32 = 0x0820820820820820, all63 = ~u64{0};
  return {Fr::Zero(),
          Fr::One(),
          Fr::FromU64(2),
          Fr::FromU64(31),
          Fr::FromU64(32),
          Fr::FromU64(33),
          Fr::FromU64(63),
          Fr::FromU64(64),
          Fr::FromU64(u64{1} << 63),
          Fr::FromU64(~u64{0}),
          FrFromLimbs({0, 1, 0, 0}),  // 2^64
          FrFromLimbs({0, 0, 0, 1}),  // 2^192
          Fr::FromU64(x - 1),
          Fr::FromU64(x),
          FromDigits(0, 0, 1, 0),
          FromDigits(0, 0, 0, 1),
          FromDigits(x - 1, x - 1, x - 1, 0),
          FromDigits(x - 1, x - 1, x - 1, 0x73eda753299d7d48),  // near the top digit's limit
          FromDigits(all32, all32, all32, all32),
          FromDigits(all32 | (u64{1} << 63), 0x2082082082082082, all32 >> 1, 5),
          FromDigits(0x0fffffffffffffff, 0x8000000000000000, 1, 0x4000000000000000),
          -Fr::One(),
          -Fr::FromU64(2),
          FromDigits(all63 >> 1, all63 >> 2, all63 >> 3, 0)};
}

TEST(GtFixedBaseTest, PowMatchesGtPow) {
  TestRng rng(35);
  const Gt bases[] = {Pairing(G1::Generator(), G2::Generator()), Pairing(rng.RandomG1(), rng.RandomG2())};
  for (const Gt& base : bases) {
    const GtFixedBase fixed(base);
    EXPECT_EQ(fixed.base(), base);
    const auto edges = EdgeScalars();
    for (std::size_t e = 0; e < edges.size(); ++e)
      EXPECT_EQ(fixed.Pow(edges[e]), base.Pow(edges[e])) << "edge " << e;
    for (int i = 0; i < 30; ++i) {
      const Fr k = rng.RandomFr();
      EXPECT_EQ(fixed.Pow(k), base.Pow(k));
    }
  }
  EXPECT_TRUE(GtFixedBase(bases[0]).Pow(Fr::Zero()).IsIdentity());
  EXPECT_EQ(GtFixedBase(bases[0]).Pow(-Fr::One()), bases[0].Inverse());
}

TEST(GtFixedBaseTest, IdentityBaseAndCopies) {
  TestRng rng(36);
  const GtFixedBase one(Gt::Identity());
  EXPECT_TRUE(one.Pow(rng.RandomFr()).IsIdentity());
  const Gt base = Pairing(rng.RandomG1(), rng.RandomG2());
  const GtFixedBase fixed(base);
  GtFixedBase copy(Gt::Identity());
  copy = fixed;  // tables are plain values
  const Fr k = rng.RandomFr();
  EXPECT_EQ(copy.Pow(k), base.PowVartime(k));
  // Homomorphic in k: base^(a + b) = base^a base^b.
  const Fr a = rng.RandomFr(), b = rng.RandomFr();
  EXPECT_EQ(fixed.Pow(a + b), fixed.Pow(a) * fixed.Pow(b));
}

}  // namespace
}  // namespace cipherchart::pairing
