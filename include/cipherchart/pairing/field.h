// Prime fields of BLS12-381 in Montgomery form with 64-bit limbs (low tier of the pairing
// library: ABE code should use the group types, not these, except for scalars).
//
//   Fp: the 381-bit base field, p = 0x1a0111ea...ffffaaab (6 limbs)
//   Fr: the 255-bit scalar field, r = 0x73eda753...00000001 (4 limbs), the order of G1, G2, GT
//
// Every operation here is constant-time in the values of its operands (no branch and no memory
// index depends on them) unless its comment says "variable-time" — those take public inputs
// only (exponents that are constants of the curve, or values the caller declares public).
//
// Montgomery multiplication is the CIOS method (Koç, Acar, Kaliski, "Analyzing and comparing
// Montgomery multiplication algorithms", IEEE Micro 1996) with the "no final carry" shortcut
// valid when the top limb of the modulus is below 2^63 - 1 (used by gnark-crypto; both p and
// r qualify, which is static_assert-ed below). Montgomery constants (R mod m, R^2 mod m,
// -m^{-1} mod 2^64) are computed at compile time from the modulus, so the only hand-typed
// constants are the moduli themselves, which are quoted from the BLS12-381 specification
// (draft-irtf-cfrg-pairing-friendly-curves-11, section 4.2.1).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "cipherchart/common/error.h"

