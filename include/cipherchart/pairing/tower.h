// The extension tower of BLS12-381 (low tier):
//   Fp2  = Fp[u]  / (u^2 + 1)
//   Fp6  = Fp2[v] / (v^3 - xi),  xi = u + 1
//   Fp12 = Fp6[w] / (w^2 - v)
// as fixed by draft-irtf-cfrg-pairing-friendly-curves-11, section 4.2.1. All arithmetic is
// constant-time in the operands. Multiplication formulas: Karatsuba for Fp2 and Fp12,
// Devegili-O'hEigeartaigh-Scott-Dahab "Multiplication and Squaring on Pairing-Friendly Fields"
// (2006) for Fp6 (Karatsuba, section 4) and the CH-SQR2 squaring (Chung-Hasan, section 4.2).
// Cyclotomic squaring: Granger-Scott, "Faster Squaring in the Cyclotomic Subgroup of Sixth
// Degree Extensions", PKC 2010, section 3.2.
#pragma once

#include <span>
#include <vector>

#include "cipherchart/pairing/field.h"

namespace cipherchart::pairing {

struct Fp2 {
  Fp c0, c1;  // c0 + c1*u

  static Fp2 Zero() { return {}; }
  static Fp2 One() { return {Fp::One(), Fp::Zero()}; }
  friend Fp2 operator+(const Fp2& a, const Fp2& b) { return {a.c0 + b.c0, a.c1 + b.c1}; }
  friend Fp2 operator-(const Fp2& a, const Fp2& b) { return {a.c0 - b.c0, a.c1 - b.c1}; }
  Fp2 operator-() const { return {-c0, -c1}; }
  friend Fp2 operator*(const Fp2& a, const Fp2& b) {
    // Karatsuba: (a0 + a1 u)(b0 + b1 u) = (a0b0 - a1b1) + ((a0+a1)(b0+b1) - a0b0 - a1b1) u
    const Fp v0 = a.c0 * b.c0;
    const Fp v1 = a.c1 * b.c1;
    return {v0 - v1, (a.c0 + a.c1) * (b.c0 + b.c1) - v0 - v1};
  }
  friend Fp2 operator*(const Fp2& a, const Fp& s) { return {a.c0 * s, a.c1 * s}; }
  Fp2& operator+=(const Fp2& b) { return *this = *this + b; }
  Fp2& operator-=(const Fp2& b) { return *this = *this - b; }
  Fp2& operator*=(const Fp2& b) { return *this = *this * b; }
  Fp2 Square() const {
    // (c0 + c1 u)^2 = (c0 + c1)(c0 - c1) + 2 c0 c1 u
    const Fp t = c0 * c1;
    return {(c0 + c1) * (c0 - c1), t + t};
  }
  Fp2 Double() const { return {c0.Double(), c1.Double()}; }
  // Multiplication by the non-residue xi = u + 1: (c0 - c1) + (c0 + c1) u.
  Fp2 MulByXi() const { return {c0 - c1, c0 + c1}; }
  // The p-power Frobenius of Fp2 is conjugation (p = 3 mod 4, so u^p = -u).
  Fp2 Conjugate() const { return {c0, -c1}; }
  // Norm to Fp: c0^2 + c1^2.
  Fp Norm() const { return c0.Square() + c1.Square(); }
  // Inverse(0) = 0.
  Fp2 Inverse() const {
    const Fp n = Norm().Inverse();
    return {c0 * n, -(c1 * n)};
  }
  template <std::size_t M>
  Fp2 Pow(const detail::Limbs<M>& e) const;  // public exponent

  bool IsZero() const { return c0.IsZero() & c1.IsZero(); }
  u64 IsZeroMask() const { return c0.IsZeroMask() & c1.IsZeroMask(); }
  friend bool operator==(const Fp2& a, const Fp2& b) { return (a.c0 == b.c0) & (a.c1 == b.c1); }
  static Fp2 Select(u64 mask, const Fp2& a, const Fp2& b) {
    return {Fp::Select(mask, a.c0, b.c0), Fp::Select(mask, a.c1, b.c1)};
  }
  // RFC 9380 section 4.1 sgn0 for m = 2: sgn0(c0) OR (c0 == 0 AND sgn0(c1)).
  u64 Sgn0() const { return c0.Sgn0() | (c0.IsZeroMask() & 1 & c1.Sgn0()); }
  // Zcash "lexicographically largest": c1 > (p-1)/2, or c1 == 0 and c0 > (p-1)/2. Mask.
  u64 IsLargestMask() const { return c1.IsLargestMask() | (c1.IsZeroMask() & c0.IsLargestMask()); }
};

// sqrt in Fp2 by Adj & Rodriguez-Henriquez, "Square Root Computation over Even Extension
// Fields", IEEE TC 2014, Algorithm 9 (q = 3 mod 4). kNoSquareRoot if a is not a square.
Result<Fp2> SqrtFp2(const Fp2& a);
// Whether a is a square in Fp2 (a^((p^2-1)/2) != -1, computed via the norm). Constant-time.
bool IsSquareFp2(const Fp2& a);

struct Fp6 {
  Fp2 c0, c1, c2;  // c0 + c1 v + c2 v^2

