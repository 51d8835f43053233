// What the handler files share (accounts.cc, auth.cc, directory.cc, keys.cc, patients.cc,
// records.cc, audit.cc): the caller and the matched request as a handler sees them, JSON
// replies and request fields with the messages docs/api.md promises, request bodies, and the
// names the API gives roles and approval states.
#pragma once

#include <array>
#include <boost/asio/awaitable.hpp>
#include <cstddef>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cipherchart/common/hex.h"
#include "cipherchart/server/store.h"
#include "src/server/api_error.h"
#include "src/server/service.h"

namespace cipherchart::server {

using json = nlohmann::json;

// A request target split into path segments and query pairs. ParseTarget refuses (400
// bad_path) what no route can mean: empty segments ("//"), "." and "..", a trailing '/',
// percent-escapes (no id needs them), fragments, and a query that is not unique key=value pairs.
struct Target {
  std::vector<std::string> segments;
  std::map<std::string, std::string> query;
};
ApiResult<Target> ParseTarget(std::string_view target);

// The authenticated caller.
struct Service::Principal {
  Account account;
  std::array<std::uint8_t, 32> token_hash{};  // SHA-256 of the session token
  bool approved() const { return account.state == ApprovalState::kApproved; }
};

// One request as its handler sees it: the route the table matched, its path parameters, the
// query, the body and the caller.
struct Service::Call {
  const HttpRequest& req;
  BodySource& body;
  std::string_view pattern;                    // protocol::route::k*, as matched
  std::span<const std::string_view> segments;  // the request path's segments
  const std::map<std::string, std::string>& query;
  const Principal* who;  // set on routes that need a session; null otherwise

  // The path segment in the place of "{name}" in the pattern; "" if the pattern has none
  // (GET .../records/{rid} has no "{v}").
  std::string Param(std::string_view name) const;
  const Principal& caller() const { return *who; }
};

HttpReply JsonReply(int status, const json& body);

// A JSON object from a request body (415 unless application/json, 413 over `limit` bytes, 400
// bad_json if it is not one JSON object or nests deeper than 32 levels).
boost::asio::awaitable<ApiResult<json>> ReadJsonObject(const HttpRequest& req, BodySource& body,
                                                       std::int64_t limit);
// An application/octet-stream body of at most `limit` bytes, in memory (small bodies only).
boost::asio::awaitable<ApiResult<std::vector<std::uint8_t>>> ReadBinaryBody(const HttpRequest& req,
                                                                            BodySource& body,
                                                                            std::int64_t limit);
// The reply to a body that could not be read: the status the BodySource names (408 timeout,
// 413, 400), with its reason.
ApiError BodyReadError(const BodySource& body, const Error& error);

// Field access on a JSON object with the messages docs/api.md promises: which field, what was
// expected (400 missing_field or bad_field).
class Fields {
 public:
  explicit Fields(const json& object) : j_(object) {}

  // The string field `name`, at most `max_len` bytes; nullopt if absent (or null) and not
  // `required`.
  ApiResult<std::optional<std::string>> Str(const char* name, bool required, std::size_t max_len) const;
  ApiResult<std::string> Required(const char* name, std::size_t max_len) const;
  // Exactly N bytes as hex (a required field).
  template <std::size_t N>
  ApiResult<std::array<std::uint8_t, N>> Hex(const char* name) const {
    auto s = Required(name, 2 * N);
    if (!s) return std::unexpected(s.error());
    auto v = FixedFromHex<N>(*s);
    if (!v) {
      return Reject(400, "bad_field",
                    std::string("field '") + name + "': expected " + std::to_string(N) + " bytes as hex");
    }
    return *v;
  }

 private:
  // The string at `name`, checked for type and length; null if absent (or null).
  ApiResult<const std::string*> Find(const char* name, std::size_t max_len) const;
  static std::unexpected<ApiError> Missing(const char* name);

  const json& j_;
};

// A non-negative decimal integer of at most 18 digits (path versions, query counts).
std::optional<std::int64_t> ParseCount(std::string_view s);
// The query parameter `key` as ParseCount reads it; nullopt if absent or not a count.
std::optional<std::int64_t> QueryCount(const std::map<std::string, std::string>& query, const char* key);

// Section names, policies, organisations and reasons are free text shown to readers:
// printable UTF-8, no control characters. (Header values are bytes: one that is not UTF-8
// would make every later JSON listing of the record fail to serialise, and the store refuses
// it only after the upload.)
using protocol::IsPrintableText;

using protocol::RoleName;
using protocol::StateName;

// Passwords (auth.cc): Argon2id at OWASP's minimum setting, with a fresh random salt; and the
// check of a password against what HashPassword returned.
Result<std::string> HashPassword(std::string_view password);
bool PasswordMatches(const std::string& encoded, std::string_view password);

}  // namespace cipherchart::server
