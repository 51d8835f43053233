// Audit entries and their canonical JSON encoding: see audit_entry.h and docs/formats.md.
#include "cipherchart/server/audit_entry.h"

#include <algorithm>
#include <array>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>

#include "cipherchart/common/bytes.h"

namespace cipherchart::server {
namespace {

using Json = nlohmann::json;

// The keys in encoding order (sorted by their bytes, which is also nlohmann::json's std::map
// order and RFC 8785's UTF-16 order for these ASCII keys).
constexpr std::array<std::string_view, 6> kKeys = {"action",     "actor",  "outcome",
                                                   "patient_id", "target", "time_ms"};
constexpr std::string_view kTimeKey = "time_ms";

// The string fields with their keys.
constexpr std::array<std::pair<std::string_view, std::string AuditEntry::*>, 5> kStringFields = {{
    {"action", &AuditEntry::action},
    {"actor", &AuditEntry::actor},
    {"outcome", &AuditEntry::outcome},
    {"patient_id", &AuditEntry::patient_id},
    {"target", &AuditEntry::target},
}};

// (Appended piecewise: "\"" + std::string(key) + "\"" trips GCC 12's -Wrestrict false positive.)
std::string Quoted(std::string_view key) {
  std::string out;
  out.reserve(key.size() + 2);
  out.push_back('"');
  out.append(key);
  out.push_back('"');
  return out;
}

// A key from the input, for a message: itself if it is short printable ASCII, else its length.
std::string Describe(const std::string& key) {
  const bool printable =
      key.size() <= 32 && std::all_of(key.begin(), key.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
  if (printable) return Quoted(key);
  return "of " + std::to_string(key.size()) + " bytes";
}

Result<AuditEntry> DecodeJson(std::span<const std::uint8_t> bytes) {
  Json json;
  try {
    json = Json::parse(bytes.begin(), bytes.end());
  } catch (const Json::parse_error& e) {
    // nlohmann's byte position is 1-based: the byte after the last one read.
    return Fail(ErrorCode::kInvalidEncoding, "audit entry: not valid JSON (error at offset " +
                                                 std::to_string(e.byte > 0 ? e.byte - 1 : 0) + ")");
  }
  if (!json.is_object()) {
    return Fail(ErrorCode::kInvalidEncoding, std::string("audit entry: the top-level value is a JSON ") +
                                                 json.type_name() + ", not an object");
  }
  for (const auto& item : json.items()) {
    if (std::find(kKeys.begin(), kKeys.end(), item.key()) == kKeys.end()) {
      return Fail(ErrorCode::kInvalidEncoding,
                  "audit entry: unknown key " + Describe(item.key()) +
                      " (the keys are action, actor, outcome, patient_id, target and time_ms)");
    }
  }
  AuditEntry entry;
  for (const auto& [key, field] : kStringFields) {
    auto it = json.find(key);
    if (it == json.end()) return Fail(ErrorCode::kInvalidEncoding, "audit entry: missing key " + Quoted(key));
    if (!it->is_string()) {
      return Fail(ErrorCode::kInvalidEncoding,
                  "audit entry: key " + Quoted(key) + " is a JSON " + it->type_name() + ", not a string");
    }
    entry.*field = it->get<std::string>();
  }
  auto it = json.find(kTimeKey);
  if (it == json.end())
    return Fail(ErrorCode::kInvalidEncoding, "audit entry: missing key " + Quoted(kTimeKey));
  if (!it->is_number_integer()) {
    const std::string type = it->is_number_float() ? "non-integer number" : it->type_name();
    return Fail(ErrorCode::kInvalidEncoding,
                "audit entry: key " + Quoted(kTimeKey) + " is a JSON " + type + ", not an integer");
  }
  // nlohmann stores integers >= 0 as unsigned, negative ones as signed.
  if (it->is_number_unsigned()) {
    const auto value = it->get<std::uint64_t>();
    if (value > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return Fail(ErrorCode::kInvalidEncoding,
                  "audit entry: key " + Quoted(kTimeKey) + " is above the largest 64-bit signed integer");
    }
    entry.time_ms = static_cast<std::int64_t>(value);
  } else {
    entry.time_ms = it->get<std::int64_t>();
  }
  return entry;
}

}  // namespace

Result<std::vector<std::uint8_t>> EncodeAuditEntry(const AuditEntry& entry) {
  Json json = Json::object();
  for (const auto& [key, field] : kStringFields) {
    const std::string& value = entry.*field;
    if (!IsValidUtf8(AsBytes(value))) {
      return Fail(ErrorCode::kInvalidArgument,
                  "audit entry: field " + Quoted(key) + " is not well-formed UTF-8");
    }
    json[std::string(key)] = value;
  }
  json[std::string(kTimeKey)] = entry.time_ms;
  std::string text;
  try {
    // Compact (no indentation, no spaces), UTF-8 kept as is, minimal escapes; the object's
    // std::map orders the keys.
    text = json.dump(-1, ' ', false, Json::error_handler_t::strict);
  } catch (const Json::exception&) {
    return Fail(ErrorCode::kInternal, "audit entry: JSON serialisation failed");
  }
  return std::vector<std::uint8_t>(text.begin(), text.end());
}

Result<AuditEntry> DecodeAuditEntry(std::span<const std::uint8_t> bytes) {
  Result<AuditEntry> entry = Fail(ErrorCode::kInternal, "audit entry: not decoded");
  try {
    entry = DecodeJson(bytes);
  } catch (const Json::exception&) {
    // Not expected: every access above is checked first.
    return Fail(ErrorCode::kInvalidEncoding, "audit entry: not a valid entry");
  }
  if (!entry) return entry;
  // The entry is well-typed; the bytes must also be its one encoding.
  auto again = EncodeAuditEntry(*entry);
  if (!again) return Fail(ErrorCode::kInvalidEncoding, "audit entry: " + again.error().message());
  if (!std::equal(again->begin(), again->end(), bytes.begin(), bytes.end())) {
    const auto mismatch = std::mismatch(again->begin(), again->end(), bytes.begin(), bytes.end());
    const auto offset = static_cast<std::size_t>(mismatch.second - bytes.begin());
    return Fail(ErrorCode::kInvalidEncoding,
                "audit entry: valid JSON but not the canonical encoding (keys sorted, no whitespace, minimal "
                "escapes, no repeated keys), first difference at offset " +
                    std::to_string(offset));
  }
  return entry;
}

}  // namespace cipherchart::server
