// G1 and G2: group law, scalar multiplication (constant-time, variable-time, fixed-base,
// MSM) and subgroup checks.
#include "cipherchart/pairing/curve.h"

#include <gtest/gtest.h>

#include "src/pairing/test_util.h"

namespace cipherchart::pairing {
namespace {

using testing::TestRng;

// A point on the curve that is (with overwhelming probability) not in G1/G2: a random x with
// a square root, no cofactor clearing.
G1 RandomCurvePointG1(TestRng& rng) {
  for (;;) {
    const Fp x = rng.RandomFp();
    if (auto y = SqrtFp(x.Square() * x + Fp::FromU64(4))) return G1::FromAffineUnchecked(x, *y);
  }
}
G2 RandomCurvePointG2(TestRng& rng) {
  for (;;) {
    const Fp2 x = rng.RandomFp2();
    if (auto y = SqrtFp2(x.Square() * x + G2Curve::MulByB(Fp2::One()))) return G2::FromAffineUnchecked(x, *y);
  }
}

template <class Point>
void CheckGroupLaws(const Point& p, const Point& q, const Point& s) {
  EXPECT_EQ((p + q) + s, p + (q + s));
  EXPECT_EQ(p + q, q + p);
  EXPECT_EQ(p + Point::Identity(), p);
  EXPECT_EQ(Point::Identity() + p, p);
  EXPECT_TRUE((p - p).IsIdentity());
  EXPECT_EQ(p.Double(), p + p);  // complete formulas: P + P works too
  EXPECT_TRUE(Point::Identity().Double().IsIdentity());
  EXPECT_TRUE((p + q).IsOnCurve());
  const auto a = q.ToAffine();
  EXPECT_EQ(p.AddAffine(a.x, a.y), p + q);
  EXPECT_EQ(Point::Identity().AddAffine(a.x, a.y), q);
  EXPECT_EQ(q.AddAffine(a.x, a.y), q.Double());
}

TEST(CurveTest, GeneratorsAreOnTheCurveAndInTheSubgroup) {
  EXPECT_TRUE(G1::Generator().IsOnCurve());
  EXPECT_TRUE(G2::Generator().IsOnCurve());
  EXPECT_TRUE(G1::Generator().IsInSubgroup());
  EXPECT_TRUE(G2::Generator().IsInSubgroup());
  // r * G = O, checked the slow way.
  EXPECT_TRUE(G1::Generator().MulVartime(Fr::kModulus).IsIdentity());
  EXPECT_TRUE(G2::Generator().MulVartime(Fr::kModulus).IsIdentity());
}

TEST(CurveTest, GroupLawsHoldInG1AndG2) {
  TestRng rng(20);
  for (int i = 0; i < 20; ++i) {
    CheckGroupLaws(rng.RandomG1(), rng.RandomG1(), rng.RandomG1());
    CheckGroupLaws(rng.RandomG2(), rng.RandomG2(), rng.RandomG2());
  }
}

TEST(CurveTest, ConstantTimeMulAgreesWithDoubleAndAdd) {
  TestRng rng(21);
  for (int i = 0; i < 30; ++i) {
    const Fr k = rng.RandomFr();
    const G1 p = rng.RandomG1();
    const G2 q = rng.RandomG2();
    EXPECT_EQ(p.Mul(k), p.MulVartime(k));
    EXPECT_EQ(q.Mul(k), q.MulVartime(k));
  }
  const G1 g = G1::Generator();
  EXPECT_TRUE(g.Mul(Fr::Zero()).IsIdentity());
  EXPECT_EQ(g.Mul(Fr::One()), g);
  EXPECT_EQ(g.Mul(-Fr::One()), -g);
  EXPECT_TRUE(G1::Identity().Mul(rng.RandomFr()).IsIdentity());
}

TEST(CurveTest, BaseXDigitsRecombineToTheScalar) {
  TestRng rng(28);
  const Fr b = Fr::FromU64(kBlsX);
  std::vector<Fr> scalars = {Fr::Zero(), Fr::One(), -Fr::One(), b, b * b, b * b * b, -b, b - Fr::One()};
  for (int i = 0; i < 500; ++i) scalars.push_back(rng.RandomFr());
  for (const Fr& k : scalars) {
    const auto d = detail::SplitScalarBaseX(k.ToCanonical());
    Fr sum = Fr::Zero(), pow = Fr::One();
    for (int i = 0; i < 4; ++i) {
      EXPECT_LT(d[i], kBlsX);
      sum += Fr::FromU64(d[i]) * pow;
      pow *= b;
    }
    EXPECT_EQ(sum, k) << k.ToHex();
  }
}

TEST(CurveTest, EndomorphismMulHandlesEdgeScalars) {
  TestRng rng(29);
  const Fr b = Fr::FromU64(kBlsX);
  const G1 p = rng.RandomG1();
  const G2 q = rng.RandomG2();
  for (const Fr& k : {Fr::Zero(), Fr::One(), -Fr::One(), b, -b, b * b, b * b * b, b * b * b + Fr::One()}) {
    EXPECT_EQ(p.Mul(k), p.MulVartime(k)) << k.ToHex();
    EXPECT_EQ(q.Mul(k), q.MulVartime(k)) << k.ToHex();
  }
  EXPECT_TRUE(G2::Identity().Mul(rng.RandomFr()).IsIdentity());
}

TEST(CurveTest, ScalarMultiplicationIsLinear) {
  TestRng rng(22);
  for (int i = 0; i < 10; ++i) {
    const Fr a = rng.RandomFr(), b = rng.RandomFr();
    const G1 p = rng.RandomG1();
    EXPECT_EQ(p.Mul(a) + p.Mul(b), p.Mul(a + b));
    EXPECT_EQ(p.Mul(a).Mul(b), p.Mul(a * b));
    const G2 q = rng.RandomG2();
    EXPECT_EQ(q.Mul(a) + q.Mul(b), q.Mul(a + b));
  }
}

TEST(CurveTest, FixedBaseTablesAgreeWithPlainMul) {
  TestRng rng(23);
  const FixedBaseTable<G1> t1(G1::Generator());
  const FixedBaseTable<G2> t2(G2::Generator());
  for (int i = 0; i < 30; ++i) {
    const Fr k = rng.RandomFr();
    EXPECT_EQ(t1.Mul(k), G1::Generator().Mul(k));
    EXPECT_EQ(t2.Mul(k), G2::Generator().Mul(k));
  }
  EXPECT_TRUE(t1.Mul(Fr::Zero()).IsIdentity());
  EXPECT_EQ(t1.Mul(-Fr::One()), -G1::Generator());
  EXPECT_EQ(t1.Mul(Fr::FromU64(16)), G1::Generator().MulVartime(std::array<u64, 1>{16}));
}

TEST(CurveTest, MsmAgreesWithSumOfProducts) {
  TestRng rng(24);
  for (std::size_t n : {0, 1, 2, 7, 31, 32, 100, 256}) {
    std::vector<G1> ps(n);
    std::vector<Fr> ks(n);
    G1 want = G1::Identity();
    for (std::size_t i = 0; i < n; ++i) {
      ps[i] = rng.RandomG1();
      ks[i] = rng.RandomFr();
      want += ps[i].MulVartime(ks[i]);
    }
    EXPECT_EQ(MsmVartime(ps, ks), want) << "n = " << n;
  }
  std::vector<G2> qs(40);
  std::vector<Fr> ks(40);
  G2 want = G2::Identity();
  for (std::size_t i = 0; i < qs.size(); ++i) {
    qs[i] = rng.RandomG2();
    ks[i] = rng.RandomFr();
    want += qs[i].MulVartime(ks[i]);
  }
  EXPECT_EQ(MsmVartime(qs, ks), want);
}

TEST(CurveTest, BatchAffineConversionHandlesIdentities) {
  TestRng rng(25);
  std::vector<G1> ps = {rng.RandomG1(), G1::Identity(), rng.RandomG1(), G1::Identity()};
  std::vector<G1Affine> out(ps.size());
  G1::BatchToAffine(ps, out);
  for (std::size_t i = 0; i < ps.size(); ++i) {
    EXPECT_EQ(out[i].infinity, ps[i].IsIdentity());
    EXPECT_EQ(G1::FromAffine(out[i]), ps[i]);
  }
}

TEST(CurveTest, SubgroupChecksAgreeWithMultiplicationByR) {
  TestRng rng(26);
  for (int i = 0; i < 20; ++i) {
    const G1 p = RandomCurvePointG1(rng);
    EXPECT_TRUE(p.IsOnCurve());
    EXPECT_EQ(p.IsInSubgroup(), p.MulVartime(Fr::kModulus).IsIdentity());
    EXPECT_FALSE(p.IsInSubgroup());
    const G2 q = RandomCurvePointG2(rng);
    EXPECT_TRUE(q.IsOnCurve());
    EXPECT_EQ(q.IsInSubgroup(), q.MulVartime(Fr::kModulus).IsIdentity());
    EXPECT_FALSE(q.IsInSubgroup());
    EXPECT_TRUE(rng.RandomG1().IsInSubgroup());
    EXPECT_TRUE(rng.RandomG2().IsInSubgroup());
  }
}

TEST(CurveTest, EndomorphismsActAsScalarsOnTheSubgroups) {
  TestRng rng(27);
  const G1 p = rng.RandomG1();
  EXPECT_EQ(Phi(p), -p.MulByX().MulByX());
  const G2 q = rng.RandomG2();
  EXPECT_EQ(Psi(q), q.MulByX());
  EXPECT_TRUE(Psi(RandomCurvePointG2(rng)).IsOnCurve());
}

}  // namespace
}  // namespace cipherchart::pairing
