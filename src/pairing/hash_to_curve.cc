// Hashing to G1 and G2 of BLS12-381 per RFC 9380. See hash_to_curve.h for the suites.
//
// Section references ("RFC 9380, 5.3.1", "Appendix F.2", ...) are to RFC 9380. Every constant
// typed in below is quoted from the RFC, at the place named in its comment; constants that
// follow from others (square roots, exponents, psi^2's factor) are derived at first use.
//
// Constant time: map_to_curve is the straight-line program of Appendix F.2, with CMOV done by
// Select on masks, so it has no branch and no memory index that depends on u; exponents are
// public constants. Cofactor clearing is a fixed double-and-add chain over the bits of the
// public BLS parameter, with the exceptional cases of the addition resolved by Select, so it
// does not branch on the point either. (Messages are public inputs anyway; see the header.)
#include "cipherchart/pairing/hash_to_curve.h"

#include <openssl/evp.h>

#include <array>
#include <initializer_list>
#include <memory>
#include <string>

namespace cipherchart::pairing {
namespace {

// ---------------------------------------------------------------------------------------------
// SHA-256 through OpenSSL 3 (the H of expand_message_xmd, RFC 9380, 5.3.1).

constexpr std::size_t kHashBytes = 32;   // b_in_bytes
constexpr std::size_t kBlockBytes = 64;  // s_in_bytes
constexpr std::size_t kL = 64;           // L = ceil((ceil(log2(p)) + k) / 8), k = 128 (8.8.1/8.8.2)

const EVP_MD* Sha256() {
  // Fetched once: an explicit fetch avoids OpenSSL 3's implicit fetch on every digest init.
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

// H(part_0 || part_1 || ...) into out (32 bytes).
Result<void> Hash(EVP_MD_CTX* ctx, std::initializer_list<std::span<const std::uint8_t>> parts,
                  std::uint8_t* out) {
  const EVP_MD* md = Sha256();
  if (md == nullptr || EVP_DigestInit_ex2(ctx, md, nullptr) != 1) {
    return Fail(ErrorCode::kInternal, "expand_message_xmd: SHA-256 initialisation failed");
  }
  for (auto part : parts) {
    if (!part.empty() && EVP_DigestUpdate(ctx, part.data(), part.size()) != 1) {
      return Fail(ErrorCode::kInternal, "expand_message_xmd: SHA-256 update failed");
    }
  }
  unsigned int n = 0;
  if (EVP_DigestFinal_ex(ctx, out, &n) != 1 || n != kHashBytes) {
    return Fail(ErrorCode::kInternal, "expand_message_xmd: SHA-256 finalisation failed");
  }
  return {};
}

// ---------------------------------------------------------------------------------------------
// Helpers shared by the G1 and G2 maps.

// All-ones if b, else 0 (b was computed without a branch; this keeps it that way).
inline u64 Mask(bool b) { return u64(0) - u64(b); }

// CMOV(a, b, c) of RFC 9380 section 4: a if c is false, b if c is true.
template <class F>
F Cmov(const F& a, const F& b, u64 c_mask) {
  return F::Select(c_mask, b, a);
}

constexpr auto kPMinus3Over4 = detail::DivSmall(detail::SubSmall(Fp::kModulus, 3), 4);  // (p - 3) / 4
constexpr auto kPPlus1Over4 = detail::DivSmall(detail::AddSmall(Fp::kModulus, 1), 4);   // (p + 1) / 4
constexpr auto kPMinus1Over3 = detail::DivSmall(detail::SubSmall(Fp::kModulus, 1), 3);  // (p - 1) / 3

// a^e for a public exponent e: left-to-right sliding window of width 5 over the odd powers
// a, a^3, ..., a^31 (Menezes, van Oorschot, Vanstone, Handbook of Applied Cryptography,
// Algorithm 14.85). About 380 squarings and 80 multiplications for a 381-bit e, some 5% fewer
// operations than the fixed 4-bit window of MontField::Pow. The sequence of operations and
// the table indices depend on e only, so the time does not depend on a.
template <std::size_t M>
Fp PowPublic(const Fp& a, const detail::Limbs<M>& e) {
  constexpr int kWidth = 5;
  std::array<Fp, 1 << (kWidth - 1)> odd;  // odd[i] = a^(2i + 1)
  odd[0] = a;
  const Fp a2 = a.Square();
  for (std::size_t i = 1; i < odd.size(); ++i) odd[i] = odd[i - 1] * a2;
  auto bit = [&e](int i) { return int(e[std::size_t(i) / 64] >> (std::size_t(i) % 64)) & 1; };
  Fp acc = Fp::One();
  bool started = false;  // skips the squarings and the product of the leading 1
  for (int i = int(detail::BitLength(e)) - 1; i >= 0;) {
    if (!bit(i)) {
      acc = acc.Square();
      --i;
      continue;
    }
    int j = i - kWidth + 1 > 0 ? i - kWidth + 1 : 0;
    while (!bit(j)) ++j;  // the window e[i..j] ends with a 1 bit
    unsigned window = 0;
    for (int b = i; b >= j; --b) window = (window << 1) | unsigned(bit(b));
    if (started) {
      for (int b = i; b >= j; --b) acc = acc.Square();
      acc = acc * odd[window >> 1];
    } else {
      acc = odd[window >> 1];
      started = true;
    }
    i = j - 1;
  }
  return acc;
}

template <class F>
struct SqrtRatioResult {
  u64 is_qr;  // all-ones if u / v is a square
  F y;        // sqrt(u / v) if is_qr, else sqrt(Z * u / v)
};

// Parameters of the simplified SWU map onto E': y^2 = x^3 + A' x + B' (RFC 9380, 6.6.2/6.6.3),
// with b3 = 3 B' for the addition law on E'.
template <class F>
struct SswuParams {
  F a, b, z, b3;
};

// A point of E' in homogeneous projective coordinates: (X : Y : Z) is (X / Z, Y / Z).
template <class F>
struct EPrimePoint {
  F x, y, z;
};

// map_to_curve_simple_swu(u), the straight-line program of RFC 9380 Appendix F.2. SqrtRatio is
// one of the sqrt_ratio subroutines of Appendix F.2.1 for the field F. The final division
// (steps 25-26, x = x / tv4) is left out: the result is returned as (x * 1 : y * tv4 : tv4)
// in projective coordinates, which the addition on E' and the isogeny take as they are.
template <class F, class SqrtRatio>
EPrimePoint<F> SimplifiedSwu(const F& u, const SswuParams<F>& k, SqrtRatio sqrt_ratio) {
  F tv1 = u.Square();                                 // 1.  tv1 = u^2
  tv1 = k.z * tv1;                                    // 2.  tv1 = Z * tv1
  F tv2 = tv1.Square();                               // 3.  tv2 = tv1^2
  tv2 = tv2 + tv1;                                    // 4.  tv2 = tv2 + tv1
  F tv3 = tv2 + F::One();                             // 5.  tv3 = tv2 + 1
  tv3 = k.b * tv3;                                    // 6.  tv3 = B * tv3
  F tv4 = Cmov(k.z, -tv2, ~tv2.IsZeroMask());         // 7.  tv4 = CMOV(Z, -tv2, tv2 != 0)
  tv4 = k.a * tv4;                                    // 8.  tv4 = A * tv4
  tv2 = tv3.Square();                                 // 9.  tv2 = tv3^2
  F tv6 = tv4.Square();                               // 10. tv6 = tv4^2
  F tv5 = k.a * tv6;                                  // 11. tv5 = A * tv6
  tv2 = tv2 + tv5;                                    // 12. tv2 = tv2 + tv5
  tv2 = tv2 * tv3;                                    // 13. tv2 = tv2 * tv3
  tv6 = tv6 * tv4;                                    // 14. tv6 = tv6 * tv4
  tv5 = k.b * tv6;                                    // 15. tv5 = B * tv6
  tv2 = tv2 + tv5;                                    // 16. tv2 = tv2 + tv5
  F x = tv1 * tv3;                                    // 17.   x = tv1 * tv3
  const SqrtRatioResult<F> r = sqrt_ratio(tv2, tv6);  // 18. (is_gx1_square, y1) = sqrt_ratio(tv2, tv6)
  F y = tv1 * u;                                      // 19.   y = tv1 * u
  y = y * r.y;                                        // 20.   y = y * y1
  x = Cmov(x, tv3, r.is_qr);                          // 21.   x = CMOV(x, tv3, is_gx1_square)
  y = Cmov(y, r.y, r.is_qr);                          // 22.   y = CMOV(y, y1, is_gx1_square)
  const u64 e1 = u64(0) - (1 ^ u.Sgn0() ^ y.Sgn0());  // 23.  e1 = sgn0(u) == sgn0(y)
  y = Cmov(-y, y, e1);                                // 24.   y = CMOV(-y, y, e1)
  return {x, y * tv4, tv4};                           // 25-26: (x / tv4, y) as (x : y tv4 : tv4)
}

// P + Q on E' (A' != 0): the complete addition of Renes, Costello, Batina, "Complete addition
// formulas for prime order elliptic curves", Eurocrypt 2016, Algorithm 1 (12M + 3 m_a +
// 2 m_3b). Complete because #E' = #E is odd. Used to add Q0 and Q1 of hash_to_curve on E'
// before the isogeny: iso_map is a group homomorphism, so iso_map(Q0') + iso_map(Q1') =
// iso_map(Q0' + Q1'), and one evaluation of the isogeny costs more than this addition.
template <class F>
EPrimePoint<F> EPrimeAdd(const EPrimePoint<F>& p, const EPrimePoint<F>& q, const SswuParams<F>& k) {
  F t0 = p.x * q.x;  // 1
  F t1 = p.y * q.y;  // 2
  F t2 = p.z * q.z;  // 3
  F t3 = p.x + p.y;  // 4
  F t4 = q.x + q.y;  // 5
  t3 = t3 * t4;      // 6
  t4 = t0 + t1;      // 7
  t3 = t3 - t4;      // 8
  t4 = p.x + p.z;    // 9
  F t5 = q.x + q.z;  // 10
  t4 = t4 * t5;      // 11
  t5 = t0 + t2;      // 12
  t4 = t4 - t5;      // 13
  t5 = p.y + p.z;    // 14
  F x3 = q.y + q.z;  // 15
  t5 = t5 * x3;      // 16
  x3 = t1 + t2;      // 17
  t5 = t5 - x3;      // 18
  F z3 = k.a * t4;   // 19
  x3 = k.b3 * t2;    // 20
  z3 = x3 + z3;      // 21
  x3 = t1 - z3;      // 22
  z3 = t1 + z3;      // 23
  F y3 = x3 * z3;    // 24
  t1 = t0 + t0;      // 25
  t1 = t1 + t0;      // 26
  t2 = k.a * t2;     // 27
  t4 = k.b3 * t4;    // 28
  t1 = t1 + t2;      // 29
  t2 = t0 - t2;      // 30
  t2 = k.a * t2;     // 31
  t4 = t4 + t2;      // 32
  t0 = t1 * t4;      // 33
  y3 = y3 + t0;      // 34
  t0 = t5 * t4;      // 35
  x3 = t3 * x3;      // 36
  x3 = x3 - t0;      // 37
  t0 = t3 * t1;      // 38
  z3 = t5 * z3;      // 39
  z3 = z3 + t0;      // 40
  return {x3, y3, z3};
}

// sum_{i=0..n} k_i xn^i xd^(n-i): the polynomial sum k_i x^i at x = xn / xd, times xd^n (Horner's
// rule on the homogenised polynomial, which needs no inversion; RFC 9380 Appendix E refers to
// Wahby-Boneh, "Fast and simple constant-time hashing to the BLS12-381 elliptic curve", TCHES
// 2019, section 4.3, for evaluating the maps projectively like this). If monic, k_n = 1 is
// implicit and k holds k_0..k_(n-1). xd_pow[j] = xd^j.
template <class F>
F EvalHomogeneous(std::span<const F> k, bool monic, const F& xn, std::span<const F> xd_pow) {
  const std::size_t n = monic ? k.size() : k.size() - 1;
  F acc = monic ? F::One() : k[n];
  for (std::size_t i = n; i-- > 0;) acc = acc * xn + k[i] * xd_pow[n - i];
  return acc;
}

// An isogeny map of RFC 9380 Appendix E in the form x = x_num / x_den, y = y' * y_num / y_den
// (x_den and y_den monic, deg x_num = deg x_den + 1, deg y_num = deg y_den), applied to the
// point (X' : Y' : Z') of E' and returned in homogeneous projective coordinates. With
// x' = X'/Z', N1, D1, N3, D4 the four polynomials homogenised in (X', Z'):
//   x = N1 / (D1 Z'), y = (Y' / Z') N3 / D4, so (X : Y : Z) = (N1 D4 : Y' N3 D1 : D1 Z' D4).
// The identity of E' (Z' = 0) and the points of the isogeny's kernel (D1 = 0, where the
// rational maps are undefined) give Z = 0 and go to the identity of E, as an isogeny must;
// selected without a branch.
template <class Point, class F>
Point IsoMap(const EPrimePoint<F>& p, std::span<const F> x_num, std::span<const F> x_den,
             std::span<const F> y_num, std::span<const F> y_den) {
  std::array<F, 16> z_pow;
  const std::size_t max_deg = y_den.size();  // deg y_den (monic) = deg y_num, the largest degree
  z_pow[0] = F::One();
  for (std::size_t j = 1; j <= max_deg; ++j) z_pow[j] = z_pow[j - 1] * p.z;
  const F n1 = EvalHomogeneous(x_num, false, p.x, std::span<const F>(z_pow));
  const F d1 = EvalHomogeneous(x_den, true, p.x, std::span<const F>(z_pow));
  const F n3 = EvalHomogeneous(y_num, false, p.x, std::span<const F>(z_pow));
  const F d4 = EvalHomogeneous(y_den, true, p.x, std::span<const F>(z_pow));
  const F z = d1 * p.z * d4;
  const Point mapped(n1 * d4, p.y * n3 * d1, z);
  return Point::Select(z.IsZeroMask(), Point::Identity(), mapped);
}

// ---------------------------------------------------------------------------------------------
// G1: BLS12381G1_XMD:SHA-256_SSWU_{RO,NU}_ (RFC 9380, 8.8.1).

struct G1Constants {
  SswuParams<Fp> sswu;
  Fp sqrt_minus_z;  // c2 of Appendix F.2.1.2: sqrt(-Z)
  std::array<Fp, 12> x_num;
  std::array<Fp, 10> x_den;
  std::array<Fp, 16> y_num;
  std::array<Fp, 15> y_den;
};

template <std::size_t N>
std::array<Fp, N> FpArray(const std::array<std::string_view, N>& hex) {
  std::array<Fp, N> out;
  for (std::size_t i = 0; i < N; ++i) out[i] = Fp::FromHex(hex[i]);
  return out;
}

const G1Constants& G1K() {
  static const G1Constants k = [] {
    G1Constants c;
    // E': A', B' and Z from RFC 9380, section 8.8.1.
    c.sswu.a = Fp::FromHex(
        "144698a3b8e9433d693a02c96d4982b0ea985383ee66a8d8e8981aefd881ac98936f8da0e0f97f5cf428082d584c1d");
    c.sswu.b = Fp::FromHex(
        "12e2908d11688030018b12e8753eee3b2016c1f0f24f4070a0b9c14fcef35ef55a23215a316ceaa5d1cc48e98e172be0");
    c.sswu.z = Fp::FromU64(11);
    c.sswu.b3 = c.sswu.b.Double() + c.sswu.b;
    // -Z = -11 is a square because Z and -1 are both non-squares (p = 3 mod 4).
    c.sqrt_minus_z = *SqrtFp(-c.sswu.z);
    // The 11-isogeny map E' -> E, RFC 9380 Appendix E.2: k_(1,0..11), k_(2,0..9), k_(3,0..15),
    // k_(4,0..14) (x_den and y_den are monic).
    c.x_num = FpArray<12>({
        "11a05f2b1e833340b809101dd99815856b303e88a2d7005ff2627b56cdb4e2c85610c2d5f2e62d6eaeac1662734649b7",
        "17294ed3e943ab2f0588bab22147a81c7c17e75b2f6a8417f565e33c70d1e86b4838f2a6f318c356e834eef1b3cb83bb",
        "d54005db97678ec1d1048c5d10a9a1bce032473295983e56878e501ec68e25c958c3e3d2a09729fe0179f9dac9edcb0",
        "1778e7166fcc6db74e0609d307e55412d7f5e4656a8dbf25f1b33289f1b330835336e25ce3107193c5b388641d9b6861",
        "e99726a3199f4436642b4b3e4118e5499db995a1257fb3f086eeb65982fac18985a286f301e77c451154ce9ac8895d9",
        "1630c3250d7313ff01d1201bf7a74ab5db3cb17dd952799b9ed3ab9097e68f90a0870d2dcae73d19cd13c1c66f652983",
        "d6ed6553fe44d296a3726c38ae652bfb11586264f0f8ce19008e218f9c86b2a8da25128c1052ecaddd7f225a139ed84",
        "17b81e7701abdbe2e8743884d1117e53356de5ab275b4db1a682c62ef0f2753339b7c8f8c8f475af9ccb5618e3f0c88e",
        "80d3cf1f9a78fc47b90b33563be990dc43b756ce79f5574a2c596c928c5d1de4fa295f296b74e956d71986a8497e317",
        "169b1f8e1bcfa7c42e0c37515d138f22dd2ecb803a0c5c99676314baf4bb1b7fa3190b2edc0327797f241067be390c9e",
        "10321da079ce07e272d8ec09d2565b0dfa7dccdde6787f96d50af36003b14866f69b771f8c285decca67df3f1605fb7b",
        "6e08c248e260e70bd1e962381edee3d31d79d7e22c837bc23c0bf1bc24c6b68c24b1b80b64d391fa9c8ba2e8ba2d229",
    });
    c.x_den = FpArray<10>({
        "8ca8d548cff19ae18b2e62f4bd3fa6f01d5ef4ba35b48ba9c9588617fc8ac62b558d681be343df8993cf9fa40d21b1c",
        "12561a5deb559c4348b4711298e536367041e8ca0cf0800c0126c2588c48bf5713daa8846cb026e9e5c8276ec82b3bff",
        "b2962fe57a3225e8137e629bff2991f6f89416f5a718cd1fca64e00b11aceacd6a3d0967c94fedcfcc239ba5cb83e19",
        "3425581a58ae2fec83aafef7c40eb545b08243f16b1655154cca8abc28d6fd04976d5243eecf5c4130de8938dc62cd8",
        "13a8e162022914a80a6f1d5f43e7a07dffdfc759a12062bb8d6b44e833b306da9bd29ba81f35781d539d395b3532a21e",
        "e7355f8e4e667b955390f7f0506c6e9395735e9ce9cad4d0a43bcef24b8982f7400d24bc4228f11c02df9a29f6304a5",
        "772caacf16936190f3e0c63e0596721570f5799af53a1894e2e073062aede9cea73b3538f0de06cec2574496ee84a3a",
        "14a7ac2a9d64a8b230b3f5b074cf01996e7f63c21bca68a81996e1cdf9822c580fa5b9489d11e2d311f7d99bbdcc5a5e",
        "a10ecf6ada54f825e920b3dafc7a3cce07f8d1d7161366b74100da67f39883503826692abba43704776ec3a79a1d641",
        "95fc13ab9e92ad4476d6e3eb3a56680f682b4ee96f7d03776df533978f31c1593174e4b4b7865002d6384d168ecdd0a",
    });
    c.y_num = FpArray<16>({
        "90d97c81ba24ee0259d1f094980dcfa11ad138e48a869522b52af6c956543d3cd0c7aee9b3ba3c2be9845719707bb33",
        "134996a104ee5811d51036d776fb46831223e96c254f383d0f906343eb67ad34d6c56711962fa8bfe097e75a2e41c696",
        "cc786baa966e66f4a384c86a3b49942552e2d658a31ce2c344be4b91400da7d26d521628b00523b8dfe240c72de1f6",
        "1f86376e8981c217898751ad8746757d42aa7b90eeb791c09e4a3ec03251cf9de405aba9ec61deca6355c77b0e5f4cb",
        "8cc03fdefe0ff135caf4fe2a21529c4195536fbe3ce50b879833fd221351adc2ee7f8dc099040a841b6daecf2e8fedb",
        "16603fca40634b6a2211e11db8f0a6a074a7d0d4afadb7bd76505c3d3ad5544e203f6326c95a807299b23ab13633a5f0",
        "4ab0b9bcfac1bbcb2c977d027796b3ce75bb8ca2be184cb5231413c4d634f3747a87ac2460f415ec961f8855fe9d6f2",
        "987c8d5333ab86fde9926bd2ca6c674170a05bfe3bdd81ffd038da6c26c842642f64550fedfe935a15e4ca31870fb29",
        "9fc4018bd96684be88c9e221e4da1bb8f3abd16679dc26c1e8b6e6a1f20cabe69d65201c78607a360370e577bdba587",
        "e1bba7a1186bdb5223abde7ada14a23c42a0ca7915af6fe06985e7ed1e4d43b9b3f7055dd4eba6f2bafaaebca731c30",
        "19713e47937cd1be0dfd0b8f1d43fb93cd2fcbcb6caf493fd1183e416389e61031bf3a5cce3fbafce813711ad011c132",
        "18b46a908f36f6deb918c143fed2edcc523559b8aaf0c2462e6bfe7f911f643249d9cdf41b44d606ce07c8a4d0074d8e",
        "b182cac101b9399d155096004f53f447aa7b12a3426b08ec02710e807b4633f06c851c1919211f20d4c04f00b971ef8",
        "245a394ad1eca9b72fc00ae7be315dc757b3b080d4c158013e6632d3c40659cc6cf90ad1c232a6442d9d3f5db980133",
        "5c129645e44cf1102a159f748c4a3fc5e673d81d7e86568d9ab0f5d396a7ce46ba1049b6579afb7866b1e715475224b",
        "15e6be4e990f03ce4ea50b3b42df2eb5cb181d8f84965a3957add4fa95af01b2b665027efec01c7704b456be69c8b604",
    });
    c.y_den = FpArray<15>({
        "16112c4c3a9c98b252181140fad0eae9601a6de578980be6eec3232b5be72e7a07f3688ef60c206d01479253b03663c1",
        "1962d75c2381201e1a0cbd6c43c348b885c84ff731c4d59ca4a10356f453e01f78a4260763529e3532f6102c2e49a03d",
        "58df3306640da276faaae7d6e8eb15778c4855551ae7f310c35a5dd279cd2eca6757cd636f96f891e2538b53dbf67f2",
        "16b7d288798e5395f20d23bf89edb4d1d115c5dbddbcd30e123da489e726af41727364f2c28297ada8d26d98445f5416",
        "be0e079545f43e4b00cc912f8228ddcc6d19c9f0f69bbb0542eda0fc9dec916a20b15dc0fd2ededda39142311a5001d",
        "8d9e5297186db2d9fb266eaac783182b70152c65550d881c5ecd87b6f0f5a6449f38db9dfa9cce202c6477faaf9b7ac",
        "166007c08a99db2fc3ba8734ace9824b5eecfdfa8d0cf8ef5dd365bc400a0051d5fa9c01a58b1fb93d1a1399126a775c",
        "16a3ef08be3ea7ea03bcddfabba6ff6ee5a4375efa1f4fd7feb34fd206357132b920f5b00801dee460ee415a15812ed9",
        "1866c8ed336c61231a1be54fd1d74cc4f9fb0ce4c6af5920abc5750c4bf39b4852cfe2f7bb9248836b233d9d55535d4a",
        "167a55cda70a6e1cea820597d94a84903216f763e13d87bb5308592e7ea7d4fbc7385ea3d529b35e346ef48bb8913f55",
        "4d2f259eea405bd48f010a01ad2911d9c6dd039bb61a6290e591b36e636a5c871a5c29f4f83060400f8b49cba8f6aa8",
        "accbb67481d033ff5852c1e48c50c477f94ff8aefce42d28c0f9a88cea7913516f968986f7ebbea9684b529e2561092",
        "ad6b9514c767fe3c3613144b45f1496543346d98adf02267d5ceef9a00d9b8693000763e3b90ac11e99b138573345cc",
        "2660400eb2e4f3b628bdd0d53cd76f2bf565b94e72927c1cb748df27942480e420517bd8714cc80d1fadc1326ed06f7",
        "e0fa1d816ddc03e6b24255e0d7819c171c40f65e273b853324efcd6356caa205ca2f570f13497804415473a1d634b8f",
    });
    return c;
  }();
  return k;
}

// The 11-isogeny E1' -> E1 (Appendix E.2).
G1 IsoMapG1(const EPrimePoint<Fp>& p) {
  const G1Constants& k = G1K();
  return IsoMap<G1>(p, std::span<const Fp>(k.x_num), std::span<const Fp>(k.x_den),
                    std::span<const Fp>(k.y_num), std::span<const Fp>(k.y_den));
}

// sqrt_ratio for q = 3 (mod 4), RFC 9380 Appendix F.2.1.2: one exponentiation.
SqrtRatioResult<Fp> SqrtRatioFp(const Fp& u, const Fp& v) {
  const Fp& c2 = G1K().sqrt_minus_z;      // c1 = (q - 3) / 4 is kPMinus3Over4
  Fp tv1 = v.Square();                    // 1. tv1 = v^2
  const Fp tv2 = u * v;                   // 2. tv2 = u * v
  tv1 = tv1 * tv2;                        // 3. tv1 = tv1 * tv2
  Fp y1 = PowPublic(tv1, kPMinus3Over4);  // 4. y1 = tv1^c1
  y1 = y1 * tv2;                          // 5. y1 = y1 * tv2
  const Fp y2 = y1 * c2;                  // 6. y2 = y1 * c2
  Fp tv3 = y1.Square();                   // 7. tv3 = y1^2
  tv3 = tv3 * v;                          // 8. tv3 = tv3 * v
  const u64 is_qr = Mask(tv3 == u);       // 9. isQR = tv3 == u
  return {is_qr, Cmov(y2, y1, is_qr)};    // 10. y = CMOV(y2, y1, isQR)
}

// ---------------------------------------------------------------------------------------------
// G2: BLS12381G2_XMD:SHA-256_SSWU_{RO,NU}_ (RFC 9380, 8.8.2).

struct G2Constants {
  SswuParams<Fp2> sswu;
  Fp sqrt_minus_norm_z;  // sqrt(-N(Z)) = sqrt(-5) in Fp
  std::array<Fp2, 4> x_num;
  std::array<Fp2, 2> x_den;
  std::array<Fp2, 4> y_num;
  std::array<Fp2, 3> y_den;
  Fp psi2_cx;  // c1 of psi2 (Appendix G.3): 1 / 2^((p - 1) / 3)
};

// The 3-isogeny map E2' -> E2, RFC 9380 Appendix E.3, each constant as {c0, c1} for c0 + c1 * I:
// k_(1,0..3) (x_num), k_(2,0..1) (x_den, monic), k_(3,0..3) (y_num), k_(4,0..2) (y_den, monic).
using Fp2Hex = std::array<std::string_view, 2>;
constexpr Fp2Hex kG2XNum[4] = {
    {"5c759507e8e333ebb5b7a9a47d7ed8532c52d39fd3a042a88b58423c50ae15d5c2638e343d9c71c6238aaaaaaaa97d6",
     "5c759507e8e333ebb5b7a9a47d7ed8532c52d39fd3a042a88b58423c50ae15d5c2638e343d9c71c6238aaaaaaaa97d6"},
    {"0", "11560bf17baa99bc32126fced787c88f984f87adf7ae0c7f9a208c6b4f20a4181472aaa9cb8d555526a9ffffffffc71a"},
    {"11560bf17baa99bc32126fced787c88f984f87adf7ae0c7f9a208c6b4f20a4181472aaa9cb8d555526a9ffffffffc71e",
     "8ab05f8bdd54cde190937e76bc3e447cc27c3d6fbd7063fcd104635a790520c0a395554e5c6aaaa9354ffffffffe38d"},
    {"171d6541fa38ccfaed6dea691f5fb614cb14b4e7f4e810aa22d6108f142b85757098e38d0f671c7188e2aaaaaaaa5ed1", "0"},
};
constexpr Fp2Hex kG2XDen[2] = {
    {"0", "1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaa63"},
    {"c", "1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaa9f"},
};
constexpr Fp2Hex kG2YNum[4] = {
    {"1530477c7ab4113b59a4c18b076d11930f7da5d4a07f649bf54439d87d27e500fc8c25ebf8c92f6812cfc71c71c6d706",
     "1530477c7ab4113b59a4c18b076d11930f7da5d4a07f649bf54439d87d27e500fc8c25ebf8c92f6812cfc71c71c6d706"},
    {"0", "5c759507e8e333ebb5b7a9a47d7ed8532c52d39fd3a042a88b58423c50ae15d5c2638e343d9c71c6238aaaaaaaa97be"},
    {"11560bf17baa99bc32126fced787c88f984f87adf7ae0c7f9a208c6b4f20a4181472aaa9cb8d555526a9ffffffffc71c",
     "8ab05f8bdd54cde190937e76bc3e447cc27c3d6fbd7063fcd104635a790520c0a395554e5c6aaaa9354ffffffffe38f"},
    {"124c9ad43b6cf79bfbf7043de3811ad0761b0f37a1e26286b0e977c69aa274524e79097a56dc4bd9e1b371c71c718b10", "0"},
};
constexpr Fp2Hex kG2YDen[3] = {
    {"1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffa8fb",
     "1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffa8fb"},
    {"0", "1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffa9d3"},
    {"12",
     "1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaa99"},
};

template <std::size_t N>
std::array<Fp2, N> Fp2Array(const Fp2Hex (&hex)[N]) {
  std::array<Fp2, N> out;
  for (std::size_t i = 0; i < N; ++i) out[i] = {Fp::FromHex(hex[i][0]), Fp::FromHex(hex[i][1])};
  return out;
}

const G2Constants& G2K() {
  static const G2Constants k = [] {
    G2Constants c;
    // E': A' = 240 * I, B' = 1012 * (1 + I), Z = -(2 + I); RFC 9380, section 8.8.2.
    c.sswu.a = {Fp::Zero(), Fp::FromU64(240)};
    c.sswu.b = {Fp::FromU64(1012), Fp::FromU64(1012)};
    c.sswu.z = {-Fp::FromU64(2), -Fp::One()};
    c.sswu.b3 = c.sswu.b.Double() + c.sswu.b;
    // N(Z) = 5 is a non-square in Fp (Z is a non-square in Fp2), and so is -1: -5 is a square.
    c.sqrt_minus_norm_z = *SqrtFp(-c.sswu.z.Norm());
    c.x_num = Fp2Array(kG2XNum);
    c.x_den = Fp2Array(kG2XDen);
    c.y_num = Fp2Array(kG2YNum);
    c.y_den = Fp2Array(kG2YDen);
    // psi2's constant, Appendix G.3: c1 = 1 / 2^((p - 1) / 3), an element of Fp.
    c.psi2_cx = Fp::FromU64(2).Pow(kPMinus1Over3).Inverse();
    return c;
  }();
  return k;
}

// sqrt_ratio(u, v) for Fp2 (the interface of RFC 9380 Appendix F.2.1: is_qr says whether u / v
// is a square; y = sqrt(u / v) if so, else y = sqrt(Z * u / v)), computed with two Fp
// exponentiations instead of the one Fp2 exponentiation of about 2 log2(p) bits of the generic
// Appendix F.2.1.1, by the norm ("complex") method for square roots in a quadratic extension
// with p = 3 mod 4 (see Adj and Rodriguez-Henriquez, "Square Root Computation over Even
// Extension Fields", IEEE TC 2014). Straight-line, with CMOV by Select. v must be non-zero
// (map_to_curve only calls it with v = tv4^3, tv4 != 0).
//
// Derivation. Write u / v = w / n with w = u * conj(v) and n = N(v) = v * conj(v) in Fp*.
//  * u / v is a square in Fp2 iff N(u / v) = N(w) / n^2 is a square in Fp, i.e. iff N(w) is
//    (0 counts as a square). c = N(w)^((p+1)/4) is sqrt(N(w)) if so, else sqrt(-N(w)).
//  * Let w' = w if u / v is a square, else Z * w; then b = w' / n is the square we want the
//    root of, and S = sqrt(N(w')) is c, or c * sqrt(-5) since N(Z w) = 5 N(w) = (-5)(-N(w)).
//  * With b = b0 + b1 I and s = sqrt(N(b)) = S / n, one of (b0 +- s) / 2 is a square in Fp
//    (when b1 != 0 their product is -b1^2 / 4, a non-square); for delta = (b0 + s) / 2 = num /
//    den with num = w'0 + S, den = 2n, and t = (num den^3)^((p-3)/4):
//      if delta is a square, t^2 = 1 / (num den^3) and y0 = t den (num + w'1 I) satisfies
//      y0^2 = (num^2 - w'1^2 + 2 num w'1 I) / (num den) = (2 w'0 num + 2 num w'1 I) / (2 n num) = b;
//      otherwise t^2 = -1 / (num den^3), y0^2 = -b and I * y0 is the root.
//    So one more exponentiation gives the root, and y0^2 n == w' tells which case holds.
//  * Exceptional inputs: w = 0 gives y = 0 (correct); if b1 = 0 and S = -w'0 then num = 0 and
//    t would vanish, so S's sign is flipped when num == 0 (then num = 2 w'0, and delta = b0).
SqrtRatioResult<Fp2> SqrtRatioFp2(const Fp2& u, const Fp2& v) {
  const G2Constants& k = G2K();
  const Fp n = v.Norm();
  const Fp2 w = u * v.Conjugate();
  const Fp nw = w.Norm();
  const Fp c = PowPublic(nw, kPPlus1Over4);
  const u64 is_qr = Mask(c.Square() == nw);
  const Fp2 wp = Fp2::Select(is_qr, w, k.sswu.z * w);
  const Fp s = Fp::Select(is_qr, c, c * k.sqrt_minus_norm_z);
  Fp num = wp.c0 + s;
  num = Fp::Select(num.IsZeroMask(), wp.c0 - s, num);
  const Fp den = n.Double();
  const Fp t = PowPublic(num * den.Square() * den, kPMinus3Over4);
  const Fp td = t * den;
  const Fp2 y0{td * num, td * wp.c1};
  const u64 y0_is_root = Mask(y0.Square() * n == wp);
  const Fp2 i_y0{-y0.c1, y0.c0};
  return {is_qr, Fp2::Select(y0_is_root, y0, i_y0)};
}

// The 3-isogeny E2' -> E2 (Appendix E.3).
G2 IsoMapG2(const EPrimePoint<Fp2>& p) {
  const G2Constants& k = G2K();
  return IsoMap<G2>(p, std::span<const Fp2>(k.x_num), std::span<const Fp2>(k.x_den),
                    std::span<const Fp2>(k.y_num), std::span<const Fp2>(k.y_den));
}

// psi2(P) = psi(psi(P)) for BLS12-381 G2, RFC 9380 Appendix G.3: (c1 x, -y) in affine
// coordinates; in homogeneous projective coordinates (c1 X : -Y : Z).
G2 Psi2(const G2& p) { return {p.X() * G2K().psi2_cx, -p.Y(), p.Z()}; }

// ---------------------------------------------------------------------------------------------
// hash_to_field (RFC 9380, 5.2) over Fp^m.

template <std::size_t M>
Result<std::vector<std::array<Fp, M>>> HashToFieldImpl(std::span<const std::uint8_t> msg,
                                                       std::span<const std::uint8_t> dst, std::size_t count) {
  // 1. len_in_bytes = count * m * L (guarded against overflow; ExpandMessageXmd rejects > 65535).
  if (count > 65535 / (M * kL)) {
    return Fail(ErrorCode::kInvalidArgument, "hash_to_field: count * m * L exceeds 65535 bytes");
  }
  const std::size_t len_in_bytes = count * M * kL;
  auto uniform_bytes = ExpandMessageXmd(msg, dst, len_in_bytes);  // 2.
  if (!uniform_bytes) return std::unexpected(uniform_bytes.error());
  std::vector<std::array<Fp, M>> out(count);
  for (std::size_t i = 0; i < count; ++i) {             // 3.
    for (std::size_t j = 0; j < M; ++j) {               // 4.
      const std::size_t elm_offset = kL * (j + i * M);  // 5.
      // 6-7. tv = substr(uniform_bytes, elm_offset, L); e_j = OS2IP(tv) mod p
      out[i][j] = Fp::FromBytesWide(std::span<const std::uint8_t>(*uniform_bytes).subspan(elm_offset, kL));
    }
  }
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// expand_message_xmd, RFC 9380 section 5.3.1, with the oversized-DST rule of section 5.3.3.

Result<std::vector<std::uint8_t>> ExpandMessageXmd(std::span<const std::uint8_t> msg,
                                                   std::span<const std::uint8_t> dst,
                                                   std::size_t len_in_bytes) {
  if (dst.empty()) return Fail(ErrorCode::kInvalidArgument, "expand_message_xmd: the DST must not be empty");
  // 1-3. ell = ceil(len_in_bytes / b_in_bytes); abort if ell > 255 or len_in_bytes > 65535.
  const std::size_t ell = (len_in_bytes + kHashBytes - 1) / kHashBytes;
  if (len_in_bytes > 65535 || ell > 255) {
    return Fail(ErrorCode::kInvalidArgument,
                "expand_message_xmd: len_in_bytes must be at most 65535 and 255 * 32 = 8160, got " +
                    std::to_string(len_in_bytes));
  }
  MdCtx ctx(EVP_MD_CTX_new());
  if (!ctx) return Fail(ErrorCode::kInternal, "expand_message_xmd: EVP_MD_CTX_new failed");

  // Section 5.3.3: a DST longer than 255 bytes is replaced by H("H2C-OVERSIZE-DST-" || DST).
  std::array<std::uint8_t, kHashBytes> short_dst;
  if (dst.size() > 255) {
    static constexpr std::string_view kOversize = "H2C-OVERSIZE-DST-";
    if (auto ok = Hash(ctx.get(), {AsBytes(kOversize), dst}, short_dst.data()); !ok) {
      return std::unexpected(ok.error());
    }
    dst = short_dst;
  }
  // 4. DST_prime = DST || I2OSP(len(DST), 1)
  const std::array<std::uint8_t, 1> dst_len{std::uint8_t(dst.size())};
  // 5. Z_pad = I2OSP(0, s_in_bytes); 6. l_i_b_str = I2OSP(len_in_bytes, 2)
  static constexpr std::array<std::uint8_t, kBlockBytes> kZPad{};
  const std::array<std::uint8_t, 2> l_i_b_str{std::uint8_t(len_in_bytes >> 8), std::uint8_t(len_in_bytes)};
  const std::array<std::uint8_t, 1> zero{0};
  // 7-8. msg_prime = Z_pad || msg || l_i_b_str || I2OSP(0, 1) || DST_prime; b_0 = H(msg_prime)
  std::array<std::uint8_t, kHashBytes> b0;
  if (auto ok = Hash(ctx.get(), {kZPad, msg, l_i_b_str, zero, dst, dst_len}, b0.data()); !ok) {
    return std::unexpected(ok.error());
  }
  // 9-10. b_1 = H(b_0 || I2OSP(1, 1) || DST_prime);
  //       b_i = H(strxor(b_0, b_(i - 1)) || I2OSP(i, 1) || DST_prime) for i = 2..ell
  std::vector<std::uint8_t> out(ell * kHashBytes);
  std::array<std::uint8_t, kHashBytes> chain = b0;  // strxor(b_0, b_(i-1)), or b_0 for i = 1
  for (std::size_t i = 1; i <= ell; ++i) {
    const std::array<std::uint8_t, 1> counter{std::uint8_t(i)};
    std::uint8_t* bi = out.data() + (i - 1) * kHashBytes;
    if (auto ok = Hash(ctx.get(), {chain, counter, dst, dst_len}, bi); !ok)
      return std::unexpected(ok.error());
    for (std::size_t j = 0; j < kHashBytes; ++j) chain[j] = b0[j] ^ bi[j];
  }
  // 11-12. uniform_bytes = b_1 || ... || b_ell, truncated to len_in_bytes
  out.resize(len_in_bytes);
  return out;
}

Result<std::vector<Fp>> HashToFieldFp(std::span<const std::uint8_t> msg, std::span<const std::uint8_t> dst,
                                      std::size_t count) {
  auto elems = HashToFieldImpl<1>(msg, dst, count);
  if (!elems) return std::unexpected(elems.error());
  std::vector<Fp> out;
  out.reserve(count);
  for (const auto& e : *elems) out.push_back(e[0]);
  return out;
}

Result<std::vector<Fp2>> HashToFieldFp2(std::span<const std::uint8_t> msg, std::span<const std::uint8_t> dst,
                                        std::size_t count) {
  auto elems = HashToFieldImpl<2>(msg, dst, count);
  if (!elems) return std::unexpected(elems.error());
  std::vector<Fp2> out;
  out.reserve(count);
  for (const auto& e : *elems) out.push_back({e[0], e[1]});
  return out;
}

// map_to_curve for G1: simplified SWU onto E' (6.6.2, Appendix F.2 with F.2.1.2), then the
// 11-isogeny (6.6.3, Appendix E.2).
G1 MapToCurveG1(const Fp& u) {
  const G1Constants& k = G1K();
  return IsoMapG1(SimplifiedSwu(u, k.sswu, SqrtRatioFp));
}

// map_to_curve for G2: simplified SWU onto E' (6.6.2, Appendix F.2 with the sqrt_ratio above),
// then the 3-isogeny (6.6.3, Appendix E.3).
G2 MapToCurveG2(const Fp2& u) {
  const G2Constants& k = G2K();
  return IsoMapG2(SimplifiedSwu(u, k.sswu, SqrtRatioFp2));
}

// clear_cofactor for G1 (7, 8.8.1): h_eff * P with h_eff = 0xd201000000010001 = 1 - x, so
// h_eff * P = P - x * P (x is the negative BLS parameter; 8.8.1 notes that this h_eff is
// chosen for this fast method, Wahby-Boneh 2019, section 5).
G1 ClearCofactorG1(const G1& p) { return p - p.MulByX(); }

// clear_cofactor for G2 (7, 8.8.2): Budroni-Pintore, RFC 9380 Appendix G.3, which computes
// h_eff * P for h_eff of section 8.8.2.
G2 ClearCofactorG2(const G2& p) {
  G2 t1 = p.MulByX();  // 1.  t1 = c1 * P
  G2 t2 = Psi(p);      // 2.  t2 = psi(P)
  G2 t3 = p.Double();  // 3.  t3 = 2 * P
  t3 = Psi2(t3);       // 4.  t3 = psi2(t3)
  t3 = t3 - t2;        // 5.  t3 = t3 - t2
  t2 = t1 + t2;        // 6.  t2 = t1 + t2
  t2 = t2.MulByX();    // 7.  t2 = c1 * t2
  t3 = t3 + t2;        // 8.  t3 = t3 + t2
  t3 = t3 - t1;        // 9.  t3 = t3 - t1
  return t3 - p;       // 10. Q = t3 - P
}

// hash_to_curve (section 3): u = hash_to_field(msg, 2); Q0 = map_to_curve(u[0]);
// Q1 = map_to_curve(u[1]); R = Q0 + Q1; P = clear_cofactor(R). The sum is taken on E', before
// the isogeny (see EPrimeAdd), which gives the same R.
Result<G1> HashToG1(std::span<const std::uint8_t> msg, std::span<const std::uint8_t> dst) {
  auto u = HashToFieldFp(msg, dst, 2);
  if (!u) return std::unexpected(u.error());
  const G1Constants& k = G1K();
  const EPrimePoint<Fp> q0 = SimplifiedSwu((*u)[0], k.sswu, SqrtRatioFp);
  const EPrimePoint<Fp> q1 = SimplifiedSwu((*u)[1], k.sswu, SqrtRatioFp);
  return ClearCofactorG1(IsoMapG1(EPrimeAdd(q0, q1, k.sswu)));
}

Result<G2> HashToG2(std::span<const std::uint8_t> msg, std::span<const std::uint8_t> dst) {
  auto u = HashToFieldFp2(msg, dst, 2);
  if (!u) return std::unexpected(u.error());
  const G2Constants& k = G2K();
  const EPrimePoint<Fp2> q0 = SimplifiedSwu((*u)[0], k.sswu, SqrtRatioFp2);
  const EPrimePoint<Fp2> q1 = SimplifiedSwu((*u)[1], k.sswu, SqrtRatioFp2);
  return ClearCofactorG2(IsoMapG2(EPrimeAdd(q0, q1, k.sswu)));
}

// encode_to_curve (section 3): u = hash_to_field(msg, 1); Q = map_to_curve(u[0]);
// P = clear_cofactor(Q).
Result<G1> EncodeToG1(std::span<const std::uint8_t> msg, std::span<const std::uint8_t> dst) {
  auto u = HashToFieldFp(msg, dst, 1);
  if (!u) return std::unexpected(u.error());
  return ClearCofactorG1(MapToCurveG1((*u)[0]));
}

Result<G2> EncodeToG2(std::span<const std::uint8_t> msg, std::span<const std::uint8_t> dst) {
  auto u = HashToFieldFp2(msg, dst, 1);
  if (!u) return std::unexpected(u.error());
  return ClearCofactorG2(MapToCurveG2((*u)[0]));
}

}  // namespace cipherchart::pairing