  static Fp6 Zero() { return {}; }
  static Fp6 One() { return {Fp2::One(), Fp2::Zero(), Fp2::Zero()}; }
  friend Fp6 operator+(const Fp6& a, const Fp6& b) { return {a.c0 + b.c0, a.c1 + b.c1, a.c2 + b.c2}; }
  friend Fp6 operator-(const Fp6& a, const Fp6& b) { return {a.c0 - b.c0, a.c1 - b.c1, a.c2 - b.c2}; }
  Fp6 operator-() const { return {-c0, -c1, -c2}; }
  friend Fp6 operator*(const Fp6& a, const Fp6& b) {
    // Karatsuba over the cubic extension (Devegili et al. 2006, section 4): 6 Fp2 products.
    const Fp2 v0 = a.c0 * b.c0, v1 = a.c1 * b.c1, v2 = a.c2 * b.c2;
    const Fp2 t0 = ((a.c1 + a.c2) * (b.c1 + b.c2) - v1 - v2).MulByXi() + v0;
    const Fp2 t1 = (a.c0 + a.c1) * (b.c0 + b.c1) - v0 - v1 + v2.MulByXi();
    const Fp2 t2 = (a.c0 + a.c2) * (b.c0 + b.c2) - v0 - v2 + v1;
    return {t0, t1, t2};
  }
  friend Fp6 operator*(const Fp6& a, const Fp2& s) { return {a.c0 * s, a.c1 * s, a.c2 * s}; }
  Fp6& operator+=(const Fp6& b) { return *this = *this + b; }
  Fp6& operator-=(const Fp6& b) { return *this = *this - b; }
  Fp6& operator*=(const Fp6& b) { return *this = *this * b; }
  Fp6 Square() const {
    // CH-SQR2 (Chung-Hasan; Devegili et al. 2006, section 4.2): 2 products + 3 squarings.
    const Fp2 s0 = c0.Square();
    const Fp2 s1 = (c0 * c1).Double();
    const Fp2 s2 = (c0 - c1 + c2).Square();
    const Fp2 s3 = (c1 * c2).Double();
    const Fp2 s4 = c2.Square();
    return {s3.MulByXi() + s0, s4.MulByXi() + s1, s1 + s2 + s3 - s0 - s4};
  }
  // Multiplication by v: (c0, c1, c2) -> (xi c2, c0, c1).
  Fp6 MulByV() const { return {c2.MulByXi(), c0, c1}; }
  // Product with the sparse element (b0 + b1 v).
  Fp6 MulBy01(const Fp2& b0, const Fp2& b1) const {
    const Fp2 v0 = c0 * b0, v1 = c1 * b1;
    return {(c2 * b1).MulByXi() + v0,         // c0 b0 + xi c2 b1
            (c0 + c1) * (b0 + b1) - v0 - v1,  // c0 b1 + c1 b0
            c2 * b0 + v1};                    // c1 b1 + c2 b0
  }
  // Product with the sparse element (b1 v).
  Fp6 MulBy1(const Fp2& b1) const { return {(c2 * b1).MulByXi(), c0 * b1, c1 * b1}; }
  Fp6 Inverse() const;
  Fp6 Frobenius() const;  // x -> x^p

  bool IsZero() const { return c0.IsZero() & c1.IsZero() & c2.IsZero(); }
  friend bool operator==(const Fp6& a, const Fp6& b) {
    return (a.c0 == b.c0) & (a.c1 == b.c1) & (a.c2 == b.c2);
  }
  static Fp6 Select(u64 mask, const Fp6& a, const Fp6& b) {
    return {Fp2::Select(mask, a.c0, b.c0), Fp2::Select(mask, a.c1, b.c1), Fp2::Select(mask, a.c2, b.c2)};
  }
};

struct Fp12 {
  Fp6 c0, c1;  // c0 + c1 w

