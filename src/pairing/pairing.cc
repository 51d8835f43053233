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
// The point updates share their products with the lines (DoublingStep, AdditionStep below).
#include "cipherchart/pairing/pairing.h"

#include <algorithm>
#include <cassert>

#include "cipherchart/common/secret.h"
#include "cipherchart/pairing/parallel.h"

namespace cipherchart::pairing {
namespace {

using Line = G2Prepared::Line;

// Tangent line at T, then T = 2T, sharing the squarings: the doubling of Costello, Lange,
// Naehrig (PKC 2010) in the form of Aranha, Karabina, Longa, Gebotys, Lopez, "Faster explicit
// formulas for computing pairings over ordinary curves" (Eurocrypt 2011), eq. (10), scaled by 4
// to avoid the halvings: 3 multiplications and 6 squarings in Fp2 (21 Fp multiplications),
// against 9 for the line plus 22 for the complete doubling of curve.cc. Not complete, but T = [m]Q with
// 0 < m < |x| < r is never the identity or of order 2 here.
Line DoublingStep(G2& t) {
  const Fp2 &x = t.X(), &y = t.Y(), &z = t.Z();
  const Fp2 yy = y.Square(), zz = z.Square(), xx = x.Square();
  const Fp2 e = G2Curve::MulByB3(zz);            // 3b' Z^2
  const Fp2 f = e.Double() + e;                  // 9b' Z^2
  const Fp2 h = (y + z).Square() - yy - zz;      // 2YZ
  const Line l{yy - e, -(xx.Double() + xx), h};  // the line of the derivation above
  const Fp2 e2 = e.Square();
  t = G2((x * y * (yy - f)).Double(),                               // 2XY (Y^2 - 9b'Z^2)
         (yy + f).Square() - (e2.Double() + e2).Double().Double(),  // (Y^2 + 9b'Z^2)^2 - 12 E^2
         (yy * h).Double().Double());                               // 8 Y^3 Z
  return l;
}

// Chord through T and the affine Q = (qx, qy), then T = T + Q: the mixed addition of the same
// paper, eq. (11) (11 multiplications and 2 squarings in Fp2 with the line). T != +-Q for the
// same reason as above.
Line AdditionStep(G2& t, const Fp2& qx, const Fp2& qy) {
  const Fp2 theta = t.Y() - qy * t.Z();
  const Fp2 lambda = t.X() - qx * t.Z();
  const Line l{theta * qx - lambda * qy, -theta, lambda};
  const Fp2 c = theta.Square(), d = lambda.Square();
  const Fp2 e = lambda * d, g = t.X() * d;
  const Fp2 h = e + t.Z() * c - g.Double();
  t = G2(lambda * h, theta * (g - h) - t.Y() * e, t.Z() * e);
  return l;
}

// A line evaluated at P: a0 + a1 v + b1 v w (Fp12::MulByLine's shape).
struct LineValue {
  Fp2 a0, a1, b1;
};

LineValue Evaluate(const Line& l, const Fp& px, const Fp& py) { return {l.c0, l.c1 * px, l.c2 * py}; }

// Multiplies line values into f two at a time: the product of two lines costs 6 Fp2
// multiplications and has one zero coefficient (c1.c0), and f times it costs 17, against 2 x 13
// for two sparse products. Only products of pairs have two lines per step; a lone last line
// (odd count) takes the sparse product, when the multiplier goes out of scope.
class LineMultiplier {
 public:
  explicit LineMultiplier(Fp12& f) : f_(f) {}
  LineMultiplier(const LineMultiplier&) = delete;
  LineMultiplier& operator=(const LineMultiplier&) = delete;
  ~LineMultiplier() {
    if (pending_) f_ = f_.MulByLine(held_.a0, held_.a1, held_.b1);
  }
  void Add(const LineValue& l) {
    if (pending_) {
      MulByTwo(held_, l);
    } else {
      held_ = l;
    }
    pending_ = !pending_;
  }