namespace cipherchart::pairing {

using u64 = std::uint64_t;
__extension__ typedef unsigned __int128 u128;  // GCC/Clang extension, needed for 64x64->128 products

namespace detail {

template <std::size_t N>
using Limbs = std::array<u64, N>;

// --- constexpr multi-precision helpers (compile-time constant derivation; variable-time) ---

constexpr u64 HexValue(char c) {
  return (c >= '0' && c <= '9') ? u64(c - '0') : (c >= 'a' && c <= 'f') ? u64(c - 'a' + 10) : u64(c - 'A' + 10);
}

// Big-endian hex (optional 0x) to little-endian limbs.
template <std::size_t N>
constexpr Limbs<N> LimbsFromHex(std::string_view hex) {
  if (hex.size() >= 2 && hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X')) hex.remove_prefix(2);
  Limbs<N> out{};
  std::size_t bit = 0;
  for (std::size_t i = hex.size(); i-- > 0; bit += 4) out[bit / 64] |= HexValue(hex[i]) << (bit % 64);
  return out;
}

template <std::size_t N>
constexpr bool GreaterOrEqual(const Limbs<N>& a, const Limbs<N>& b) {
  for (std::size_t i = N; i-- > 0;) {
    if (a[i] != b[i]) return a[i] > b[i];
  }
  return true;
}

template <std::size_t N>
constexpr Limbs<N> SubPlain(const Limbs<N>& a, const Limbs<N>& b) {
  Limbs<N> out{};
  u64 borrow = 0;
  for (std::size_t i = 0; i < N; ++i) {
    const u128 t = u128(a[i]) - b[i] - borrow;
    out[i] = u64(t);
    borrow = u64(t >> 64) & 1;
  }
  return out;
}

template <std::size_t N>
constexpr Limbs<N> AddSmall(Limbs<N> a, u64 s) {
  for (std::size_t i = 0; i < N && s; ++i) {
    const u128 t = u128(a[i]) + s;
    a[i] = u64(t);
    s = u64(t >> 64);
  }
  return a;
}

template <std::size_t N>
constexpr Limbs<N> SubSmall(Limbs<N> a, u64 s) {
  for (std::size_t i = 0; i < N && s; ++i) {
    const u64 before = a[i];
    a[i] -= s;
    s = before < s ? 1 : 0;
  }
  return a;
}

template <std::size_t N>
constexpr Limbs<N> DivSmall(const Limbs<N>& a, u64 d) {
  Limbs<N> out{};
  u128 rem = 0;
  for (std::size_t i = N; i-- > 0;) {
    const u128 cur = (rem << 64) | a[i];
    out[i] = u64(cur / d);
    rem = cur % d;
  }
  return out;
}

// 2^k mod m, by repeated doubling (compile time only).
template <std::size_t N>
constexpr Limbs<N> PowerOfTwoMod(std::size_t k, const Limbs<N>& m) {
  Limbs<N> x{};
  x[0] = 1;
  for (std::size_t i = 0; i < k; ++i) {
    u64 carry = 0;
    for (std::size_t j = 0; j < N; ++j) {
      const u64 next = x[j] >> 63;
      x[j] = (x[j] << 1) | carry;
      carry = next;
    }
    if (carry || GreaterOrEqual(x, m)) x = SubPlain(x, m);
  }
  return x;
}

// Full product of two N-limb numbers (compile time only).
template <std::size_t N>
constexpr Limbs<2 * N> MulPlain(const Limbs<N>& a, const Limbs<N>& b) {
  Limbs<2 * N> out{};
  for (std::size_t i = 0; i < N; ++i) {
    u64 carry = 0;
    for (std::size_t j = 0; j < N; ++j) {
      const u128 t = u128(a[i]) * b[j] + out[i + j] + carry;
      out[i + j] = u64(t);
      carry = u64(t >> 64);
    }
    out[i + N] = carry;
  }
  return out;
}

constexpr u64 NegInverse64(u64 m0) {
  u64 inv = 1;  // Newton iteration doubles the correct low bits each step: 1,2,4,...,64
  for (int i = 0; i < 7; ++i) inv *= 2 - m0 * inv;
  return ~inv + 1;
}

constexpr std::size_t BitLength(const auto& limbs) {
  for (std::size_t i = limbs.size(); i-- > 0;) {
    if (limbs[i]) return i * 64 + (64 - static_cast<std::size_t>(__builtin_clzll(limbs[i])));
  }
  return 0;
}

// Mask helpers: all-ones if the condition holds, else zero, without a branch.
inline u64 MaskFromBit(u64 bit) { return ~u64(0) * (bit & 1); }
inline u64 IsZeroMask(u64 x) { return MaskFromBit(~(x | (~x + 1)) >> 63); }

// Defeats the optimiser turning a mask select back into a branch (BoringSSL's value_barrier).
inline u64 ValueBarrier(u64 a) {
  __asm__("" : "+r"(a) : /* no inputs */);
  return a;
}

}  // namespace detail

// A prime field with modulus Params::kModulus (N limbs), elements kept in Montgomery form.
template <class Params>
class MontField {
 public:
  static constexpr std::size_t kLimbs = Params::kLimbs;
  using Limbs = detail::Limbs<kLimbs>;
  static constexpr Limbs kModulus = detail::LimbsFromHex<kLimbs>(Params::kModulusHex);
  static constexpr std::size_t kBits = detail::BitLength(kModulus);
  static constexpr std::size_t kBytes = (kBits + 7) / 8;
  static constexpr u64 kNegInv = detail::NegInverse64(kModulus[0]);
  static constexpr Limbs kR = detail::PowerOfTwoMod<kLimbs>(64 * kLimbs, kModulus);
  static constexpr Limbs kR2 = detail::PowerOfTwoMod<kLimbs>(128 * kLimbs, kModulus);
  static constexpr Limbs kR3 = detail::PowerOfTwoMod<kLimbs>(192 * kLimbs, kModulus);
  static_assert(kModulus[kLimbs - 1] < (~u64(0) >> 1) - 1, "no-carry CIOS needs a spare top bit");
  static_assert(kModulus[0] * (~kNegInv + 1) == 1, "Montgomery constant");

  constexpr MontField() = default;

  static constexpr MontField Zero() { return MontField(); }
  static MontField One() { return FromRaw(kR); }
  // The element whose Montgomery representation is `raw` (no conversion).
  static constexpr MontField FromRaw(const Limbs& raw) {
    MontField f;
    f.v_ = raw;
    return f;
  }
  // The element equal to the integer `canonical`, which must be < modulus (checked only by
  // FromCanonicalChecked). Constant-time.
  static MontField FromCanonical(const Limbs& canonical) { return FromRaw(canonical) * FromRaw(kR2); }
  static MontField FromU64(u64 x) {
    Limbs l{};
    l[0] = x;
    return FromCanonical(l);
  }
  // Big-endian hex string of a value < modulus (for constants and tests; variable-time).
  static MontField FromHex(std::string_view hex) { return FromCanonical(detail::LimbsFromHex<kLimbs>(hex)); }

