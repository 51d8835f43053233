// libFuzzer target: hashing to G1 and G2 (RFC 9380) with fuzzer-chosen DST, message and
// output length.
//
// Input layout: byte 0 = flags (bit 0: add 256 to the DST length, so DSTs longer than 255
// bytes, which take the section 5.3.3 path, are reachable; bits 1-2: the count passed to
// hash_to_field), byte 1 = DST length (low 8 bits), bytes 2-3 = len_in_bytes for
// expand_message_xmd (big-endian), then the DST (truncated to what is left), then the message.
//
// Checks (any failure aborts):
//   - every function fails exactly when the DST is empty (and ExpandMessageXmd also when
//     len_in_bytes > 65535 or ceil(len_in_bytes / 32) > 255), with kInvalidArgument;
//   - ExpandMessageXmd returns len_in_bytes bytes; with a DST over 255 bytes it equals the
//     expansion under H("H2C-OVERSIZE-DST-" || DST) (computed here with OpenSSL directly);
//   - HashToFieldFp/Fp2 equal FromBytesWide over 64-byte slices of ExpandMessageXmd's output;
//   - MapToCurveG1/G2 give points on the curve; HashToG1/G2 and EncodeToG1/G2 give points on
//     the curve and in the prime-order subgroup, whose compressed encodings decode back to them.
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "cipherchart/pairing/hash_to_curve.h"
#include "fuzz_check.h"

namespace {

using namespace cipherchart::pairing;
using cipherchart::ErrorCode;
using cipherchart::fuzz::SameBytes;
using Bytes = std::span<const std::uint8_t>;

template <class T>
void CheckFailsOnEmptyDst(const cipherchart::Result<T>& r, bool dst_empty, Bytes input) {
  FUZZ_CHECK(r.has_value() == !dst_empty, input);
  if (!r) FUZZ_CHECK(r.error().code() == ErrorCode::kInvalidArgument, input);
}

template <class Point, std::size_t N>
void CheckHashOutput(const Point& p, Bytes input, std::array<std::uint8_t, N> (*compress)(const Point&),
                     cipherchart::Result<Point> (*decompress)(Bytes)) {
  FUZZ_CHECK(p.IsOnCurve(), input);
  FUZZ_CHECK(p.IsInSubgroup(), input);
  auto back = decompress(compress(p));
  FUZZ_CHECK(back.has_value(), input);
  FUZZ_CHECK(*back == p, input);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Bytes input(data, size);
  if (size < 4) return 0;
  const std::size_t dst_len_wanted = std::size_t(data[1]) | (std::size_t(data[0] & 1) << 8);
  const std::size_t count = (data[0] >> 1) & 3;
  const std::size_t len_in_bytes = (std::size_t(data[2]) << 8) | data[3];
  const Bytes rest = input.subspan(4);
  const Bytes dst = rest.first(std::min(dst_len_wanted, rest.size()));
  const Bytes msg = rest.subspan(dst.size());
  const bool dst_empty = dst.empty();

  // expand_message_xmd.
  auto uniform = ExpandMessageXmd(msg, dst, len_in_bytes);
  const bool len_ok = len_in_bytes <= 65535 && (len_in_bytes + 31) / 32 <= 255;
  FUZZ_CHECK(uniform.has_value() == (!dst_empty && len_ok), input);
  if (!uniform) {
    FUZZ_CHECK(uniform.error().code() == ErrorCode::kInvalidArgument, input);
  } else {
    FUZZ_CHECK(uniform->size() == len_in_bytes, input);
    if (dst.size() > 255) {
      static constexpr std::string_view kPrefix = "H2C-OVERSIZE-DST-";
      std::vector<std::uint8_t> pre(kPrefix.begin(), kPrefix.end());
      pre.insert(pre.end(), dst.begin(), dst.end());
      std::array<std::uint8_t, 32> short_dst{};
      unsigned int n = 0;
      FUZZ_CHECK(
          EVP_Digest(pre.data(), pre.size(), short_dst.data(), &n, EVP_sha256(), nullptr) == 1 && n == 32,
          input);
      auto again = ExpandMessageXmd(msg, short_dst, len_in_bytes);
      FUZZ_CHECK(again.has_value(), input);
      FUZZ_CHECK(SameBytes(*again, *uniform), input);
    }
  }

  // hash_to_field, and map_to_curve on its outputs.
  auto u1 = HashToFieldFp(msg, dst, count);
  CheckFailsOnEmptyDst(u1, dst_empty, input);
  if (u1) {
    FUZZ_CHECK(u1->size() == count, input);
    auto bytes = ExpandMessageXmd(msg, dst, 64 * count);
    FUZZ_CHECK(bytes.has_value(), input);
    for (std::size_t i = 0; i < count; ++i) {
      FUZZ_CHECK((*u1)[i] == Fp::FromBytesWide(Bytes(*bytes).subspan(64 * i, 64)), input);
      FUZZ_CHECK(MapToCurveG1((*u1)[i]).IsOnCurve(), input);
    }
  }
  auto u2 = HashToFieldFp2(msg, dst, count);
  CheckFailsOnEmptyDst(u2, dst_empty, input);
  if (u2) {
    FUZZ_CHECK(u2->size() == count, input);
    auto bytes = ExpandMessageXmd(msg, dst, 128 * count);
    FUZZ_CHECK(bytes.has_value(), input);
    for (std::size_t i = 0; i < count; ++i) {
      FUZZ_CHECK((*u2)[i].c0 == Fp::FromBytesWide(Bytes(*bytes).subspan(128 * i, 64)), input);
      FUZZ_CHECK((*u2)[i].c1 == Fp::FromBytesWide(Bytes(*bytes).subspan(128 * i + 64, 64)), input);
      FUZZ_CHECK(MapToCurveG2((*u2)[i]).IsOnCurve(), input);
    }
  }

  // The full suites.
  auto h1 = HashToG1(msg, dst);
  CheckFailsOnEmptyDst(h1, dst_empty, input);
  if (h1) CheckHashOutput<G1>(*h1, input, G1Compress, G1Decompress);
  auto e1 = EncodeToG1(msg, dst);
  CheckFailsOnEmptyDst(e1, dst_empty, input);
  if (e1) CheckHashOutput<G1>(*e1, input, G1Compress, G1Decompress);
  auto h2 = HashToG2(msg, dst);
  CheckFailsOnEmptyDst(h2, dst_empty, input);
  if (h2) CheckHashOutput<G2>(*h2, input, G2Compress, G2Decompress);
  auto e2 = EncodeToG2(msg, dst);
  CheckFailsOnEmptyDst(e2, dst_empty, input);
  if (e2) CheckHashOutput<G2>(*e2, input, G2Compress, G2Decompress);
  return 0;
}
