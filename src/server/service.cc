#include "src/server/service.h"

#include <argon2.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include "cipherchart/abe/authority_directory.h"
#include "cipherchart/common/secret.h"
#include "cipherchart/envelope/signature.h"
#include "cipherchart/version.h"
#include "src/envelope/sha256.h"
#include "src/envelope/wire.h"
#include "src/server/ids.h"

namespace cipherchart::server {
namespace {

using json = nlohmann::json;
using Sha256Digest = std::array<std::uint8_t, 32>;

constexpr std::string_view kLoginContext = "CIPHERCHART-LOGIN-V1";
// A directory entry is a certificate chain and a key statement: kilobytes, far below this.
constexpr std::int64_t kMaxDirectoryEntryBody = 1 << 20;
static_assert(kMaxDirectoryNamespaces <= static_cast<std::int64_t>(abe::kMaxDirectoryEntries),
              "GET /v1/directory must be able to encode every stored namespace");

HttpReply ErrorReply(int status, std::string_view code, std::string_view message) {
  HttpReply r;
  r.status = status;
  json body = {{"error", {{"code", code}, {"message", message}}}};
  r.body = body.dump();
  return r;
}

HttpReply JsonReply(int status, const json& body) {
  HttpReply r;
  r.status = status;
  r.body = body.dump();
  return r;
}

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kPatient:
      return "patient";
    case Role::kPractitioner:
      return "practitioner";
    case Role::kAuthorityAdmin:
      return "authority-admin";
    case Role::kServerAdmin:
      return "server-admin";
  }
  return "unknown";
}

std::string_view StateName(ApprovalState s) {
  switch (s) {
    case ApprovalState::kPending:
      return "pending";
    case ApprovalState::kApproved:
      return "approved";
    case ApprovalState::kRejected:
      return "rejected";
  }
  return "unknown";
}

std::optional<ApprovalState> ParseState(std::string_view s) {
  if (s == "pending") return ApprovalState::kPending;
  if (s == "approved") return ApprovalState::kApproved;
  if (s == "rejected") return ApprovalState::kRejected;
  return std::nullopt;
}

// Field access with the messages docs/api.md promises: which field, what was expected.
struct Fields {
  const json& j;
  HttpReply* fail;

  std::optional<std::string> Str(const char* name, bool required, std::size_t max_len) const {
    const auto it = j.find(name);
    if (it == j.end() || it->is_null()) {
      if (required) *fail = ErrorReply(400, "missing_field", std::string("field '") + name + "' is required");
      return std::nullopt;
    }
    if (!it->is_string()) {
      *fail = ErrorReply(400, "bad_field", std::string("field '") + name + "': expected a string");
      return std::nullopt;
    }
    const auto& s = it->get_ref<const std::string&>();
    if (s.size() > max_len) {
      *fail =
          ErrorReply(400, "bad_field",
                     std::string("field '") + name + "': longer than " + std::to_string(max_len) + " bytes");
      return std::nullopt;
    }
    return s;
  }

  template <std::size_t N>
  std::optional<std::array<std::uint8_t, N>> HexField(const char* name) const {
    auto s = Str(name, true, 2 * N);
    if (!s) return std::nullopt;
    auto v = FixedFromHex<N>(*s);
    if (!v)
      *fail =
          ErrorReply(400, "bad_field",
                     std::string("field '") + name + "': expected " + std::to_string(N) + " bytes as hex");
    return v;
  }
};

// The deepest nesting of arrays and objects in JSON text (strings skipped; the text need not be
// valid). nlohmann's parser is iterative, but copying or serialising a value recurses once per
// level: a 64 KiB body of brackets overflows the stack.
std::size_t NestingDepth(std::string_view text) {
  std::size_t depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

constexpr std::size_t kMaxJsonDepth = 32;

std::optional<json> ParseObject(const std::string& text, HttpReply& fail) {
  if (NestingDepth(text) > kMaxJsonDepth) {
    fail = ErrorReply(
        400, "bad_json",
        "the body nests arrays and objects deeper than " + std::to_string(kMaxJsonDepth) + " levels");
    return std::nullopt;
  }
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    fail = ErrorReply(400, "bad_json", "the body is not valid JSON");
    return std::nullopt;
  }
  if (!j.is_object()) {
    fail = ErrorReply(400, "bad_json", "the body must be a JSON object");
    return std::nullopt;
  }
  return j;
}

// Splits "/a/b/c?x=1&y=2" into segments and query pairs. Rejects what no route can mean:
// empty segments ("//"), "." and "..", percent-escapes (no id needs them), and fragments.
struct Target {
  std::vector<std::string> segments;
  std::map<std::string, std::string> query;
};