  // Big-endian bytes of exactly kBytes; fails with kNonCanonical if the value is >= modulus.
  // The comparison with the modulus is constant-time; the error is returned after it.
  static Result<MontField> FromBytes(std::span<const std::uint8_t> bytes);
  // Reduces a big-endian byte string of up to 2*kLimbs*8 bytes modulo the modulus (used by
  // hash_to_field, RFC 9380 section 5.2, and for uniform random scalars). Constant-time.
  static MontField FromBytesWide(std::span<const std::uint8_t> bytes);
  // Uniformly random element (64 extra random bits, statistical distance < 2^-64... ×2^-64).
  static Result<MontField> Random();

  // Canonical (non-Montgomery) limbs.
  Limbs ToCanonical() const {
    Limbs one{};
    one[0] = 1;
    return (*this * FromRaw(one)).v_;
  }
  // Big-endian, exactly kBytes.
  void ToBytes(std::span<std::uint8_t> out) const;
  std::array<std::uint8_t, kBytes> ToBytes() const {
    std::array<std::uint8_t, kBytes> out{};
    ToBytes(out);
    return out;
  }
  std::string ToHex() const;  // "0x" + big-endian hex, for tests and debugging of public values
  const Limbs& raw() const { return v_; }

  // ---- arithmetic (constant-time) ----
  friend MontField operator+(const MontField& a, const MontField& b) {
    MontField r;
    u64 carry = 0;
    for (std::size_t i = 0; i < kLimbs; ++i) {
      const u128 t = u128(a.v_[i]) + b.v_[i] + carry;
      r.v_[i] = u64(t);
      carry = u64(t >> 64);
    }
    ReduceOnce(r.v_);  // no carry out of the top limb: a + b < 2^(64N) because of the spare bit
    return r;
  }
  friend MontField operator-(const MontField& a, const MontField& b) {
    MontField r;
    u64 borrow = 0;
    for (std::size_t i = 0; i < kLimbs; ++i) {
      const u128 t = u128(a.v_[i]) - b.v_[i] - borrow;
      r.v_[i] = u64(t);
      borrow = u64(t >> 64) & 1;
    }
    // Add the modulus back if we borrowed.
    const u64 mask = detail::ValueBarrier(detail::MaskFromBit(borrow));
    u64 carry = 0;
    for (std::size_t i = 0; i < kLimbs; ++i) {
      const u128 t = u128(r.v_[i]) + (kModulus[i] & mask) + carry;
      r.v_[i] = u64(t);
      carry = u64(t >> 64);
    }
    return r;
  }
  MontField operator-() const { return Zero() - *this; }
  friend MontField operator*(const MontField& a, const MontField& b) {
    MontField r;
    MontMul(r.v_, a.v_, b.v_);
    return r;
  }
  MontField& operator+=(const MontField& b) { return *this = *this + b; }
  MontField& operator-=(const MontField& b) { return *this = *this - b; }
  MontField& operator*=(const MontField& b) { return *this = *this * b; }
  MontField Square() const { return *this * *this; }
  MontField Double() const { return *this + *this; }

  // a^e for a public exponent e (variable-time in e, constant-time in a).
  template <std::size_t M>
  MontField Pow(const detail::Limbs<M>& e) const;
  // Multiplicative inverse by Fermat's little theorem (a^(m-2)); Inverse(0) = 0. Constant-time.
  MontField Inverse() const;

