// Identifiers and text encodings the server hands out or accepts: user ids, package ids,
// patient pseudonyms (human-friendly, with a check character), hex and base64url.
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

namespace cipherchart::server {

// Hex is the common codec (cipherchart/common/hex.h).
using cipherchart::FixedFromHex;
using cipherchart::FromHex;
using cipherchart::ToHex;

std::string Base64UrlEncode(std::span<const std::uint8_t> bytes);
std::optional<std::vector<std::uint8_t>> Base64UrlDecode(std::string_view text);

// "u" + 26 Crockford base32 characters (130 random bits, lowercase): user ids.
Result<std::string> NewUserId();
// "k" + 26 characters: key package ids.
Result<std::string> NewPackageId();

// A patient pseudonym: 80 random bits as 16 Crockford base32 characters in four groups of four,
// then a check character (the value mod 37, Crockford's check alphabet), e.g.
// "PKV7-2M9Q-XR4T-0HBD-Y". It carries no identity.
Result<std::string> NewPatientId();
// True for a well-formed pseudonym whose check character matches (upper case, with dashes).
bool IsValidPatientId(std::string_view id);

// Record ids: 1..64 characters of [A-Za-z0-9._-], not "." or "..".
bool IsValidRecordId(std::string_view id);
// User and package ids as NewUserId / NewPackageId make them.
bool IsValidUserId(std::string_view id);
bool IsValidPackageId(std::string_view id);

std::int64_t NowMillis();
std::int64_t NowSeconds();

}  // namespace cipherchart::server
