// GT: the order-r subgroup of Fp12^*, written multiplicatively.
#pragma once

#include <array>
#include <span>

#include "cipherchart/pairing/tower.h"

namespace cipherchart::pairing {

inline constexpr std::size_t kGtSize = 576;

class Gt {
 public:
  Gt() : v_(Fp12::One()) {}
  // Wraps an Fp12 value the caller knows is in GT (e.g. a final exponentiation output).
  static Gt FromFp12Unchecked(const Fp12& v) { return Gt(v); }
  static Gt Identity() { return Gt(); }
  const Fp12& value() const { return v_; }

  friend Gt operator*(const Gt& a, const Gt& b) { return Gt(a.v_ * b.v_); }
  Gt& operator*=(const Gt& b) { return *this = *this * b; }
  Gt Inverse() const { return Gt(v_.Conjugate()); }  // unitary: inverse = conjugate
  Gt Square() const { return Gt(v_.CyclotomicSquare()); }
  // a^k, constant-time in k and a: base-|x| digits of k with the Frobenius as endomorphism
  // (4 x 64-bit exponents), fixed 4-bit windows, cyclotomic squarings, full-scan lookup.
  Gt Pow(const Fr& k) const;
  // a^k for a public k (variable-time).
  Gt PowVartime(const Fr& k) const;

  bool IsIdentity() const { return v_.IsOne(); }
  friend bool operator==(const Gt& a, const Gt& b) { return a.v_ == b.v_; }
  // Whether v is in GT, i.e. v^r = 1 (variable-time; for decoding public values).
  static bool IsInGroup(const Fp12& v);

  // 576 bytes: the 12 Fp coefficients, 48-byte big-endian each, in the order c0.c0.c0,
  // c0.c0.c1, c0.c1.c0, ..., c1.c2.c1 (the order of shared/data/kat/bls12_381/pairing_generators.json).
  std::array<std::uint8_t, kGtSize> ToBytes() const;
  // Rejects wrong length (kInvalidEncoding), non-canonical coefficients (kNonCanonical) and
  // values outside GT (kNotInSubgroup).
  static Result<Gt> FromBytes(std::span<const std::uint8_t> bytes);

 private:
  explicit Gt(const Fp12& v) : v_(v) {}
  Fp12 v_;
};

}  // namespace cipherchart::pairing
