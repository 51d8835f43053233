#include "cipherchart/pairing/gt.h"

#include <cstring>
#include <type_traits>

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

namespace {

static_assert(std::is_trivially_copyable_v<Fp12> && sizeof(Fp12) == 72 * sizeof(u64),
              "GtFixedBase packs Fp12 values as 72 raw limbs");

// A signed digit of GtFixedBase: |d| (0 .. kEntries) and an all-ones mask when d < 0.
struct GtDigit {
  u64 abs, neg;
};
using GtDigits = std::array<std::array<GtDigit, GtFixedBase::kWindows>, 4>;

// Signed kBits-bit recoding of e < 2^64: a residue m >= 2^(kBits-1) becomes the digit
// m - 2^kBits with a carry into the next window, so |d| <= 2^(kBits-1) and the last window
// (4 bits plus a carry) never overflows. Branch-free.
void RecodeGtExponent(u64 e, std::array<GtDigit, GtFixedBase::kWindows>& out) {
  constexpr int b = GtFixedBase::kBits;
  static_assert(b * (GtFixedBase::kWindows - 1) <= 64 && b * GtFixedBase::kWindows >= 65);
  for (int w = 0; w + 1 < GtFixedBase::kWindows; ++w) {
    const u64 m = e & ((u64{1} << b) - 1);
    const u64 carry = m >> (b - 1);
    const u64 neg = detail::ValueBarrier(0 - carry);
    out[w] = {((m ^ neg) - neg) + (carry << b), neg};  // 2^b - m when negative
    e = (e >> b) + carry;
  }
  out[GtFixedBase::kWindows - 1] = {e, 0};
}

}  // namespace

GtFixedBase::GtFixedBase(const Gt& base) : base_(base), table_(std::size_t{kWindows} * kEntries) {
  Fp12 g = base.value();  // base^(2^(kBits w))
  for (int w = 0; w < kWindows; ++w) {
    Fp12 acc = g;
    for (int j = 0; j < kEntries; ++j) {
      if (j > 0) acc *= g;
      std::memcpy(table_[std::size_t(w) * kEntries + j].w.data(), &acc, sizeof(Fp12));
    }
    g = acc.CyclotomicSquare();  // (g^(2^(kBits-1)))^2
  }
}

Gt GtFixedBase::Pow(const Fr& k) const {
  auto d = detail::SplitScalarBaseX(k.ToCanonical());
  GtDigits digits;
  for (int i = 0; i < 4; ++i) RecodeGtExponent(d[i], digits[i]);
  typedef u64 V4 __attribute__((vector_size(32)));
  constexpr int kVectors = 18;  // 576 bytes
  constexpr int kPiece = 2;     // vectors per pass: 4 x 2 accumulators stay in registers
  static const Packed one = [] {
    Packed p;
    const Fp12 v = Fp12::One();
    std::memcpy(p.w.data(), &v, sizeof(Fp12));
    return p;
  }();
  // out[i] = T[w][|d_i|] for the four digits of window w, conjugated when d_i < 0, from one
  // scan of the window's row (the identity for d_i = 0): every entry is read and kept by mask.
  std::array<std::array<u64, 4>, kEntries + 1> mask;  // per window; mask[0]: the identity
  auto lookup4 = [&](int w, std::array<Fp12, 4>& out) {
    const Packed* row = table_.data() + std::size_t(w) * kEntries;
    for (int j = 0; j <= kEntries; ++j) {
      for (int i = 0; i < 4; ++i)
        mask[j][i] = detail::ValueBarrier(detail::IsZeroMask(u64(j) ^ digits[i][w].abs));
    }
    std::array<Packed, 4> sel;
    for (int piece = 0; piece < kVectors; piece += kPiece) {
      V4 acc[4][kPiece];
      for (int q = 0; q < kPiece; ++q) {
        V4 e;
        std::memcpy(&e, one.w.data() + 4 * (piece + q), 32);
        for (int i = 0; i < 4; ++i) acc[i][q] = e & V4{mask[0][i], mask[0][i], mask[0][i], mask[0][i]};
      }
      for (int j = 0; j < kEntries; ++j) {
        for (int q = 0; q < kPiece; ++q) {
          V4 e;
          std::memcpy(&e, row[j].w.data() + 4 * (piece + q), 32);
          for (int i = 0; i < 4; ++i) {
            const u64 m = mask[j + 1][i];
            acc[i][q] |= e & V4{m, m, m, m};
          }
        }
      }
      for (int i = 0; i < 4; ++i) std::memcpy(sel[i].w.data() + 4 * piece, acc[i], sizeof(acc[i]));
    }
    for (int i = 0; i < 4; ++i) {
      std::memcpy(static_cast<void*>(&out[i]), sel[i].w.data(), sizeof(Fp12));
      out[i].c1 = Fp6::Select(digits[i][w].neg, -out[i].c1, out[i].c1);
    }
  };
  std::array<Fp12, 4> a, t;
  lookup4(0, a);
  for (int w = 1; w < kWindows; ++w) {
    lookup4(w, t);
    for (int i = 0; i < 4; ++i) a[i] *= t[i];
  }
  // A0 phi(A1 phi(A2 phi(A3))), phi = conj o frob: base^(d0 + d1 |x| + d2 |x|^2 + d3 |x|^3).
  Fp12 acc = a[3];
  for (int i = 2; i >= 0; --i) acc = acc.Frobenius().Conjugate() * a[i];
  std::memset(d.data(), 0, sizeof(d));
  std::memset(static_cast<void*>(digits.data()), 0, sizeof(digits));
  std::memset(static_cast<void*>(mask.data()), 0, sizeof(mask));  // the masks spell the digits
  __asm__ __volatile__("" : : "r"(d.data()), "r"(digits.data()), "r"(mask.data()) : "memory");
  return Gt::FromFp12Unchecked(acc);
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
