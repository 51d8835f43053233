// A reader for the project's binary formats (docs/formats.md; integers big-endian). It knows
// the name of the format and of each field it reads, so a malformed input gets an error such as
//   "envelope: truncated at offset 81 reading policy length (need 4 bytes, 2 left)"
// and remembers how many bytes a complete input would at least need (for incremental parsing).
// Every layer's decoders use it; the writers are in bytes.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "cipherchart/common/error.h"

namespace cipherchart {

class ByteReader {
 public:
  ByteReader(std::span<const std::uint8_t> data, std::string_view format) : data_(data), format_(format) {}

  Result<std::uint8_t> U8(std::string_view field);
  Result<std::uint16_t> U16(std::string_view field);
  Result<std::uint32_t> U32(std::string_view field);
  Result<std::uint64_t> U64(std::string_view field);
  // The next `n` bytes (a view into the input).
  Result<std::span<const std::uint8_t>> Bytes(std::size_t n, std::string_view field);
  // Copies exactly out.size() bytes.
  Result<void> CopyTo(std::span<std::uint8_t> out, std::string_view field);
  // A length prefix that must lie in [min, max]; the error names the field, its offset and the
  // bound.
  Result<std::uint32_t> Length16(std::string_view field, std::uint32_t min, std::uint32_t max);
  Result<std::uint32_t> Length32(std::string_view field, std::uint32_t min, std::uint32_t max);

  std::size_t offset() const { return offset_; }
  std::size_t remaining() const { return data_.size() - offset_; }
  // After a truncation error: the smallest input length that could get past the failed read.
  // Zero if no read has failed for lack of bytes.
  std::size_t needed() const { return needed_; }

  // "envelope: <what> at offset <offset>"
  Error Invalid(std::size_t at, std::string_view what) const;

 private:
  Result<std::uint64_t> UInt(std::size_t width, std::string_view field);
  Result<std::uint32_t> CheckLength(std::size_t at, std::uint64_t value, std::string_view field,
                                    std::uint32_t min, std::uint32_t max);

  std::span<const std::uint8_t> data_;
  std::string_view format_;
  std::size_t offset_ = 0;
  std::size_t needed_ = 0;
};

}  // namespace cipherchart
