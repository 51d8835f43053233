// Internal to the ABE layer: the random-oracle bases H(...) of the FAME schemes (CP and KP),
// memoised with their fixed-base tables, and one batched entry point that computes many
// "scalar * base" products at once (constant-time in the scalars).
//
// Why a batch: an encryption or key generation needs hundreds to thousands of multiples of
// distinct public bases by a few secret scalars. Computed together they share field
// inversions (affine additions with Montgomery's trick, see pairing/fixed_base.h), which is
// about twice as fast as one projective multiplication after another.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "cipherchart/pairing/curve.h"
#include "cipherchart/pairing/fixed_base.h"

namespace cipherchart::abe::detail {

using pairing::Fr;
using pairing::G1;
using pairing::G2;

// A public G1 base: the point, and once it has been used a few times its fixed-base table.
struct Base {
  G1 point;
  std::shared_ptr<const pairing::G1FixedBase> table;  // may be null (then plain Mul is used)
};
using BaseRef = std::shared_ptr<const Base>;

// H(msg): hash_to_curve into G1 with FAME's DST (fame::kHashDst), memoised. `msg` must be an
// unambiguous (prefix-free) encoding; each scheme uses its own leading tag byte.
BaseRef HashedBase(std::span<const std::uint8_t> msg);
// The same with another scheme's DST (the multi-authority scheme's, maabe.h).
BaseRef HashedBase(std::string_view dst, std::span<const std::uint8_t> msg);

// A public G2 base hashed with `dst`, memoised, with a fixed-base table from its second use.
struct G2Base {
  G2 point;
  std::shared_ptr<const pairing::FixedBaseTable<G2>> table;  // may be null
  G2 Mul(const Fr& k) const;                                 // constant-time in k
};
using G2BaseRef = std::shared_ptr<const G2Base>;
G2BaseRef HashedG2Base(std::string_view dst, std::span<const std::uint8_t> msg);

// The G1 generator, with a table.
BaseRef GeneratorBase();

// Hash inputs used by FAME CP-ABE (fame.cc): 'A' || u32be(len) || attribute || u8(l) || u8(t)
// and 'C' || u32be(column) || u8(l) || u8(t). Other schemes pick other tag bytes.
std::vector<std::uint8_t> TaggedHashInput(std::uint8_t tag, std::string_view label, int l, int t);
std::vector<std::uint8_t> AttributeHashInput(std::string_view attribute, int l, int t);
std::vector<std::uint8_t> ColumnHashInput(std::size_t column, int l, int t);

// ct_0 = [A s]_2 = ((h^a1)^s1, (h^a2)^s2, h^(s1 + s2)) of a FAME encapsulation (CP and KP),
// constant-time in s. h^a1 and h^a2 get G2 fixed-base tables from a public key's second
// encapsulation (about 2 ms and 370 KB per key; at most 32 keys, then the cache starts over);
// h goes through the generator's table when it is the standard generator (as Setup makes it;
// a parsed key could in principle hold another h).
std::array<G2, 3> MulPublicKeyBases(const std::array<G2, 3>& h_a, const std::array<Fr, 2>& s);

// One product of a batch: scalar * base, added into out[slot].
struct Term {
  BaseRef base;
  Fr scalar;
  std::size_t slot;
};

// out[t.slot] += t.scalar * t.base for every term (out is not cleared first), constant-time in
// the scalars; then wipes every term's scalar. Precondition: every slot < out.size().
void AddProducts(std::vector<Term>& terms, std::span<G1> out);

}  // namespace cipherchart::abe::detail
