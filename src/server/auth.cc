// Challenge-response login (docs/api.md, "Login"), logout, and password hashing. The client
// signs protocol::LoginMessage with its identity key; an account registered with a password
// also sends the password, checked against its Argon2id hash. Session tokens are 32 random
// bytes, stored only as their SHA-256.
#include <argon2.h>

#include "cipherchart/common/random.h"
#include "cipherchart/common/secret.h"
#include "cipherchart/envelope/hash.h"
#include "cipherchart/envelope/signature.h"
#include "src/server/handler.h"
#include "src/server/ids.h"

namespace cipherchart::server {
namespace {

namespace field = protocol::field;

// OWASP's minimum Argon2id setting (19 MiB, 2 passes, one lane): logins are rare next to reads.
constexpr std::uint32_t kArgonPasses = 2;
constexpr std::uint32_t kArgonMemoryKiB = 19 * 1024;
constexpr std::uint32_t kArgonLanes = 1;
constexpr std::size_t kArgonSaltBytes = 16;
constexpr std::size_t kArgonHashBytes = 32;

}  // namespace

Result<std::string> HashPassword(std::string_view password) {
  std::array<std::uint8_t, kArgonSaltBytes> salt{};
  if (auto ok = FillRandom(salt); !ok) return std::unexpected(ok.error());
  char encoded[256];
  const int rc =
      argon2id_hash_encoded(kArgonPasses, kArgonMemoryKiB, kArgonLanes, password.data(), password.size(),
                            salt.data(), salt.size(), kArgonHashBytes, encoded, sizeof encoded);
  if (rc != ARGON2_OK)
    return Fail(ErrorCode::kInternal, std::string("argon2id: ") + argon2_error_message(rc));
  return std::string(encoded);
}

bool PasswordMatches(const std::string& encoded, std::string_view password) {
  return argon2id_verify(encoded.c_str(), password.data(), password.size()) == ARGON2_OK;
}

asio::awaitable<HttpReply> Service::NewChallenge(const Call& call) {
  auto j = co_await ReadJsonObject(call.req, call.body, config_.max_json_body);
  if (!j) co_return ErrorReply(j.error());
  auto uid = Fields(*j).Required(field::kUserId, 64);
  if (!uid) co_return ErrorReply(uid.error());
  if (!IsValidUserId(*uid)) co_return ErrorReply(400, "bad_field", "field 'user_id': not a user id");
  Challenge c;
  if (auto ok = FillRandom(c.nonce); !ok) co_return ErrorReply(ok.error());
  c.user_id = *uid;
  c.expires_at = NowSeconds() + config_.challenge_ttl_s;
  AuditedWriter::Request w;
  w.apply = [c](WriteTx& tx) { return tx.InsertChallenge(c); };
  if (auto r = co_await Commit(std::move(w)); !r) co_return ErrorReply(r.error());
  co_return JsonReply(201, {{field::kChallenge, ToHex(c.nonce)}, {"expires_at", c.expires_at}});
}

asio::awaitable<HttpReply> Service::Login(const Call& call) {
  auto j = co_await ReadJsonObject(call.req, call.body, config_.max_json_body);
  if (!j) co_return ErrorReply(j.error());
  const Fields f(*j);
  auto uid = f.Required(field::kUserId, 64);
  if (!uid) co_return ErrorReply(uid.error());
  if (!IsValidUserId(*uid)) co_return ErrorReply(400, "bad_field", "field 'user_id': not a user id");
  auto nonce = f.Hex<32>(field::kChallenge);
  if (!nonce) co_return ErrorReply(nonce.error());
  auto sig = f.Hex<64>(field::kSignature);
  if (!sig) co_return ErrorReply(sig.error());
  auto password_r = f.Str("password", false, 1024);
  if (!password_r) co_return ErrorReply(password_r.error());
  const std::optional<std::string>& password = *password_r;
  auto denied = [&](std::string_view code, std::string_view message) {
    LogDetached({NowMillis(), *uid, "login", "", "", "denied:401"});
    return ErrorReply(401, code, message);
  };

  // Consume the challenge first, durably: a replay of this login finds it gone.
  auto consumed = std::make_shared<std::optional<Challenge>>();
  AuditedWriter::Request w;
  w.apply = [consumed, n = *nonce](WriteTx& tx) -> Result<void> {
    auto c = tx.ConsumeChallenge(n);
    if (!c) return std::unexpected(c.error());
    *consumed = *c;
    return {};
  };
  if (auto r = co_await Commit(std::move(w)); !r) co_return ErrorReply(r.error());
  const auto now = NowSeconds();
  const std::optional<Challenge>& challenge = *consumed;
  if (!challenge.has_value() || challenge->user_id != *uid)
    co_return denied("bad_challenge", "the challenge is unknown, already used, or for another user");
  if (challenge->expires_at < now)
    co_return denied("bad_challenge", "the challenge expired; ask for a new one");
  auto account_r = store_.GetAccount(*uid);
  if (!account_r) co_return ErrorReply(account_r.error());
  const std::optional<Account>& account = *account_r;
  const std::vector<std::uint8_t> message = protocol::LoginMessage(*nonce, *uid);
  const bool sig_ok =
      account.has_value() && envelope::Ed25519Verify(account->identity_key, message, *sig).has_value();
  if (!sig_ok)
    co_return denied("bad_signature", "the signature does not verify under the account's identity key");
  if (!account->password_hash.empty() &&
      (!password.has_value() || !PasswordMatches(account->password_hash, *password)))
    co_return denied("bad_signature", "this account also needs its password, and it did not match");

  std::array<std::uint8_t, 32> token{};
  if (auto ok = FillRandom(token); !ok) co_return ErrorReply(ok.error());
  Session s;
  auto hash = envelope::Sha256Of(token);
  if (!hash) co_return ErrorReply(hash.error());
  s.token_hash = *hash;
  s.user_id = *uid;
  s.expires_at = now + config_.session_ttl_s;
  AuditedWriter::Request ws;
  ws.apply = [s](WriteTx& tx) { return tx.InsertSession(s); };
  ws.audit.push_back({NowMillis(), *uid, "login", "", "", "ok"});
  if (auto r = co_await Commit(std::move(ws)); !r) co_return ErrorReply(r.error());
  std::string token_text = Base64UrlEncode(token);
  SecureWipe(token.data(), token.size());
  HttpReply reply = JsonReply(201, {{field::kToken, token_text},
                                    {"expires_at", s.expires_at},
                                    {field::kRole, RoleName(account->role)},
                                    {field::kState, StateName(account->state)}});
  SecureWipe(token_text.data(), token_text.size());
  co_return reply;
}

asio::awaitable<HttpReply> Service::Logout(const Call& call) {
  const Principal& who = call.caller();
  AuditedWriter::Request w;
  w.apply = [h = who.token_hash](WriteTx& tx) { return tx.DeleteSession(h); };
  w.audit.push_back({NowMillis(), who.account.user_id, "logout", "", "", "ok"});
  if (auto r = co_await Commit(std::move(w)); !r) co_return ErrorReply(r.error());
  ForgetSession(who.token_hash);
  co_return JsonReply(200, {{"status", "logged out"}});
}

}  // namespace cipherchart::server
