// The groups G1 (over Fp, y^2 = x^3 + 4) and G2 (over Fp2, y^2 = x^3 + 4(u + 1), the M-type
// sextic twist) of BLS12-381, both of prime order r (the Fr modulus) after the subgroup check.
//
// Points are kept in homogeneous projective coordinates (X : Y : Z), x = X/Z, y = Y/Z, with
// the identity (0 : 1 : 0). Addition and doubling use the complete formulas of Renes,
// Costello, Batina, "Complete addition formulas for prime order elliptic curves", Eurocrypt
// 2016, Algorithms 7, 8 and 9 (a = 0): no special cases, so no branch on the points, which is
// what lets the constant-time scalar multiplication be simple.
//
// Secret inputs: Mul() and FixedBaseTable::Mul() are constant-time in the scalar and the point.
// Everything named *Vartime, MulByX, the subgroup checks, Msm and the decoders are
// variable-time and must only see public data.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "cipherchart/pairing/tower.h"

namespace cipherchart::pairing {

template <class F>
struct AffinePoint {
  F x, y;
  bool infinity = true;
};

template <class F, class Curve>
class ProjectivePoint {
 public:
  using Field = F;
  using Affine = AffinePoint<F>;

  ProjectivePoint() : x_(F::Zero()), y_(F::One()), z_(F::Zero()) {}
  ProjectivePoint(const F& x, const F& y, const F& z) : x_(x), y_(y), z_(z) {}
  static ProjectivePoint Identity() { return {}; }
  static ProjectivePoint Generator() { return FromAffineUnchecked(Curve::GeneratorX(), Curve::GeneratorY()); }
  // (x, y) as a point; no check that it is on the curve (IsOnCurve does that).
  static ProjectivePoint FromAffineUnchecked(const F& x, const F& y) { return {x, y, F::One()}; }
  static ProjectivePoint FromAffine(const Affine& a) {
    return a.infinity ? Identity() : FromAffineUnchecked(a.x, a.y);
  }

  const F& X() const { return x_; }
  const F& Y() const { return y_; }
  const F& Z() const { return z_; }

  // ---- group law (constant-time, complete) ----
  friend ProjectivePoint operator+(const ProjectivePoint& p, const ProjectivePoint& q) { return Add(p, q); }
  friend ProjectivePoint operator-(const ProjectivePoint& p, const ProjectivePoint& q) { return Add(p, -q); }
  ProjectivePoint operator-() const { return {x_, -y_, z_}; }
  ProjectivePoint& operator+=(const ProjectivePoint& q) { return *this = Add(*this, q); }
  ProjectivePoint Double() const;
  // Mixed addition with an affine point that is not the identity (RCB Algorithm 8).
  ProjectivePoint AddAffine(const F& x2, const F& y2) const;

  bool IsIdentity() const { return z_.IsZero(); }
  // Projective equality: X1 Z2 = X2 Z1 and Y1 Z2 = Y2 Z1 (both identities compare equal).
  friend bool operator==(const ProjectivePoint& p, const ProjectivePoint& q) {
    return (p.x_ * q.z_ == q.x_ * p.z_) & (p.y_ * q.z_ == q.y_ * p.z_);
  }
  bool IsOnCurve() const {
    // Y^2 Z = X^3 + b Z^3, and not (0 : 0 : 0).
    const F z2 = z_.Square();
    const bool eq = y_.Square() * z_ == x_.Square() * x_ + Curve::MulByB(z2 * z_);
    return eq & !(x_.IsZero() & y_.IsZero() & z_.IsZero());
  }
  // Membership in the order-r subgroup (fast endomorphism test; variable-time).
  bool IsInSubgroup() const { return Curve::IsInSubgroup(*this); }

  Affine ToAffine() const;
  // Converts many points with one field inversion (Montgomery's trick).
  static void BatchToAffine(std::span<const ProjectivePoint> in, std::span<Affine> out);

  // ---- scalar multiplication ----
  // k * P for P in the prime-order subgroup, constant-time in k and P: k is split into
  // base-|x| digits (detail::SplitScalarBaseX) and the endomorphism (phi on G1, psi on G2)
  // supplies the other bases; then fixed 4-bit windows, table lookup by full scan, complete
  // additions. For a P outside the subgroup the result is not k * P (use MulVartime).
  ProjectivePoint Mul(const Fr& k) const { return Curve::MulCt(*this, k); }
  // k * P for a public scalar given as little-endian limbs (variable-time double-and-add).
  template <std::size_t M>
  ProjectivePoint MulVartime(const std::array<u64, M>& k) const {
    ProjectivePoint acc = Identity();
    for (std::size_t i = detail::BitLength(k); i-- > 0;) {
      acc = acc.Double();
      if ((k[i / 64] >> (i % 64)) & 1) acc += *this;
    }
    return acc;
  }
  ProjectivePoint MulVartime(const Fr& k) const { return MulVartime(k.ToCanonical()); }
  // x * P for the BLS parameter x = -0xd201000000010000: Jacobian double-and-add over the
  // public bits of |x|, exceptional cases resolved by Select (right for any P on the curve).
  ProjectivePoint MulByX() const;

  // Constant-time select: a if mask is all-ones, else b.
  static ProjectivePoint Select(u64 mask, const ProjectivePoint& a, const ProjectivePoint& b) {
    return {F::Select(mask, a.x_, b.x_), F::Select(mask, a.y_, b.y_), F::Select(mask, a.z_, b.z_)};
  }

