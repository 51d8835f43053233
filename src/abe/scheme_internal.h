// Internal to the ABE layer: small helpers of the FAME KEMs, shared by CP-ABE (fame.cc) and
// KP-ABE (fame_kp.cc) so that both schemes draw, multiply, wipe and derive keys the same way.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "cipherchart/common/error.h"
#include "cipherchart/common/secret.h"
#include "cipherchart/envelope/kdf.h"
#include "cipherchart/pairing/curve.h"
#include "cipherchart/pairing/fixed_base.h"
#include "cipherchart/pairing/gt.h"
#include "cipherchart/pairing/hash_to_curve.h"

namespace cipherchart::abe::detail {

using pairing::Fr;
using pairing::G1;
using pairing::G2;
using pairing::Gt;

// A non-zero scalar from `random` (a callable returning Result<Fr>: the OS CSPRNG, or a test
// source for the known-answer vectors), or its failure.
template <class Source>
Result<Fr> RandomNonZero(const Source& random) {
  for (;;) {
    auto r = random();
    if (!r) return std::unexpected(r.error());
    if (!r->IsZero()) return *r;  // probability 2^-255 of looping: public, not secret-dependent
  }
}
inline Result<Fr> RandomNonZero() { return RandomNonZero(&Fr::Random); }

// Overwrites a trivially copyable secret (scalars, points, arrays of them).
template <class T>
void Wipe(T& v) {
  SecureWipe(static_cast<void*>(&v), sizeof(v));
}

// Generator multiples through a fixed-base table built once (one table for both schemes).
inline G2 MulG2Generator(const Fr& k) {
  static const pairing::FixedBaseTable<G2> table(G2::Generator());
  return table.Mul(k);
}

// k * P for a public scalar k and a point that may be secret: double-and-add over the bits of
// the public k only (the group law is complete, so the point does not steer any branch).
// Reconstruction coefficients are usually 1, -1 or small.
template <class Point>
Point MulByPublic(const Point& p, const Fr& k) {
  if (k.IsOne()) return p;
  if ((-k).IsOne()) return -p;
  const auto c = k.ToCanonical();
  if (c[1] == 0 && c[2] == 0 && c[3] == 0) return p.MulVartime(c);
  const auto n = (-k).ToCanonical();
  if (n[1] == 0 && n[2] == 0 && n[3] == 0) return -p.MulVartime(n);
  return p.MulVartime(c);
}

// M_ij * P for a small public integer (LSSS entries), P possibly secret.
inline G1 MulBySmall(const G1& p, std::int64_t m) {
  using pairing::u64;
  if (m == 0) return G1::Identity();
  if (m == 1) return p;
  if (m == -1) return -p;
  const u64 mag = m < 0 ? u64(0) - u64(m) : u64(m);
  const G1 r = p.MulVartime(std::array<u64, 1>{mag});
  return m < 0 ? -r : r;
}

// The KEM key: HKDF-SHA-256 (RFC 5869) of the GT encoding, no salt, the scheme's fixed `info`
// (each scheme has its own, so the two never derive the same key from the same value).
inline Result<SecretBytes> DeriveKemKey(const Gt& shared, std::string_view info) {
  auto ikm = shared.ToBytes();
  auto key = envelope::HkdfSha256(ikm, {}, pairing::AsBytes(info), 32);
  SecureWipe(ikm.data(), ikm.size());
  return key;
}

}  // namespace cipherchart::abe::detail
