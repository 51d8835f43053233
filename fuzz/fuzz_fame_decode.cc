// libFuzzer target: the FAME object decoders (src/abe/fame_serialize.cc) on arbitrary bytes.
//
// Checks (any failure aborts):
//   - every Parse* either fails with a non-empty message or returns an object whose encoding is
//     byte-identical to the input (the formats are canonical);
//   - a parsed ciphertext's matrix is the policy's compilation: one row component per row;
//   - wrong-type inputs are refused (at most one parser accepts any input).
// Seeds: fuzz_make_seeds (abe_seeds.cc) writes one valid encoding of each object type, built
// from fixed values like the ones in src/abe/testdata/fame_vectors.txt.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "cipherchart/abe/fame_serialize.h"
#include "fuzz_check.h"

namespace {

using namespace cipherchart::abe::fame;
using Bytes = std::span<const std::uint8_t>;

const auto kEncode = [](const auto& object) { return Serialize(object); };
const auto kNoExtra = [](const auto&) {};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Bytes input(data, size);
  int accepted = 0;
  FUZZ_CANONICAL(input, accepted, ParsePublicKey, kEncode, kNoExtra);
  FUZZ_CANONICAL(input, accepted, ParseMasterKey, kEncode, kNoExtra);
  FUZZ_CANONICAL(input, accepted, ParseSecretKey, kEncode, kNoExtra);
  FUZZ_CANONICAL(input, accepted, ParseTransformKey, kEncode, kNoExtra);
  FUZZ_CANONICAL(input, accepted, ParseCiphertext, kEncode, [&](const Ciphertext& ct) {
    FUZZ_CHECK(ct.c.size() == ct.matrix.rows.size(), input);
    FUZZ_CHECK(ct.matrix.rho.size() == ct.matrix.rows.size(), input);
  });
  FUZZ_CHECK(accepted <= 1, input);
  return 0;
}
