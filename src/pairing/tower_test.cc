// Fp2/Fp6/Fp12: ring axioms, inverses, square roots, Frobenius against plain exponentiation
// and the cyclotomic operations against generic ones.
#include <gtest/gtest.h>

#include "cipherchart/pairing/pairing.h"
#include "src/pairing/test_util.h"

namespace cipherchart::pairing {
namespace {

using testing::TestRng;

Fp12 PowPlain(const Fp12& f, const auto& e) {
  Fp12 acc = Fp12::One();
  for (std::size_t i = detail::BitLength(e); i-- > 0;) {
    acc = acc.Square();
    if ((e[i / 64] >> (i % 64)) & 1) acc *= f;
  }
  return acc;
}

TEST(TowerTest, Fp2MultiplicationMatchesSchoolbook) {
  TestRng rng(10);
  for (int i = 0; i < 500; ++i) {
    const Fp2 a = rng.RandomFp2(), b = rng.RandomFp2();
    const Fp2 want{a.c0 * b.c0 - a.c1 * b.c1, a.c0 * b.c1 + a.c1 * b.c0};  // u^2 = -1
    EXPECT_EQ(a * b, want);
    EXPECT_EQ(a.Square(), a * a);
    EXPECT_EQ(a.MulByXi(), (a * Fp2{Fp::One(), Fp::One()}));
    if (!a.IsZero()) {
      EXPECT_EQ(a * a.Inverse(), Fp2::One());
    }
  }
}

TEST(TowerTest, Fp2SqrtFindsRootsAndRejectsNonSquares) {
  TestRng rng(11);
  int rejected = 0;
  for (int i = 0; i < 100; ++i) {
    const Fp2 a = rng.RandomFp2();
    auto s = SqrtFp2(a.Square());
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(s->Square(), a.Square());
    const Fp2 b = rng.RandomFp2();
    auto t = SqrtFp2(b);
    EXPECT_EQ(t.has_value(), IsSquareFp2(b));
    rejected += !t.has_value();
  }
  EXPECT_GT(rejected, 20);
  // Elements of Fp that are non-squares in Fp are squares in Fp2 (roots c*u).
  auto r = SqrtFp2(Fp2{-Fp::One(), Fp::Zero()});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->Square(), (Fp2{-Fp::One(), Fp::Zero()}));
}

TEST(TowerTest, Fp6AndFp12RingAxiomsAndInverses) {
  TestRng rng(12);
  for (int i = 0; i < 50; ++i) {
    const Fp12 a = rng.RandomFp12(), b = rng.RandomFp12(), c = rng.RandomFp12();
    EXPECT_EQ((a * b) * c, a * (b * c));
    EXPECT_EQ(a * b, b * a);
    EXPECT_EQ(a.Square(), a * a);
    EXPECT_EQ(a * a.Inverse(), Fp12::One());
    EXPECT_EQ(a.c0 * a.c0.Inverse(), Fp6::One());
    EXPECT_EQ(a.c0.Square(), a.c0 * a.c0);
    // v^3 = xi: multiplying by v three times is multiplying by xi.
    EXPECT_EQ(a.c0.MulByV().MulByV().MulByV(), (a.c0 * Fp2{Fp::One(), Fp::One()}));
  }
}

TEST(TowerTest, SparseProductsMatchDenseProducts) {
  TestRng rng(13);
  for (int i = 0; i < 50; ++i) {
    const Fp12 f = rng.RandomFp12();
    const Fp2 a0 = rng.RandomFp2(), a1 = rng.RandomFp2(), b1 = rng.RandomFp2();
    Fp12 line = Fp12::Zero();
    line.c0.c0 = a0;
    line.c0.c1 = a1;
    line.c1.c1 = b1;
    EXPECT_EQ(f.MulByLine(a0, a1, b1), f * line);
  }
}

TEST(TowerTest, FrobeniusIsThePthPower) {
  TestRng rng(14);
  const Fp12 f = rng.RandomFp12();
  EXPECT_EQ(f.Frobenius(), PowPlain(f, Fp::kModulus));
  EXPECT_EQ(f.Frobenius2(), PowPlain(PowPlain(f, Fp::kModulus), Fp::kModulus));
  // Frobenius has order 12.
  Fp12 g = f;
  for (int i = 0; i < 12; ++i) g = g.Frobenius();
  EXPECT_EQ(g, f);
  EXPECT_EQ(f.Conjugate(), [&] {
    Fp12 h = f;
    for (int i = 0; i < 6; ++i) h = h.Frobenius();
    return h;
  }());
}

TEST(TowerTest, CyclotomicSquareMatchesSquareInTheCyclotomicSubgroup) {
  TestRng rng(15);
  for (int i = 0; i < 20; ++i) {
    const Fp12 f = rng.RandomFp12();
    Fp12 t = f.Conjugate() * f.Inverse();  // f^(p^6 - 1)
    t = t.Frobenius2() * t;                // ^(p^2 + 1): now cyclotomic
    EXPECT_EQ(t.CyclotomicSquare(), t.Square());
    EXPECT_EQ(t.CyclotomicPowX(), PowPlain(t, std::array<u64, 1>{kBlsX}));
  }
}

TEST(TowerTest, BatchInversionMatchesSingleInversionsAndKeepsZeros) {
  TestRng rng(17);
  std::vector<Fp2> v;
  v.reserve(20);
  for (int i = 0; i < 20; ++i) v.push_back(i % 7 == 3 ? Fp2::Zero() : rng.RandomFp2());
  std::vector<Fp2> inv = v;
  BatchInvert(std::span<Fp2>(inv));
  for (std::size_t i = 0; i < v.size(); ++i) EXPECT_EQ(inv[i], v[i].Inverse());
  std::vector<Fr> w = {rng.RandomFr(), Fr::Zero(), rng.RandomFr()};
  std::vector<Fr> winv = w;
  BatchInvert(std::span<Fr>(winv));
  for (std::size_t i = 0; i < w.size(); ++i) EXPECT_EQ(winv[i], w[i].Inverse());
}

TEST(TowerTest, FinalExponentiationLandsInGt) {
  TestRng rng(16);
  const Fp12 f = FinalExponentiation(rng.RandomFp12());
  EXPECT_TRUE(Gt::IsInGroup(f));
  EXPECT_FALSE(f.IsOne());
}

}  // namespace
}  // namespace cipherchart::pairing