 private:
  // f *= l * m. With l = (a0 + a1 v) + (b1 v) w and m likewise (primed):
  //   l m = [a0 a0' + xi b1 b1', a0 a1' + a1 a0', a1 a1'] + [0, a0 b1' + b1 a0', a1 b1' + b1 a1'] w
  // (Karatsuba for the three mixed sums), then f (L0 + L1 w) by Karatsuba over w with a dense
  // Fp6 product for L0 and a 2-coefficient one for L1.
  void MulByTwo(const LineValue& l, const LineValue& m) {
    const Fp2 aa = l.a0 * m.a0, cc = l.a1 * m.a1, bb = l.b1 * m.b1;
    const Fp6 l0{aa + bb.MulByXi(), (l.a0 + l.a1) * (m.a0 + m.a1) - aa - cc, cc};
    const Fp2 d = (l.a0 + l.b1) * (m.a0 + m.b1) - aa - bb;  // L1 = d v + e v^2
    const Fp2 e = (l.a1 + l.b1) * (m.a1 + m.b1) - cc - bb;
    const Fp6 t0 = f_.c0 * l0;
    const Fp6 t1 = MulBy12(f_.c1, d, e);
    const Fp6 s = (f_.c0 + f_.c1) * Fp6{l0.c0, l0.c1 + d, l0.c2 + e};
    f_ = {t0 + t1.MulByV(), s - t0 - t1};
  }
  // g (d v + e v^2) = xi (g1 e + g2 d) + (g0 d + xi g2 e) v + (g0 e + g1 d) v^2: 5 products.
  static Fp6 MulBy12(const Fp6& g, const Fp2& d, const Fp2& e) {
    const Fp2 g1d = g.c1 * d, g2e = g.c2 * e;
    return {((g.c1 + g.c2) * (d + e) - g1d - g2e).MulByXi(), g.c0 * d + g2e.MulByXi(), g.c0 * e + g1d};
  }

