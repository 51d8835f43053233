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
using cipherchart::fuzz::SameBytes;
using Bytes = std::span<const std::uint8_t>;

template <class T>
void CheckError(const cipherchart::Result<T>& r, Bytes input) {
  FUZZ_CHECK(!r.error().message().empty(), input);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Bytes input(data, size);
  int accepted = 0;

  if (auto pk = ParsePublicKey(input)) {
    ++accepted;
    FUZZ_CHECK(SameBytes(Serialize(*pk), input), input);
  } else {
    CheckError(pk, input);
  }

  if (auto msk = ParseMasterKey(input)) {
    ++accepted;
    FUZZ_CHECK(SameBytes(Serialize(*msk).span(), input), input);
  } else {
    CheckError(msk, input);
  }

  if (auto sk = ParseSecretKey(input)) {
    ++accepted;
    auto again = Serialize(*sk);
    FUZZ_CHECK(again.has_value(), input);
    FUZZ_CHECK(SameBytes(again->span(), input), input);
  } else {
    CheckError(sk, input);
  }

  if (auto tk = ParseTransformKey(input)) {
    ++accepted;
    auto again = Serialize(*tk);
    FUZZ_CHECK(again.has_value(), input);
    FUZZ_CHECK(SameBytes(again->span(), input), input);
  } else {
    CheckError(tk, input);
  }

  if (auto ct = ParseCiphertext(input)) {
    ++accepted;
    FUZZ_CHECK(ct->c.size() == ct->matrix.rows.size(), input);
    FUZZ_CHECK(ct->matrix.rho.size() == ct->matrix.rows.size(), input);
    auto again = Serialize(*ct);
    FUZZ_CHECK(again.has_value(), input);
    FUZZ_CHECK(SameBytes(*again, input), input);
  } else {
    CheckError(ct, input);
  }

  FUZZ_CHECK(accepted <= 1, input);
  return 0;
}