std::optional<Target> ParseTarget(std::string_view target, std::string& why) {
  Target t;
  if (target.empty() || target.front() != '/') {
    why = "the request target must start with '/'";
    return std::nullopt;
  }
  std::string_view path = target, query;
  if (const auto q = target.find('?'); q != std::string_view::npos) {
    path = target.substr(0, q);
    query = target.substr(q + 1);
  }
  if (path.find_first_of("%#\\") != std::string_view::npos) {
    why = "the path contains '%', '#' or '\\', which no route uses";
    return std::nullopt;
  }
  path.remove_prefix(1);
  while (!path.empty()) {
    const auto slash = path.find('/');
    const auto seg = path.substr(0, slash);
    if (seg.empty() || seg == "." || seg == "..") {
      why = "the path has an empty, '.' or '..' segment";
      return std::nullopt;
    }
    t.segments.emplace_back(seg);
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
    if (path.empty()) {
      why = "the path ends with '/'";
      return std::nullopt;
    }
  }
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto pair = query.substr(0, amp);
    const auto eq = pair.find('=');
    if (eq == std::string_view::npos || eq == 0 || pair.find_first_of("%#") != std::string_view::npos) {
      why = "the query must be key=value pairs without escapes";
      return std::nullopt;
    }
    if (!t.query.emplace(std::string(pair.substr(0, eq)), std::string(pair.substr(eq + 1))).second) {
      why = "the query repeats a key";
      return std::nullopt;
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return t;
}

std::optional<std::int64_t> ParseCount(std::string_view s) {
  if (s.empty() || s.size() > 18) return std::nullopt;
  std::int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

json AccountJson(const Account& a) {
  json details = json::parse(a.details_json.empty() ? std::string("{}") : a.details_json, nullptr, false);
  if (details.is_discarded()) details = json::object();
  return {{"user_id", a.user_id},
          {"role", RoleName(a.role)},
          {"state", StateName(a.state)},
          {"organisation", a.organisation},
          {"details", details},
          {"identity_key", ToHex(a.identity_key)},
          {"delivery_key", ToHex(a.delivery_key)},
          {"decision_reason", a.decision_reason},
          {"decided_by", a.decided_by},
          {"created_at", a.created_at}};
}

// What any approved account may learn about another (GET /v1/accounts/{user_id}): enough to
// check that an envelope's author key is that account's identity key, to show the author's
// name, and to encrypt a key package to the account's delivery key. A patient's organisation
// and details are not shown.
json PublicAccountJson(const Account& a) {
  json out = {{"user_id", a.user_id},
              {"role", RoleName(a.role)},
              {"state", StateName(a.state)},
              {"identity_key", ToHex(a.identity_key)},
              {"delivery_key", ToHex(a.delivery_key)}};
  if (a.role == Role::kPatient) return out;
  std::string name;
  if (a.role == Role::kPractitioner || a.role == Role::kAuthorityAdmin) {
    const json details = json::parse(a.details_json, nullptr, false);
    if (details.is_object()) {
      if (const auto it = details.find("name"); it != details.end() && it->is_string())
        name = it->get<std::string>();
    }
  }
  out["organisation"] = a.organisation;
  out["name"] = name;
  return out;
}

json RecordJson(const RecordMeta& m) {
  return {{"record_id", m.record_id},  {"version", m.version},       {"section", m.section},
          {"policy", m.policy},        {"author_id", m.author_id},   {"size", m.size},
          {"sha256", ToHex(m.sha256)}, {"created_at", m.created_at}, {"tombstone", m.tombstone}};
}

// Section names and policies are free text shown to readers: printable UTF-8, no control
// characters. (Header values are bytes: one that is not UTF-8 would make every later JSON
// listing of the record fail to serialise, and the store refuses it only after the upload.)
bool IsPrintableText(std::string_view s) {
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f) return false;
  return envelope::internal::IsValidUtf8(envelope::internal::AsBytes(s));
}

// At most `max` bytes of UTF-8 `s`, cut at a character boundary (a cut inside a character
// would make the text invalid UTF-8, which the JSON encoder refuses).
std::string Prefix(const std::string& s, std::size_t max) {
  std::size_t n = std::min(s.size(), max);
  while (n > 0 && n < s.size() && (static_cast<unsigned char>(s[n]) & 0xc0) == 0x80) --n;
  return s.substr(0, n);
}

// `s` with every byte outside printable ASCII written as \xNN, unless it is printable UTF-8
// already: for messages that may quote request bytes (a parser's error naming a bad field), which
// the JSON encoder would refuse if they were not UTF-8.
std::string PrintableMessage(const std::string& s) {
  if (IsPrintableText(s)) return s;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (const unsigned char c : s) {
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace

// The authenticated caller.
struct Service::Principal {
  Account account;
  std::array<std::uint8_t, 32> token_hash{};
  bool approved() const { return account.state == ApprovalState::kApproved; }
};

// The matched route: a pattern name for metrics and the path parameters.
struct Service::Route {
  Target target;
  std::string name = "unmatched";
  std::string p1, p2, p3;  // ids from the path, by position
};

Service::Service(const ServerConfig& config, Store& store, AuditedWriter& writer, Metrics& metrics,
                 asio::io_context& io)
    : config_(config), store_(store), writer_(writer), metrics_(metrics), io_(io) {}

asio::awaitable<Result<void>> Service::Commit(AuditedWriter::Request request) {
  auto& writer = writer_;
  co_return co_await asio::async_initiate<decltype(asio::use_awaitable), void(Result<void>)>(
      [&writer, &request](auto handler) {
        auto ex = asio::get_associated_executor(handler);
        auto shared = std::make_shared<decltype(handler)>(std::move(handler));
        request.done = [shared, ex](Result<void> r) {
          asio::post(ex, [shared, r = std::move(r)]() mutable { (*shared)(std::move(r)); });
        };
        writer.Submit(std::move(request));
      },
      asio::use_awaitable);
}

void Service::LogDetached(AuditEntry entry) {
  AuditedWriter::Request req;
  req.audit.push_back(std::move(entry));
  writer_.Submit(std::move(req));
}

asio::awaitable<Result<std::string>> Service::ReadJsonBody(const HttpRequest& req, BodySource& body,
                                                           HttpReply& fail) {
  if (req.content_type.rfind("application/json", 0) != 0) {
    fail = ErrorReply(415, "unsupported_media_type", "this route takes Content-Type: application/json");
    co_return Fail(ErrorCode::kInvalidArgument, "content type");
  }
  if (req.content_length && static_cast<std::int64_t>(*req.content_length) > config_.max_json_body) {
    fail = ErrorReply(413, "too_large",
                      "JSON bodies are limited to " + std::to_string(config_.max_json_body) + " bytes");
    co_return Fail(ErrorCode::kInvalidArgument, "too large");
  }
  std::string text;
  std::array<std::uint8_t, 16 * 1024> buf{};
  for (;;) {
    auto n = co_await body.Read(buf);
    if (!n) {
      fail = ErrorReply(body.failure_status(), body.failure_status() == 408 ? "timeout" : "bad_request",
                        n.error().message());
      co_return std::unexpected(n.error());
    }
    if (*n == 0) break;
    text.append(reinterpret_cast<const char*>(buf.data()), *n);
    if (static_cast<std::int64_t>(text.size()) > config_.max_json_body) {
      fail = ErrorReply(413, "too_large",
                        "JSON bodies are limited to " + std::to_string(config_.max_json_body) + " bytes");
      co_return Fail(ErrorCode::kInvalidArgument, "too large");
    }
  }
  co_return text;
}

asio::awaitable<Result<std::vector<std::uint8_t>>> Service::ReadBinaryBody(const HttpRequest& req,
                                                                           BodySource& body,
                                                                           std::int64_t limit,
                                                                           HttpReply& fail) {
  auto too_large = [&] {
    fail = ErrorReply(413, "too_large",
                      "the body is over this route's limit of " + std::to_string(limit) + " bytes");
    return Fail(ErrorCode::kInvalidArgument, "too large");
  };
  if (req.content_type.rfind("application/octet-stream", 0) != 0) {
    fail =
        ErrorReply(415, "unsupported_media_type", "this route takes Content-Type: application/octet-stream");
    co_return Fail(ErrorCode::kInvalidArgument, "content type");
  }
  if (!req.content_length && !req.has_body) {
    fail = ErrorReply(411, "length_required", "uploads need Content-Length or chunked transfer encoding");
    co_return Fail(ErrorCode::kInvalidArgument, "length required");
  }
  if (req.content_length && static_cast<std::int64_t>(*req.content_length) > limit) co_return too_large();
  std::vector<std::uint8_t> out;
  std::array<std::uint8_t, 16 * 1024> buf{};
  for (;;) {
    auto n = co_await body.Read(buf);
    if (!n) {
      fail = ErrorReply(body.failure_status(), body.failure_status() == 408 ? "timeout" : "bad_request",
                        n.error().message());
      co_return std::unexpected(n.error());
    }
    if (*n == 0) break;
    if (static_cast<std::int64_t>(out.size() + *n) > limit) co_return too_large();
    out.insert(out.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(*n));
  }
  co_return out;
}

Result<std::optional<Account>> Service::CachedAccount(const std::string& user_id) {
  const auto now = NowMillis();
  {
    std::lock_guard lock(cache_mu_);
    if (auto it = accounts_.find(user_id); it != accounts_.end() && it->second.until_ms > now)
      return it->second.account;
  }
  auto a = store_.GetAccount(user_id);
  if (!a) return std::unexpected(a.error());
  const std::optional<Account>& found = *a;
  if (found.has_value()) {
    std::lock_guard lock(cache_mu_);
    if (accounts_.size() > 100'000) accounts_.clear();
    accounts_[user_id] = {*found, now + config_.account_cache_ms};
  }
  return found;
}

void Service::ForgetAccount(const std::string& user_id) {
  std::lock_guard lock(cache_mu_);
  accounts_.erase(user_id);
}

Result<std::optional<Service::Principal>> Service::Authenticate(const HttpRequest& req, HttpReply& fail) {
  constexpr std::string_view kBearer = "Bearer ";
  if (req.authorization.empty()) {
    fail = ErrorReply(401, "unauthenticated", "this route needs 'Authorization: Bearer <token>'");
    return std::nullopt;
  }
  if (req.authorization.rfind(kBearer, 0) != 0) {
    fail = ErrorReply(401, "bad_token", "the Authorization header must be 'Bearer <token>'");
    return std::nullopt;
  }
  auto token = Base64UrlDecode(std::string_view(req.authorization).substr(kBearer.size()));
  if (!token || token->size() != 32) {
    fail = ErrorReply(401, "bad_token", "the token is not a session token");
    return std::nullopt;
  }
  auto hash = envelope::internal::Sha256Of(*token);
  OPENSSL_cleanse(token->data(), token->size());
  if (!hash) return std::unexpected(hash.error());
  const std::string key(reinterpret_cast<const char*>(hash->data()), hash->size());
  const auto now = NowMillis();
  std::optional<Session> session;
  {
    std::lock_guard lock(cache_mu_);
    if (auto it = sessions_.find(key); it != sessions_.end() && it->second.until_ms > now)
      session = it->second.session;
  }
  if (!session) {
    auto s = store_.GetSession(*hash);
    if (!s) return std::unexpected(s.error());
    session = *s;
    if (session) {
      std::lock_guard lock(cache_mu_);
      if (sessions_.size() > 100'000) sessions_.clear();
      sessions_[key] = {*session, now + config_.account_cache_ms};
    }
  }
  // The lookup is keyed by the hash; the stored hash is still compared in constant time.
  if (!session || !ConstantTimeEqual(session->token_hash, *hash)) {
    fail = ErrorReply(401, "bad_token", "the token is not a valid session token");
    return std::nullopt;
  }
  if (session->expires_at <= now / 1000) {
    fail = ErrorReply(401, "expired_token", "the session expired; log in again");
    return std::nullopt;
  }
  auto account = CachedAccount(session->user_id);
  if (!account) return std::unexpected(account.error());
  std::optional<Account>& found = *account;
  if (!found.has_value()) {
    fail = ErrorReply(401, "bad_token", "the token's account no longer exists");
    return std::nullopt;
  }
  Principal p;
  p.account = std::move(*found);
  p.token_hash = *hash;
  return p;
}

asio::awaitable<HttpReply> Service::Handle(const HttpRequest& req, BodySource& body) {
  Route route;
  std::string why;
  auto target = ParseTarget(req.target, why);
  HttpReply reply;
  if (!target) {
    reply = ErrorReply(400, "bad_path", why);
  } else if (draining_) {
    reply = ErrorReply(503, "shutting_down", "the server is shutting down; retry on another server");
  } else {
    route.target = std::move(*target);
    try {
      reply = co_await Dispatch(req, body, route);
    } catch (const std::exception&) {
      // Handlers report errors as values; an exception here is a bug. No detail reaches the
      // client (it could carry request data).
      reply = ErrorReply(500, "internal", "internal error");
    }
  }
  reply.route = route.name;
  co_return reply;
}

asio::awaitable<HttpReply> Service::Dispatch(const HttpRequest& req, BodySource& body, Route& route) {
  const auto& s = route.target.segments;
  const auto& m = req.method;
  auto method_not_allowed = [&](const char* allowed) {
    HttpReply r = ErrorReply(405, "method_not_allowed", std::string("allowed: ") + allowed);
    r.headers.emplace_back("Allow", allowed);
    return r;
  };

  // Unauthenticated routes.
  if (s.size() == 1 && s[0] == "healthz") {
    route.name = "/healthz";
    if (m != "GET") co_return method_not_allowed("GET");
    co_return Health();
  }
  if (s.size() == 1 && s[0] == "metrics") {
    route.name = "/metrics";
    if (m != "GET") co_return method_not_allowed("GET");
    HttpReply r;
    r.content_type = "text/plain; version=0.0.4";
    r.body = metrics_.Render(writer_.size(), writer_.batches());
    co_return r;
  }
  if (s.empty() || s[0] != "v1") {
    route.name = "unmatched";
    co_return ErrorReply(404, "not_found", "no such route (the API is under /v1)");
  }
  if (s.size() == 2 && s[1] == "server") {
    route.name = "/v1/server";
    if (m != "GET") co_return method_not_allowed("GET");
    co_return JsonReply(200, {{"audit_key", ToHex(writer_.public_key())},
                              {"version", kVersion},
                              {"backend", store_.BackendName()}});
  }
  if (s.size() == 2 && s[1] == "accounts") {
    route.name = "/v1/accounts";
    if (m != "POST") co_return method_not_allowed("POST");
    co_return co_await Register(req, body);
  }
  if (s.size() == 3 && s[1] == "auth" && (s[2] == "challenge" || s[2] == "login")) {
    route.name = "/v1/auth/" + s[2];
    if (m != "POST") co_return method_not_allowed("POST");
    if (s[2] == "challenge") co_return co_await NewChallenge(req, body);
    co_return co_await Login(req, body);
  }
  if (s.size() == 3 && s[1] == "audit" && s[2] == "head") {
    route.name = "/v1/audit/head";
    if (m != "GET") co_return method_not_allowed("GET");
    co_return AuditHead();
  }

  // Everything else needs a session.
  HttpReply fail;
  auto who = Authenticate(req, fail);
  if (!who) co_return ErrorReply(500, "internal", "internal error");
  const std::optional<Principal>& principal = *who;
  if (!principal.has_value()) co_return fail;
  const Principal& p = *principal;

  if (s.size() == 3 && s[1] == "auth" && s[2] == "logout") {
    route.name = "/v1/auth/logout";
    if (m != "POST") co_return method_not_allowed("POST");
    co_return co_await Logout(req, p);
  }
  if (s.size() == 3 && s[1] == "accounts" && s[2] == "me") {
    route.name = "/v1/accounts/me";
    if (m != "GET") co_return method_not_allowed("GET");
    co_return Me(p);
  }
  if (!p.approved()) {
    route.name = "not_approved";
    co_return ErrorReply(403, "not_approved",
                         std::string("the account is ") + std::string(StateName(p.account.state)) +
                             "; only /v1/accounts/me is available until an admin approves it");
  }
  if (s.size() == 3 && s[1] == "accounts") {  // "me" is matched above, for any approval state
    route.name = "/v1/accounts/{user_id}";
    route.p1 = s[2];
    if (m != "GET") co_return method_not_allowed("GET");
    co_return LookupAccount(route);
  }
  if (s.size() == 2 && s[1] == "directory") {
    route.name = "/v1/directory";
    if (m != "GET") co_return method_not_allowed("GET");
    co_return Directory();
  }
  if (s.size() == 3 && s[1] == "directory") {
    route.name = "/v1/directory/{namespace}";
    route.p1 = s[2];
    if (m != "PUT") co_return method_not_allowed("PUT");
    co_return co_await PublishDirectoryEntry(req, body, route, p);
  }
  if (s.size() == 2 && s[1] == "registrations") {
    route.name = "/v1/registrations";
    if (m != "GET") co_return method_not_allowed("GET");
    co_return co_await ListRegistrations(route, p);
  }
  if (s.size() == 4 && s[1] == "registrations" && (s[3] == "approve" || s[3] == "reject")) {
    route.name = "/v1/registrations/{user_id}/" + s[3];
    route.p1 = s[2];
    if (m != "POST") co_return method_not_allowed("POST");
    co_return co_await Decide(req, body, route, p, s[3] == "approve");
  }
  if (s.size() == 4 && s[1] == "users" && s[3] == "keys") {
    route.name = "/v1/users/{user_id}/keys";
    route.p1 = s[2];
    if (m != "POST") co_return method_not_allowed("POST");
    co_return co_await PostKeyPackage(req, body, route, p);
  }
  if (s.size() == 2 && s[1] == "keys") {
    route.name = "/v1/keys";
    if (m != "GET") co_return method_not_allowed("GET");
    co_return co_await ListKeyPackages(p);
  }
  if (s.size() == 3 && s[1] == "keys") {
    route.name = "/v1/keys/{package_id}";
    route.p1 = s[2];
    if (m != "GET") co_return method_not_allowed("GET");
    co_return co_await FetchKeyPackage(route, p);
  }
  if (s.size() == 3 && s[1] == "audit") {
    // Only the known names become a route label: the segment is client text, and the label
    // goes unescaped into /metrics and the request log.
    if (s[2] != "inclusion" && s[2] != "consistency" && s[2] != "entries") {
      route.name = "unmatched";
      co_return ErrorReply(404, "not_found", "no such audit route");
    }
    route.name = "/v1/audit/" + s[2];
    if (m != "GET") co_return method_not_allowed("GET");
    if (s[2] == "inclusion") co_return Inclusion(route);
    if (s[2] == "consistency") co_return Consistency(route);
    co_return AuditEntries(route, p);
  }
  if (s.size() == 2 && s[1] == "patients") {
    route.name = "/v1/patients";
    if (m != "POST") co_return method_not_allowed("POST");
    co_return co_await CreatePatient(req, body, p);
  }
  if (s.size() >= 3 && s[1] == "patients") {
    route.p1 = s[2];
    if (s.size() == 4 && s[3] == "enrol") {
      route.name = "/v1/patients/{id}/enrol";
      if (m != "POST") co_return method_not_allowed("POST");
      co_return co_await Enrol(req, body, route, p);
    }
    if (s.size() == 4 && s[3] == "audit") {
      route.name = "/v1/patients/{id}/audit";
      if (m != "GET") co_return method_not_allowed("GET");
      co_return co_await PatientAudit(route, p);
    }
    if (s.size() == 4 && s[3] == "records") {
      route.name = "/v1/patients/{id}/records";
      if (m != "GET") co_return method_not_allowed("GET");
      co_return co_await ListRecords(route, p);
    }
    if (s.size() == 5 && s[3] == "records") {
      route.name = "/v1/patients/{id}/records/{rid}";
      route.p2 = s[4];
      if (m == "GET") co_return co_await FetchRecord(route, p);
      if (m == "DELETE") co_return co_await DeleteRecord(route, p);
      co_return method_not_allowed("GET, DELETE");
    }
    if (s.size() == 7 && s[3] == "records" && s[5] == "versions") {
      route.name = "/v1/patients/{id}/records/{rid}/versions/{v}";
      route.p2 = s[4];
      route.p3 = s[6];
      if (m == "GET") co_return co_await FetchRecord(route, p);
      if (m == "PUT") co_return co_await PutRecord(req, body, route, p);
      co_return method_not_allowed("GET, PUT");
    }
  }
  route.name = "unmatched";
  co_return ErrorReply(404, "not_found", "no such route");
}

HttpReply Service::Health() {
  return JsonReply(200,
                   {{"status", "ok"}, {"backend", store_.BackendName()}, {"audit_size", writer_.size()}});
}

asio::awaitable<HttpReply> Service::Register(const HttpRequest& req, BodySource& body) {
  HttpReply fail;
  auto text = co_await ReadJsonBody(req, body, fail);
  if (!text) co_return fail;
  auto j = ParseObject(*text, fail);
  if (!j) co_return fail;
  Fields f{*j, &fail};
  for (const auto& [k, v] : j->items()) {
    if (k != "role" && k != "identity_key" && k != "delivery_key" && k != "organisation" && k != "details" &&
        k != "password")
      co_return ErrorReply(400, "bad_field", "unknown field '" + Prefix(k, 64) + "'");
  }
  auto role_name = f.Str("role", true, 32);
  if (!role_name) co_return fail;
  Account a;
  if (*role_name == "patient")
    a.role = Role::kPatient;
  else if (*role_name == "practitioner")
    a.role = Role::kPractitioner;
  else if (*role_name == "authority-admin")
    a.role = Role::kAuthorityAdmin;
  else if (*role_name == "server-admin")
    co_return ErrorReply(403, "forbidden", "server admins are created with 'cipherchart server add-admin'");
  else
    co_return ErrorReply(400, "bad_field", "field 'role': expected patient, practitioner or authority-admin");
  auto identity = f.HexField<32>("identity_key");
  if (!identity) co_return fail;
  auto delivery = f.HexField<32>("delivery_key");
  if (!delivery) co_return fail;
  a.identity_key = *identity;
  a.delivery_key = *delivery;
  auto org = f.Str("organisation", a.role != Role::kPatient, 128);
  if (!org && a.role != Role::kPatient) co_return fail;
  if (!fail.body.empty()) co_return fail;
  if (org) {
    if (org->empty() || !IsPrintableText(*org))
      co_return ErrorReply(400, "bad_field", "field 'organisation': must be non-empty printable text");
    a.organisation = *org;
  }
  json details = json::object();
  if (auto it = j->find("details"); it != j->end() && !it->is_null()) {
    if (!it->is_object()) co_return ErrorReply(400, "bad_field", "field 'details': expected an object");
    details = *it;
  }
  if (a.role == Role::kPractitioner) {
    for (const char* k : {"name", "licence", "practice_start", "practice_end"}) {
      const auto it = details.find(k);
      if (it == details.end())
        co_return ErrorReply(400, "missing_field",
                             std::string("field 'details.") + k + "' is required for practitioners");
      if (!it->is_string() || it->get_ref<const std::string&>().empty())
        co_return ErrorReply(400, "bad_field",
                             std::string("field 'details.") + k + "': expected a non-empty string");
    }
  }
  a.details_json = details.dump();
  if (a.details_json.size() > 16 * 1024)
    co_return ErrorReply(400, "bad_field", "field 'details': over 16 KiB");
  if (auto pw = f.Str("password", false, 1024); pw) {
    if (pw->size() < 8) co_return ErrorReply(400, "bad_field", "field 'password': at least 8 bytes");
    std::array<std::uint8_t, 16> salt{};
    if (RAND_bytes(salt.data(), salt.size()) != 1) co_return ErrorReply(500, "internal", "internal error");
    // OWASP's minimum Argon2id setting (19 MiB, 2 passes): logins are rare next to reads.
    char encoded[256];
    const int rc = argon2id_hash_encoded(2, 19 * 1024, 1, pw->data(), pw->size(), salt.data(), salt.size(),
                                         32, encoded, sizeof encoded);
    if (rc != ARGON2_OK) co_return ErrorReply(500, "internal", "internal error");
    a.password_hash = encoded;
  } else if (!fail.body.empty()) {
    co_return fail;
  }
  a.state = a.role == Role::kPatient ? ApprovalState::kApproved : ApprovalState::kPending;
  a.created_at = NowSeconds();
  auto id = NewUserId();
  if (!id) co_return ErrorReply(500, "internal", "internal error");
  a.user_id = *id;

  AuditedWriter::Request w;
  w.apply = [a](WriteTx& tx) { return tx.InsertAccount(a); };
  w.audit.push_back({NowMillis(), a.user_id, "register", "", std::string(RoleName(a.role)), "ok"});
  auto r = co_await Commit(std::move(w));
  if (!r) {
    if (r.error().code() == ErrorCode::kContextMismatch)
      co_return ErrorReply(409, "conflict", "this identity key is already registered");
    co_return ErrorReply(500, "internal", "internal error");
  }
  co_return JsonReply(201, {{"user_id", a.user_id}, {"state", StateName(a.state)}});
}

asio::awaitable<HttpReply> Service::NewChallenge(const HttpRequest& req, BodySource& body) {
  HttpReply fail;
  auto text = co_await ReadJsonBody(req, body, fail);
  if (!text) co_return fail;
  auto j = ParseObject(*text, fail);
  if (!j) co_return fail;
  auto uid = Fields{*j, &fail}.Str("user_id", true, 64);
  if (!uid) co_return fail;
  if (!IsValidUserId(*uid)) co_return ErrorReply(400, "bad_field", "field 'user_id': not a user id");
  Challenge c;
  if (RAND_bytes(c.nonce.data(), c.nonce.size()) != 1)
    co_return ErrorReply(500, "internal", "internal error");
  c.user_id = *uid;
  c.expires_at = NowSeconds() + config_.challenge_ttl_s;
  AuditedWriter::Request w;
  w.apply = [c](WriteTx& tx) { return tx.InsertChallenge(c); };
  if (auto r = co_await Commit(std::move(w)); !r) co_return ErrorReply(500, "internal", "internal error");
  co_return JsonReply(201, {{"challenge", ToHex(c.nonce)}, {"expires_at", c.expires_at}});
}

asio::awaitable<HttpReply> Service::Login(const HttpRequest& req, BodySource& body) {
  HttpReply fail;
  auto text = co_await ReadJsonBody(req, body, fail);
  if (!text) co_return fail;
  auto j = ParseObject(*text, fail);
  if (!j) co_return fail;
  Fields f{*j, &fail};
  auto uid = f.Str("user_id", true, 64);
  if (!uid) co_return fail;
  if (!IsValidUserId(*uid)) co_return ErrorReply(400, "bad_field", "field 'user_id': not a user id");
  auto nonce = f.HexField<32>("challenge");
  if (!nonce) co_return fail;
  auto sig = f.HexField<64>("signature");
  if (!sig) co_return fail;
  auto password = f.Str("password", false, 1024);
  if (!password && !fail.body.empty()) co_return fail;

  // Consume the challenge first, durably: a replay of this login finds it gone.
  auto consumed = std::make_shared<std::optional<Challenge>>();
  AuditedWriter::Request w;
  w.apply = [consumed, n = *nonce](WriteTx& tx) -> Result<void> {
    auto c = tx.ConsumeChallenge(n);
    if (!c) return std::unexpected(c.error());
    *consumed = *c;
    return {};
  };
  if (auto r = co_await Commit(std::move(w)); !r) co_return ErrorReply(500, "internal", "internal error");
  const auto now = NowSeconds();
  const std::optional<Challenge>& challenge = *consumed;
  if (!challenge.has_value() || challenge->user_id != *uid) {
    LogDetached({NowMillis(), *uid, "login", "", "", "denied:401"});
    co_return ErrorReply(401, "bad_challenge", "the challenge is unknown, already used, or for another user");
  }
  if (challenge->expires_at < now) {
    LogDetached({NowMillis(), *uid, "login", "", "", "denied:401"});
    co_return ErrorReply(401, "bad_challenge", "the challenge expired; ask for a new one");
  }
  auto account_r = store_.GetAccount(*uid);
  if (!account_r) co_return ErrorReply(500, "internal", "internal error");
  const std::optional<Account>& account = *account_r;
  std::string message(kLoginContext);
  message.append(reinterpret_cast<const char*>(nonce->data()), nonce->size());
  message += *uid;
  const bool sig_ok =
      account.has_value() &&
      envelope::Ed25519Verify(
          account->identity_key,
          std::span(reinterpret_cast<const std::uint8_t*>(message.data()), message.size()), *sig)
          .has_value();
  if (!sig_ok) {
    LogDetached({NowMillis(), *uid, "login", "", "", "denied:401"});
    co_return ErrorReply(401, "bad_signature",
                         "the signature does not verify under the account's identity key");
  }
  if (!account->password_hash.empty()) {
    if (!password ||
        argon2id_verify(account->password_hash.c_str(), password->data(), password->size()) != ARGON2_OK) {
      LogDetached({NowMillis(), *uid, "login", "", "", "denied:401"});
      co_return ErrorReply(401, "bad_signature",
                           "this account also needs its password, and it did not match");
    }
  }
  std::array<std::uint8_t, 32> token{};
  if (RAND_bytes(token.data(), token.size()) != 1) co_return ErrorReply(500, "internal", "internal error");
  Session s;
  auto hash = envelope::internal::Sha256Of(token);
  if (!hash) co_return ErrorReply(500, "internal", "internal error");
  s.token_hash = *hash;
  s.user_id = *uid;
  s.expires_at = now + config_.session_ttl_s;
  AuditedWriter::Request ws;
  ws.apply = [s](WriteTx& tx) { return tx.InsertSession(s); };
  ws.audit.push_back({NowMillis(), *uid, "login", "", "", "ok"});
  if (auto r = co_await Commit(std::move(ws)); !r) co_return ErrorReply(500, "internal", "internal error");
  std::string token_text = Base64UrlEncode(token);
  OPENSSL_cleanse(token.data(), token.size());
  HttpReply reply = JsonReply(201, {{"token", token_text},
                                    {"expires_at", s.expires_at},
                                    {"role", RoleName(account->role)},
                                    {"state", StateName(account->state)}});
  OPENSSL_cleanse(token_text.data(), token_text.size());
  co_return reply;
}

asio::awaitable<HttpReply> Service::Logout(const HttpRequest&, const Principal& who) {
  AuditedWriter::Request w;
  w.apply = [h = who.token_hash](WriteTx& tx) { return tx.DeleteSession(h); };
  w.audit.push_back({NowMillis(), who.account.user_id, "logout", "", "", "ok"});
  if (auto r = co_await Commit(std::move(w)); !r) co_return ErrorReply(500, "internal", "internal error");
  {
    std::lock_guard lock(cache_mu_);
    sessions_.erase(std::string(reinterpret_cast<const char*>(who.token_hash.data()), who.token_hash.size()));
  }
  co_return JsonReply(200, {{"status", "logged out"}});
}

HttpReply Service::Me(const Principal& who) { return JsonReply(200, AccountJson(who.account)); }

HttpReply Service::LookupAccount(const Route& route) {
  if (!IsValidUserId(route.p1)) return ErrorReply(400, "bad_path", "not a user id");
  auto account_r = CachedAccount(route.p1);
  if (!account_r) return ErrorReply(500, "internal", "internal error");
  const std::optional<Account>& account = *account_r;
  if (!account.has_value()) return ErrorReply(404, "not_found", "no such user");
  return JsonReply(200, PublicAccountJson(*account));
}

HttpReply Service::Directory() {
  auto rows = store_.ListDirectoryEntries();
  if (!rows) return ErrorReply(500, "internal", "internal error");
  std::vector<abe::DirectoryEntry> entries;
  entries.reserve(rows->size());
  for (const auto& row : *rows) {
    // Each row holds the one entry its PUT was checked to hold; anything else is a damaged
    // database, not something to serve.
    auto parsed = abe::ParseDirectory(row.entry);
    if (!parsed || parsed->size() != 1) return ErrorReply(500, "internal", "internal error");
    entries.push_back(std::move(parsed->front()));
  }
  auto file = abe::EncodeDirectory(entries);
  if (!file) return ErrorReply(500, "internal", "internal error");
  HttpReply reply;
  reply.content_type = "application/octet-stream";
  reply.body.assign(file->begin(), file->end());
  return reply;
}

asio::awaitable<HttpReply> Service::PublishDirectoryEntry(const HttpRequest& req, BodySource& body,
                                                          const Route& route, const Principal& who) {
  const std::string& ns = route.p1;
  // The namespace is echoed in messages only once it is known to be printable UTF-8.
  if (!IsPrintableText(ns)) co_return ErrorReply(400, "bad_path", "not an authority namespace");
  if (auto ok = abe::ValidateNamespace(ns); !ok) co_return ErrorReply(400, "bad_path", ok.error().message());
  if (who.account.role != Role::kAuthorityAdmin) {
    LogDetached({NowMillis(), who.account.user_id, "directory.publish", "", ns, "denied:403"});
    co_return ErrorReply(403, "forbidden", "only approved authority admins publish directory entries");
  }
  HttpReply fail;
  auto bytes = co_await ReadBinaryBody(req, body, kMaxDirectoryEntryBody, fail);
  if (!bytes) co_return fail;
  auto bad = [](const std::string& message) {
    return ErrorReply(400, "bad_directory_entry", PrintableMessage(message));
  };
  auto parsed = abe::ParseDirectory(*bytes);
  if (!parsed)
    co_return bad("the body is not an authority directory file (CCMD): " + parsed.error().message());
  if (parsed->size() != 1) {
    co_return bad("the directory file holds " + std::to_string(parsed->size()) +
                  " entries; a PUT publishes exactly one");
  }
  const abe::DirectoryEntry& entry = parsed->front();
  const std::string& certified = entry.chain.back().authority_namespace;
  if (certified != ns) {
    co_return bad("the entry's certificate chain is for \"" + certified +
                  "\", not for the path's namespace \"" + ns + "\"");
  }
  const std::string& stated = entry.statement.public_key.authority_namespace;
  if (stated != ns) {
    co_return bad("the entry's key statement is for \"" + stated + "\", not for the path's namespace \"" +
                  ns + "\"");
  }
  const std::string owned_message =
      "namespace \"" + ns + "\" is published by another organisation's authority admins";
  auto owner_of = [&]() -> Result<std::optional<std::string>> {
    auto stored = store_.GetDirectoryEntry(ns);
    if (!stored) return std::unexpected(stored.error());
    const std::optional<DirectoryEntryRow>& row = *stored;
    if (!row.has_value()) return std::optional<std::string>();
    return std::optional<std::string>(row->organisation);
  };
  auto owner_r = owner_of();
  if (!owner_r) co_return ErrorReply(500, "internal", "internal error");
  const std::optional<std::string>& owner = *owner_r;
  if (owner.has_value() && *owner != who.account.organisation) {
    LogDetached({NowMillis(), who.account.user_id, "directory.publish", "", ns, "denied:403"});
    co_return ErrorReply(403, "namespace_owned", owned_message);
  }
  // Stored canonically re-encoded: GET re-parses every row.
  auto canonical = abe::EncodeDirectory(*parsed);
  if (!canonical) co_return bad(canonical.error().message());
  DirectoryEntryRow row;
  row.authority_namespace = ns;
  row.organisation = who.account.organisation;
  row.entry = std::move(*canonical);
  row.publisher_id = who.account.user_id;
  row.updated_at = NowMillis();
  auto inserted = std::make_shared<bool>(false);
  AuditedWriter::Request w;
  w.apply = [row, inserted](WriteTx& tx) -> Result<void> {
    auto r = tx.PutDirectoryEntry(row, kMaxDirectoryNamespaces);
    if (!r) return std::unexpected(r.error());
    *inserted = *r;
    return {};
  };
  w.audit.push_back({NowMillis(), who.account.user_id, "directory.publish", "", ns, "ok"});
  auto r = co_await Commit(std::move(w));
  if (!r) {
    if (r.error().code() != ErrorCode::kContextMismatch)
      co_return ErrorReply(500, "internal", "internal error");
    // Another organisation published the namespace first, or the directory is full.
    auto now_owner = owner_of();
    if (!now_owner) co_return ErrorReply(500, "internal", "internal error");
    const std::optional<std::string>& current = *now_owner;
    if (current.has_value() && *current != who.account.organisation)
      co_return ErrorReply(403, "namespace_owned", owned_message);
    co_return ErrorReply(409, "directory_full",
                         "the directory already holds the maximum of " +
                             std::to_string(kMaxDirectoryNamespaces) + " namespaces");
  }
  co_return JsonReply(*inserted ? 201 : 200, {{"namespace", ns},
                                              {"organisation", row.organisation},
                                              {"publisher", row.publisher_id},
                                              {"updated_at", row.updated_at},
                                              {"size", row.entry.size()}});
}

asio::awaitable<HttpReply> Service::ListRegistrations(const Route& route, const Principal& who) {
  std::optional<ApprovalState> state = ApprovalState::kPending;
  if (auto it = route.target.query.find("state"); it != route.target.query.end()) {
    state = ParseState(it->second);
    if (!state)
      co_return ErrorReply(400, "bad_request", "query 'state': expected pending, approved or rejected");
  }
  Role visible;
  std::string org;
  if (who.account.role == Role::kAuthorityAdmin) {
    visible = Role::kPractitioner;
    org = who.account.organisation;
  } else if (who.account.role == Role::kServerAdmin) {
    visible = Role::kAuthorityAdmin;
  } else {
    co_return ErrorReply(403, "forbidden", "only authority and server admins review registrations");
  }
  auto list = store_.ListAccounts(org, state);
  if (!list) co_return ErrorReply(500, "internal", "internal error");
  json out = json::array();
  for (const auto& a : *list)
    if (a.role == visible) out.push_back(AccountJson(a));
  co_return JsonReply(200, {{"registrations", out}});
}

asio::awaitable<HttpReply> Service::Decide(const HttpRequest& req, BodySource& body, const Route& route,
                                           const Principal& who, bool approve) {
  HttpReply fail;
  auto text = co_await ReadJsonBody(req, body, fail);
  if (!text) co_return fail;
  auto j = ParseObject(*text, fail);
  if (!j) co_return fail;
  auto reason = Fields{*j, &fail}.Str("reason", !approve, 1024);
  if (!reason && !fail.body.empty()) co_return fail;
  if (reason && !IsPrintableText(*reason))
    co_return ErrorReply(400, "bad_field", "field 'reason': control characters are not allowed");
  if (!IsValidUserId(route.p1)) co_return ErrorReply(400, "bad_path", "not a user id");
  auto target_r = store_.GetAccount(route.p1);
  if (!target_r) co_return ErrorReply(500, "internal", "internal error");
  const char* action = approve ? "approve" : "reject";
  const std::optional<Account>& target = *target_r;
  if (!target.has_value()) co_return ErrorReply(404, "not_found", "no such registration");
  const Account& t = *target;
  const bool allowed = (who.account.role == Role::kAuthorityAdmin && t.role == Role::kPractitioner &&
                        t.organisation == who.account.organisation) ||
                       (who.account.role == Role::kServerAdmin && t.role == Role::kAuthorityAdmin);
  if (!allowed) {
    LogDetached({NowMillis(), who.account.user_id, action, "", t.user_id, "denied:403"});
    co_return ErrorReply(
        403, "forbidden",
        "practitioners are decided by their organisation's authority admins, authority admins by "
        "server admins");
  }
  AuditedWriter::Request w;
  const auto state = approve ? ApprovalState::kApproved : ApprovalState::kRejected;
  w.apply = [uid = t.user_id, state, r = reason.value_or(""), by = who.account.user_id](WriteTx& tx) {
    return tx.DecideRegistration(uid, state, r, by, NowSeconds());
  };
  w.audit.push_back({NowMillis(), who.account.user_id, action, "", t.user_id, "ok"});
  auto r = co_await Commit(std::move(w));
  if (!r) {
    if (r.error().code() == ErrorCode::kContextMismatch)
      co_return ErrorReply(409, "conflict", "the registration is not pending");
    co_return ErrorReply(500, "internal", "internal error");
  }
  ForgetAccount(t.user_id);
  co_return JsonReply(200, {{"user_id", t.user_id}, {"state", StateName(state)}});
}

asio::awaitable<HttpReply> Service::StreamToBlob(
    const HttpRequest& req, BodySource& body, std::int64_t limit,
    std::function<Result<void>(WriteTx&, const Streamed&)> finish, std::vector<AuditEntry> audit,
    Streamed& out) {
  if (req.content_type.rfind("application/octet-stream", 0) != 0)
    co_return ErrorReply(415, "unsupported_media_type",
                         "uploads take Content-Type: application/octet-stream");
  if (!req.content_length && !req.has_body)
    co_return ErrorReply(411, "length_required", "uploads need Content-Length or chunked transfer encoding");
  if (req.content_length && static_cast<std::int64_t>(*req.content_length) > limit)
    co_return ErrorReply(413, "too_large",
                         "the body is over this route's limit of " + std::to_string(limit) + " bytes");
  auto hasher = envelope::internal::Sha256Hasher::Create();
  if (!hasher) co_return ErrorReply(500, "internal", "internal error");
  auto blob = std::make_shared<std::string>();  // created by the first chunk's transaction
  std::vector<std::uint8_t> chunk;
  chunk.reserve(64 * 1024);
  std::int64_t index = 0, total = 0;
  std::array<std::uint8_t, 64 * 1024> buf{};
  for (;;) {
    auto n = co_await body.Read(buf);
    if (!n)
      co_return ErrorReply(body.failure_status(), body.failure_status() == 408 ? "timeout" : "bad_request",
                           n.error().message());
    total += static_cast<std::int64_t>(*n);
    if (total > limit)
      co_return ErrorReply(413, "too_large",
                           "the body is over this route's limit of " + std::to_string(limit) + " bytes");
    if (*n > 0) {
      if (auto u = hasher->Update(std::span<const std::uint8_t>(buf.data(), *n)); !u)
        co_return ErrorReply(500, "internal", "internal error");
      chunk.insert(chunk.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(*n));
    }
    const bool last = *n == 0;
    if (chunk.size() >= kMaxChunkSize || last) {
      // Committed chunk by chunk so a 1 GiB body never sits in memory; until `finish` commits,
      // the blob is an orphan that no reader can reach.
      std::vector<std::uint8_t> part;
      const std::size_t take = std::min(chunk.size(), kMaxChunkSize);
      part.assign(chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(take));
      chunk.erase(chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(take));
      const bool final_write = last && chunk.empty();
      AuditedWriter::Request w;
      std::optional<Sha256Digest> digest;
      if (final_write) {
        auto d = hasher->Finish();
        if (!d) co_return ErrorReply(500, "internal", "internal error");
        digest = *d;
        out.size = total;
        out.sha256 = *d;
      }
      w.apply = [blob, index, part = std::move(part), final_write, finish,
                 &out](WriteTx& tx) -> Result<void> {
        if (blob->empty()) {
          auto id = tx.CreateBlob();
          if (!id) return std::unexpected(id.error());
          *blob = *id;
        }
        if (!part.empty() || index == 0) {
          if (auto r = tx.AppendBlobChunk(*blob, index, part); !r) return r;
        }
        if (!final_write) return {};
        out.blob_id = *blob;
        return finish(tx, out);
      };
      if (final_write) w.audit.swap(audit);
      auto r = co_await Commit(std::move(w));
      if (!r) {
        if (final_write) {
          if (r.error().code() == ErrorCode::kContextMismatch)
            co_return ErrorReply(409, "conflict", r.error().message());
          if (r.error().code() == ErrorCode::kInvalidArgument)
            co_return ErrorReply(404, "not_found", r.error().message());
        }
        co_return ErrorReply(500, "internal", "internal error");
      }
      ++index;
      if (final_write) break;
    }
  }
  HttpReply ok;
  ok.status = 201;
  co_return ok;
}

asio::awaitable<HttpReply> Service::PostKeyPackage(const HttpRequest& req, BodySource& body,
                                                   const Route& route, const Principal& who) {
  if (!IsValidUserId(route.p1)) co_return ErrorReply(400, "bad_path", "not a user id");
  auto recipient_r = CachedAccount(route.p1);
  if (!recipient_r) co_return ErrorReply(500, "internal", "internal error");
  const std::optional<Account>& recipient = *recipient_r;
  if (!recipient.has_value()) co_return ErrorReply(404, "not_found", "no such user");
  const Account& r = *recipient;
  const bool sender_ok = who.account.role == Role::kAuthorityAdmin ||
                         (who.account.role == Role::kPatient && r.role == Role::kPatient);
  if (!sender_ok) {
    LogDetached({NowMillis(), who.account.user_id, "key.post", "", r.user_id, "denied:403"});
    co_return ErrorReply(403, "forbidden",
                         "key packages come from authority admins, or from a patient to a patient account");
  }
  if (r.state != ApprovalState::kApproved || r.role == Role::kServerAdmin) {
    LogDetached({NowMillis(), who.account.user_id, "key.post", "", r.user_id, "denied:403"});
    co_return ErrorReply(403, "forbidden", "the recipient is not an approved account that can hold keys");
  }
  auto pid = NewPackageId();
  if (!pid) co_return ErrorReply(500, "internal", "internal error");
  KeyPackage pkg;
  pkg.package_id = *pid;
  pkg.recipient_id = r.user_id;
  pkg.sender_id = who.account.user_id;
  pkg.created_at = NowMillis();
  Streamed out;
  auto finish = [pkg](WriteTx& tx, const Streamed& s) mutable {
    pkg.size = s.size;
    pkg.blob_id = s.blob_id;
    return tx.InsertKeyPackage(pkg);
  };
  std::vector<AuditEntry> audit{
      {NowMillis(), who.account.user_id, "key.post", "", r.user_id + "/" + pkg.package_id, "ok"}};
  auto reply = co_await StreamToBlob(req, body, config_.max_key_package, finish, std::move(audit), out);
  if (reply.status != 201) co_return reply;
  co_return JsonReply(201, {{"package_id", pkg.package_id}, {"size", out.size}});
}

asio::awaitable<HttpReply> Service::ListKeyPackages(const Principal& who) {
  auto list = store_.ListKeyPackages(who.account.user_id);
  if (!list) co_return ErrorReply(500, "internal", "internal error");
  json out = json::array();
  for (const auto& k : *list)
    out.push_back({{"package_id", k.package_id},
                   {"sender_id", k.sender_id},
                   {"size", k.size},
                   {"created_at", k.created_at}});
  co_return JsonReply(200, {{"packages", out}});
}

asio::awaitable<HttpReply> Service::FetchKeyPackage(const Route& route, const Principal& who) {
  if (!IsValidPackageId(route.p1)) co_return ErrorReply(400, "bad_path", "not a key package id");
  auto pkg_r = store_.GetKeyPackage(route.p1);
  if (!pkg_r) co_return ErrorReply(500, "internal", "internal error");
  const std::optional<KeyPackage>& pkg = *pkg_r;
  if (!pkg.has_value() || pkg->recipient_id != who.account.user_id) {
    if (pkg.has_value())
      LogDetached({NowMillis(), who.account.user_id, "key.fetch", "", route.p1, "denied:404"});
    co_return ErrorReply(404, "not_found", "no such key package for this account");
  }
  AuditedWriter::Request w;
  w.audit.push_back({NowMillis(), who.account.user_id, "key.fetch", "", route.p1, "ok"});
  if (auto r = co_await Commit(std::move(w)); !r) co_return ErrorReply(500, "internal", "internal error");
  HttpReply reply;
  reply.content_type = "application/octet-stream";
  reply.blob_id = pkg->blob_id;
  reply.blob_size = pkg->size;
  co_return reply;
}

asio::awaitable<HttpReply> Service::CreatePatient(const HttpRequest& req, BodySource& body,
                                                  const Principal& who) {
  HttpReply fail;
  auto text = co_await ReadJsonBody(req, body, fail);
  if (!text) co_return fail;
  auto j = ParseObject(*text, fail);
  if (!j) co_return fail;
  auto code_hash = Fields{*j, &fail}.HexField<32>("enrolment_code_sha256");
  if (!code_hash) co_return fail;
  if (who.account.role != Role::kPractitioner) {
    LogDetached({NowMillis(), who.account.user_id, "patient.create", "", "", "denied:403"});
    co_return ErrorReply(403, "forbidden", "only approved practitioners register patients");
  }
  Patient p;
  auto id = NewPatientId();
  if (!id) co_return ErrorReply(500, "internal", "internal error");
  p.patient_id = *id;
  p.created_by = who.account.user_id;
  p.enrolment_code_hash = *code_hash;
  p.created_at = NowSeconds();
  AuditedWriter::Request w;
  w.apply = [p](WriteTx& tx) { return tx.InsertPatient(p); };
  w.audit.push_back({NowMillis(), who.account.user_id, "patient.create", p.patient_id, "", "ok"});
  if (auto r = co_await Commit(std::move(w)); !r) co_return ErrorReply(500, "internal", "internal error");
  co_return JsonReply(201, {{"patient_id", p.patient_id}});
}

asio::awaitable<HttpReply> Service::Enrol(const HttpRequest& req, BodySource& body, const Route& route,
                                          const Principal& who) {
  HttpReply fail;
  auto text = co_await ReadJsonBody(req, body, fail);
  if (!text) co_return fail;
  auto j = ParseObject(*text, fail);
  if (!j) co_return fail;
  auto code = Fields{*j, &fail}.Str("code", true, 256);
  if (!code) co_return fail;
  if (!IsValidPatientId(route.p1))
    co_return ErrorReply(400, "bad_path", "not a patient id (check character or format)");
  if (who.account.role != Role::kPatient) {
    LogDetached({NowMillis(), who.account.user_id, "patient.enrol", route.p1, "", "denied:403"});
    co_return ErrorReply(403, "forbidden", "only patient accounts enrol");
  }
  auto patient_r = store_.GetPatient(route.p1);
  if (!patient_r) co_return ErrorReply(500, "internal", "internal error");
  const std::optional<Patient>& patient = *patient_r;
  if (!patient.has_value()) co_return ErrorReply(404, "not_found", "no such patient");
  if (patient->enrolment_used)
    co_return ErrorReply(409, "conflict", "this patient's enrolment code was already used");
  auto hash = envelope::internal::Sha256Of(
      std::span(reinterpret_cast<const std::uint8_t*>(code->data()), code->size()));
  if (!hash) co_return ErrorReply(500, "internal", "internal error");
  auto bound = std::make_shared<bool>(false);
  AuditedWriter::Request w;
  w.apply = [pid = route.p1, h = *hash, uid = who.account.user_id, bound](WriteTx& tx) -> Result<void> {
    auto ok = tx.EnrolPatient(pid, h, uid);
    if (!ok) return std::unexpected(ok.error());
    *bound = *ok;
    return {};
  };
  if (auto r = co_await Commit(std::move(w)); !r) co_return ErrorReply(500, "internal", "internal error");
  LogDetached(
      {NowMillis(), who.account.user_id, "patient.enrol", route.p1, "", *bound ? "ok" : "denied:403"});
  if (!*bound) co_return ErrorReply(403, "forbidden", "the enrolment code does not match (or was just used)");
  co_return JsonReply(200, {{"patient_id", route.p1}, {"owner", who.account.user_id}});
}

Result<Patient> Service::AuthorisePatient(const std::string& patient_id, const Principal& who, Access access,
                                          const char* action, const std::string& target, HttpReply& fail) {
  if (!IsValidPatientId(patient_id)) {
    fail = ErrorReply(400, "bad_path", "not a patient id (check character or format)");
    return Fail(ErrorCode::kInvalidArgument, "bad id");
  }
  auto patient_r = store_.GetPatient(patient_id);
  if (!patient_r) {
    fail = ErrorReply(500, "internal", "internal error");
    return std::unexpected(patient_r.error());
  }
  const std::optional<Patient>& patient = *patient_r;
  if (!patient.has_value()) {
    LogDetached({NowMillis(), who.account.user_id, action, patient_id, target, "denied:404"});
    fail = ErrorReply(404, "not_found", "no such patient");
    return Fail(ErrorCode::kInvalidArgument, "unknown");
  }
  const bool owner = who.account.role == Role::kPatient && patient->owner_user_id == who.account.user_id;
  const bool practitioner = who.account.role == Role::kPractitioner;
  const bool allowed = access == Access::kOwner ? owner : (owner || practitioner);
  if (!allowed) {
    LogDetached({NowMillis(), who.account.user_id, action, patient_id, target, "denied:403"});
    fail = ErrorReply(403, "forbidden",
                      access == Access::kOwner
                          ? "only the patient who owns this record may do that"
                          : "only the owner patient and approved practitioners may do that");
    return Fail(ErrorCode::kInvalidArgument, "forbidden");
  }
  return *patient;
}

asio::awaitable<HttpReply> Service::ListRecords(const Route& route, const Principal& who) {
  HttpReply fail;
  auto patient = AuthorisePatient(route.p1, who, Access::kRead, "record.list", "", fail);
  if (!patient) co_return fail;
  auto list = store_.ListRecords(route.p1);
  if (!list) co_return ErrorReply(500, "internal", "internal error");
  AuditedWriter::Request w;
  w.audit.push_back({NowMillis(), who.account.user_id, "record.list", route.p1, "", "ok"});
  if (auto r = co_await Commit(std::move(w)); !r) co_return ErrorReply(500, "internal", "internal error");
  json out = json::array();
  for (const auto& m : *list) out.push_back(RecordJson(m));
  co_return JsonReply(200, {{"patient_id", route.p1}, {"records", out}});
}

asio::awaitable<HttpReply> Service::PutRecord(const HttpRequest& req, BodySource& body, const Route& route,
                                              const Principal& who) {
  if (!IsValidRecordId(route.p2))
    co_return ErrorReply(400, "bad_path", "record ids are 1..64 of [A-Za-z0-9._-]");
  const auto version = ParseCount(route.p3);
  if (!version || *version < 1)
    co_return ErrorReply(400, "bad_path", "the version must be a positive integer");
  if (req.section.empty() || req.section.size() > 64 || !IsPrintableText(req.section))
    co_return ErrorReply(400, "bad_field",
                         "header 'X-CipherChart-Section': 1..64 bytes of printable UTF-8 required");
  if (req.policy.size() > 4096 || !IsPrintableText(req.policy))
    co_return ErrorReply(400, "bad_field",
                         "header 'X-CipherChart-Policy': at most 4096 bytes of printable UTF-8");
  const std::string target = route.p2 + "@" + route.p3;
  HttpReply fail;
  auto patient = AuthorisePatient(route.p1, who, Access::kAppend, "record.append", target, fail);
  if (!patient) co_return fail;
  RecordMeta meta;
  meta.patient_id = route.p1;
  meta.record_id = route.p2;
  meta.version = *version;
  meta.section = req.section;
  meta.policy = req.policy;
  meta.author_id = who.account.user_id;
  meta.created_at = NowMillis();
  auto finish = [meta](WriteTx& tx, const Streamed& s) mutable {
    meta.size = s.size;
    meta.sha256 = s.sha256;
    meta.blob_id = s.blob_id;
    return tx.InsertRecordVersion(meta);
  };
  std::vector<AuditEntry> audit{{NowMillis(), who.account.user_id, "record.append", route.p1, target, "ok"}};
  Streamed out;
  auto reply = co_await StreamToBlob(req, body, config_.max_upload, finish, std::move(audit), out);
  if (reply.status != 201) co_return reply;
  co_return JsonReply(
      201,
      {{"record_id", route.p2}, {"version", *version}, {"size", out.size}, {"sha256", ToHex(out.sha256)}});
}

asio::awaitable<HttpReply> Service::FetchRecord(const Route& route, const Principal& who) {
  if (!IsValidRecordId(route.p2))
    co_return ErrorReply(400, "bad_path", "record ids are 1..64 of [A-Za-z0-9._-]");
  std::optional<std::int64_t> version;
  if (!route.p3.empty()) {
    version = ParseCount(route.p3);
    if (!version || *version < 1)
      co_return ErrorReply(400, "bad_path", "the version must be a positive integer");
  }
  const std::string target = route.p2 + "@" + (route.p3.empty() ? std::string("latest") : route.p3);
  HttpReply fail;
  auto patient = AuthorisePatient(route.p1, who, Access::kRead, "record.fetch", target, fail);
  if (!patient) co_return fail;
  auto meta_r = store_.GetRecord(route.p1, route.p2, version);
  if (!meta_r) co_return ErrorReply(500, "internal", "internal error");
  const std::optional<RecordMeta>& meta = *meta_r;
  // A deleted record is gone in every version, not only the latest: the owner deletes what
  // nobody should read again (the sealed personal authority after enrolment).
  bool deleted = meta.has_value() && meta->tombstone;
  if (meta.has_value() && !deleted && version.has_value()) {
    auto latest_r = store_.GetRecord(route.p1, route.p2, std::nullopt);
    if (!latest_r) co_return ErrorReply(500, "internal", "internal error");
    const std::optional<RecordMeta>& latest = *latest_r;
    deleted = latest.has_value() && latest->tombstone;
  }
  if (!meta.has_value() || deleted) {
    LogDetached({NowMillis(), who.account.user_id, "record.fetch", route.p1, target, "denied:404"});
    co_return ErrorReply(
        404, "not_found",
        meta.has_value() ? "the record was deleted by its owner" : "no such record or version");
  }
  // Answered only once the audit entry is durable (docs/api.md).
  AuditedWriter::Request w;
  w.audit.push_back({NowMillis(), who.account.user_id, "record.fetch", route.p1,
                     route.p2 + "@" + std::to_string(meta->version), "ok"});
  if (auto r = co_await Commit(std::move(w)); !r) co_return ErrorReply(500, "internal", "internal error");
  HttpReply reply;
  reply.content_type = "application/octet-stream";
  reply.blob_id = meta->blob_id;
  reply.blob_size = meta->size;
  reply.headers.emplace_back("X-CipherChart-Version", std::to_string(meta->version));
  reply.headers.emplace_back("X-CipherChart-Sha256", ToHex(meta->sha256));
  reply.headers.emplace_back("X-CipherChart-Section", meta->section);
  reply.headers.emplace_back("X-CipherChart-Author", meta->author_id);
  co_return reply;
}

asio::awaitable<HttpReply> Service::DeleteRecord(const Route& route, const Principal& who) {
  if (!IsValidRecordId(route.p2))
    co_return ErrorReply(400, "bad_path", "record ids are 1..64 of [A-Za-z0-9._-]");
  HttpReply fail;
  auto patient = AuthorisePatient(route.p1, who, Access::kOwner, "record.delete", route.p2, fail);
  if (!patient) co_return fail;
  auto latest_r = store_.GetRecord(route.p1, route.p2, std::nullopt);
  if (!latest_r) co_return ErrorReply(500, "internal", "internal error");
  const std::optional<RecordMeta>& latest = *latest_r;
  if (!latest.has_value() || latest->tombstone)
    co_return ErrorReply(404, "not_found", "no such record (or already deleted)");
  RecordMeta t;
  t.patient_id = route.p1;
  t.record_id = route.p2;
  t.version = latest->version + 1;
  t.section = latest->section;
  t.author_id = who.account.user_id;
  t.created_at = NowMillis();
  t.tombstone = true;
  AuditedWriter::Request w;
  w.apply = [t](WriteTx& tx) { return tx.InsertRecordVersion(t); };
  w.audit.push_back({NowMillis(), who.account.user_id, "record.delete", route.p1,
                     route.p2 + "@" + std::to_string(t.version), "ok"});
  auto r = co_await Commit(std::move(w));
  if (!r) {
    if (r.error().code() == ErrorCode::kContextMismatch)
      co_return ErrorReply(409, "conflict", "a new version was added meanwhile; retry");
    co_return ErrorReply(500, "internal", "internal error");
  }
  co_return JsonReply(200, {{"record_id", route.p2}, {"version", t.version}, {"tombstone", true}});
}

asio::awaitable<HttpReply> Service::PatientAudit(const Route& route, const Principal& who) {
  HttpReply fail;
  auto patient = AuthorisePatient(route.p1, who, Access::kOwner, "audit.read", "", fail);
  if (!patient) co_return fail;
  auto rows = store_.ReadAuditForPatient(route.p1);
  if (!rows) co_return ErrorReply(500, "internal", "internal error");
  AuditedWriter::Request w;
  w.audit.push_back({NowMillis(), who.account.user_id, "audit.read", route.p1, "", "ok"});
  if (auto r = co_await Commit(std::move(w)); !r) co_return ErrorReply(500, "internal", "internal error");
  json out = json::array();
  for (const auto& row : *rows) {
    if (row.seq >= writer_.size()) continue;  // appended by another server after our tree
    out.push_back({{"index", row.seq}, {"entry", std::string(row.entry.begin(), row.entry.end())}});
  }
  co_return JsonReply(200, {{"patient_id", route.p1}, {"entries", out}});
}

HttpReply Service::AuditHead() {
  auto head = writer_.Head();
  if (!head) return ErrorReply(500, "internal", "internal error");
  return JsonReply(200, {{"tree_size", head->tree_size},
                         {"timestamp", head->timestamp_ms},
                         {"root", ToHex(head->root)},
                         {"signature", ToHex(head->signature)},
                         {"key", ToHex(writer_.public_key())}});
}

HttpReply Service::Inclusion(const Route& route) {
  const auto& q = route.target.query;
  auto get = [&](const char* k) -> std::optional<std::int64_t> {
    auto it = q.find(k);
    return it == q.end() ? std::nullopt : ParseCount(it->second);
  };
  const auto index = get("index"), size = get("tree_size");
  if (!index || !size)
    return ErrorReply(400, "bad_request", "query needs index=I&tree_size=N (non-negative integers)");
  if (*size > writer_.size() || *index >= *size)
    return ErrorReply(400, "bad_request", "need index < tree_size <= the current log size");
  auto proof = writer_.InclusionProof(static_cast<std::uint64_t>(*index), static_cast<std::uint64_t>(*size));
  auto leaf = writer_.LeafAt(static_cast<std::uint64_t>(*index));
  if (!proof || !leaf) return ErrorReply(400, "bad_request", "no proof for these sizes");
  json path = json::array();
  for (const auto& h : *proof) path.push_back(ToHex(h));
  return JsonReply(200,
                   {{"index", *index}, {"tree_size", *size}, {"leaf_hash", ToHex(*leaf)}, {"path", path}});
}

HttpReply Service::Consistency(const Route& route) {
  const auto& q = route.target.query;
  auto get = [&](const char* k) -> std::optional<std::int64_t> {
    auto it = q.find(k);
    return it == q.end() ? std::nullopt : ParseCount(it->second);
  };
  const auto first = get("first"), second = get("second");
  if (!first || !second)
    return ErrorReply(400, "bad_request", "query needs first=M&second=N (non-negative integers)");
  if (*second > writer_.size() || *first > *second)
    return ErrorReply(400, "bad_request", "need first <= second <= the current log size");
  auto proof =
      writer_.ConsistencyProof(static_cast<std::uint64_t>(*first), static_cast<std::uint64_t>(*second));
  if (!proof) return ErrorReply(400, "bad_request", "no proof for these sizes");
  json out = json::array();
  for (const auto& h : *proof) out.push_back(ToHex(h));
  return JsonReply(200, {{"first", *first}, {"second", *second}, {"proof", out}});
}

HttpReply Service::AuditEntries(const Route& route, const Principal& who) {
  if (who.account.role != Role::kServerAdmin)
    return ErrorReply(403, "forbidden", "only server admins read arbitrary audit ranges");
  const auto& q = route.target.query;
  auto get = [&](const char* k) -> std::optional<std::int64_t> {
    auto it = q.find(k);
    return it == q.end() ? std::nullopt : ParseCount(it->second);
  };
  const auto start = get("start"), end = get("end");
  if (!start || !end || *start > *end || *end - *start > 1000)
    return ErrorReply(400, "bad_request", "query needs start=A&end=B with A <= B <= A + 1000");
  // Clamped to the log: a range starting past its end is empty, not an error.
  const std::int64_t to = std::max(*start, std::min<std::int64_t>(*end, writer_.size()));
  auto rows = store_.ReadAudit(*start, to);
  if (!rows) return ErrorReply(500, "internal", "internal error");
  json out = json::array();
  for (const auto& row : *rows)
    out.push_back({{"index", row.seq}, {"entry", std::string(row.entry.begin(), row.entry.end())}});
  return JsonReply(200, {{"entries", out}});
}

}  // namespace cipherchart::server
