// The body of fuzz_g1_decode and fuzz_g2_decode, written once for both groups.
//
// Every decoder runs on the whole input (exercising the length checks) and on the prefix of
// the size it expects (so that every input reaches the flag, canonicity, curve and subgroup
// checks). Whenever a decoder accepts bytes, the checks below must hold; any violation is a
// library bug and aborts:
//   - re-encoding the decoded point gives back exactly the accepted bytes;
//   - the checked decoders return points on the curve and in the subgroup, the unchecked one
//     points on the curve; checked and unchecked decompression agree, and the checked one
//     fails only with kNotInSubgroup (and only for a point outside the subgroup) when the
//     unchecked one succeeds;
//   - the other encoding of the same point (compressed <-> uncompressed) decodes to it too.
#pragma once

#include <cstdint>
#include <span>

#include "cipherchart/pairing/curve.h"
#include "fuzz_check.h"

namespace cipherchart::fuzz {

template <class Point, std::size_t CN, std::size_t UN>
void FuzzPointDecoders(std::span<const std::uint8_t> data,
                       Result<Point> (*decompress)(std::span<const std::uint8_t>),
                       Result<Point> (*decompress_unchecked)(std::span<const std::uint8_t>),
                       Result<Point> (*deserialize)(std::span<const std::uint8_t>),
                       std::array<std::uint8_t, CN> (*compress)(const Point&),
                       std::array<std::uint8_t, UN> (*serialize)(const Point&)) {
  // Compressed decoders: the whole input, and its first CN bytes when it is longer.
  auto check_compressed = [&](std::span<const std::uint8_t> in) {
    auto checked = decompress(in);
    auto unchecked = decompress_unchecked(in);
    if (in.size() != CN) {
      FUZZ_CHECK(!checked && !unchecked, in);
      FUZZ_CHECK(checked.error().code() == ErrorCode::kInvalidEncoding, in);
      return;
    }
    if (unchecked) {
      FUZZ_CHECK(unchecked->IsOnCurve(), in);
      const auto again = compress(*unchecked);
      FUZZ_CHECK(SameBytes(again, in), in);
      if (checked) {
        FUZZ_CHECK(*checked == *unchecked, in);
        FUZZ_CHECK(checked->IsInSubgroup(), in);
        // The uncompressed encoding of the same point round-trips and decodes to it.
        const auto ser = serialize(*checked);
        auto back = deserialize(ser);
        FUZZ_CHECK(back.has_value(), in);
        FUZZ_CHECK(*back == *checked, in);
        FUZZ_CHECK(SameBytes(serialize(*back), ser), in);
      } else {
        FUZZ_CHECK(checked.error().code() == ErrorCode::kNotInSubgroup, in);
        FUZZ_CHECK(!unchecked->IsInSubgroup(), in);
      }
    } else {
      // The checked decoder runs the unchecked one first: same failure.
      FUZZ_CHECK(!checked, in);
      FUZZ_CHECK(checked.error().code() == unchecked.error().code(), in);
      FUZZ_CHECK(checked.error().code() != ErrorCode::kNotInSubgroup, in);
    }
  };

  auto check_uncompressed = [&](std::span<const std::uint8_t> in) {
    auto p = deserialize(in);
    if (in.size() != UN) {
      FUZZ_CHECK(!p && p.error().code() == ErrorCode::kInvalidEncoding, in);
      return;
    }
    if (!p) return;
    FUZZ_CHECK(p->IsOnCurve(), in);
    FUZZ_CHECK(p->IsInSubgroup(), in);
    FUZZ_CHECK(SameBytes(serialize(*p), in), in);
    // The compressed encoding of the same point round-trips through the checked decoder.
    const auto comp = compress(*p);
    auto back = decompress(comp);
    FUZZ_CHECK(back.has_value(), in);
    FUZZ_CHECK(*back == *p, in);
  };

  check_compressed(data);
  check_uncompressed(data);
  if (data.size() > CN) check_compressed(data.first(CN));
  if (data.size() > UN) check_uncompressed(data.first(UN));
}

}  // namespace cipherchart::fuzz
