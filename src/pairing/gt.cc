#include "cipherchart/pairing/gt.h"

#include <cstring>

#include "cipherchart/pairing/curve.h"

namespace cipherchart::pairing {

Gt Gt::Pow(const Fr& k) const {
  // k = sum d_i |x|^i (detail::SplitScalarBaseX). On GT the Frobenius is exponentiation by
  // p = x (mod r), so g^(|x|^i) = g^((-x)^i) = conj^i(frob^i(g)) (conj inverts unitary
  // elements). Four 64-bit exponents, fixed 4-bit windows: 60 cyclotomic squarings and 64
  // multiplications by entries fetched with a full-scan lookup.
  auto d = detail::SplitScalarBaseX(k.ToCanonical());
  std::array<std::array<Fp12, 16>, 4> tables;
  tables[0][0] = Fp12::One();
  for (int j = 1; j < 16; ++j) tables[0][j] = tables[0][j - 1] * v_;
  for (int j = 0; j < 16; ++j) {
    tables[1][j] = tables[0][j].Frobenius().Conjugate();
    tables[2][j] = tables[0][j].Frobenius2();
    tables[3][j] = tables[2][j].Frobenius().Conjugate();
  }
  Fp12 acc = Fp12::One();
  for (int w = 15; w >= 0; --w) {
    if (w != 15) acc = acc.CyclotomicSquare().CyclotomicSquare().CyclotomicSquare().CyclotomicSquare();
    for (int i = 0; i < 4; ++i) {
      const u64 digit = (d[i] >> (4 * w)) & 15;
      Fp12 sel = tables[i][0];
      for (u64 j = 1; j < 16; ++j) sel = Fp12::Select(detail::IsZeroMask(j ^ digit), tables[i][j], sel);
      acc *= sel;
    }
  }
  std::memset(d.data(), 0, sizeof(d));
  __asm__ __volatile__("" : : "r"(d.data()) : "memory");
  return Gt(acc);
}

Gt Gt::PowVartime(const Fr& k) const {
  const auto e = k.ToCanonical();
  Fp12 acc = Fp12::One();
  for (std::size_t i = detail::BitLength(e); i-- > 0;) {
    acc = acc.CyclotomicSquare();
    if ((e[i / 64] >> (i % 64)) & 1) acc *= v_;
  }
  return Gt(acc);
}

bool Gt::IsInGroup(const Fp12& v) {
  // v^r with generic squarings (v is not yet known to be cyclotomic).
  const auto r = Fr::kModulus;
  Fp12 acc = Fp12::One();
  for (std::size_t i = detail::BitLength(r); i-- > 0;) {
    acc = acc.Square();
    if ((r[i / 64] >> (i % 64)) & 1) acc *= v;
  }
  return acc.IsOne() && !(v == Fp12::Zero());
}

namespace {
// The 12 coefficients in encoding order: c0.c0.c0, c0.c0.c1, c0.c1.c0, ..., c1.c2.c1.
template <class V, class Fn>
void ForEachCoefficient(V& v, Fn fn) {
  for (auto* six : {&v.c0, &v.c1}) {
    for (auto* two : {&six->c0, &six->c1, &six->c2}) {
      fn(two->c0);
      fn(two->c1);
    }
  }
}
}  // namespace

std::array<std::uint8_t, kGtSize> Gt::ToBytes() const {
  std::array<std::uint8_t, kGtSize> out{};
  std::size_t off = 0;
  ForEachCoefficient(v_, [&](const Fp& c) {
    c.ToBytes(std::span<std::uint8_t>(out.data() + off, 48));
    off += 48;
  });
  return out;
}

Result<Gt> Gt::FromBytes(std::span<const std::uint8_t> bytes) {
  if (bytes.size() != kGtSize) {
    return Fail(ErrorCode::kInvalidEncoding,
                "GT element: expected 576 bytes, got " + std::to_string(bytes.size()));
  }
  Fp12 v;
  std::size_t off = 0;
  bool canonical = true;
  ForEachCoefficient(v, [&](Fp& c) {
    auto r = Fp::FromBytes(bytes.subspan(off, 48));
    if (r)
      c = *r;
    else
      canonical = false;
    off += 48;
  });
  if (!canonical) return Fail(ErrorCode::kNonCanonical, "GT element: a coefficient is not less than p");
  if (!IsInGroup(v))
    return Fail(ErrorCode::kNotInSubgroup, "GT element: not in the order-r subgroup of Fp12");
  return Gt(v);
}

}  // namespace cipherchart::pairing
