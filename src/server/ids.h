// Text encodings the server hands out or accepts (hex, base64url), its clock, and the id
// grammars of the protocol module.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cipherchart/common/error.h"
#include "cipherchart/common/hex.h"
#include "cipherchart/protocol/ids.h"

namespace cipherchart::server {

// Hex is the common codec (cipherchart/common/hex.h).
using cipherchart::FixedFromHex;
using cipherchart::FromHex;
using cipherchart::ToHex;

std::string Base64UrlEncode(std::span<const std::uint8_t> bytes);
std::optional<std::vector<std::uint8_t>> Base64UrlDecode(std::string_view text);

// The id grammars are the protocol's (cipherchart/protocol/ids.h), shared with the clients.
using protocol::IsValidPackageId;
using protocol::IsValidPatientId;
using protocol::IsValidRecordId;
using protocol::IsValidUserId;
using protocol::NewPackageId;
using protocol::NewPatientId;
using protocol::NewUserId;

std::int64_t NowMillis();
std::int64_t NowSeconds();

}  // namespace cipherchart::server
