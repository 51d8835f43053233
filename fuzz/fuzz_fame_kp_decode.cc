// libFuzzer target: the FAME KP-ABE object decoders (src/abe/fame_kp_serialize.cc) on
// arbitrary bytes.
//
// Checks (any failure aborts):
//   - every Parse* either fails with a non-empty message or returns an object whose encoding is
//     byte-identical to the input (the formats are canonical);
//   - a parsed secret key's matrix is its policy's compilation: one row component per row, and
//     the policy text is canonical;
//   - a parsed ciphertext has at least one attribute;
//   - wrong-type inputs are refused (at most one parser accepts any input).
// Seeds: fuzz_make_seeds (fame_kp_seeds.cc) writes real objects of each type.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "cipherchart/abe/fame_kp_serialize.h"
#include "fuzz_check.h"

namespace {

using namespace cipherchart::abe::fame_kp;
using Bytes = std::span<const std::uint8_t>;

const auto kEncode = [](const auto& object) { return Serialize(object); };
const auto kNoExtra = [](const auto&) {};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Bytes input(data, size);
  int accepted = 0;
  FUZZ_CANONICAL(input, accepted, ParsePublicKey, kEncode, kNoExtra);
  FUZZ_CANONICAL(input, accepted, ParseMasterKey, kEncode, kNoExtra);
  FUZZ_CANONICAL(input, accepted, ParseSecretKey, kEncode, [&](const SecretKey& sk) {
    FUZZ_CHECK(sk.k.size() == sk.matrix.rows.size(), input);
    FUZZ_CHECK(sk.matrix.rho.size() == sk.matrix.rows.size(), input);
    auto policy = cipherchart::abe::ParsePolicy(sk.policy);
    FUZZ_CHECK(policy.has_value(), input);
    FUZZ_CHECK(cipherchart::abe::PolicyToString(**policy) == sk.policy, input);
  });
  FUZZ_CANONICAL(input, accepted, ParseCiphertext, kEncode,
                 [&](const Ciphertext& ct) { FUZZ_CHECK(!ct.c.empty(), input); });
  FUZZ_CHECK(accepted <= 1, input);
  return 0;
}