 private:
  static ProjectivePoint Add(const ProjectivePoint& p, const ProjectivePoint& q);
  F x_, y_, z_;
};

struct G1Curve;
struct G2Curve;
using G1 = ProjectivePoint<Fp, G1Curve>;
using G2 = ProjectivePoint<Fp2, G2Curve>;
using G1Affine = AffinePoint<Fp>;
using G2Affine = AffinePoint<Fp2>;

struct G1Curve {
  static Fp MulByB(const Fp& t) { return t.Double().Double(); }  // b = 4
  static Fp MulByB3(const Fp& t) {                               // 3b = 12
    const Fp t4 = t.Double().Double();
    return t4.Double() + t4;
  }
  static Fp GeneratorX();
  static Fp GeneratorY();
  static bool IsInSubgroup(const G1& p);
  static G1 MulCt(const G1& p, const Fr& k);  // 2-dimensional GLV with phi (curve.cc)
};

struct G2Curve {
  static Fp2 MulByB(const Fp2& t) { return t.MulByXi().Double().Double(); }  // b = 4(u + 1)
  static Fp2 MulByB3(const Fp2& t) {                                         // 3b = 12(u + 1)
    const Fp2 t4 = t.MulByXi().Double().Double();
    return t4.Double() + t4;
  }
  static Fp2 GeneratorX();
  static Fp2 GeneratorY();
  static bool IsInSubgroup(const G2& p);
  static G2 MulCt(const G2& p, const Fr& k);  // 4-dimensional GLS with psi (curve.cc)
};

// The endomorphism psi = (twist o Frobenius o untwist) of G2: (x, y) -> (x^p c_x, y^p c_y) with
// c_x = xi^-((p-1)/3), c_y = xi^-((p-1)/2). On G2 it acts as multiplication by p = x mod r.
G2 Psi(const G2& q);
// The endomorphism phi(x, y) = (beta x, y) of G1, beta a cube root of unity in Fp chosen so
// that phi acts as multiplication by -x^2 on G1 (Scott, "A note on group membership tests for
// G1, G2 and GT on BLS pairing-friendly curves", ePrint 2021/1130, section 6).
G1 Phi(const G1& p);

// ---- Encodings (the Zcash BLS12-381 format: big-endian, flags in the top 3 bits of byte 0:
// 0x80 compressed, 0x40 infinity, 0x20 y is the lexicographically largest; Fp2 as c1 || c0).
inline constexpr std::size_t kG1CompressedSize = 48;
inline constexpr std::size_t kG1UncompressedSize = 96;
inline constexpr std::size_t kG2CompressedSize = 96;
inline constexpr std::size_t kG2UncompressedSize = 192;

std::array<std::uint8_t, kG1CompressedSize> G1Compress(const G1& p);
std::array<std::uint8_t, kG1UncompressedSize> G1Serialize(const G1& p);
std::array<std::uint8_t, kG2CompressedSize> G2Compress(const G2& p);
std::array<std::uint8_t, kG2UncompressedSize> G2Serialize(const G2& p);

// Decoders check, in order, and each failure has its own error code: the length
// (kInvalidEncoding), the flag bits (kBadFlags), canonical coordinates (kNonCanonical), a
// square root exists / the point is on the curve (kNotOnCurve), the prime-order subgroup
// (kNotInSubgroup). The *Unchecked variants skip only the subgroup check, for data the caller
// has already validated (they still refuse points off the curve).
Result<G1> G1Decompress(std::span<const std::uint8_t> bytes);
Result<G1> G1Deserialize(std::span<const std::uint8_t> bytes);
Result<G2> G2Decompress(std::span<const std::uint8_t> bytes);
Result<G2> G2Deserialize(std::span<const std::uint8_t> bytes);
Result<G1> G1DecompressUnchecked(std::span<const std::uint8_t> bytes);
Result<G2> G2DecompressUnchecked(std::span<const std::uint8_t> bytes);

// Fr scalars: 32-byte big-endian; kNonCanonical if >= r.
Result<Fr> FrFromBytes(std::span<const std::uint8_t> bytes);
std::array<std::uint8_t, 32> FrToBytes(const Fr& s);

// ---- Fixed-base precomputation ----
// A table of j * 16^i * B (i < 64, j < 16) for a base B used many times (generators, public
// parameters). Build once (about 1000 additions), keep, and reuse; Mul is constant-time in
// the scalar and costs 64 additions and no doublings.
template <class Point>
class FixedBaseTable {
 public:
  explicit FixedBaseTable(const Point& base);
  Point Mul(const Fr& k) const;
  const Point& base() const { return base_; }

 private:
  Point base_;
  std::vector<typename Point::Affine> table_;  // 64 windows x 15 non-zero digits, affine
};

// ---- Multi-scalar multiplication: sum k_i P_i (variable-time: public scalars only). ----
// Straus (interleaved 4-bit windows) for n < 32, Pippenger's bucket method above.
// Precondition (asserted): points.size() == scalars.size().
G1 MsmVartime(std::span<const G1> points, std::span<const Fr> scalars);
G2 MsmVartime(std::span<const G2> points, std::span<const Fr> scalars);

}  // namespace cipherchart::pairing
