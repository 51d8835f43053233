// Fp and Fr: against GMP as an independent reference, plus encodings and field axioms.
#include "cipherchart/pairing/field.h"

#include <gmp.h>
#include <gtest/gtest.h>

#include "src/pairing/test_util.h"

namespace cipherchart::pairing {
namespace {

using testing::TestRng;

// A GMP integer from canonical limbs, and back.
template <std::size_t N>
void ToMpz(mpz_t out, const std::array<u64, N>& limbs) {
  mpz_import(out, N, -1, sizeof(u64), 0, 0, limbs.data());
}
template <std::size_t N>
std::array<u64, N> FromMpz(const mpz_t in) {
  std::array<u64, N> out{};
  size_t count = 0;
  mpz_export(out.data(), &count, -1, sizeof(u64), 0, 0, in);
  return out;
}

template <class F>
class GmpField {
 public:
  GmpField() {
    mpz_inits(m_, a_, b_, r_, nullptr);
    ToMpz(m_, F::kModulus);
  }
  ~GmpField() { mpz_clears(m_, a_, b_, r_, nullptr); }

  // Checks +, -, *, square, inverse of a and b against GMP.
  void Check(const F& a, const F& b) {
    ToMpz(a_, a.ToCanonical());
    ToMpz(b_, b.ToCanonical());
    mpz_add(r_, a_, b_);
    mpz_mod(r_, r_, m_);
    EXPECT_EQ((a + b).ToCanonical(), FromMpz<F::kLimbs>(r_)) << "add " << a.ToHex() << " " << b.ToHex();
    mpz_sub(r_, a_, b_);
    mpz_mod(r_, r_, m_);
    EXPECT_EQ((a - b).ToCanonical(), FromMpz<F::kLimbs>(r_)) << "sub " << a.ToHex() << " " << b.ToHex();
    mpz_mul(r_, a_, b_);
    mpz_mod(r_, r_, m_);
    EXPECT_EQ((a * b).ToCanonical(), FromMpz<F::kLimbs>(r_)) << "mul " << a.ToHex() << " " << b.ToHex();
    mpz_mul(r_, a_, a_);
    mpz_mod(r_, r_, m_);
    EXPECT_EQ(a.Square().ToCanonical(), FromMpz<F::kLimbs>(r_)) << "square " << a.ToHex();
    mpz_neg(r_, a_);
    mpz_mod(r_, r_, m_);
    EXPECT_EQ((-a).ToCanonical(), FromMpz<F::kLimbs>(r_)) << "neg " << a.ToHex();
  }
  void CheckInverse(const F& a) {
    ToMpz(a_, a.ToCanonical());
    ASSERT_NE(mpz_invert(r_, a_, m_), 0);
    EXPECT_EQ(a.Inverse().ToCanonical(), FromMpz<F::kLimbs>(r_)) << "inverse " << a.ToHex();
  }
  // Montgomery constants: R = 2^(64N) mod m, R^2 mod m.
  void CheckConstants() {
    mpz_set_ui(r_, 1);
    mpz_mul_2exp(r_, r_, 64 * F::kLimbs);
    mpz_mod(a_, r_, m_);
    EXPECT_EQ(F::kR, FromMpz<F::kLimbs>(a_));
    mpz_mul(b_, a_, a_);
    mpz_mod(b_, b_, m_);
    EXPECT_EQ(F::kR2, FromMpz<F::kLimbs>(b_));
  }