  Fp12& f_;
  LineValue held_;
  bool pending_ = false;
};

// The shared-accumulator loop: `step(f, add)` multiplies the lines of one step (doubling, or
// addition when `add`) of every pair into f. Returns f before the sign of x is applied.
template <class Step>
Fp12 SharedMillerLoop(Step&& step) {
  Fp12 f = Fp12::One();
  for (int i = 62; i >= 0; --i) {
    if (i != 62) f = f.Square();  // f = 1 before the first step
    step(f, false);
    if ((kBlsX >> i) & 1) step(f, true);
  }
  return f;
}

// Pairs per chunk below which a multi-pairing is not split: a chunk costs its own 62 Fp12
// squarings and a wake-up of a pool thread (together about one pair's worth of lines).
constexpr std::size_t kMinChunkPairs = 4;

// prod over chunks of loop(begin, end), the Miller product of pairs [begin, end), computed over
// ParallelChunks when n is large enough. The Miller loop of a product is the product of the
// Miller loops (exact field arithmetic), so the split does not change the result.
template <class Loop>
Fp12 SplitMillerLoop(std::size_t n, Loop&& loop) {
  const std::size_t chunks =
      std::max<std::size_t>(1, std::min<std::size_t>(ParallelWidth(), n / kMinChunkPairs));
  if (chunks == 1) return loop(0, n);
  std::vector<Fp12> part(chunks);
  const std::size_t base = n / chunks, extra = n % chunks;
  const auto begin = [&](std::size_t c) { return c * base + std::min(c, extra); };
  ParallelChunks(chunks, [&](std::size_t c_begin, std::size_t c_end) {
    for (std::size_t c = c_begin; c < c_end; ++c) part[c] = loop(begin(c), begin(c + 1));
  });
  Fp12 f = part[0];
  for (std::size_t c = 1; c < chunks; ++c) f *= part[c];
  return f;
}

Fp12 ApplySign(const Fp12& f) { return kBlsXIsNegative ? f.Conjugate() : f; }

}  // namespace

G2Prepared::~G2Prepared() {
  if (!lines_.empty()) SecureWipe(lines_.data(), lines_.size() * sizeof(Line));
}

G2Prepared::G2Prepared(const G2& q) {
  const auto qa = q.ToAffine();
  identity_ = qa.infinity;
  if (identity_) return;
  lines_.reserve(70);
  G2 t = G2::FromAffineUnchecked(qa.x, qa.y);
  for (int i = 62; i >= 0; --i) {
    lines_.push_back(DoublingStep(t));
    if ((kBlsX >> i) & 1) lines_.push_back(AdditionStep(t, qa.x, qa.y));
  }
}

Fp12 MillerLoopProduct(std::span<const G1> ps, std::span<const G2Prepared* const> qs) {
  assert(ps.size() == qs.size() && "MillerLoopProduct: one G2 point per G1 point");
  struct Pair {
    Fp x, y;
    const G2Prepared* q;
  };
  std::vector<G1Affine> pa(ps.size());
  G1::BatchToAffine(ps, pa);
  std::vector<Pair> pairs;
  pairs.reserve(ps.size());
  for (std::size_t i = 0; i < ps.size(); ++i) {
    if (pa[i].infinity || qs[i]->is_identity()) continue;  // e(O, Q) = e(P, O) = 1
    pairs.push_back({pa[i].x, pa[i].y, qs[i]});
  }
  return ApplySign(SplitMillerLoop(pairs.size(), [&](std::size_t lo, std::size_t hi) {
    std::size_t line = 0;
    return SharedMillerLoop([&](Fp12& f, bool) {
      LineMultiplier mul(f);
      for (std::size_t j = lo; j < hi; ++j)
        mul.Add(Evaluate(pairs[j].q->lines()[line], pairs[j].x, pairs[j].y));
      ++line;
    });
  }));
}

Fp12 MillerLoopProduct(std::span<const G1> ps, std::span<const G2> qs) {
  assert(ps.size() == qs.size() && "MillerLoopProduct: one G2 point per G1 point");
  struct Pair {
    Fp x, y;
    Fp2 qx, qy;
  };
  std::vector<G1Affine> pa(ps.size());
  std::vector<G2Affine> qa(qs.size());
  G1::BatchToAffine(ps, pa);
  G2::BatchToAffine(qs, qa);
  std::vector<Pair> pairs;
  pairs.reserve(ps.size());
  for (std::size_t i = 0; i < ps.size(); ++i) {
    if (pa[i].infinity || qa[i].infinity) continue;  // e(O, Q) = e(P, O) = 1
    pairs.push_back({pa[i].x, pa[i].y, qa[i].x, qa[i].y});
  }
  return ApplySign(SplitMillerLoop(pairs.size(), [&](std::size_t lo, std::size_t hi) {
    // Each pair's T runs through the multiples of its Q in step with the shared accumulator.
    std::vector<G2> t(hi - lo);
    for (std::size_t j = lo; j < hi; ++j) t[j - lo] = G2::FromAffineUnchecked(pairs[j].qx, pairs[j].qy);
    return SharedMillerLoop([&](Fp12& f, bool add) {
      LineMultiplier mul(f);
      for (std::size_t j = lo; j < hi; ++j) {
        const Pair& pr = pairs[j];
        const Line l = add ? AdditionStep(t[j - lo], pr.qx, pr.qy) : DoublingStep(t[j - lo]);
        mul.Add(Evaluate(l, pr.x, pr.y));
      }
    });
  }));
}

Fp12 MillerLoop(const G1& p, const G2& q) {
  return MillerLoopProduct(std::span<const G1>(&p, 1), std::span<const G2>(&q, 1));
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
  return Gt::FromFp12Unchecked(FinalExponentiation(MillerLoopProduct(ps, qs)));
}

}  // namespace cipherchart::pairing
