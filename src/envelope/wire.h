// Internal: the envelope layer's names for the public byte reader and writers
// (cipherchart/common/byte_reader.h, bytes.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cipherchart/common/byte_reader.h"
#include "cipherchart/common/bytes.h"
#include "cipherchart/common/error.h"

namespace cipherchart::envelope::internal {

// The writers, AsBytes and IsValidUtf8 are public (cipherchart/common/bytes.h).
using cipherchart::AsBytes;
using cipherchart::IsValidUtf8;
using cipherchart::PutBytes;
using cipherchart::PutU16;
using cipherchart::PutU32;
using cipherchart::PutU64;
using cipherchart::PutU8;

inline void StoreU32(std::uint8_t* out, std::uint32_t v) {
  out[0] = static_cast<std::uint8_t>(v >> 24);
  out[1] = static_cast<std::uint8_t>(v >> 16);
  out[2] = static_cast<std::uint8_t>(v >> 8);
  out[3] = static_cast<std::uint8_t>(v);
}

using Reader = cipherchart::ByteReader;

}  // namespace cipherchart::envelope::internal