 private:
  mpz_t m_, a_, b_, r_;
};

// Values near the edges of the range catch carry bugs that uniform values rarely hit.
template <class F>
std::vector<F> EdgeValues() {
  std::vector<F> v = {F::Zero(), F::One(), -F::One(), F::FromU64(2), -F::FromU64(2), F::FromU64(~u64(0))};
  auto half = detail::DivSmall(F::kModulus, 2);
  v.push_back(F::FromCanonical(half));
  v.push_back(F::FromCanonical(detail::AddSmall(half, 1)));
  typename F::Limbs big{};
  for (std::size_t i = 0; i + 1 < F::kLimbs; ++i) big[i] = ~u64(0);
  v.push_back(F::FromCanonical(big));
  return v;
}

TEST(FieldTest, MontgomeryConstantsMatchGmp) {
  GmpField<Fp>().CheckConstants();
  GmpField<Fr>().CheckConstants();
}

TEST(FieldTest, FpArithmeticMatchesGmpOnTenThousandRandomPairs) {
  TestRng rng(0xF1E1D);
  GmpField<Fp> gmp;
  for (int i = 0; i < 10000; ++i) gmp.Check(rng.RandomFp(), rng.RandomFp());
  for (const auto& a : EdgeValues<Fp>()) {
    for (const auto& b : EdgeValues<Fp>()) gmp.Check(a, b);
  }
}

TEST(FieldTest, FrArithmeticMatchesGmpOnTenThousandRandomPairs) {
  TestRng rng(0xF2);
  GmpField<Fr> gmp;
  for (int i = 0; i < 10000; ++i) gmp.Check(rng.RandomFr(), rng.RandomFr());
  for (const auto& a : EdgeValues<Fr>()) {
    for (const auto& b : EdgeValues<Fr>()) gmp.Check(a, b);
  }
}

TEST(FieldTest, InversesMatchGmp) {
  TestRng rng(3);
  GmpField<Fp> gp;
  GmpField<Fr> gr;
  for (int i = 0; i < 200; ++i) {
    gp.CheckInverse(rng.RandomFp());
    gr.CheckInverse(rng.RandomFr());
  }
  EXPECT_TRUE(Fp::Zero().Inverse().IsZero());
}

TEST(FieldTest, FieldAxiomsHold) {
  TestRng rng(4);
  for (int i = 0; i < 500; ++i) {
    const Fp a = rng.RandomFp(), b = rng.RandomFp(), c = rng.RandomFp();
    EXPECT_EQ((a + b) + c, a + (b + c));
    EXPECT_EQ((a * b) * c, a * (b * c));
    EXPECT_EQ(a * (b + c), a * b + a * c);
    EXPECT_EQ(a * b, b * a);
    EXPECT_EQ(a + Fp::Zero(), a);
    EXPECT_EQ(a * Fp::One(), a);
    EXPECT_EQ(a - a, Fp::Zero());
    if (!a.IsZero()) {
      EXPECT_EQ(a * a.Inverse(), Fp::One());
    }
  }
}

TEST(FieldTest, SqrtFindsRootsOfSquaresAndRejectsNonSquares) {
  TestRng rng(5);
  int non_squares = 0;
  for (int i = 0; i < 200; ++i) {
    const Fp a = rng.RandomFp();
    auto s = SqrtFp(a.Square());
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(s->Square(), a.Square());
    const Fp b = rng.RandomFp();
    auto t = SqrtFp(b);
    EXPECT_EQ(t.has_value(), Legendre(b) >= 0);
    if (!t) {
      ++non_squares;
      EXPECT_EQ(t.error().code(), ErrorCode::kNoSquareRoot);
    }
  }
  EXPECT_GT(non_squares, 50);  // about half are non-squares
}

TEST(FieldTest, BytesRoundTripAndNonCanonicalIsRejected) {
  TestRng rng(6);
  for (int i = 0; i < 100; ++i) {
    const Fp a = rng.RandomFp();
    auto back = Fp::FromBytes(a.ToBytes());
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(*back, a);
  }
  // p itself and 2^384 - 1 are not canonical.
  std::array<std::uint8_t, 48> p_bytes{};
  for (std::size_t i = 0; i < 48; ++i) {
    const std::size_t bit = 8 * (47 - i);
    p_bytes[i] = static_cast<std::uint8_t>(Fp::kModulus[bit / 64] >> (bit % 64));
  }
  auto r = Fp::FromBytes(p_bytes);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kNonCanonical);
  p_bytes[47] -= 1;  // p - 1 is fine
  EXPECT_TRUE(Fp::FromBytes(p_bytes).has_value());
  std::array<std::uint8_t, 48> ones;
  ones.fill(0xff);
  EXPECT_EQ(Fp::FromBytes(ones).error().code(), ErrorCode::kNonCanonical);
  std::array<std::uint8_t, 47> short_input{};
  EXPECT_EQ(Fp::FromBytes(short_input).error().code(), ErrorCode::kInvalidEncoding);
}

TEST(FieldTest, WideReductionMatchesGmp) {
  TestRng rng(7);
  mpz_t m, v;
  mpz_inits(m, v, nullptr);
  ToMpz(m, Fp::kModulus);
  for (int i = 0; i < 500; ++i) {
    const auto bytes = rng.Bytes(64 + (i % 33));  // 64..96 bytes
    mpz_import(v, bytes.size(), 1, 1, 1, 0, bytes.data());
    mpz_mod(v, v, m);
    EXPECT_EQ(Fp::FromBytesWide(bytes).ToCanonical(), FromMpz<6>(v));
  }
  mpz_clears(m, v, nullptr);
}

TEST(FieldTest, Sgn0AndLargestFollowTheCanonicalValue) {
  EXPECT_EQ(Fp::FromU64(3).Sgn0(), 1u);
  EXPECT_EQ(Fp::FromU64(4).Sgn0(), 0u);
  EXPECT_EQ(Fp::FromU64(4).IsLargestMask(), 0u);
  EXPECT_EQ((-Fp::FromU64(4)).IsLargestMask(), ~u64(0));
}

}  // namespace
}  // namespace cipherchart::pairing
