// libFuzzer target: Gt::FromBytes and the round trip through Gt::ToBytes.
//
// Random bytes are almost never in GT (an order-r subgroup of Fp12^*), so this target gets
// most of its reach from the seed corpus (valid encodings written by fuzz_make_seeds), which
// the fuzzer mutates. Checks (any failure aborts): the decoder accepts only 576-byte inputs;
// an accepted value re-encodes to exactly the same bytes and passes Gt::IsInGroup; g times its
// inverse (the conjugate) is 1; the cyclotomic squaring agrees with the generic product; and
// the square re-encodes and decodes back to itself.
#include <cstddef>
#include <cstdint>
#include <span>

#include "cipherchart/pairing/gt.h"
#include "fuzz_check.h"

namespace {

using namespace cipherchart::pairing;
using cipherchart::ErrorCode;
using cipherchart::fuzz::SameBytes;
using Bytes = std::span<const std::uint8_t>;

void Check(Bytes in, Bytes input) {
  auto g = Gt::FromBytes(in);
  if (in.size() != kGtSize) {
    FUZZ_CHECK(!g && g.error().code() == ErrorCode::kInvalidEncoding, input);
    return;
  }
  if (!g) {
    FUZZ_CHECK(g.error().code() == ErrorCode::kNonCanonical || g.error().code() == ErrorCode::kNotInSubgroup,
               input);
    return;
  }
  FUZZ_CHECK(SameBytes(g->ToBytes(), in), input);
  FUZZ_CHECK(Gt::IsInGroup(g->value()), input);
  FUZZ_CHECK((*g * g->Inverse()).IsIdentity(), input);
  FUZZ_CHECK(g->Square() == *g * *g, input);
  // The product of two group elements is in the group and round-trips as well.
  const Gt sq = g->Square();
  auto back = Gt::FromBytes(sq.ToBytes());
  FUZZ_CHECK(back.has_value() && *back == sq, input);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Bytes input(data, size);
  Check(input, input);
  if (size > kGtSize) Check(input.first(kGtSize), input);
  return 0;
}
