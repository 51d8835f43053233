// Internal: the byte-level reader and writer behind every format of the envelope layer
// (docs/formats.md). Integers are big-endian. The reader knows the name of the format and of
// each field it reads, so a malformed input gets an error such as
//   "envelope: truncated at offset 81 reading policy length (need 4 bytes, 2 left)"
// and remembers how many bytes a complete input would at least need (for incremental parsing).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cipherchart/common/error.h"

namespace cipherchart::envelope::internal {

inline void PutU8(std::vector<std::uint8_t>& out, std::uint8_t v) { out.push_back(v); }
inline void PutU16(std::vector<std::uint8_t>& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}
inline void PutU32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}
inline void PutU64(std::vector<std::uint8_t>& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}
inline void PutBytes(std::vector<std::uint8_t>& out, std::span<const std::uint8_t> bytes) {
  out.insert(out.end(), bytes.begin(), bytes.end());
}
inline void PutBytes(std::vector<std::uint8_t>& out, std::string_view text) {
  out.insert(out.end(), text.begin(), text.end());
}
inline void StoreU32(std::uint8_t* out, std::uint32_t v) {
  out[0] = static_cast<std::uint8_t>(v >> 24);
  out[1] = static_cast<std::uint8_t>(v >> 16);
  out[2] = static_cast<std::uint8_t>(v >> 8);
  out[3] = static_cast<std::uint8_t>(v);
}

inline std::span<const std::uint8_t> AsBytes(std::string_view text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

// True if `bytes` is well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing
// above U+10FFFF).
bool IsValidUtf8(std::span<const std::uint8_t> bytes);

class Reader {
 public:
  Reader(std::span<const std::uint8_t> data, std::string_view format) : data_(data), format_(format) {}

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

}  // namespace cipherchart::envelope::internal