  // ---- predicates: computed without branches, returned as bool ----
  bool IsZero() const { return detail::IsZeroMask(OrLimbs()) & 1; }
  bool IsOne() const { return *this == One(); }
  friend bool operator==(const MontField& a, const MontField& b) {
    u64 diff = 0;
    for (std::size_t i = 0; i < kLimbs; ++i) diff |= a.v_[i] ^ b.v_[i];
    return detail::IsZeroMask(diff) & 1;
  }
  // All-ones mask if zero.
  u64 IsZeroMask() const { return detail::IsZeroMask(OrLimbs()); }
  // a if mask is all-ones, else b.
  static MontField Select(u64 mask, const MontField& a, const MontField& b) {
    MontField r;
    mask = detail::ValueBarrier(mask);
    for (std::size_t i = 0; i < kLimbs; ++i) r.v_[i] = (a.v_[i] & mask) | (b.v_[i] & ~mask);
    return r;
  }
  // Canonical value > (m-1)/2 ("lexicographically largest" in the Zcash encoding): all-ones mask.
  u64 IsLargestMask() const;
  // RFC 9380 section 4.1 sgn0 for a prime field: the parity of the canonical value.
  u64 Sgn0() const { return ToCanonical()[0] & 1; }

 private:
  u64 OrLimbs() const {
    u64 acc = 0;
    for (auto l : v_) acc |= l;
    return acc;
  }
  // Subtract the modulus once if the value is >= it (constant-time).
  static void ReduceOnce(Limbs& v_) {
    Limbs t;
    u64 borrow = 0;
    for (std::size_t i = 0; i < kLimbs; ++i) {
      const u128 d = u128(v_[i]) - kModulus[i] - borrow;
      t[i] = u64(d);
      borrow = u64(d >> 64) & 1;
    }
    const u64 keep = detail::ValueBarrier(detail::MaskFromBit(borrow));  // borrow: v < m, keep v
    for (std::size_t i = 0; i < kLimbs; ++i) v_[i] = (v_[i] & keep) | (t[i] & ~keep);
  }

  // out = a * b * R^-1 mod m. CIOS without the extra carry word (the modulus has a spare top
  // bit), then one conditional subtraction. Inputs must be < m; out aliases neither input.
  static void MontMul(Limbs& out, const Limbs& a, const Limbs& b) {
    Limbs t{};
    for (std::size_t i = 0; i < kLimbs; ++i) {
      // t += a * b[i]
      u128 acc = u128(a[0]) * b[i] + t[0];
      u64 carry_a = u64(acc >> 64);
      t[0] = u64(acc);
      const u64 m = t[0] * kNegInv;
      // t = (t + m * modulus) / 2^64
      acc = u128(m) * kModulus[0] + t[0];
      u64 carry_m = u64(acc >> 64);
      for (std::size_t j = 1; j < kLimbs; ++j) {
        acc = u128(a[j]) * b[i] + t[j] + carry_a;
        carry_a = u64(acc >> 64);
        acc = u128(m) * kModulus[j] + u64(acc) + carry_m;
        carry_m = u64(acc >> 64);
        t[j - 1] = u64(acc);
      }
      t[kLimbs - 1] = carry_a + carry_m;
    }
    ReduceOnce(t);
    out = t;
  }

  Limbs v_{};
};

struct FpParams {
  static constexpr std::size_t kLimbs = 6;
  static constexpr std::string_view kModulusHex =
      "1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab";
};
struct FrParams {
  static constexpr std::size_t kLimbs = 4;
  static constexpr std::string_view kModulusHex =
      "73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001";
};

// The base field (381 bits). Encodings are 48-byte big-endian.
using Fp = MontField<FpParams>;
// The scalar field (255 bits), the order r of G1, G2 and GT. Encodings are 32-byte big-endian.
using Fr = MontField<FrParams>;

// sqrt in Fp (p = 3 mod 4: a^((p+1)/4)); kNoSquareRoot if a is not a square. Constant-time in
// a up to the returned success/failure (which callers treat as public).
Result<Fp> SqrtFp(const Fp& a);
// 1 if a is a non-zero square, 0 if zero, -1 if not a square (Legendre symbol). Constant-time.
int Legendre(const Fp& a);

// The BLS parameter x = -0xd201000000010000 (its absolute value and sign).
inline constexpr u64 kBlsX = 0xd201000000010000ULL;
inline constexpr bool kBlsXIsNegative = true;

}  // namespace cipherchart::pairing

#include "cipherchart/pairing/field_impl.h"
