// Internal to the ABE layer: FAME KP-ABE (fame_kp.h) with its randomness supplied by the
// caller, and its hash inputs.
//
// Why: the public Setup / KeyGen / Encapsulate draw every scalar from the OS CSPRNG
// (Fr::Random). The known-answer vectors (src/abe/testdata/fame_kp_vectors.txt) and the fuzz
// seed corpus instead run the very same algorithms on a seeded, deterministic scalar source
// (test code only), so that the vectors pin down the whole scheme (hash inputs, batching,
// KDF), not just the byte layout. Never call these with anything but a CSPRNG outside tests.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "cipherchart/abe/fame_kp.h"

namespace cipherchart::abe::fame_kp::internal {

// Returns a uniformly random scalar (or the CSPRNG's failure). Called in a fixed order by each
// algorithm, so a deterministic source gives deterministic objects.
using ScalarSource = std::function<Result<Fr>()>;

Result<SetupResult> SetupWith(const ScalarSource& random);
Result<SecretKey> KeyGenWith(const MasterKey& msk, const PolicyNode& key_policy, const ScalarSource& random);
Result<Encapsulation> EncapsulateWith(const PublicKey& pk, const std::set<std::string>& attributes,
                                      const ScalarSource& random);

// The random-oracle inputs (hashed with detail::HashedBase, FAME's DST), prefix-free and
// distinct from CP-ABE's 'A' / 'C' inputs:
//   H(y l t)  = 'K' || u32be(len) || y || u8(l) || u8(t)
//   H(0j l t) = 'L' || u32be(4) || u32be(j) || u8(l) || u8(t)   (column j >= 2, 1-based)
std::vector<std::uint8_t> AttributeHashInput(std::string_view attribute, int l, int t);
std::vector<std::uint8_t> ColumnHashInput(std::size_t column, int l, int t);

}  // namespace cipherchart::abe::fame_kp::internal
