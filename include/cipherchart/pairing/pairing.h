// The optimal ate pairing e: G1 x G2 -> GT of BLS12-381.
//
// Miller loop over |x| = 0xd201000000010000 (Vercauteren, "Optimal pairings", IEEE TIT 2010),
// G2 in homogeneous projective coordinates with the doubling and addition-line formulas of
// Costello, Lange, Naehrig, "Faster pairing computations on curves with high-degree twists",
// PKC 2010, section 5, re-derived for the M-type twist (derivation in pairing.cc); the point
// updates share their products with the lines as in Aranha, Karabina, Longa, Gebotys, Lopez,
// "Faster explicit formulas for computing pairings over ordinary curves", Eurocrypt 2011,
// section 4. Lines are sparse (3 of 6 Fp2 coefficients); in products of several pairs the lines
// of a step are multiplied together two by two before they meet the accumulator.
// Final exponentiation: easy part (p^6 - 1)(p^2 + 1); hard part by Hayashida, Hayasaka,
// Teruya, "Efficient Final Exponentiation via Cyclotomic Structure for Pairings over Families
// of Elliptic Curves" (ePrint 2020/875), section 4, which computes the exponent
// 3 (p^4 - p^2 + 1)/r = (x-1)^2 (x+p)(x^2+p^2-1) + 3 with five exponentiations by x.
// The result is therefore the cube of f^((p^12-1)/r): still a non-degenerate bilinear pairing
// (3 is prime to r), and exactly the value blst, mcl and @noble/curves compute (checked
// against shared/data/kat/bls12_381/pairing_generators.json).
//
// Inputs are treated as public (the pairing is variable-time only in loop structure fixed by
// the curve; it has no branch on point values except the identity check). They must be in G1
// and G2 (the decoders check this): the doubling and addition steps are not complete formulas.
#pragma once

#include <span>
#include <vector>

#include "cipherchart/pairing/curve.h"
#include "cipherchart/pairing/gt.h"

namespace cipherchart::pairing {

// A G2 point with the line coefficients of its Miller loop precomputed: pairing with it skips
// all G2 arithmetic (about a third of a Miller loop). Build once for a point used repeatedly.
class G2Prepared {
 public:
  explicit G2Prepared(const G2& q);
  // The lines of a secret point (a user's key) are secret too: they are wiped on destruction.
  G2Prepared(const G2Prepared&) = default;
  G2Prepared(G2Prepared&&) noexcept = default;
  G2Prepared& operator=(const G2Prepared&) = delete;
  G2Prepared& operator=(G2Prepared&&) = delete;
  ~G2Prepared();
  bool is_identity() const { return identity_; }

  struct Line {
    Fp2 c0, c1, c2;  // l(P) = c0 + (c1 * xP) v + (c2 * yP) v w
  };
  const std::vector<Line>& lines() const { return lines_; }

 private:
  bool identity_ = false;
  std::vector<Line> lines_;
};

// f_{|x|,Q}(P), conjugated for the sign of x: the Miller loop value before final exponentiation.
Fp12 MillerLoop(const G1& p, const G2& q);
// Product of the Miller loops of several pairs, sharing the squarings of the accumulator; pairs
// with an identity point are skipped. Precondition: equal lengths (asserted). From 8 pairs on,
// the pairs are split into contiguous chunks of at least 4 over ParallelChunks (parallel.h):
// each chunk runs its own shared loop and the chunk values are multiplied, which gives exactly
// the serial value (the loop value of a product is the product of the loop values).
Fp12 MillerLoopProduct(std::span<const G1> ps, std::span<const G2Prepared* const> qs);
Fp12 MillerLoopProduct(std::span<const G1> ps, std::span<const G2> qs);
// f^(3 (p^12 - 1)/r) (see above for the factor 3).
Fp12 FinalExponentiation(const Fp12& f);

// e(P, Q).
Gt Pairing(const G1& p, const G2& q);
Gt Pairing(const G1& p, const G2Prepared& q);
// prod_i e(P_i, Q_i): MillerLoopProduct (split over threads for many pairs) and one final
// exponentiation. Precondition: equal lengths (asserted).
Gt PairingProduct(std::span<const G1> ps, std::span<const G2> qs);
Gt PairingProduct(std::span<const G1> ps, std::span<const G2Prepared* const> qs);

}  // namespace cipherchart::pairing