  static Fp12 Zero() { return {}; }
  static Fp12 One() { return {Fp6::One(), Fp6::Zero()}; }
  friend Fp12 operator+(const Fp12& a, const Fp12& b) { return {a.c0 + b.c0, a.c1 + b.c1}; }
  friend Fp12 operator-(const Fp12& a, const Fp12& b) { return {a.c0 - b.c0, a.c1 - b.c1}; }
  friend Fp12 operator*(const Fp12& a, const Fp12& b) {
    // Karatsuba over the quadratic extension: 3 Fp6 products.
    const Fp6 v0 = a.c0 * b.c0, v1 = a.c1 * b.c1;
    return {v0 + v1.MulByV(), (a.c0 + a.c1) * (b.c0 + b.c1) - v0 - v1};
  }
  Fp12& operator*=(const Fp12& b) { return *this = *this * b; }
  Fp12 Square() const {
    // Complex squaring: (c0 + c1 w)^2 = (c0 + c1)(c0 + v c1) - (1 + v) c0c1 + 2 c0c1 w.
    const Fp6 t = c0 * c1;
    return {(c0 + c1) * (c0 + c1.MulByV()) - t - t.MulByV(), t + t};
  }
  // x^(p^6): w -> -w. On the cyclotomic subgroup this is the inverse.
  Fp12 Conjugate() const { return {c0, -c1}; }
  Fp12 Inverse() const;
  Fp12 Frobenius() const;  // x -> x^p
  Fp12 Frobenius2() const { return Frobenius().Frobenius(); }
  Fp12 Frobenius3() const { return Frobenius2().Frobenius(); }
  // Product with a line value l = a0 + a1 v + b1 v w (positions 0, 1 and 4 of the 6 Fp2
  // coefficients), the shape the Miller loop produces (see pairing.cc).
  Fp12 MulByLine(const Fp2& a0, const Fp2& a1, const Fp2& b1) const {
    const Fp6 t0 = c0.MulBy01(a0, a1);
    const Fp6 t1 = c1.MulBy1(b1);
    const Fp6 s = (c0 + c1).MulBy01(a0, a1 + b1);
    return {t0 + t1.MulByV(), s - t0 - t1};
  }
  // Squaring valid only in the cyclotomic subgroup (elements with x^(p^6+1) = 1), Granger-Scott.
  Fp12 CyclotomicSquare() const;
  // x^|BLS x| for x in the cyclotomic subgroup (the sign is applied by the caller).
  Fp12 CyclotomicPowX() const;

  bool IsOne() const { return *this == One(); }
  bool IsZero() const { return c0.IsZero() & c1.IsZero(); }
  friend bool operator==(const Fp12& a, const Fp12& b) { return (a.c0 == b.c0) & (a.c1 == b.c1); }
  static Fp12 Select(u64 mask, const Fp12& a, const Fp12& b) {
    return {Fp6::Select(mask, a.c0, b.c0), Fp6::Select(mask, a.c1, b.c1)};
  }
};

// Replaces every element of `v` by its inverse with one field inversion and 3(n-1)
// multiplications (Montgomery's trick); zeros stay zero. Constant-time in the values (zeros
// are substituted by 1 with a select, not skipped). Works for Fp, Fr, Fp2, Fp6 and Fp12.
template <class F>
void BatchInvert(std::span<F> v) {
  if (v.empty()) return;
  std::vector<F> prefix(v.size());
  F acc = F::One();
  for (std::size_t i = 0; i < v.size(); ++i) {
    prefix[i] = acc;
    acc = acc * F::Select(0 - u64(v[i].IsZero()), F::One(), v[i]);
  }
  F inv = acc.Inverse();
  for (std::size_t i = v.size(); i-- > 0;) {
    const u64 zero = 0 - u64(v[i].IsZero());
    const F nonzero = F::Select(zero, F::One(), v[i]);
    v[i] = F::Select(zero, F::Zero(), inv * prefix[i]);
    inv = inv * nonzero;
  }
}

template <std::size_t M>
Fp2 Fp2::Pow(const detail::Limbs<M>& e) const {
  Fp2 acc = One();
  for (std::size_t i = detail::BitLength(e); i-- > 0;) {
    acc = acc.Square();
    if ((e[i / 64] >> (i % 64)) & 1) acc *= *this;
  }
  return acc;
}

}  // namespace cipherchart::pairing
