// Out-of-line parts of the tower: inversions, Frobenius maps, square roots, cyclotomic
// arithmetic. See tower.h for the representation.
#include "cipherchart/pairing/tower.h"

namespace cipherchart::pairing {
namespace {

constexpr auto kP = Fp::kModulus;
constexpr auto kPMinus1 = detail::SubSmall(kP, 1);

// Frobenius constants, derived (not typed in): v^p = v * xi^((p-1)/3), v^(2p) = v^2 *
// xi^(2(p-1)/3), w^p = w * xi^((p-1)/6), because v^3 = xi and w^6 = xi.
struct FrobeniusConstants {
  Fp2 v1, v2, w1;
};

const FrobeniusConstants& Frob() {
  static const FrobeniusConstants k = [] {
    const Fp2 xi{Fp::One(), Fp::One()};
    FrobeniusConstants c;
    c.v1 = xi.Pow(detail::DivSmall(kPMinus1, 3));
    c.v2 = c.v1.Square();
    c.w1 = xi.Pow(detail::DivSmall(kPMinus1, 6));
    return c;
  }();
  return k;
}

}  // namespace

// ---- Fp square roots ----

Result<Fp> SqrtFp(const Fp& a) {
  static constexpr auto kExp = detail::DivSmall(detail::AddSmall(kP, 1), 4);  // (p+1)/4
  const Fp x = a.Pow(kExp);
  if (!(x.Square() == a)) return Fail(ErrorCode::kNoSquareRoot, "element of Fp is not a square");
  return x;
}

int Legendre(const Fp& a) {
  static constexpr auto kExp = detail::DivSmall(kPMinus1, 2);
  const Fp l = a.Pow(kExp);
  return a.IsZero() ? 0 : (l.IsOne() ? 1 : -1);
}

// ---- Fp2 square roots: Adj & Rodriguez-Henriquez 2014, Algorithm 9 (for F_{q^2} with
// q = p = 3 mod 4). Both branches are computed and the result selected, so the time does not
// depend on a. ----

Result<Fp2> SqrtFp2(const Fp2& a) {
  static constexpr auto kExp1 = detail::DivSmall(detail::SubSmall(kP, 3), 4);  // (p-3)/4
  static constexpr auto kExp2 = detail::DivSmall(kPMinus1, 2);                 // (p-1)/2
  const Fp2 a1 = a.Pow(kExp1);
  const Fp2 alpha = a1.Square() * a;  // a^((p-1)/2)
  const Fp2 x0 = a1 * a;              // a^((p+1)/4)
  const Fp2 minus_one{-Fp::One(), Fp::Zero()};
  const u64 alpha_is_minus_one = 0 - u64(alpha == minus_one);
  const Fp2 b = (Fp2::One() + alpha).Pow(kExp2);  // 0 when alpha = -1; then x = u * x0
  const Fp2 x = Fp2::Select(alpha_is_minus_one, Fp2{-x0.c1, x0.c0}, b * x0);
  if (!(x.Square() == a)) return Fail(ErrorCode::kNoSquareRoot, "element of Fp2 is not a square");
  return x;
}

bool IsSquareFp2(const Fp2& a) {
  // a is a square in Fp2 iff its norm is a square in Fp (or a = 0).
  return Legendre(a.Norm()) >= 0;
}

// ---- Fp6 / Fp12 ----

Fp6 Fp6::Inverse() const {
  // (c0 + c1 v + c2 v^2)^-1 = (A + B v + C v^2) / F with
  // A = c0^2 - xi c1 c2, B = xi c2^2 - c0 c1, C = c1^2 - c0 c2, F = c0 A + xi (c2 B + c1 C).
  const Fp2 a = c0.Square() - (c1 * c2).MulByXi();
  const Fp2 b = c2.Square().MulByXi() - c0 * c1;
  const Fp2 c = c1.Square() - c0 * c2;
  const Fp2 f_inv = (c0 * a + (c2 * b + c1 * c).MulByXi()).Inverse();
  return {a * f_inv, b * f_inv, c * f_inv};
}

Fp6 Fp6::Frobenius() const {
  const auto& k = Frob();
  return {c0.Conjugate(), c1.Conjugate() * k.v1, c2.Conjugate() * k.v2};
}

Fp12 Fp12::Inverse() const {
  // (c0 + c1 w)^-1 = (c0 - c1 w) / (c0^2 - v c1^2)
  const Fp6 d_inv = (c0.Square() - c1.Square().MulByV()).Inverse();
  return {c0 * d_inv, -(c1 * d_inv)};
}

Fp12 Fp12::Frobenius() const { return {c0.Frobenius(), c1.Frobenius() * Frob().w1}; }

Fp12 Fp12::CyclotomicSquare() const {
  // View Fp12 as Fp4[t]/(t^3 - s) with Fp4 = Fp2[s]/(s^2 - xi), s = w^3, t = w. With
  // c0 = a0 + a1 v + a2 v^2, c1 = b0 + b1 v + b2 v^2 (and v = w^2) the Fp4 coefficients are
  // A0 = a0 + b1 s, A1 = b0 + a2 s, A2 = a1 + b2 s. Granger-Scott (PKC 2010, section 3.2):
  //   A0' = 3 A0^2 - 2 conj(A0),  A1' = 3 s A2^2 + 2 conj(A1),  A2' = 3 A1^2 - 2 conj(A2)
  // where conj(x + y s) = x - y s.
  auto fp4_square = [](const Fp2& x, const Fp2& y, Fp2& rx, Fp2& ry) {
    const Fp2 xx = x.Square(), yy = y.Square();
    rx = xx + yy.MulByXi();
    ry = (x + y).Square() - xx - yy;
  };
  Fp2 t0, t1, t2, t3, t4, t5;
  fp4_square(c0.c0, c1.c1, t0, t1);                                                        // A0^2
  fp4_square(c1.c0, c0.c2, t4, t5);                                                        // A1^2
  fp4_square(c0.c1, c1.c2, t2, t3);                                                        // A2^2
  auto three_minus_two = [](const Fp2& t, const Fp2& x) { return (t - x).Double() + t; };  // 3t - 2x
  auto three_plus_two = [](const Fp2& t, const Fp2& x) { return (t + x).Double() + t; };   // 3t + 2x
  Fp12 r;
  r.c0.c0 = three_minus_two(t0, c0.c0);           // A0'.x
  r.c1.c1 = three_plus_two(t1, c1.c1);            // A0'.y
  r.c1.c0 = three_plus_two(t3.MulByXi(), c1.c0);  // A1'.x = 3 xi t3 + 2 b0
  r.c0.c2 = three_minus_two(t2, c0.c2);           // A1'.y = 3 t2 - 2 a2
  r.c0.c1 = three_minus_two(t4, c0.c1);           // A2'.x = 3 t4 - 2 a1
  r.c1.c2 = three_plus_two(t5, c1.c2);            // A2'.y = 3 t5 + 2 b2
  return r;
}

Fp12 Fp12::CyclotomicPowX() const {
  // |x| = 0xd201000000010000: bits 63, 62, 60, 57, 48 and 16 are set.
  Fp12 acc = *this;
  for (int i = 62; i >= 0; --i) {
    acc = acc.CyclotomicSquare();
    if ((kBlsX >> i) & 1) acc *= *this;
  }
  return acc;
}

}  // namespace cipherchart::pairing
