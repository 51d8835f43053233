// Optimal ate pairing. See pairing.h for the papers followed.
//
// Line functions (derivation, M-type twist). E'/Fp2: y^2 = x^3 + b', b' = 4 xi, maps to
// E/Fp12: y^2 = x^3 + 4 by psi(x, y) = (x w^-2, y w^-3) (w^6 = xi). For a line through T' on E'
// with slope s, the line through psi(T') has slope s w^-1, and at P = (xP, yP):
//   l(P) = yP - y_T w^-3 - s w^-1 (xP - x_T w^-2).
// Multiplying by w^3 (which lies in Fp4, a subfield the final exponentiation kills) gives
//   l'(P) = (s x_T - y_T) + (-s xP) w^2 + yP w^3 = (s x_T - y_T) + (-s xP) v + yP v w,
// a sparse Fp12 element with coefficients at c0.c0, c0.c1 and c1.c1 (Fp12::MulByLine).
// Tangent at T = (X : Y : Z): s = 3X^2 / (2YZ). Scaling by 2YZ^2 and using the curve equation
// (3X^3 = 3Y^2 Z - 3b'Z^3), then dividing by Z:
//   c0 = Y^2 - 3b' Z^2,  c1 = -3 X^2,  c2 = 2 Y Z          (l = c0 + c1 xP v + c2 yP v w)
// Chord through T and affine Q = (x2, y2): with theta = Y - y2 Z, lambda = X - x2 Z, scaling
// by -(x2 Z - X):
//   c0 = theta x2 - lambda y2,  c1 = -theta,  c2 = lambda
// The point updates use the complete formulas of curve.cc (RCB Algorithms 8 and 9).
#include "cipherchart/pairing/pairing.h"

#include <cassert>

namespace cipherchart::pairing {

G2Prepared::G2Prepared(const G2& q) {
  const auto qa = q.ToAffine();
  identity_ = qa.infinity;
  if (identity_) return;
  lines_.reserve(70);
  G2 t = G2::FromAffineUnchecked(qa.x, qa.y);
  for (int i = 62; i >= 0; --i) {
    // Tangent line at T, then T = 2T.
    const Fp2 yy = t.Y().Square(), zz = t.Z().Square(), xx = t.X().Square();
    lines_.push_back({yy - G2Curve::MulByB3(zz), -(xx.Double() + xx), (t.Y() * t.Z()).Double()});
    t = t.Double();
    if ((kBlsX >> i) & 1) {
      // Chord through T and Q, then T = T + Q.
      const Fp2 theta = t.Y() - qa.y * t.Z();
      const Fp2 lambda = t.X() - qa.x * t.Z();
      lines_.push_back({theta * qa.x - lambda * qa.y, -theta, lambda});
      t = t.AddAffine(qa.x, qa.y);
    }
  }
}

Fp12 MillerLoopProduct(std::span<const G1> ps, std::span<const G2Prepared* const> qs) {
  assert(ps.size() == qs.size() && "MillerLoopProduct: one G2 point per G1 point");
  struct Pair {
    Fp x, y;
    const G2Prepared* q;
  };
  std::vector<Pair> pairs;
  pairs.reserve(ps.size());
  for (std::size_t i = 0; i < ps.size(); ++i) {
    const auto pa = ps[i].ToAffine();
    if (pa.infinity || qs[i]->is_identity()) continue;  // e(O, Q) = e(P, O) = 1
    pairs.push_back({pa.x, pa.y, qs[i]});
  }
  Fp12 f = Fp12::One();
  if (pairs.empty()) return f;
  std::size_t line = 0;
  auto apply = [&](std::size_t idx) {
    for (const auto& pr : pairs) {
      const auto& l = pr.q->lines()[idx];
      f = f.MulByLine(l.c0, l.c1 * pr.x, l.c2 * pr.y);
    }
  };
  for (int i = 62; i >= 0; --i) {
    if (i != 62) f = f.Square();  // f = 1 before the first step
    apply(line++);
    if ((kBlsX >> i) & 1) apply(line++);
  }
  return kBlsXIsNegative ? f.Conjugate() : f;
}

Fp12 MillerLoop(const G1& p, const G2& q) {
  const G2Prepared prepared(q);
  const G2Prepared* qs[] = {&prepared};
  return MillerLoopProduct(std::span<const G1>(&p, 1), qs);
}

namespace {

// f^|x| then the sign: f^x = conj(f^|x|) in the cyclotomic subgroup.
Fp12 PowX(const Fp12& f) {
  const Fp12 r = f.CyclotomicPowX();
  return kBlsXIsNegative ? r.Conjugate() : r;
}

}  // namespace

Fp12 FinalExponentiation(const Fp12& f) {
  // Easy part: f^((p^6 - 1)(p^2 + 1)). The result is in the cyclotomic subgroup.
  Fp12 t = f.Conjugate() * f.Inverse();
  t = t.Frobenius2() * t;
  // Hard part, times 3 (Hayashida-Hayasaka-Teruya 2020, section 4):
  //   3 (p^4 - p^2 + 1)/r = (x-1)^2 (x+p)(x^2+p^2-1) + 3 = l3 p^3 + l2 p^2 + l1 p + l0
  // with l3 = (x-1)^2, l2 = l3 x, l1 = l2 x - l3, l0 = l1 x + 3. Five exponentiations by x.
  const Fp12 t_x1 = PowX(t) * t.Conjugate();          // t^(x-1)
  const Fp12 a = PowX(t_x1) * t_x1.Conjugate();       // t^l3 = t^((x-1)^2)
  const Fp12 b = PowX(a);                             // t^l2
  const Fp12 c = PowX(b) * a.Conjugate();             // t^l1
  const Fp12 d = PowX(c) * t.CyclotomicSquare() * t;  // t^l0
  return d * c.Frobenius() * b.Frobenius2() * a.Frobenius3();
}

Gt Pairing(const G1& p, const G2Prepared& q) {
  const G2Prepared* qs[] = {&q};
  return Gt::FromFp12Unchecked(FinalExponentiation(MillerLoopProduct(std::span<const G1>(&p, 1), qs)));
}

Gt Pairing(const G1& p, const G2& q) { return Gt::FromFp12Unchecked(FinalExponentiation(MillerLoop(p, q))); }

Gt PairingProduct(std::span<const G1> ps, std::span<const G2Prepared* const> qs) {
  return Gt::FromFp12Unchecked(FinalExponentiation(MillerLoopProduct(ps, qs)));
}

Gt PairingProduct(std::span<const G1> ps, std::span<const G2> qs) {
  assert(ps.size() == qs.size() && "PairingProduct: one G2 point per G1 point");
  std::vector<G2Prepared> prepared;
  prepared.reserve(qs.size());
  std::vector<const G2Prepared*> ptrs;
  for (const auto& q : qs) {
    prepared.emplace_back(q);
    ptrs.push_back(&prepared.back());
  }
  return PairingProduct(ps, ptrs);
}

}  // namespace cipherchart::pairing
