// The Service core: construction, dispatch through the route table (routes.cc),
// authentication with its caches, the writer hand-off, and the operational routes. The
// handlers live by resource: accounts.cc, auth.cc, directory.cc, keys.cc, patients.cc,
// records.cc, audit.cc.
#include "src/server/service.h"

#include <algorithm>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "cipherchart/common/bytes.h"
#include "cipherchart/common/secret.h"
#include "cipherchart/envelope/hash.h"
#include "cipherchart/protocol/api.h"
#include "cipherchart/version.h"
#include "src/server/handler.h"
#include "src/server/ids.h"

namespace cipherchart::server {
namespace {

namespace route = protocol::route;

// True if `segments` has the shape of `pattern` but for its last segment (any audit route's
// parent, against route::kAuditHead).
bool SameParent(std::string_view pattern, std::span<const std::string_view> segments) {
  const auto want = protocol::Segments(pattern);
  return !want.empty() && want.size() == segments.size() &&
         std::equal(want.begin(), want.end() - 1, segments.begin());
}

}  // namespace

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

void Service::ForgetSession(const std::array<std::uint8_t, 32>& token_hash) {
  std::lock_guard lock(cache_mu_);
  sessions_.erase(std::string(AsText(token_hash)));
}

ApiResult<Service::Principal> Service::Authenticate(const HttpRequest& req) {
  constexpr std::string_view kBearer = "Bearer ";
  if (req.authorization.empty())
    return Reject(401, "unauthenticated", "this route needs 'Authorization: Bearer <token>'");
  if (!req.authorization.starts_with(kBearer))
    return Reject(401, "bad_token", "the Authorization header must be 'Bearer <token>'");
  auto token = Base64UrlDecode(std::string_view(req.authorization).substr(kBearer.size()));
  if (!token || token->size() != 32) return Reject(401, "bad_token", "the token is not a session token");
  auto hash = envelope::Sha256Of(*token);
  SecureWipe(token->data(), token->size());
  if (!hash) return Reject(hash.error());
  const std::string key(AsText(*hash));
  const auto now = NowMillis();
  std::optional<Session> session;
  {
    std::lock_guard lock(cache_mu_);
    if (auto it = sessions_.find(key); it != sessions_.end() && it->second.until_ms > now)
      session = it->second.session;
  }
  if (!session) {
    auto s = store_.GetSession(*hash);
    if (!s) return Reject(s.error());
    session = *s;
    if (session) {
      std::lock_guard lock(cache_mu_);
      if (sessions_.size() > 100'000) sessions_.clear();
      sessions_[key] = {*session, now + config_.account_cache_ms};
    }
  }
  // The lookup is keyed by the hash; the stored hash is still compared in constant time.
  if (!session || !ConstantTimeEqual(session->token_hash, *hash))
    return Reject(401, "bad_token", "the token is not a valid session token");
  if (session->expires_at <= now / 1000)
    return Reject(401, "expired_token", "the session expired; log in again");
  auto account = CachedAccount(session->user_id);
  if (!account) return Reject(account.error());
  std::optional<Account>& found = *account;
  if (!found.has_value()) return Reject(401, "bad_token", "the token's account no longer exists");
  Principal p;
  p.account = std::move(*found);
  p.token_hash = *hash;
  return p;
}

asio::awaitable<HttpReply> Service::Handle(const HttpRequest& req, BodySource& body) {
  std::string label(route::kUnmatched);
  auto target = ParseTarget(req.target);
  HttpReply reply;
  if (!target) {
    reply = ErrorReply(target.error());
  } else if (draining_) {
    reply = ErrorReply(503, "shutting_down", "the server is shutting down; retry on another server");
  } else {
    try {
      reply = co_await Dispatch(req, body, *target, label);
    } catch (const std::exception&) {
      // Handlers report errors as values; an exception here is a bug. No detail reaches the
      // client (it could carry request data).
      reply = ErrorReply(InternalError());
    }
  }
  reply.route = std::move(label);
  co_return reply;
}

// The checks run in a fixed order: routes anyone may call; then the session; then the routes
// any session may call (logout, the caller's own account); then approval; then the rest. A
// request that matches no route still needs a session and approval before it learns so.
asio::awaitable<HttpReply> Service::Dispatch(const HttpRequest& req, BodySource& body, const Target& target,
                                             std::string& label) {
  const std::vector<std::string_view> segments(target.segments.begin(), target.segments.end());
  const auto routes = Routes();
  const auto found =
      std::ranges::find_if(routes, [&](const Route& r) { return protocol::Matches(r.pattern, segments); });
  const Route* matched = found == routes.end() ? nullptr : &*found;
  Call call{req, body, {}, segments, target.query, nullptr};

  if (matched != nullptr && matched->guard == Guard::kNone) co_return co_await Invoke(*matched, call, label);
  if (matched == nullptr && (segments.empty() || segments[0] != protocol::kApiPrefix.substr(1))) {
    co_return ErrorReply(404, "not_found",
                         "no such route (the API is under " + std::string(protocol::kApiPrefix) + ")");
  }

  auto who = Authenticate(req);
  if (!who) co_return ErrorReply(who.error());
  call.who = &*who;
  if (matched != nullptr && matched->guard == Guard::kSession)
    co_return co_await Invoke(*matched, call, label);
  if (!who->approved()) {
    label = route::kNotApproved;
    co_return ErrorReply(403, "not_approved",
                         "the account is " + std::string(StateName(who->account.state)) + "; only " +
                             std::string(route::kAccountMe) + " is available until an admin approves it");
  }
  if (matched != nullptr) co_return co_await Invoke(*matched, call, label);
  co_return ErrorReply(404, "not_found",
                       SameParent(route::kAuditHead, segments) ? "no such audit route" : "no such route");
}

asio::awaitable<HttpReply> Service::Invoke(const Route& matched, const Call& call, std::string& label) {
  label = matched.pattern;
  Call routed = call;
  routed.pattern = matched.pattern;
  std::string allowed;
  for (const Route& r : Routes()) {
    if (r.pattern != matched.pattern) continue;
    if (r.method == call.req.method) co_return co_await (this->*r.handler)(routed);
    if (!allowed.empty()) allowed += ", ";
    allowed += r.method;
  }
  HttpReply reply = ErrorReply(405, "method_not_allowed", "allowed: " + allowed);
  reply.headers.emplace_back("Allow", allowed);
  co_return reply;
}

asio::awaitable<HttpReply> Service::Health(const Call&) {
  co_return JsonReply(200,
                      {{"status", "ok"}, {"backend", store_.BackendName()}, {"audit_size", writer_.size()}});
}

asio::awaitable<HttpReply> Service::MetricsText(const Call&) {
  HttpReply r;
  r.content_type = "text/plain; version=0.0.4";
  r.body = metrics_.Render(writer_.size(), writer_.batches());
  co_return r;
}

asio::awaitable<HttpReply> Service::ServerInfo(const Call&) {
  co_return JsonReply(200, {{protocol::field::kAuditKey, ToHex(writer_.public_key())},
                            {protocol::field::kVersion, kVersion},
                            {"backend", store_.BackendName()}});
}

}  // namespace cipherchart::server
