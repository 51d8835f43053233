// Accounts, login challenges and sessions (docs/storage.md: `accounts`, `challenges`,
// `sessions`).
#include "src/server/store/sql_internal.h"

namespace cipherchart::server::internal {
namespace {

constexpr Sql kInsertAccount = {
    "insert account",
    "INSERT INTO accounts (user_id, role, identity_key, delivery_key, organisation, details_json, state, "
    "decision_reason, decided_by, created_at, decided_at, password_hash) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT DO NOTHING"};
constexpr Sql kAccountExists = {"account exists", "SELECT 1 FROM accounts WHERE user_id = $1"};
constexpr Sql kDecideRegistration = {
    "decide registration",
    "UPDATE accounts SET state = $2, decision_reason = $3, decided_by = $4, decided_at = $5 "
    "WHERE user_id = $1 AND state = 0"};
constexpr Sql kGetAccount = {
    "get account",
    "SELECT user_id, role, identity_key, delivery_key, organisation, details_json, state, decision_reason, "
    "decided_by, created_at, decided_at, password_hash FROM accounts WHERE user_id = $1"};
// Four list statements rather than one with optional filters, so each uses its index.
constexpr Sql kListAccounts = {
    "list accounts",
    "SELECT user_id, role, identity_key, delivery_key, organisation, details_json, state, decision_reason, "
    "decided_by, created_at, decided_at, password_hash FROM accounts ORDER BY created_at, user_id"};
constexpr Sql kListAccountsByOrganisation = {
    "list accounts by organisation",
    "SELECT user_id, role, identity_key, delivery_key, organisation, details_json, state, decision_reason, "
    "decided_by, created_at, decided_at, password_hash FROM accounts WHERE organisation = $1 "
    "ORDER BY created_at, user_id"};
constexpr Sql kListAccountsByState = {
    "list accounts by state",
    "SELECT user_id, role, identity_key, delivery_key, organisation, details_json, state, decision_reason, "
    "decided_by, created_at, decided_at, password_hash FROM accounts WHERE state = $1 "
    "ORDER BY created_at, user_id"};
constexpr Sql kListAccountsByOrganisationAndState = {
    "list accounts by organisation and state",
    "SELECT user_id, role, identity_key, delivery_key, organisation, details_json, state, decision_reason, "
    "decided_by, created_at, decided_at, password_hash FROM accounts WHERE organisation = $1 AND state = $2 "
    "ORDER BY created_at, user_id"};

constexpr Sql kInsertChallenge = {
    "insert challenge",
    "INSERT INTO challenges (nonce, user_id, expires_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"};
// One statement, so two transactions can never both get the row.
constexpr Sql kConsumeChallenge = {"consume challenge",
                                   "DELETE FROM challenges WHERE nonce = $1 RETURNING user_id, expires_at"};
constexpr Sql kInsertSession = {
    "insert session",
    "INSERT INTO sessions (token_hash, user_id, expires_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"};
constexpr Sql kDeleteSession = {"delete session", "DELETE FROM sessions WHERE token_hash = $1"};
constexpr Sql kDeleteExpiredChallenges = {"delete expired challenges",
                                          "DELETE FROM challenges WHERE expires_at <= $1"};
constexpr Sql kDeleteExpiredSessions = {"delete expired sessions",
                                        "DELETE FROM sessions WHERE expires_at <= $1"};
constexpr Sql kGetSession = {"get session", "SELECT user_id, expires_at FROM sessions WHERE token_hash = $1"};

Result<Account> DecodeAccount(const Row& row) {
  Account a;
  a.user_id = row.Text(0);
  const std::int64_t role = row.Int(1);
  if (role < 0 || role > static_cast<int>(Role::kServerAdmin)) {
    return Fail(ErrorCode::kInternal, "stored account role " + std::to_string(role) + " is unknown");
  }
  a.role = static_cast<Role>(role);
  if (auto ok = ReadFixed(row, 2, a.identity_key, "identity key"); !ok) return std::unexpected(ok.error());
  if (auto ok = ReadFixed(row, 3, a.delivery_key, "delivery key"); !ok) return std::unexpected(ok.error());
  a.organisation = row.Text(4);
  a.details_json = row.Text(5);
  const std::int64_t state = row.Int(6);
  if (state < 0 || state > static_cast<int>(ApprovalState::kRejected)) {
    return Fail(ErrorCode::kInternal, "stored approval state " + std::to_string(state) + " is unknown");
  }
  a.state = static_cast<ApprovalState>(state);
  a.decision_reason = row.Text(7);
  a.decided_by = row.Text(8);
  a.created_at = row.Int(9);
  a.decided_at = row.Int(10);
  a.password_hash = row.Text(11);
  return a;
}

Result<void> ValidateAccount(const Account& a) {
  if (auto ok = CheckNonEmptyText("user_id", a.user_id); !ok) return ok;
  const int role = static_cast<int>(a.role);
  if (role < 0 || role > static_cast<int>(Role::kServerAdmin)) {
    return std::unexpected(Invalid("account role " + std::to_string(role) + " is unknown"));
  }
  const int state = static_cast<int>(a.state);
  if (state < 0 || state > static_cast<int>(ApprovalState::kRejected)) {
    return std::unexpected(Invalid("approval state " + std::to_string(state) + " is unknown"));
  }
  for (const auto& [field, value] :
       {std::pair<std::string_view, std::string_view>{"organisation", a.organisation},
        {"details_json", a.details_json},
        {"decision_reason", a.decision_reason},
        {"decided_by", a.decided_by},
        {"password_hash", a.password_hash}}) {
    if (auto ok = CheckText(field, value); !ok) return ok;
  }
  return {};
}

}  // namespace

Result<void> SqlWriteTx::InsertAccount(const Account& a) {
  if (auto ok = CheckOpen(); !ok) return ok;
  if (auto ok = ValidateAccount(a); !ok) return ok;
  auto n = conn().Run(
      kInsertAccount,
      {Param::Text(a.user_id), Param::Int(static_cast<int>(a.role)), Param::Bytes(a.identity_key),
       Param::Bytes(a.delivery_key), Param::Text(a.organisation), Param::Text(a.details_json),
       Param::Int(static_cast<int>(a.state)), Param::Text(a.decision_reason), Param::Text(a.decided_by),
       Param::Int(a.created_at), Param::Int(a.decided_at), Param::Text(a.password_hash)},
      nullptr);
  if (!n) return std::unexpected(n.error());
  if (*n == 1) return {};
  auto taken = Exists(conn(), kAccountExists, {Param::Text(a.user_id)});
  if (!taken) return std::unexpected(taken.error());
  return std::unexpected(*taken ? Conflict("an account with this user_id exists")
                                : Conflict("the identity key is registered to another account"));
}

Result<void> SqlWriteTx::DecideRegistration(const std::string& user_id, ApprovalState state,
                                            const std::string& reason, const std::string& decided_by,
                                            std::int64_t decided_at) {
  if (auto ok = CheckOpen(); !ok) return ok;
  if (state != ApprovalState::kApproved && state != ApprovalState::kRejected) {
    return std::unexpected(Invalid("a registration is decided as approved or rejected"));
  }
  if (auto ok = CheckText("user_id", user_id); !ok) return ok;
  if (auto ok = CheckText("reason", reason); !ok) return ok;
  if (auto ok = CheckText("decided_by", decided_by); !ok) return ok;
  auto n = conn().Run(kDecideRegistration,
                      {Param::Text(user_id), Param::Int(static_cast<int>(state)), Param::Text(reason),
                       Param::Text(decided_by), Param::Int(decided_at)},
                      nullptr);
  if (!n) return std::unexpected(n.error());
  if (*n == 1) return {};
  auto exists = Exists(conn(), kAccountExists, {Param::Text(user_id)});
  if (!exists) return std::unexpected(exists.error());
  return std::unexpected(*exists ? Conflict("the registration is not pending")
                                 : Invalid("no account with this user_id"));
}

Result<void> SqlWriteTx::InsertChallenge(const Challenge& c) {
  if (auto ok = CheckOpen(); !ok) return ok;
  if (auto ok = CheckText("user_id", c.user_id); !ok) return ok;
  auto n = conn().Run(kInsertChallenge,
                      {Param::Bytes(c.nonce), Param::Text(c.user_id), Param::Int(c.expires_at)}, nullptr);
  if (!n) return std::unexpected(n.error());
  if (*n != 1) return std::unexpected(Conflict("a challenge with this nonce exists"));
  return {};
}

Result<std::optional<Challenge>> SqlWriteTx::ConsumeChallenge(const std::array<std::uint8_t, 32>& nonce) {
  if (auto ok = CheckOpen(); !ok) return std::unexpected(ok.error());
  return QueryOne<Challenge>(conn(), kConsumeChallenge, {Param::Bytes(nonce)},
                             [&](const Row& row) -> Result<Challenge> {
                               Challenge c;
                               c.nonce = nonce;
                               c.user_id = row.Text(0);
                               c.expires_at = row.Int(1);
                               return c;
                             });
}

Result<void> SqlWriteTx::InsertSession(const Session& s) {
  if (auto ok = CheckOpen(); !ok) return ok;
  if (auto ok = CheckNonEmptyText("user_id", s.user_id); !ok) return ok;
  auto n =
      conn().Run(kInsertSession,
                 {Param::Bytes(s.token_hash), Param::Text(s.user_id), Param::Int(s.expires_at)}, nullptr);
  if (!n) return std::unexpected(n.error());
  if (*n != 1) return std::unexpected(Conflict("a session with this token hash exists"));
  return {};
}

Result<void> SqlWriteTx::DeleteSession(const std::array<std::uint8_t, 32>& token_hash) {
  if (auto ok = CheckOpen(); !ok) return ok;
  auto n = conn().Run(kDeleteSession, {Param::Bytes(token_hash)}, nullptr);
  if (!n) return std::unexpected(n.error());
  return {};
}

Result<void> SqlWriteTx::DeleteExpired(std::int64_t now_seconds) {
  if (auto ok = CheckOpen(); !ok) return ok;
  for (const Sql* sql : {&kDeleteExpiredChallenges, &kDeleteExpiredSessions}) {
    auto n = conn().Run(*sql, {Param::Int(now_seconds)}, nullptr);
    if (!n) return std::unexpected(n.error());
  }
  return {};
}

Result<std::optional<Account>> SqlStore::GetAccount(const std::string& user_id) {
  if (auto ok = CheckText("user_id", user_id); !ok) return std::unexpected(ok.error());
  auto lease = AcquireReader();
  if (!lease) return std::unexpected(lease.error());
  return QueryOne<Account>((*lease)->conn(), kGetAccount, {Param::Text(user_id)}, DecodeAccount);
}

Result<std::vector<Account>> SqlStore::ListAccounts(const std::string& organisation,
                                                    std::optional<ApprovalState> state) {
  if (auto ok = CheckText("organisation", organisation); !ok) return std::unexpected(ok.error());
  auto lease = AcquireReader();
  if (!lease) return std::unexpected(lease.error());
  Connection& conn = (*lease)->conn();
  if (organisation.empty() && !state) return QueryAll<Account>(conn, kListAccounts, {}, DecodeAccount);
  if (!state) {
    return QueryAll<Account>(conn, kListAccountsByOrganisation, {Param::Text(organisation)}, DecodeAccount);
  }
  const Param s = Param::Int(static_cast<int>(*state));
  if (organisation.empty()) return QueryAll<Account>(conn, kListAccountsByState, {s}, DecodeAccount);
  return QueryAll<Account>(conn, kListAccountsByOrganisationAndState, {Param::Text(organisation), s},
                           DecodeAccount);
}

Result<std::optional<Session>> SqlStore::GetSession(const std::array<std::uint8_t, 32>& token_hash) {
  auto lease = AcquireReader();
  if (!lease) return std::unexpected(lease.error());
  return QueryOne<Session>((*lease)->conn(), kGetSession, {Param::Bytes(token_hash)},
                           [&](const Row& row) -> Result<Session> {
                             Session s;
                             s.token_hash = token_hash;
                             s.user_id = row.Text(0);
                             s.expires_at = row.Int(1);
                             return s;
                           });
}

}  // namespace cipherchart::server::internal
