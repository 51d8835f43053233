// Hashing to G1 and G2 per RFC 9380 ("Hashing to Elliptic Curves"):
//   expand_message_xmd with SHA-256 (section 5.3.1), hash_to_field (section 5.2),
//   simplified SWU for AB == 0 (section 6.6.3) on the isogenous curves E1' and E2' with the
//   11-isogeny (G1, Appendix E.2) and 3-isogeny (G2, Appendix E.3), and cofactor clearing
//   (section 7: h_eff for G1; Budroni-Pintore / Appendix G.3 psi-based method for G2).
// Suites: BLS12381G1_XMD:SHA-256_SSWU_RO_ / _NU_ and BLS12381G2_XMD:SHA-256_SSWU_RO_ / _NU_
// (section 8.8), with a caller-chosen domain separation tag.
//
// Messages and DSTs are public inputs. Any non-empty DST is accepted; one longer than 255
// bytes is first hashed as section 5.3.3 prescribes.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "cipherchart/pairing/curve.h"

namespace cipherchart::pairing {

// expand_message_xmd(msg, DST, len_in_bytes) with SHA-256. Fails with kInvalidArgument if
// len_in_bytes > 65535 or ell = ceil(len/32) > 255, or the DST is empty.
Result<std::vector<std::uint8_t>> ExpandMessageXmd(std::span<const std::uint8_t> msg,
                                                   std::span<const std::uint8_t> dst,
                                                   std::size_t len_in_bytes);

// hash_to_field with m = 1 (Fp) and m = 2 (Fp2), L = 64, count elements.
Result<std::vector<Fp>> HashToFieldFp(std::span<const std::uint8_t> msg, std::span<const std::uint8_t> dst,
                                      std::size_t count);
Result<std::vector<Fp2>> HashToFieldFp2(std::span<const std::uint8_t> msg, std::span<const std::uint8_t> dst,
                                        std::size_t count);

// The random-oracle encodings (_RO_): a uniformly distributed point of G1 / G2.
Result<G1> HashToG1(std::span<const std::uint8_t> msg, std::span<const std::uint8_t> dst);
Result<G2> HashToG2(std::span<const std::uint8_t> msg, std::span<const std::uint8_t> dst);
// The nonuniform encodings (_NU_), one map_to_curve call.
Result<G1> EncodeToG1(std::span<const std::uint8_t> msg, std::span<const std::uint8_t> dst);
Result<G2> EncodeToG2(std::span<const std::uint8_t> msg, std::span<const std::uint8_t> dst);

// The deterministic maps alone (exposed for tests): map_to_curve (SSWU + isogeny, no cofactor
// clearing) and clear_cofactor.
G1 MapToCurveG1(const Fp& u);
G2 MapToCurveG2(const Fp2& u);
G1 ClearCofactorG1(const G1& p);
G2 ClearCofactorG2(const G2& p);

// Convenience for string literals.
inline std::span<const std::uint8_t> AsBytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace cipherchart::pairing
