// G1 and G2 group law, scalar multiplication, subgroup checks and encodings. See curve.h.
#include "cipherchart/pairing/curve.h"

#include <algorithm>
#include <cassert>
#include <cstring>

namespace cipherchart::pairing {

// ---------------------------------------------------------------------------------------------
// Group law: Renes-Costello-Batina 2016, a = 0 specialisations. Step comments follow the
// paper's numbering so the code can be checked against it line by line.

template <class F, class C>
ProjectivePoint<F, C> ProjectivePoint<F, C>::Add(const ProjectivePoint& p, const ProjectivePoint& q) {
  // Algorithm 7: complete addition, 12M + 2 m_3b + 19a.
  F t0 = p.x_ * q.x_;   // 1
  F t1 = p.y_ * q.y_;   // 2
  F t2 = p.z_ * q.z_;   // 3
  F t3 = p.x_ + p.y_;   // 4
  F t4 = q.x_ + q.y_;   // 5
  t3 = t3 * t4;         // 6
  t4 = t0 + t1;         // 7
  t3 = t3 - t4;         // 8   t3 = X1 Y2 + X2 Y1
  t4 = p.y_ + p.z_;     // 9
  F x3 = q.y_ + q.z_;   // 10
  t4 = t4 * x3;         // 11
  x3 = t1 + t2;         // 12
  t4 = t4 - x3;         // 13  t4 = Y1 Z2 + Y2 Z1
  x3 = p.x_ + p.z_;     // 14
  F y3 = q.x_ + q.z_;   // 15
  x3 = x3 * y3;         // 16
  y3 = t0 + t2;         // 17
  y3 = x3 - y3;         // 18  y3 = X1 Z2 + X2 Z1
  x3 = t0 + t0;         // 19
  t0 = x3 + t0;         // 20  t0 = 3 X1 X2
  t2 = C::MulByB3(t2);  // 21
  F z3 = t1 + t2;       // 22
  t1 = t1 - t2;         // 23
  y3 = C::MulByB3(y3);  // 24
  x3 = t4 * y3;         // 25
  t2 = t3 * t1;         // 26
  x3 = t2 - x3;         // 27
  y3 = y3 * t0;         // 28
  t1 = t1 * z3;         // 29
  y3 = t1 + y3;         // 30
  t0 = t0 * t3;         // 31
  z3 = z3 * t4;         // 32
  z3 = z3 + t0;         // 33
  return {x3, y3, z3};
}

template <class F, class C>
ProjectivePoint<F, C> ProjectivePoint<F, C>::AddAffine(const F& qx, const F& qy) const {
  // Algorithm 8: mixed addition (Z2 = 1), 11M + 2 m_3b + 13a. Complete for any P1 and any
  // affine P2 (P2 cannot be the identity in affine form).
  F t0 = x_ * qx;         // 1
  F t1 = y_ * qy;         // 2
  F t3 = qx + qy;         // 3
  F t4 = x_ + y_;         // 4
  t3 = t3 * t4;           // 5
  t4 = t0 + t1;           // 6
  t3 = t3 - t4;           // 7
  t4 = qy * z_;           // 8
  t4 = t4 + y_;           // 9
  F y3 = qx * z_;         // 10
  y3 = y3 + x_;           // 11
  F x3 = t0 + t0;         // 12
  t0 = x3 + t0;           // 13
  F t2 = C::MulByB3(z_);  // 14
  F z3 = t1 + t2;         // 15
  t1 = t1 - t2;           // 16
  y3 = C::MulByB3(y3);    // 17
  x3 = t4 * y3;           // 18
  t2 = t3 * t1;           // 19
  x3 = t2 - x3;           // 20
  y3 = y3 * t0;           // 21
  t1 = t1 * z3;           // 22
  y3 = t1 + y3;           // 23
  t0 = t0 * t3;           // 24
  z3 = z3 * t4;           // 25
  z3 = z3 + t0;           // 26
  return {x3, y3, z3};
}

template <class F, class C>
ProjectivePoint<F, C> ProjectivePoint<F, C>::Double() const {
  // Algorithm 9: exception-free doubling, 6M + 2S + 1 m_3b + 9a.
  F t0 = y_.Square();   // 1
  F z3 = t0 + t0;       // 2
  z3 = z3 + z3;         // 3
  z3 = z3 + z3;         // 4
  F t1 = y_ * z_;       // 5
  F t2 = z_.Square();   // 6
  t2 = C::MulByB3(t2);  // 7
  F x3 = t2 * z3;       // 8
  F y3 = t0 + t2;       // 9
  z3 = t1 * z3;         // 10
  t1 = t2 + t2;         // 11
  t2 = t1 + t2;         // 12
  t0 = t0 - t2;         // 13
  y3 = t0 * y3;         // 14
  y3 = x3 + y3;         // 15
  t1 = x_ * y_;         // 16
  x3 = t0 * t1;         // 17
  x3 = x3 + x3;         // 18
  return {x3, y3, z3};
}

template <class F, class C>
typename ProjectivePoint<F, C>::Affine ProjectivePoint<F, C>::ToAffine() const {
  Affine a;
  a.infinity = IsIdentity();
  const F zinv = z_.Inverse();  // Inverse(0) = 0, so the identity maps to (0, 0)
  a.x = x_ * zinv;
  a.y = y_ * zinv;
  return a;
}

template <class F, class C>
void ProjectivePoint<F, C>::BatchToAffine(std::span<const ProjectivePoint> in, std::span<Affine> out) {
  std::vector<F> zinv(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) zinv[i] = in[i].z_;
  BatchInvert(std::span<F>(zinv));  // the identity's Z = 0 stays 0, giving (0, 0)
  for (std::size_t i = 0; i < in.size(); ++i) {
    out[i].infinity = in[i].z_.IsZero();
    out[i].x = in[i].x_ * zinv[i];
    out[i].y = in[i].y_ * zinv[i];
  }
}

namespace {

// Multiplication by the BLS parameter x (subgroup checks, cofactor clearing) in Jacobian
// coordinates ((X, Y, Z) is (X / Z^2, Y / Z^3)), where a doubling on y^2 = x^3 + b costs 2M + 5S
// ("dbl-2009-l") against 6M + 2S for the complete projective doubling above; on G2 that
// is 16 against 21 Fp multiplications, and the 63 doublings are most of the cost of clearing
// the cofactor. Formulas from the Explicit-Formulas Database (Bernstein, Lange,
// hyperelliptic.org/EFD, "Jacobian coordinates with a4 = 0"). The exceptional cases of the
// addition (equal or opposite points, the identity) are resolved by Select, so the chain is
// straight-line and complete: it is right for points of small order too (E1 has points of
// order 3 and 11, for which acc = +-P does occur).

template <class F>
struct JacobianPoint {
  F x, y, z;
};

template <class F>
JacobianPoint<F> SelectJacobian(u64 mask, const JacobianPoint<F>& a, const JacobianPoint<F>& b) {
  return {F::Select(mask, a.x, b.x), F::Select(mask, a.y, b.y), F::Select(mask, a.z, b.z)};
}

template <class F>
JacobianPoint<F> JacobianDouble(const JacobianPoint<F>& p) {
  // dbl-2009-l
  const F a = p.x.Square();          // A = X1^2
  const F b = p.y.Square();          // B = Y1^2
  const F c = b.Square();            // C = B^2
  F d = (p.x + b).Square() - a - c;  // D = 2 ((X1 + B)^2 - A - C)
  d = d.Double();
  const F e = a.Double() + a;                                // E = 3 A
  const F f = e.Square();                                    // F = E^2
  const F x3 = f - d.Double();                               // X3 = F - 2 D
  const F y3 = e * (d - x3) - c.Double().Double().Double();  // Y3 = E (D - X3) - 8 C
  const F z3 = (p.y * p.z).Double();                         // Z3 = 2 Y1 Z1
  return {x3, y3, z3};
}

// The fixed second operand of the additions of the chain, with what add-2007-bl needs of it.
template <class F>
struct JacobianBase {
  JacobianPoint<F> p;
  F zz, zzz;                 // Z2^2, Z2^3
  JacobianPoint<F> doubled;  // 2 P, the sum when the first operand equals P
};

template <class F>
JacobianPoint<F> JacobianAddBase(const JacobianPoint<F>& p, const JacobianBase<F>& q) {
  // add-2007-bl, with Z2^2 and Z2^3 precomputed
  const F z1z1 = p.z.Square();                              // Z1Z1 = Z1^2
  const F u1 = p.x * q.zz;                                  // U1 = X1 Z2Z2
  const F u2 = q.p.x * z1z1;                                // U2 = X2 Z1Z1
  const F s1 = p.y * q.zzz;                                 // S1 = Y1 Z2 Z2Z2
  const F s2 = q.p.y * p.z * z1z1;                          // S2 = Y2 Z1 Z1Z1
  const F h = u2 - u1;                                      // H = U2 - U1
  const F i = h.Double().Square();                          // I = (2 H)^2
  const F j = h * i;                                        // J = H I
  const F r = (s2 - s1).Double();                           // r = 2 (S2 - S1)
  const F v = u1 * i;                                       // V = U1 I
  const F x3 = r.Square() - j - v.Double();                 // X3 = r^2 - J - 2 V
  const F y3 = r * (v - x3) - (s1 * j).Double();            // Y3 = r (V - X3) - 2 S1 J
  const F z3 = ((p.z + q.p.z).Square() - z1z1 - q.zz) * h;  // Z3 = ((Z1 + Z2)^2 - Z1Z1 - Z2Z2) H
  JacobianPoint<F> sum{x3, y3, z3};
  // P = Q makes the formula 0 / 0: the sum is 2 Q. P = -Q gives Z3 = 0 already (the identity).
  sum = SelectJacobian(h.IsZeroMask() & r.IsZeroMask(), q.doubled, sum);
  // An identity operand: the sum is the other one.
  sum = SelectJacobian(p.z.IsZeroMask(), q.p, sum);
  sum = SelectJacobian(q.p.z.IsZeroMask(), p, sum);
  return sum;
}

// x * P for the (negative) BLS parameter x: double-and-add over the bits of |x| (public), then
// a negation. Input and output in homogeneous projective coordinates: (X : Y : Z) is the
// Jacobian (X Z, Y Z^2, Z), and the Jacobian (X, Y, Z) is (X Z : Y : Z^3).
template <class Point>
Point MulByBlsX(const Point& p) {
  using F = typename Point::Field;
  JacobianBase<F> base;
  const F zz = p.Z().Square();
  base.p = {p.X() * p.Z(), p.Y() * zz, p.Z()};
  base.zz = zz;
  base.zzz = zz * p.Z();
  base.doubled = JacobianDouble(base.p);
  static_assert(kBlsX >> 63 == 1 && kBlsXIsNegative);
  JacobianPoint<F> acc = base.p;  // bit 63 of |x|
  for (int i = 62; i >= 0; --i) {
    acc = JacobianDouble(acc);
    if ((kBlsX >> i) & 1) acc = JacobianAddBase(acc, base);  // branch on the public constant only
  }
  const Point result(acc.x * acc.z, -acc.y, acc.z.Square() * acc.z);
  return Point::Select(acc.z.IsZeroMask(), Point::Identity(), result);
}

}  // namespace

template <class F, class C>
ProjectivePoint<F, C> ProjectivePoint<F, C>::MulByX() const {
  return MulByBlsX(*this);
}

template class ProjectivePoint<Fp, G1Curve>;
template class ProjectivePoint<Fp2, G2Curve>;

// ---------------------------------------------------------------------------------------------
// Generators: draft-irtf-cfrg-pairing-friendly-curves-11, section 4.2.1 (checked in tests
// against 1*G of the zkcrypto encodings in shared/data/kat/bls12_381).

Fp G1Curve::GeneratorX() {
  static const Fp x = Fp::FromHex(
      "17f1d3a73197d7942695638c4fa9ac0fc3688c4f9774b905a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bb");
  return x;
}
Fp G1Curve::GeneratorY() {
  static const Fp y = Fp::FromHex(
      "08b3f481e3aaa0f1a09e30ed741d8ae4fcf5e095d5d00af600db18cb2c04b3edd03cc744a2888ae40caa232946c5e7e1");
  return y;
}
Fp2 G2Curve::GeneratorX() {
  static const Fp2 x{
      Fp::FromHex(
          "024aa2b2f08f0a91260805272dc51051c6e47ad4fa403b02b4510b647ae3d1770bac0326a805bbefd48056c8c121bdb8"),
      Fp::FromHex("13e02b6052719f607dacd3a088274f65596bd0d09920b61ab5da61bbdc7f5049334cf11213945d57e5ac7d055d"
                  "042b7e")};
  return x;
}
Fp2 G2Curve::GeneratorY() {
  static const Fp2 y{
      Fp::FromHex(
          "0ce5d527727d6e118cc9cdc6da2e351aadfd9baa8cbdd3a76d429a695160d12c923ac9cc3baca289e193548608b82801"),
      Fp::FromHex("0606c4a02ea734cc32acd2b02bc28b99cb3e287e85a763af267492ab572e99ab3f370d275cec1da1aaa9075ff0"
                  "5f79be")};
  return y;
}

// ---------------------------------------------------------------------------------------------
// Endomorphisms and subgroup checks (Scott, ePrint 2021/1130: P in G1 iff phi(P) = -x^2 P;
// Q in G2 iff psi(Q) = x Q, for BLS12-381).

namespace {

constexpr auto kPMinus1 = detail::SubSmall(Fp::kModulus, 1);

struct PsiConstants {
  Fp2 cx, cy;
};
const PsiConstants& PsiK() {
  static const PsiConstants k = [] {
    const Fp2 xi{Fp::One(), Fp::One()};
    return PsiConstants{xi.Pow(detail::DivSmall(kPMinus1, 3)).Inverse(),
                        xi.Pow(detail::DivSmall(kPMinus1, 2)).Inverse()};
  }();
  return k;
}

const Fp& Beta() {
  // The two non-trivial cube roots of unity are beta and beta^2; pick the one whose phi has
  // eigenvalue -x^2 on G1 (checked on the generator).
  static const Fp beta = [] {
    Fp cand = Fp::One();
    for (u64 g = 2;; ++g) {
      cand = Fp::FromU64(g).Pow(detail::DivSmall(kPMinus1, 3));
      if (!cand.IsOne()) break;
    }
    const G1 gen = G1::Generator();
    const G1 minus_x2_g = -gen.MulByX().MulByX();
    const G1 phi_g(gen.X() * cand, gen.Y(), gen.Z());
    return phi_g == minus_x2_g ? cand : cand.Square();
  }();
  return beta;
}

}  // namespace

G2 Psi(const G2& q) {
  const auto& k = PsiK();
  return {q.X().Conjugate() * k.cx, q.Y().Conjugate() * k.cy, q.Z().Conjugate()};
}

G1 Phi(const G1& p) { return {p.X() * Beta(), p.Y(), p.Z()}; }

bool G1Curve::IsInSubgroup(const G1& p) {
  // phi(P) + x^2 P = 0  (x^2 = (-x)^2, so two MulByX give +x^2 P).
  return (Phi(p) + p.MulByX().MulByX()).IsIdentity() & p.IsOnCurve();
}

bool G2Curve::IsInSubgroup(const G2& q) { return (Psi(q) == q.MulByX()) & q.IsOnCurve(); }

// ---------------------------------------------------------------------------------------------
// Constant-time scalar multiplication with endomorphisms.

namespace {

template <class Point>
Point LookupCt(const std::array<Point, 16>& table, u64 digit) {
  Point sel = table[0];
  for (u64 j = 1; j < 16; ++j) sel = Point::Select(detail::IsZeroMask(j ^ digit), table[j], sel);
  return sel;
}

// sum_i digits_i * base_i with tables[i][j] = j * base_i and digits of 64 L bits each, in
// fixed 4-bit windows: the same operations and memory accesses whatever the digits are.
template <class Point, std::size_t D, std::size_t L>
Point MultiMulCt(const std::array<std::array<Point, 16>, D>& tables,
                 const std::array<std::array<u64, L>, D>& digits) {
  constexpr int kWindows = 16 * L;
  Point acc = Point::Identity();
  for (int w = kWindows - 1; w >= 0; --w) {
    if (w != kWindows - 1) acc = acc.Double().Double().Double().Double();
    for (std::size_t i = 0; i < D; ++i)
      acc += LookupCt(tables[i], (digits[i][w / 16] >> (4 * (w % 16))) & 15);
  }
  return acc;
}

template <class Point>
std::array<Point, 16> MultiplesTable(const Point& p) {
  std::array<Point, 16> t;
  t[0] = Point::Identity();
  t[1] = p;
  for (int j = 2; j < 16; ++j) t[j] = (j % 2 == 0) ? t[j / 2].Double() : t[j - 1] + p;
  return t;
}

template <class T>
void Scrub(T& v) {
  std::memset(static_cast<void*>(&v), 0, sizeof(v));
  __asm__ __volatile__("" : : "r"(&v) : "memory");
}

}  // namespace

G1 G1Curve::MulCt(const G1& p, const Fr& k) {
  // k = e0 + e1 x^2 with e0 = d0 + d1 |x|, e1 = d2 + d3 |x| (< 2^128), and x^2 P = -phi(P).
  auto d = detail::SplitScalarBaseX(k.ToCanonical());
  const u128 e0 = u128(d[1]) * kBlsX + d[0];
  const u128 e1 = u128(d[3]) * kBlsX + d[2];
  std::array<std::array<u64, 2>, 2> digits = {{{u64(e0), u64(e0 >> 64)}, {u64(e1), u64(e1 >> 64)}}};
  std::array<std::array<G1, 16>, 2> tables;
  tables[0] = MultiplesTable(p);
  for (int j = 0; j < 16; ++j) tables[1][j] = -Phi(tables[0][j]);
  const G1 out = MultiMulCt(tables, digits);
  Scrub(d);
  Scrub(digits);
  return out;
}

G2 G2Curve::MulCt(const G2& q, const Fr& k) {
  // k = sum d_i |x|^i and |x|^i Q = (-x)^i Q = (-1)^i psi^i(Q) on G2.
  auto d = detail::SplitScalarBaseX(k.ToCanonical());
  std::array<std::array<u64, 1>, 4> digits = {{{d[0]}, {d[1]}, {d[2]}, {d[3]}}};
  std::array<std::array<G2, 16>, 4> tables;
  tables[0] = MultiplesTable(q);
  for (int j = 0; j < 16; ++j) {
    const G2 psi1 = Psi(tables[0][j]);
    tables[1][j] = -psi1;
    tables[2][j] = Psi(psi1);
    tables[3][j] = -Psi(tables[2][j]);
  }
  const G2 out = MultiMulCt(tables, digits);
  Scrub(d);
  Scrub(digits);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Encodings.

namespace {

constexpr std::uint8_t kFlagCompressed = 0x80, kFlagInfinity = 0x40, kFlagSign = 0x20;

void PutFp2(const Fp2& v, std::uint8_t* out) {  // c1 || c0
  v.c1.ToBytes(std::span<std::uint8_t>(out, 48));
  v.c0.ToBytes(std::span<std::uint8_t>(out + 48, 48));
}

bool RestIsZero(std::span<const std::uint8_t> b) {
  if (b[0] & 0x1f) return false;
  return std::all_of(b.begin() + 1, b.end(), [](std::uint8_t c) { return c == 0; });
}

// Reads the flags of byte 0 and checks the combinations the format allows.
struct Flags {
  bool compressed, infinity, sign;
};
Result<Flags> ReadFlags(std::span<const std::uint8_t> b, bool want_compressed, const char* what) {
  Flags f{(b[0] & kFlagCompressed) != 0, (b[0] & kFlagInfinity) != 0, (b[0] & kFlagSign) != 0};
  if (f.compressed != want_compressed) {
    return Fail(ErrorCode::kBadFlags,
                std::string(what) + (want_compressed ? ": compressed encoding without the compression flag"
                                                     : ": uncompressed encoding with the compression flag"));
  }
  if (f.infinity && f.sign)
    return Fail(ErrorCode::kBadFlags, std::string(what) + ": infinity flag with the sign flag");
  if (f.infinity && !RestIsZero(b)) {
    return Fail(ErrorCode::kBadFlags, std::string(what) + ": infinity flag but non-zero coordinate bytes");
  }
  if (!want_compressed && f.sign) {
    return Fail(ErrorCode::kBadFlags, std::string(what) + ": sign flag in an uncompressed encoding");
  }
  return f;
}

Result<Fp> ReadFp(std::span<const std::uint8_t> b, bool strip_flags, const char* what) {
  std::array<std::uint8_t, 48> buf;
  std::memcpy(buf.data(), b.data(), 48);
  if (strip_flags) buf[0] &= 0x1f;
  auto v = Fp::FromBytes(buf);
  if (!v) return Fail(ErrorCode::kNonCanonical, std::string(what) + ": coordinate is not less than p");
  return *v;
}

Result<Fp2> ReadFp2(std::span<const std::uint8_t> b, bool strip_flags, const char* what) {
  auto c1 = ReadFp(b.subspan(0, 48), strip_flags, what);
  if (!c1) return std::unexpected(c1.error());
  auto c0 = ReadFp(b.subspan(48, 48), false, what);
  if (!c0) return std::unexpected(c0.error());
  return Fp2{*c0, *c1};
}

Result<void> CheckLength(std::span<const std::uint8_t> b, std::size_t want, const char* what) {
  if (b.size() != want) {
    return Fail(ErrorCode::kInvalidEncoding, std::string(what) + ": expected " + std::to_string(want) +
                                                 " bytes, got " + std::to_string(b.size()));
  }
  return {};
}

template <class Point>
Result<Point> RequireSubgroup(const Point& p, const char* what) {
  if (!p.IsInSubgroup()) {
    return Fail(ErrorCode::kNotInSubgroup, std::string(what) + ": point is not in the prime-order subgroup");
  }
  return p;
}

}  // namespace

std::array<std::uint8_t, kG1CompressedSize> G1Compress(const G1& p) {
  std::array<std::uint8_t, kG1CompressedSize> out{};
  const auto a = p.ToAffine();
  if (a.infinity) {
    out[0] = kFlagCompressed | kFlagInfinity;
    return out;
  }
  a.x.ToBytes(out);
  out[0] |= kFlagCompressed | ((a.y.IsLargestMask() & 1) ? kFlagSign : 0);
  return out;
}

std::array<std::uint8_t, kG1UncompressedSize> G1Serialize(const G1& p) {
  std::array<std::uint8_t, kG1UncompressedSize> out{};
  const auto a = p.ToAffine();
  if (a.infinity) {
    out[0] = kFlagInfinity;
    return out;
  }
  a.x.ToBytes(std::span<std::uint8_t>(out.data(), 48));
  a.y.ToBytes(std::span<std::uint8_t>(out.data() + 48, 48));
  return out;
}

std::array<std::uint8_t, kG2CompressedSize> G2Compress(const G2& p) {
  std::array<std::uint8_t, kG2CompressedSize> out{};
  const auto a = p.ToAffine();
  if (a.infinity) {
    out[0] = kFlagCompressed | kFlagInfinity;
    return out;
  }
  PutFp2(a.x, out.data());
  out[0] |= kFlagCompressed | ((a.y.IsLargestMask() & 1) ? kFlagSign : 0);
  return out;
}

std::array<std::uint8_t, kG2UncompressedSize> G2Serialize(const G2& p) {
  std::array<std::uint8_t, kG2UncompressedSize> out{};
  const auto a = p.ToAffine();
  if (a.infinity) {
    out[0] = kFlagInfinity;
    return out;
  }
  PutFp2(a.x, out.data());
  PutFp2(a.y, out.data() + 96);
  return out;
}

Result<G1> G1DecompressUnchecked(std::span<const std::uint8_t> b) {
  static constexpr const char* kWhat = "G1 compressed point";
  if (auto ok = CheckLength(b, kG1CompressedSize, kWhat); !ok) return std::unexpected(ok.error());
  auto flags = ReadFlags(b, true, kWhat);
  if (!flags) return std::unexpected(flags.error());
  if (flags->infinity) return G1::Identity();
  auto x = ReadFp(b, true, kWhat);
  if (!x) return std::unexpected(x.error());
  auto y = SqrtFp(x->Square() * *x + Fp::FromU64(4));
  if (!y) return Fail(ErrorCode::kNotOnCurve, std::string(kWhat) + ": no point on the curve has this x");
  const bool largest = y->IsLargestMask() & 1;
  const Fp yy = (largest == flags->sign) ? *y : -*y;
  return G1::FromAffineUnchecked(*x, yy);
}

Result<G1> G1Decompress(std::span<const std::uint8_t> b) {
  auto p = G1DecompressUnchecked(b);
  if (!p) return p;
  return RequireSubgroup(*p, "G1 compressed point");
}

Result<G1> G1Deserialize(std::span<const std::uint8_t> b) {
  static constexpr const char* kWhat = "G1 uncompressed point";
  if (auto ok = CheckLength(b, kG1UncompressedSize, kWhat); !ok) return std::unexpected(ok.error());
  auto flags = ReadFlags(b, false, kWhat);
  if (!flags) return std::unexpected(flags.error());
  if (flags->infinity) return G1::Identity();
  auto x = ReadFp(b.subspan(0, 48), true, kWhat);
  if (!x) return std::unexpected(x.error());
  auto y = ReadFp(b.subspan(48, 48), false, kWhat);
  if (!y) return std::unexpected(y.error());
  const G1 p = G1::FromAffineUnchecked(*x, *y);
  if (!p.IsOnCurve()) return Fail(ErrorCode::kNotOnCurve, std::string(kWhat) + ": point is not on the curve");
  return RequireSubgroup(p, kWhat);
}

Result<G2> G2DecompressUnchecked(std::span<const std::uint8_t> b) {
  static constexpr const char* kWhat = "G2 compressed point";
  if (auto ok = CheckLength(b, kG2CompressedSize, kWhat); !ok) return std::unexpected(ok.error());
  auto flags = ReadFlags(b, true, kWhat);
  if (!flags) return std::unexpected(flags.error());
  if (flags->infinity) return G2::Identity();
  auto x = ReadFp2(b, true, kWhat);
  if (!x) return std::unexpected(x.error());
  auto y = SqrtFp2(x->Square() * *x + G2Curve::MulByB(Fp2::One()));
  if (!y) return Fail(ErrorCode::kNotOnCurve, std::string(kWhat) + ": no point on the curve has this x");
  const bool largest = y->IsLargestMask() & 1;
  const Fp2 yy = (largest == flags->sign) ? *y : -*y;
  return G2::FromAffineUnchecked(*x, yy);
}

Result<G2> G2Decompress(std::span<const std::uint8_t> b) {
  auto p = G2DecompressUnchecked(b);
  if (!p) return p;
  return RequireSubgroup(*p, "G2 compressed point");
}

Result<G2> G2Deserialize(std::span<const std::uint8_t> b) {
  static constexpr const char* kWhat = "G2 uncompressed point";
  if (auto ok = CheckLength(b, kG2UncompressedSize, kWhat); !ok) return std::unexpected(ok.error());
  auto flags = ReadFlags(b, false, kWhat);
  if (!flags) return std::unexpected(flags.error());
  if (flags->infinity) return G2::Identity();
  auto x = ReadFp2(b.subspan(0, 96), true, kWhat);
  if (!x) return std::unexpected(x.error());
  auto y = ReadFp2(b.subspan(96, 96), false, kWhat);
  if (!y) return std::unexpected(y.error());
  const G2 p = G2::FromAffineUnchecked(*x, *y);
  if (!p.IsOnCurve()) return Fail(ErrorCode::kNotOnCurve, std::string(kWhat) + ": point is not on the curve");
  return RequireSubgroup(p, kWhat);
}

Result<Fr> FrFromBytes(std::span<const std::uint8_t> bytes) {
  if (bytes.size() != 32) {
    return Fail(ErrorCode::kInvalidEncoding,
                "scalar: expected 32 bytes, got " + std::to_string(bytes.size()));
  }
  auto s = Fr::FromBytes(bytes);
  if (!s) return Fail(ErrorCode::kNonCanonical, "scalar: value is not less than the group order r");
  return *s;
}

std::array<std::uint8_t, 32> FrToBytes(const Fr& s) { return s.ToBytes(); }

// ---------------------------------------------------------------------------------------------
// Fixed-base tables.

template <class Point>
FixedBaseTable<Point>::FixedBaseTable(const Point& base) : base_(base) {
  std::vector<Point> proj(64 * 15);
  Point window_base = base;  // 16^i * B
  for (int i = 0; i < 64; ++i) {
    Point acc = window_base;
    for (int j = 0; j < 15; ++j) {
      proj[i * 15 + j] = acc;  // (j + 1) * 16^i * B
      acc += window_base;
    }
    window_base = acc;  // 16 * 16^i * B
  }
  table_.resize(proj.size());
  Point::BatchToAffine(proj, table_);
}

template <class Point>
Point FixedBaseTable<Point>::Mul(const Fr& k) const {
  using F = typename Point::Field;
  auto scalar = k.ToCanonical();
  Point acc = Point::Identity();
  for (int i = 0; i < 64; ++i) {
    const u64 digit = (scalar[i / 16] >> (4 * (i % 16))) & 15;
    F x = F::Zero(), y = F::Zero();
    for (u64 j = 0; j < 15; ++j) {
      const u64 m = detail::IsZeroMask((j + 1) ^ digit);
      const auto& e = table_[i * 15 + j];
      x = F::Select(m, e.x, x);
      y = F::Select(m, e.y, y);
    }
    // Entries are never the identity when the base is not (16^i B != O for B of order r).
    const Point sum = acc.AddAffine(x, y);
    acc = Point::Select(~detail::IsZeroMask(digit), sum, acc);
  }
  std::memset(scalar.data(), 0, sizeof(scalar));
  __asm__ __volatile__("" : : "r"(scalar.data()) : "memory");
  return acc;
}

template class FixedBaseTable<G1>;
template class FixedBaseTable<G2>;

// ---------------------------------------------------------------------------------------------
// Multi-scalar multiplication (public inputs).

namespace {

template <class Point>
Point StrausVartime(std::span<const Point> points, std::span<const Fr> scalars) {
  const std::size_t n = points.size();
  std::vector<std::array<Point, 16>> tables(n);
  std::vector<std::array<u64, 4>> ks(n);
  for (std::size_t i = 0; i < n; ++i) {
    tables[i][0] = Point::Identity();
    for (int j = 1; j < 16; ++j) tables[i][j] = tables[i][j - 1] + points[i];
    ks[i] = scalars[i].ToCanonical();
  }
  Point acc = Point::Identity();
  for (int w = 63; w >= 0; --w) {
    acc = acc.Double().Double().Double().Double();
    for (std::size_t i = 0; i < n; ++i) {
      const u64 d = (ks[i][w / 16] >> (4 * (w % 16))) & 15;
      if (d) acc += tables[i][d];
    }
  }
  return acc;
}

template <class Point>
Point PippengerVartime(std::span<const Point> points, std::span<const Fr> scalars) {
  const std::size_t n = points.size();
  const std::size_t c = std::max<std::size_t>(3, detail::BitLength(std::array<u64, 1>{n}) - 3);
  std::vector<std::array<u64, 4>> ks(n);
  for (std::size_t i = 0; i < n; ++i) ks[i] = scalars[i].ToCanonical();
  const std::size_t windows = (255 + c - 1) / c;
  std::vector<Point> buckets((std::size_t{1} << c) - 1);
  Point acc = Point::Identity();
  for (std::size_t w = windows; w-- > 0;) {
    for (std::size_t d = 0; d < c; ++d) acc = acc.Double();
    std::fill(buckets.begin(), buckets.end(), Point::Identity());
    const std::size_t bit = w * c;
    for (std::size_t i = 0; i < n; ++i) {
      // c bits starting at `bit` (may straddle two limbs).
      const std::size_t limb = bit / 64, off = bit % 64;
      u64 d = ks[i][limb] >> off;
      if (off + c > 64 && limb + 1 < 4) d |= ks[i][limb + 1] << (64 - off);
      d &= (u64{1} << c) - 1;
      if (d) buckets[d - 1] += points[i];
    }
    // sum_d d * bucket[d] by running sums.
    Point running = Point::Identity(), window_sum = Point::Identity();
    for (std::size_t d = buckets.size(); d-- > 0;) {
      running += buckets[d];
      window_sum += running;
    }
    acc += window_sum;
  }
  return acc;
}

template <class Point>
Point Msm(std::span<const Point> points, std::span<const Fr> scalars) {
  assert(points.size() == scalars.size() && "MsmVartime: one scalar per point");
  if (points.size() < 32) return StrausVartime(points, scalars);
  return PippengerVartime(points, scalars);
}

}  // namespace

G1 MsmVartime(std::span<const G1> points, std::span<const Fr> scalars) { return Msm(points, scalars); }
G2 MsmVartime(std::span<const G2> points, std::span<const Fr> scalars) { return Msm(points, scalars); }

}  // namespace cipherchart::pairing
