#include "cipherchart/common/byte_reader.h"

namespace cipherchart {

Error ByteReader::Invalid(std::size_t at, std::string_view what) const {
  std::string message(format_);
  message += ": ";
  message += what;
  message += " at offset ";
  message += std::to_string(at);
  return {ErrorCode::kInvalidEncoding, std::move(message)};
}

Result<std::uint64_t> ByteReader::UInt(std::size_t width, std::string_view field) {
  auto bytes = Bytes(width, field);
  if (!bytes) return std::unexpected(bytes.error());
  std::uint64_t v = 0;
  for (std::uint8_t b : *bytes) v = (v << 8) | b;
  return v;
}

Result<std::uint8_t> ByteReader::U8(std::string_view field) {
  auto v = UInt(1, field);
  if (!v) return std::unexpected(v.error());
  return static_cast<std::uint8_t>(*v);
}

Result<std::uint16_t> ByteReader::U16(std::string_view field) {
  auto v = UInt(2, field);
  if (!v) return std::unexpected(v.error());
  return static_cast<std::uint16_t>(*v);
}

Result<std::uint32_t> ByteReader::U32(std::string_view field) {
  auto v = UInt(4, field);
  if (!v) return std::unexpected(v.error());
  return static_cast<std::uint32_t>(*v);
}

Result<std::uint64_t> ByteReader::U64(std::string_view field) { return UInt(8, field); }

Result<std::span<const std::uint8_t>> ByteReader::Bytes(std::size_t n, std::string_view field) {
  if (remaining() < n) {
    needed_ = offset_ + n;
    std::string message(format_);
    message += ": truncated at offset " + std::to_string(offset_) + " reading " + std::string(field) +
               " (need " + std::to_string(n) + " bytes, " + std::to_string(remaining()) + " left)";
    return Fail(ErrorCode::kInvalidEncoding, std::move(message));
  }
  auto out = data_.subspan(offset_, n);
  offset_ += n;
  return out;
}

Result<void> ByteReader::CopyTo(std::span<std::uint8_t> out, std::string_view field) {
  auto bytes = Bytes(out.size(), field);
  if (!bytes) return std::unexpected(bytes.error());
  std::copy(bytes->begin(), bytes->end(), out.begin());
  return {};
}

Result<std::uint32_t> ByteReader::CheckLength(std::size_t at, std::uint64_t value, std::string_view field,
                                              std::uint32_t min, std::uint32_t max) {
  if (value < min || value > max) {
    return std::unexpected(Invalid(at, std::string(field) + " " + std::to_string(value) + " is outside " +
                                           std::to_string(min) + ".." + std::to_string(max)));
  }
  return static_cast<std::uint32_t>(value);
}

Result<std::uint32_t> ByteReader::Length16(std::string_view field, std::uint32_t min, std::uint32_t max) {
  const std::size_t at = offset_;
  auto v = U16(field);
  if (!v) return std::unexpected(v.error());
  return CheckLength(at, *v, field, min, max);
}

Result<std::uint32_t> ByteReader::Length32(std::string_view field, std::uint32_t min, std::uint32_t max) {
  const std::size_t at = offset_;
  auto v = U32(field);
  if (!v) return std::unexpected(v.error());
  return CheckLength(at, *v, field, min, max);
}

}  // namespace cipherchart
