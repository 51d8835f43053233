#include "cipherchart/pairing/gt.h"

#include <cstring>

#include "cipherchart/pairing/curve.h"

namespace cipherchart::pairing {

Gt Gt::Pow(const Fr& k) const {
  // Fixed 4-bit windows with a full-scan table lookup; every window does four cyclotomic
  // squarings and one multiplication (by 1 for a zero digit).
  Fp12 table[16];
  table[0] = Fp12::One();
  for (int j = 1; j < 16; ++j) table[j] = table[j - 1] * v_;
  auto scalar = k.ToCanonical();
  Fp12 acc = Fp12::One();
  for (int w = 63; w >= 0; --w) {
    acc = acc.CyclotomicSquare().CyclotomicSquare().CyclotomicSquare().CyclotomicSquare();
    const u64 digit = (scalar[w / 16] >> (4 * (w % 16))) & 15;
    Fp12 sel = table[0];
    for (u64 j = 1; j < 16; ++j) sel = Fp12::Select(detail::IsZeroMask(j ^ digit), table[j], sel);
    acc *= sel;
  }
  std::memset(scalar.data(), 0, sizeof(scalar));
  __asm__ __volatile__("" : : "r"(scalar.data()) : "memory");
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
    return Fail(ErrorCode::kInvalidEncoding, "GT element: expected 576 bytes, got " + std::to_string(bytes.size()));
  }
  Fp12 v;
  std::size_t off = 0;
  bool canonical = true;
  ForEachCoefficient(v, [&](Fp& c) {
    auto r = Fp::FromBytes(bytes.subspan(off, 48));
    if (r) c = *r;
    else canonical = false;
    off += 48;
  });
  if (!canonical) return Fail(ErrorCode::kNonCanonical, "GT element: a coefficient is not less than p");
  if (!IsInGroup(v)) return Fail(ErrorCode::kNotInSubgroup, "GT element: not in the order-r subgroup of Fp12");
  return Gt(v);
}

}  // namespace cipherchart::pairing
