#include "src/server/ids.h"

#include <openssl/rand.h>

#include <chrono>

namespace cipherchart::server {
namespace {

// Crockford base32: no I, L, O, U. The check alphabet adds five symbols for values 32..36.
constexpr std::string_view kCrockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
constexpr std::string_view kCrockfordCheck = "0123456789ABCDEFGHJKMNPQRSTVWXYZ*~$=U";
constexpr std::string_view kB64Url = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

Result<std::string> RandomBase32(char prefix, std::size_t chars, bool lower) {
  std::vector<std::uint8_t> bytes(chars);
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1)
    return Fail(ErrorCode::kRandomnessFailure, "RAND_bytes failed");
  std::string out(1, prefix);
  for (std::uint8_t b : bytes) {
    const char c = kCrockford[b & 31];
    out.push_back(lower ? static_cast<char>(std::tolower(static_cast<unsigned char>(c))) : c);
  }
  return out;
}

bool IsLowerBase32Id(std::string_view id, char prefix) {
  if (id.size() != 27 || id[0] != prefix) return false;
  for (char c : id.substr(1)) {
    const char up = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (c != std::tolower(static_cast<unsigned char>(c)) || kCrockford.find(up) == std::string_view::npos)
      return false;
  }
  return true;
}

}  // namespace

std::string Base64UrlEncode(std::span<const std::uint8_t> bytes) {
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (std::uint8_t b : bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kB64Url[(acc >> bits) & 63]);
    }
  }
  if (bits > 0) out.push_back(kB64Url[(acc << (6 - bits)) & 63]);
  return out;
}

std::optional<std::vector<std::uint8_t>> Base64UrlDecode(std::string_view text) {
  if (text.size() % 4 == 1) return std::nullopt;
  std::vector<std::uint8_t> out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    const auto v = kB64Url.find(c);
    if (v == std::string_view::npos) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<std::uint8_t>(acc >> bits));
    }
  }
  // Unused trailing bits must be zero, so every byte string has exactly one encoding.
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

Result<std::string> NewUserId() { return RandomBase32('u', 26, true); }
Result<std::string> NewPackageId() { return RandomBase32('k', 26, true); }
bool IsValidUserId(std::string_view id) { return IsLowerBase32Id(id, 'u'); }
bool IsValidPackageId(std::string_view id) { return IsLowerBase32Id(id, 'k'); }

Result<std::string> NewPatientId() {
  std::array<std::uint8_t, 10> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1)
    return Fail(ErrorCode::kRandomnessFailure, "RAND_bytes failed");
  std::string out;
  unsigned check = 0;  // the 80-bit value mod 37, accumulated digit by digit
  std::uint32_t acc = 0;
  int bits = 0, digits = 0;
  for (std::uint8_t b : bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      const unsigned d = (acc >> bits) & 31;
      check = (check * 32 + d) % 37;
      if (digits > 0 && digits % 4 == 0) out.push_back('-');
      out.push_back(kCrockford[d]);
      ++digits;
    }
  }
  out.push_back('-');
  out.push_back(kCrockfordCheck[check]);
  return out;
}

bool IsValidPatientId(std::string_view id) {
  if (id.size() != 21) return false;
  unsigned check = 0;
  for (std::size_t i = 0; i < 19; ++i) {
    if (i % 5 == 4) {
      if (id[i] != '-') return false;
      continue;
    }
    const auto d = kCrockford.find(id[i]);
    if (d == std::string_view::npos) return false;
    check = (check * 32 + static_cast<unsigned>(d)) % 37;
  }
  return id[19] == '-' && id[20] == kCrockfordCheck[check];
}

bool IsValidRecordId(std::string_view id) {
  if (id.empty() || id.size() > 64 || id == "." || id == "..") return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}
std::int64_t NowSeconds() { return NowMillis() / 1000; }

}  // namespace cipherchart::server
