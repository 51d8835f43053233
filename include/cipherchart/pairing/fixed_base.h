// Fast constant-time multiplication of fixed G1 bases (generators, hashed attribute points).
//
// Method. k = e0 + e1 x^2 (mod r) with e0, e1 < 2^128 (detail::SplitScalarBaseX), and
// x^2 P = -phi(P) for phi(x, y) = (beta x, y): the GLV decomposition of Gallant, Lambert,
// Vanstone (Crypto 2001) with BLS12-381's x as the lattice basis. Each half is made odd
// (e' = e + 1 or e + 2) and recoded into 26 odd signed 5-bit digits d_i in {+-1, ..., +-31}
// with no zero digit ("regular" recoding: Joye & Tunstall, "Exponent recoding and regular
// exponentiation algorithms", Africacrypt 2009, section 3.2), so every window adds a point:
// 2 x 26 = 52 table points plus one correction point for the +1/+2, and no doubling. The
// table holds (2j + 1) 32^i P for i < 26, j < 16 in affine form (416 points, 40 KB); the
// phi-half uses the same entries with x multiplied by beta. A lookup scans all 16 entries of
// a window (constant-time) and negates y by mask.
//
// Batch mode (FixedBaseSum) runs many independent multiplications in lockstep and adds the
// table points in affine coordinates, sharing one field inversion per round among all of
// them (Montgomery, "Speeding the Pollard and elliptic curve methods of factorization", Math.
// Comp. 1987, section 10.3.1): about 6 multiplications per point addition instead of 11 for a
// projective mixed addition. Each multiplication keeps two running sums, e0' P and e1' P, fed
// from one scan of the window's row (so the phi-half needs no beta product per addition), and
// folds them at the end (e0' P - phi(e1' P)) before adding the correction point: 52 affine
// additions and 27 shared inversions per multiplication. Affine addition is incomplete
// (P = +-Q); a multiplication whose running sums hit that case (a handful of scalars, 0 among
// them: probability below 2^-240 for a uniform scalar) is recomputed with the complete
// projective formulas.
// That retry is the only branch on secret-derived data and happens with negligible
// probability (the scalars of ABE are uniform).
#pragma once

#include <array>
#include <cstddef>
#include <memory>
#include <span>

#include "cipherchart/pairing/curve.h"
#include "cipherchart/pairing/parallel.h"

namespace cipherchart::pairing {

class G1FixedBase {
 public:
  static constexpr int kWindows = 26;  // 5-bit signed digits covering a 128-bit half
  static constexpr int kEntries = 16;  // odd multiples 1, 3, ..., 31

  // Precomputes the table (416 additions and one batched inversion, about 0.3 ms).
  // Precondition: base is in G1 and is not the identity.
  explicit G1FixedBase(const G1& base);

  G1FixedBase(G1FixedBase&&) noexcept = default;
  G1FixedBase& operator=(G1FixedBase&&) noexcept = default;
  G1FixedBase(const G1FixedBase&) = delete;
  G1FixedBase& operator=(const G1FixedBase&) = delete;

  const G1& base() const { return base_; }
  // k * base, constant-time in k: 53 complete mixed additions.
  G1 Mul(const Fr& k) const;

  struct Lookup;  // internal (fixed_base.cc)

 private:
  friend struct Lookup;
  G1 base_;
  // An affine point as raw Montgomery limbs, x then y (96 bytes), aligned for vector selects.
  struct alignas(32) Packed {
    std::array<u64, 12> w;
  };
  // Tables come from a slab of huge pages when the system allows it (fixed_base.cc): a batch
  // reads one row of each of hundreds of tables per round, and with 4 KB pages the TLB misses.
  struct ArenaDelete {
    void operator()(Packed* p) const;
  };
  // entries_[i * kEntries + j] = (2j + 1) 32^i base; correction_[2 c1 + c0] = -((c0 + 1) base +
  // (c1 + 1) x^2 base).
  std::unique_ptr<Packed[], ArenaDelete> entries_;
  std::array<Packed, 4> correction_;
};

// One multiplication of a batch: scalar * (*base), added into out[slot].
struct G1FixedBaseTerm {
  const G1FixedBase* base;
  Fr scalar;
  std::size_t slot;
};

// out[t.slot] += t.scalar * t.base for all terms (batch mode, see above), constant-time in the
// scalars up to the negligible-probability retry. out is not cleared first.
// Precondition (asserted): every slot < out.size().
// Batches of a few hundred terms or more are split over up to BatchThreads() threads with
// ParallelChunks (the chunks are independent; each thread does its own inversions), since an ABE encryption
// or key generation is one such batch and is otherwise single-threaded.
void FixedBaseSum(std::span<const G1FixedBaseTerm> terms, std::span<G1> out);

// The thread count FixedBaseSum uses is set with SetBatchThreads (parallel.h).

}  // namespace cipherchart::pairing
