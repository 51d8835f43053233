// The Store logic shared by both backends: statements, validation, row decoding, and the
// write transaction. Every statement below is plain SQL that SQLite 3.35+ and PostgreSQL (and
// Citus) both run; uniqueness conflicts use ON CONFLICT DO NOTHING and a row count rather than
// a failed statement, because a failed statement aborts a whole PostgreSQL transaction.
#include "src/server/store/sql_store.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "cipherchart/common/random.h"

namespace cipherchart::server::internal {
namespace {

// ---- statements -------------------------------------------------------------------------

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

constexpr Sql kInsertPatient = {
    "insert patient",
    "INSERT INTO patients (patient_id, owner_user_id, created_by, enrolment_code_hash, enrolment_used, "
    "created_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING"};
constexpr Sql kEnrolPatient = {"enrol patient",
                               "UPDATE patients SET owner_user_id = $3, enrolment_used = TRUE "
                               "WHERE patient_id = $1 AND enrolment_code_hash = $2 AND NOT enrolment_used"};
constexpr Sql kGetPatient = {
    "get patient",
    "SELECT patient_id, owner_user_id, created_by, enrolment_code_hash, enrolment_used, created_at "
    "FROM patients WHERE patient_id = $1"};

constexpr Sql kInsertBlob = {
    "insert blob", "INSERT INTO blobs (blob_id, created_at) VALUES ($1, $2) ON CONFLICT DO NOTHING"};
constexpr Sql kBlobExists = {"blob exists", "SELECT 1 FROM blobs WHERE blob_id = $1"};
constexpr Sql kChunkExists = {"blob chunk exists",
                              "SELECT 1 FROM blob_chunks WHERE blob_id = $1 AND idx = $2"};
constexpr Sql kInsertChunk = {
    "insert blob chunk",
    "INSERT INTO blob_chunks (blob_id, idx, data) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"};
// The chunks go with their blob (ON DELETE CASCADE).
constexpr Sql kDeleteOrphanBlobs = {
    "delete orphan blobs",
    "DELETE FROM blobs WHERE created_at < $1 "
    "AND NOT EXISTS (SELECT 1 FROM records WHERE records.blob_id = blobs.blob_id) "
    "AND NOT EXISTS (SELECT 1 FROM key_packages WHERE key_packages.blob_id = blobs.blob_id)"};
constexpr Sql kBlobChunkCount = {"blob chunk count", "SELECT COUNT(*) FROM blob_chunks WHERE blob_id = $1"};
constexpr Sql kReadBlobChunk = {"read blob chunk",
                                "SELECT data FROM blob_chunks WHERE blob_id = $1 AND idx = $2"};

constexpr Sql kLatestVersion = {
    "latest record version",
    "SELECT COALESCE(MAX(version), 0) FROM records WHERE patient_id = $1 AND record_id = $2"};
// `tombstone` is INTEGER 0/1 in SQLite and BOOLEAN in PostgreSQL: both read as a condition.
constexpr Sql kVersionIsTombstone = {
    "record version is a tombstone",
    "SELECT 1 FROM records WHERE patient_id = $1 AND record_id = $2 AND version = $3 AND tombstone"};
constexpr Sql kInsertRecord = {
    "insert record version",
    "INSERT INTO records (patient_id, record_id, version, section, policy, author_id, size, sha256, "
    "created_at, tombstone, blob_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) "
    "ON CONFLICT DO NOTHING"};
constexpr Sql kListRecords = {
    "list records",
    "SELECT patient_id, record_id, version, section, policy, author_id, size, sha256, created_at, tombstone, "
    "blob_id FROM records WHERE patient_id = $1 ORDER BY record_id, version"};
constexpr Sql kGetRecordVersion = {
    "get record version",
    "SELECT patient_id, record_id, version, section, policy, author_id, size, sha256, created_at, tombstone, "
    "blob_id FROM records WHERE patient_id = $1 AND record_id = $2 AND version = $3"};
constexpr Sql kGetRecordLatest = {
    "get latest record",
    "SELECT patient_id, record_id, version, section, policy, author_id, size, sha256, created_at, tombstone, "
    "blob_id FROM records WHERE patient_id = $1 AND record_id = $2 ORDER BY version DESC LIMIT 1"};

constexpr Sql kInsertKeyPackage = {
    "insert key package",
    "INSERT INTO key_packages (package_id, recipient_id, sender_id, size, created_at, blob_id) "
    "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING"};
constexpr Sql kListKeyPackages = {
    "list key packages",
    "SELECT package_id, recipient_id, sender_id, size, created_at, blob_id FROM key_packages "
    "WHERE recipient_id = $1 ORDER BY created_at, package_id"};
constexpr Sql kGetKeyPackage = {
    "get key package",
    "SELECT package_id, recipient_id, sender_id, size, created_at, blob_id FROM key_packages "
    "WHERE package_id = $1"};

// The owner (organisation) is never updated: a replacement must come from it.
constexpr Sql kReplaceDirectoryEntry = {
    "replace directory entry",
    "UPDATE directory_entries SET entry = $3, publisher_id = $4, updated_at = $5 "
    "WHERE authority_namespace = $1 AND organisation = $2"};
constexpr Sql kInsertDirectoryEntry = {
    "insert directory entry",
    "INSERT INTO directory_entries (authority_namespace, organisation, entry, publisher_id, updated_at) "
    "VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING"};
constexpr Sql kDirectoryEntryExists = {"directory entry exists",
                                       "SELECT 1 FROM directory_entries WHERE authority_namespace = $1"};
constexpr Sql kDirectoryEntryCount = {"directory entry count", "SELECT COUNT(*) FROM directory_entries"};
constexpr Sql kGetDirectoryEntry = {
    "get directory entry",
    "SELECT authority_namespace, organisation, entry, publisher_id, updated_at FROM directory_entries "
    "WHERE authority_namespace = $1"};
constexpr Sql kListDirectoryEntries = {
    "list directory entries",
    "SELECT authority_namespace, organisation, entry, publisher_id, updated_at FROM directory_entries "
    "ORDER BY authority_namespace"};

constexpr Sql kInsertAudit = {
    "append audit", "INSERT INTO audit (seq, patient_id, entry) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"};
constexpr Sql kSetAuditHead = {"update audit head", "UPDATE audit_head SET size = $1 WHERE id = 1"};
constexpr Sql kAuditSize = {"audit size", "SELECT size FROM audit_head WHERE id = 1"};
constexpr Sql kReadAudit = {
    "read audit", "SELECT seq, patient_id, entry FROM audit WHERE seq >= $1 AND seq < $2 ORDER BY seq"};
constexpr Sql kReadAuditForPatient = {
    "read audit for patient", "SELECT seq, patient_id, entry FROM audit WHERE patient_id = $1 ORDER BY seq"};
constexpr Sql kInsertTreeHead = {
    "insert tree head",
    "INSERT INTO tree_heads (tree_size, timestamp_ms, root, signature) VALUES ($1, $2, $3, $4) "
    "ON CONFLICT DO NOTHING"};
constexpr Sql kReadTreeHeads = {
    "read tree heads", "SELECT tree_size, timestamp_ms, root, signature FROM tree_heads ORDER BY tree_size"};
constexpr Sql kLatestTreeHead = {
    "latest tree head",
    "SELECT tree_size, timestamp_ms, root, signature FROM tree_heads ORDER BY tree_size DESC LIMIT 1"};

constexpr Sql kSchemaVersionRead = {"read schema version", "SELECT MAX(version) FROM schema_version"};
constexpr Sql kSchemaVersionInsert = {"record schema version",
                                      "INSERT INTO schema_version (version) VALUES ($1)"};

// ---- helpers ----------------------------------------------------------------------------

Error Invalid(std::string message) { return Error(ErrorCode::kInvalidArgument, std::move(message)); }
Error Conflict(std::string message) { return Error(ErrorCode::kContextMismatch, std::move(message)); }

template <std::size_t N>
Result<void> ReadFixed(const Row& row, int column, std::array<std::uint8_t, N>& out, std::string_view what) {
  const auto bytes = row.Bytes(column);
  if (bytes.size() != N) {
    return Fail(ErrorCode::kInternal, "stored " + std::string(what) + " is " + std::to_string(bytes.size()) +
                                          " bytes, expected " + std::to_string(N));
  }
  std::copy(bytes.begin(), bytes.end(), out.begin());
  return {};
}

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

Result<Patient> DecodePatient(const Row& row) {
  Patient p;
  p.patient_id = row.Text(0);
  p.owner_user_id = row.Text(1);
  p.created_by = row.Text(2);
  if (auto ok = ReadFixed(row, 3, p.enrolment_code_hash, "enrolment code hash"); !ok)
    return std::unexpected(ok.error());
  p.enrolment_used = row.Int(4) != 0;
  p.created_at = row.Int(5);
  return p;
}

Result<RecordMeta> DecodeRecord(const Row& row) {
  RecordMeta m;
  m.patient_id = row.Text(0);
  m.record_id = row.Text(1);
  m.version = row.Int(2);
  m.section = row.Text(3);
  m.policy = row.Text(4);
  m.author_id = row.Text(5);
  m.size = row.Int(6);
  if (auto ok = ReadFixed(row, 7, m.sha256, "record sha256"); !ok) return std::unexpected(ok.error());
  m.created_at = row.Int(8);
  m.tombstone = row.Int(9) != 0;
  if (!row.IsNull(10)) m.blob_id = row.Text(10);
  return m;
}

KeyPackage DecodeKeyPackage(const Row& row) {
  KeyPackage k;
  k.package_id = row.Text(0);
  k.recipient_id = row.Text(1);
  k.sender_id = row.Text(2);
  k.size = row.Int(3);
  k.created_at = row.Int(4);
  k.blob_id = row.Text(5);
  return k;
}

DirectoryEntryRow DecodeDirectoryEntry(const Row& row) {
  DirectoryEntryRow d;
  d.authority_namespace = row.Text(0);
  d.organisation = row.Text(1);
  const auto entry = row.Bytes(2);
  d.entry.assign(entry.begin(), entry.end());
  d.publisher_id = row.Text(3);
  d.updated_at = row.Int(4);
  return d;
}

AuditRow DecodeAudit(const Row& row) {
  AuditRow a;
  a.seq = row.Int(0);
  a.patient_id = row.Text(1);
  const auto entry = row.Bytes(2);
  a.entry.assign(entry.begin(), entry.end());
  return a;
}

Result<TreeHeadRow> DecodeTreeHead(const Row& row) {
  TreeHeadRow h;
  h.tree_size = row.Int(0);
  h.timestamp = row.Int(1);
  if (auto ok = ReadFixed(row, 2, h.root, "tree head root"); !ok) return std::unexpected(ok.error());
  if (auto ok = ReadFixed(row, 3, h.signature, "tree head signature"); !ok)
    return std::unexpected(ok.error());
  return h;
}

// Runs `sql` and collects every row through `decode`.
template <class T, class Decode>
Result<std::vector<T>> QueryAll(Connection& conn, const Sql& sql, std::initializer_list<Param> params,
                                Decode decode) {
  std::vector<T> out;
  auto ran = conn.Run(sql, params, [&](const Row& row) -> Result<void> {
    Result<T> item = decode(row);
    if (!item) return std::unexpected(item.error());
    out.push_back(std::move(*item));
    return {};
  });
  if (!ran) return std::unexpected(ran.error());
  return out;
}

// The first row through `decode`, nullopt if there is none.
template <class T, class Decode>
Result<std::optional<T>> QueryOne(Connection& conn, const Sql& sql, std::initializer_list<Param> params,
                                  Decode decode) {
  std::optional<T> out;
  auto ran = conn.Run(sql, params, [&](const Row& row) -> Result<void> {
    if (out) return {};
    Result<T> item = decode(row);
    if (!item) return std::unexpected(item.error());
    out = std::move(*item);
    return {};
  });
  if (!ran) return std::unexpected(ran.error());
  return out;
}

// The first column of the first row as an integer (nullopt if no row or NULL).
Result<std::optional<std::int64_t>> QueryInt(Connection& conn, const Sql& sql,
                                             std::initializer_list<Param> params) {
  std::optional<std::int64_t> out;
  auto ran = conn.Run(sql, params, [&](const Row& row) -> Result<void> {
    if (!out && !row.IsNull(0)) out = row.Int(0);
    return {};
  });
  if (!ran) return std::unexpected(ran.error());
  return out;
}

Result<bool> Exists(Connection& conn, const Sql& sql, std::initializer_list<Param> params) {
  auto v = QueryInt(conn, sql, params);
  if (!v) return std::unexpected(v.error());
  return v->has_value();
}

Result<void> CheckNonEmptyText(std::string_view field, std::string_view value) {
  if (value.empty()) return std::unexpected(Invalid(std::string(field) + " is empty"));
  return CheckText(field, value);
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

Result<void> ValidateRecord(const RecordMeta& m) {
  if (auto ok = CheckNonEmptyText("patient_id", m.patient_id); !ok) return ok;
  if (auto ok = CheckNonEmptyText("record_id", m.record_id); !ok) return ok;
  if (auto ok = CheckText("section", m.section); !ok) return ok;
  if (auto ok = CheckText("policy", m.policy); !ok) return ok;
  if (auto ok = CheckText("author_id", m.author_id); !ok) return ok;
  if (auto ok = CheckText("blob_id", m.blob_id); !ok) return ok;
  if (m.section.size() > 64) {
    return std::unexpected(Invalid("section is " + std::to_string(m.section.size()) + " bytes (at most 64)"));
  }
  if (m.version < 1)
    return std::unexpected(Invalid("record version " + std::to_string(m.version) + " is < 1"));
  if (m.size < 0) return std::unexpected(Invalid("record size is negative"));
  if (m.tombstone && (!m.blob_id.empty() || m.size != 0)) {
    return std::unexpected(Invalid("a tombstone has no blob and size 0"));
  }
  if (!m.tombstone && m.blob_id.empty()) return std::unexpected(Invalid("a record version needs a blob_id"));
  return {};
}

Result<void> ValidateKeyPackage(const KeyPackage& k) {
  if (auto ok = CheckNonEmptyText("package_id", k.package_id); !ok) return ok;
  if (auto ok = CheckNonEmptyText("recipient_id", k.recipient_id); !ok) return ok;
  if (auto ok = CheckText("sender_id", k.sender_id); !ok) return ok;
  if (auto ok = CheckNonEmptyText("blob_id", k.blob_id); !ok) return ok;
  if (k.size < 0) return std::unexpected(Invalid("key package size is negative"));
  return {};
}

Result<void> ValidateDirectoryEntry(const DirectoryEntryRow& d) {
  if (auto ok = CheckNonEmptyText("authority_namespace", d.authority_namespace); !ok) return ok;
  if (auto ok = CheckNonEmptyText("organisation", d.organisation); !ok) return ok;
  if (auto ok = CheckText("publisher_id", d.publisher_id); !ok) return ok;
  if (d.entry.empty()) return std::unexpected(Invalid("directory entry is empty"));
  return {};
}

// ---- the write transaction --------------------------------------------------------------

class SqlWriteTx final : public WriteTx {
 public:
  SqlWriteTx(std::unique_ptr<Lease> lease, const Dialect& dialect)
      : lease_(std::move(lease)), dialect_(dialect) {}
  ~SqlWriteTx() override {
    if (lease_) Rollback();
  }
  SqlWriteTx(const SqlWriteTx&) = delete;
  SqlWriteTx& operator=(const SqlWriteTx&) = delete;

  Result<void> Savepoint() override {
    if (auto ok = CheckOpen(); !ok) return ok;
    if (auto ok = conn().Exec("savepoint", "SAVEPOINT sp" + std::to_string(savepoints_.size())); !ok)
      return ok;
    savepoints_.push_back(audit_next_);
    return {};
  }

  Result<void> ReleaseSavepoint() override {
    if (auto ok = CheckSavepoint(); !ok) return ok;
    if (auto ok =
            conn().Exec("release savepoint", "RELEASE SAVEPOINT sp" + std::to_string(savepoints_.size() - 1));
        !ok) {
      return ok;
    }
    savepoints_.pop_back();
    return {};
  }

  // Undoes everything since the matching Savepoint() and ends that savepoint (no Release
  // needed afterwards). PostgreSQL also drops the audit-head lock if it was taken after it.
  Result<void> RollbackToSavepoint() override {
    if (auto ok = CheckSavepoint(); !ok) return ok;
    const std::string name = "sp" + std::to_string(savepoints_.size() - 1);
    if (auto ok = conn().Exec("rollback to savepoint", "ROLLBACK TO SAVEPOINT " + name); !ok) return ok;
    if (auto ok = conn().Exec("release savepoint", "RELEASE SAVEPOINT " + name); !ok) return ok;
    audit_next_ = savepoints_.back();
    savepoints_.pop_back();
    return {};
  }

  Result<void> InsertAccount(const Account& a) override {
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

  Result<void> DecideRegistration(const std::string& user_id, ApprovalState state, const std::string& reason,
                                  const std::string& decided_by, std::int64_t decided_at) override {
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

  Result<void> InsertChallenge(const Challenge& c) override {
    if (auto ok = CheckOpen(); !ok) return ok;
    if (auto ok = CheckText("user_id", c.user_id); !ok) return ok;
    auto n = conn().Run(kInsertChallenge,
                        {Param::Bytes(c.nonce), Param::Text(c.user_id), Param::Int(c.expires_at)}, nullptr);
    if (!n) return std::unexpected(n.error());
    if (*n != 1) return std::unexpected(Conflict("a challenge with this nonce exists"));
    return {};
  }

  Result<std::optional<Challenge>> ConsumeChallenge(const std::array<std::uint8_t, 32>& nonce) override {
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

  Result<void> InsertSession(const Session& s) override {
    if (auto ok = CheckOpen(); !ok) return ok;
    if (auto ok = CheckNonEmptyText("user_id", s.user_id); !ok) return ok;
    auto n =
        conn().Run(kInsertSession,
                   {Param::Bytes(s.token_hash), Param::Text(s.user_id), Param::Int(s.expires_at)}, nullptr);
    if (!n) return std::unexpected(n.error());
    if (*n != 1) return std::unexpected(Conflict("a session with this token hash exists"));
    return {};
  }

  Result<void> DeleteSession(const std::array<std::uint8_t, 32>& token_hash) override {
    if (auto ok = CheckOpen(); !ok) return ok;
    auto n = conn().Run(kDeleteSession, {Param::Bytes(token_hash)}, nullptr);
    if (!n) return std::unexpected(n.error());
    return {};
  }

  Result<void> DeleteExpired(std::int64_t now_seconds) override {
    if (auto ok = CheckOpen(); !ok) return ok;
    for (const Sql* sql : {&kDeleteExpiredChallenges, &kDeleteExpiredSessions}) {
      auto n = conn().Run(*sql, {Param::Int(now_seconds)}, nullptr);
      if (!n) return std::unexpected(n.error());
    }
    return {};
  }

  Result<void> InsertPatient(const Patient& p) override {
    if (auto ok = CheckOpen(); !ok) return ok;
    if (auto ok = CheckNonEmptyText("patient_id", p.patient_id); !ok) return ok;
    if (auto ok = CheckText("owner_user_id", p.owner_user_id); !ok) return ok;
    if (auto ok = CheckText("created_by", p.created_by); !ok) return ok;
    auto n = conn().Run(
        kInsertPatient,
        {Param::Text(p.patient_id), Param::Text(p.owner_user_id), Param::Text(p.created_by),
         Param::Bytes(p.enrolment_code_hash), Param::Bool(p.enrolment_used), Param::Int(p.created_at)},
        nullptr);
    if (!n) return std::unexpected(n.error());
    if (*n != 1) return std::unexpected(Conflict("a patient with this patient_id exists"));
    return {};
  }

  Result<bool> EnrolPatient(const std::string& patient_id, const std::array<std::uint8_t, 32>& code_hash,
                            const std::string& owner_user_id) override {
    if (auto ok = CheckOpen(); !ok) return std::unexpected(ok.error());
    if (auto ok = CheckText("patient_id", patient_id); !ok) return std::unexpected(ok.error());
    if (auto ok = CheckNonEmptyText("owner_user_id", owner_user_id); !ok) return std::unexpected(ok.error());
    auto n =
        conn().Run(kEnrolPatient,
                   {Param::Text(patient_id), Param::Bytes(code_hash), Param::Text(owner_user_id)}, nullptr);
    if (!n) return std::unexpected(n.error());
    return *n == 1;
  }

  Result<std::string> CreateBlob() override {
    if (auto ok = CheckOpen(); !ok) return std::unexpected(ok.error());
    // A 128-bit id does not collide; the retry only keeps a broken RNG from looping forever.
    for (int attempt = 0; attempt < 3; ++attempt) {
      auto id = NewBlobId();
      if (!id) return std::unexpected(id.error());
      auto n = conn().Run(kInsertBlob, {Param::Text(*id), Param::Int(NowMillis())}, nullptr);
      if (!n) return std::unexpected(n.error());
      if (*n == 1) return *id;
    }
    return Fail(ErrorCode::kInternal, "insert blob: random blob ids collided three times");
  }

  Result<void> AppendBlobChunk(const std::string& blob_id, std::int64_t index,
                               const std::vector<std::uint8_t>& bytes) override {
    if (auto ok = CheckOpen(); !ok) return ok;
    if (auto ok = CheckText("blob_id", blob_id); !ok) return ok;
    if (index < 0) return std::unexpected(Invalid("blob chunk index is negative"));
    if (bytes.size() > kMaxChunkSize) {
      return std::unexpected(Invalid("blob chunk is " + std::to_string(bytes.size()) + " bytes (at most " +
                                     std::to_string(kMaxChunkSize) + ")"));
    }
    // Chunk index-1 existing implies the blob exists; chunk 0 needs the blob itself.
    auto before = index == 0 ? Exists(conn(), kBlobExists, {Param::Text(blob_id)})
                             : Exists(conn(), kChunkExists, {Param::Text(blob_id), Param::Int(index - 1)});
    if (!before) return std::unexpected(before.error());
    if (!*before) {
      return std::unexpected(index == 0 ? Conflict("no blob with this blob_id")
                                        : Conflict("blob chunk " + std::to_string(index) +
                                                   " does not follow the blob's last chunk"));
    }
    auto n =
        conn().Run(kInsertChunk, {Param::Text(blob_id), Param::Int(index), Param::Bytes(bytes)}, nullptr);
    if (!n) return std::unexpected(n.error());
    if (*n != 1) return std::unexpected(Conflict("blob chunk " + std::to_string(index) + " exists"));
    return {};
  }

  Result<std::int64_t> DeleteOrphanBlobs(std::int64_t before_ms) override {
    if (auto ok = CheckOpen(); !ok) return std::unexpected(ok.error());
    return conn().Run(kDeleteOrphanBlobs, {Param::Int(before_ms)}, nullptr);
  }

  Result<void> InsertRecordVersion(const RecordMeta& m) override {
    if (auto ok = CheckOpen(); !ok) return ok;
    if (auto ok = ValidateRecord(m); !ok) return ok;
    auto latest = QueryInt(conn(), kLatestVersion, {Param::Text(m.patient_id), Param::Text(m.record_id)});
    if (!latest) return std::unexpected(latest.error());
    const std::int64_t next = latest->value_or(0) + 1;
    if (m.version != next) {
      return std::unexpected(Conflict("record version " + std::to_string(m.version) +
                                      " is not the next version (" + std::to_string(next) + ")"));
    }
    // Deleted stays deleted: no version after a tombstone, so nobody can revive a record the
    // owner deleted and reach its older versions again.
    if (next > 1) {
      auto deleted = Exists(conn(), kVersionIsTombstone,
                            {Param::Text(m.patient_id), Param::Text(m.record_id), Param::Int(next - 1)});
      if (!deleted) return std::unexpected(deleted.error());
      if (*deleted) return std::unexpected(Conflict("the record was deleted by its owner"));
    }
    if (!m.tombstone) {
      auto blob = Exists(conn(), kBlobExists, {Param::Text(m.blob_id)});
      if (!blob) return std::unexpected(blob.error());
      if (!*blob) return std::unexpected(Conflict("the record's blob does not exist"));
    }
    // A concurrent writer (another PostgreSQL server) inserting the same version makes this
    // insert change nothing: the primary key decides the race.
    auto n = conn().Run(kInsertRecord,
                        {Param::Text(m.patient_id), Param::Text(m.record_id), Param::Int(m.version),
                         Param::Text(m.section), Param::Text(m.policy), Param::Text(m.author_id),
                         Param::Int(m.size), Param::Bytes(m.sha256), Param::Int(m.created_at),
                         Param::Bool(m.tombstone), m.tombstone ? Param::Null() : Param::Text(m.blob_id)},
                        nullptr);
    if (!n) return std::unexpected(n.error());
    if (*n != 1) {
      return std::unexpected(Conflict("record version " + std::to_string(m.version) + " exists"));
    }
    return {};
  }

  Result<void> InsertKeyPackage(const KeyPackage& k) override {
    if (auto ok = CheckOpen(); !ok) return ok;
    if (auto ok = ValidateKeyPackage(k); !ok) return ok;
    auto blob = Exists(conn(), kBlobExists, {Param::Text(k.blob_id)});
    if (!blob) return std::unexpected(blob.error());
    if (!*blob) return std::unexpected(Conflict("the key package's blob does not exist"));
    auto n = conn().Run(kInsertKeyPackage,
                        {Param::Text(k.package_id), Param::Text(k.recipient_id), Param::Text(k.sender_id),
                         Param::Int(k.size), Param::Int(k.created_at), Param::Text(k.blob_id)},
                        nullptr);
    if (!n) return std::unexpected(n.error());
    if (*n != 1) return std::unexpected(Conflict("a key package with this package_id exists"));
    return {};
  }

  Result<bool> PutDirectoryEntry(const DirectoryEntryRow& d, std::int64_t max_entries) override {
    if (auto ok = CheckOpen(); !ok) return std::unexpected(ok.error());
    if (auto ok = ValidateDirectoryEntry(d); !ok) return std::unexpected(ok.error());
    if (max_entries < 0) return std::unexpected(Invalid("max_entries is negative"));
    auto replace = [&]() -> Result<bool> {
      auto n = conn().Run(kReplaceDirectoryEntry,
                          {Param::Text(d.authority_namespace), Param::Text(d.organisation),
                           Param::Bytes(d.entry), Param::Text(d.publisher_id), Param::Int(d.updated_at)},
                          nullptr);
      if (!n) return std::unexpected(n.error());
      return *n == 1;
    };
    auto replaced = replace();
    if (!replaced) return std::unexpected(replaced.error());
    if (*replaced) return false;
    const Error owned = Conflict("the namespace is owned by another organisation");
    auto exists = Exists(conn(), kDirectoryEntryExists, {Param::Text(d.authority_namespace)});
    if (!exists) return std::unexpected(exists.error());
    if (*exists) return std::unexpected(owned);
    auto count = QueryInt(conn(), kDirectoryEntryCount, {});
    if (!count) return std::unexpected(count.error());
    if (count->value_or(0) >= max_entries) {
      return std::unexpected(
          Conflict("the directory already holds " + std::to_string(max_entries) + " namespaces"));
    }
    auto n = conn().Run(kInsertDirectoryEntry,
                        {Param::Text(d.authority_namespace), Param::Text(d.organisation),
                         Param::Bytes(d.entry), Param::Text(d.publisher_id), Param::Int(d.updated_at)},
                        nullptr);
    if (!n) return std::unexpected(n.error());
    if (*n == 1) return true;
    // Another server inserted the namespace since the check (PostgreSQL): replace if ours.
    auto again = replace();
    if (!again) return std::unexpected(again.error());
    if (*again) return false;
    return std::unexpected(owned);
  }

  Result<std::int64_t> LockAuditHead() override {
    if (auto ok = CheckOpen(); !ok) return std::unexpected(ok.error());
    auto size = QueryInt(conn(), *dialect_.lock_audit_head, {});
    if (!size) return std::unexpected(size.error());
    const std::optional<std::int64_t> head = *size;
    if (!head) return Fail(ErrorCode::kInternal, "lock audit head: the audit_head row is missing");
    audit_next_ = head;
    return *head;
  }

  Result<void> AppendAudit(const std::vector<AuditRow>& rows) override {
    if (auto ok = CheckOpen(); !ok) return ok;
    if (!audit_next_)
      return std::unexpected(Conflict("AppendAudit before LockAuditHead in this transaction"));
    std::int64_t next = *audit_next_;
    for (const AuditRow& row : rows) {
      if (row.seq != next) {
        return std::unexpected(Conflict("audit seq " + std::to_string(row.seq) + " is not the next seq (" +
                                        std::to_string(next) + ")"));
      }
      if (auto ok = CheckText("audit patient_id", row.patient_id); !ok) return ok;
      ++next;
    }
    if (rows.empty()) return {};
    for (const AuditRow& row : rows) {
      auto n = conn().Run(
          kInsertAudit, {Param::Int(row.seq), Param::Text(row.patient_id), Param::Bytes(row.entry)}, nullptr);
      if (!n) return std::unexpected(n.error());
      if (*n != 1) return std::unexpected(Conflict("audit seq " + std::to_string(row.seq) + " exists"));
    }
    auto n = conn().Run(kSetAuditHead, {Param::Int(next)}, nullptr);
    if (!n) return std::unexpected(n.error());
    if (*n != 1) return Fail(ErrorCode::kInternal, "update audit head: the audit_head row is missing");
    audit_next_ = next;
    return {};
  }

  Result<void> InsertTreeHead(const TreeHeadRow& head) override {
    if (auto ok = CheckOpen(); !ok) return ok;
    if (head.tree_size < 0) return std::unexpected(Invalid("tree size is negative"));
    auto n = conn().Run(kInsertTreeHead,
                        {Param::Int(head.tree_size), Param::Int(head.timestamp), Param::Bytes(head.root),
                         Param::Bytes(head.signature)},
                        nullptr);
    if (!n) return std::unexpected(n.error());
    if (*n != 1) {
      return std::unexpected(
          Conflict("a tree head for tree size " + std::to_string(head.tree_size) + " exists"));
    }
    return {};
  }

  Result<void> Commit() override {
    if (auto ok = CheckOpen(); !ok) return ok;
    auto ok = conn().Commit();
    lease_.reset();  // the connection (and SQLite's writer lock) goes back at once
    return ok;
  }

  void Rollback() override {
    if (!lease_) return;
    conn().Rollback();
    lease_.reset();
  }

 private:
  Connection& conn() { return lease_->conn(); }

  Result<void> CheckOpen() const {
    if (!lease_) return std::unexpected(Invalid("the transaction has already been committed or rolled back"));
    return {};
  }

  Result<void> CheckSavepoint() const {
    if (auto ok = CheckOpen(); !ok) return ok;
    if (savepoints_.empty()) return std::unexpected(Invalid("no savepoint is open"));
    return {};
  }

  std::unique_ptr<Lease> lease_;
  const Dialect& dialect_;
  std::optional<std::int64_t> audit_next_;  // set by LockAuditHead, advanced by AppendAudit
  // audit_next_ as it was at each open savepoint, restored when rolling back to it.
  std::vector<std::optional<std::int64_t>> savepoints_;
};

}  // namespace

// ---- shared helpers ---------------------------------------------------------------------

Result<void> CheckText(std::string_view field, std::string_view value) {
  const auto* s = reinterpret_cast<const std::uint8_t*>(value.data());
  const std::size_t n = value.size();
  for (std::size_t i = 0; i < n;) {
    const std::uint8_t b = s[i];
    if (b == 0) return std::unexpected(Invalid(std::string(field) + " contains a NUL byte"));
    if (b < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if ((b & 0xE0) == 0xC0) {
      len = 2;
      cp = b & 0x1F;
    } else if ((b & 0xF0) == 0xE0) {
      len = 3;
      cp = b & 0x0F;
    } else if ((b & 0xF8) == 0xF0) {
      len = 4;
      cp = b & 0x07;
    } else {
      return std::unexpected(Invalid(std::string(field) + " is not valid UTF-8"));
    }
    if (i + len > n) return std::unexpected(Invalid(std::string(field) + " is not valid UTF-8"));
    for (std::size_t k = 1; k < len; ++k) {
      if ((s[i + k] & 0xC0) != 0x80)
        return std::unexpected(Invalid(std::string(field) + " is not valid UTF-8"));
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    // Overlong forms, UTF-16 surrogates and code points past U+10FFFF are not UTF-8.
    const std::uint32_t min = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
    if (cp < min || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
      return std::unexpected(Invalid(std::string(field) + " is not valid UTF-8"));
    }
    i += len;
  }
  return {};
}

Result<std::string> NewBlobId() {
  std::array<std::uint8_t, 16> bytes{};
  if (auto ok = FillRandom(bytes); !ok) return std::unexpected(ok.error());
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
  std::string id = "b";
  std::uint32_t acc = 0;
  int bits = 0;
  for (const std::uint8_t b : bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      id += kAlphabet[(acc >> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) id += kAlphabet[(acc << (5 - bits)) & 31];
  return id;
}

std::int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// ---- SqlStore ---------------------------------------------------------------------------

Result<void> SqlStore::Migrate() {
  // Two servers migrating one fresh PostgreSQL at once can collide in CREATE TABLE IF NOT
  // EXISTS (the catalog's unique index); the loser retries and finds the tables there.
  Result<void> result;
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto lease = AcquireWriter();
    if (!lease) return std::unexpected(lease.error());
    Connection& conn = (*lease)->conn();
    result = [&]() -> Result<void> {
      if (auto ok = conn.Begin(); !ok) return ok;
      if (auto ok = conn.Exec("create schema", dialect_.schema); !ok) return ok;
      auto version = QueryInt(conn, kSchemaVersionRead, {});
      if (!version) return std::unexpected(version.error());
      if (version->has_value() && **version > kSchemaVersion) {
        return Fail(ErrorCode::kUnsupported, "the database has schema version " + std::to_string(**version) +
                                                 "; this server knows version " +
                                                 std::to_string(kSchemaVersion));
      }
      // A new database, or an older layout whose missing tables the schema just created.
      if (!version->has_value() || **version < kSchemaVersion) {
        auto n = conn.Run(kSchemaVersionInsert, {Param::Int(kSchemaVersion)}, nullptr);
        if (!n) return std::unexpected(n.error());
      }
      return conn.Commit();
    }();
    if (result) return result;
    conn.Rollback();
    if (result.error().code() == ErrorCode::kUnsupported) return result;
  }
  return result;
}

Result<std::unique_ptr<WriteTx>> SqlStore::BeginWrite() {
  auto lease = AcquireWriter();
  if (!lease) return std::unexpected(lease.error());
  if (auto ok = (*lease)->conn().Begin(); !ok) return std::unexpected(ok.error());
  return std::make_unique<SqlWriteTx>(std::move(*lease), dialect_);
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

Result<std::optional<Patient>> SqlStore::GetPatient(const std::string& patient_id) {
  if (auto ok = CheckText("patient_id", patient_id); !ok) return std::unexpected(ok.error());
  auto lease = AcquireReader();
  if (!lease) return std::unexpected(lease.error());
  return QueryOne<Patient>((*lease)->conn(), kGetPatient, {Param::Text(patient_id)}, DecodePatient);
}

Result<std::vector<RecordMeta>> SqlStore::ListRecords(const std::string& patient_id) {
  if (auto ok = CheckText("patient_id", patient_id); !ok) return std::unexpected(ok.error());
  auto lease = AcquireReader();
  if (!lease) return std::unexpected(lease.error());
  return QueryAll<RecordMeta>((*lease)->conn(), kListRecords, {Param::Text(patient_id)}, DecodeRecord);
}

Result<std::optional<RecordMeta>> SqlStore::GetRecord(const std::string& patient_id,
                                                      const std::string& record_id,
                                                      std::optional<std::int64_t> version) {
  if (auto ok = CheckText("patient_id", patient_id); !ok) return std::unexpected(ok.error());
  if (auto ok = CheckText("record_id", record_id); !ok) return std::unexpected(ok.error());
  auto lease = AcquireReader();
  if (!lease) return std::unexpected(lease.error());
  if (version) {
    return QueryOne<RecordMeta>((*lease)->conn(), kGetRecordVersion,
                                {Param::Text(patient_id), Param::Text(record_id), Param::Int(*version)},
                                DecodeRecord);
  }
  return QueryOne<RecordMeta>((*lease)->conn(), kGetRecordLatest,
                              {Param::Text(patient_id), Param::Text(record_id)}, DecodeRecord);
}

Result<std::vector<KeyPackage>> SqlStore::ListKeyPackages(const std::string& recipient_id) {
  if (auto ok = CheckText("recipient_id", recipient_id); !ok) return std::unexpected(ok.error());
  auto lease = AcquireReader();
  if (!lease) return std::unexpected(lease.error());
  return QueryAll<KeyPackage>((*lease)->conn(), kListKeyPackages, {Param::Text(recipient_id)},
                              [](const Row& row) -> Result<KeyPackage> { return DecodeKeyPackage(row); });
}

Result<std::optional<KeyPackage>> SqlStore::GetKeyPackage(const std::string& package_id) {
  if (auto ok = CheckText("package_id", package_id); !ok) return std::unexpected(ok.error());
  auto lease = AcquireReader();
  if (!lease) return std::unexpected(lease.error());
  return QueryOne<KeyPackage>((*lease)->conn(), kGetKeyPackage, {Param::Text(package_id)},
                              [](const Row& row) -> Result<KeyPackage> { return DecodeKeyPackage(row); });
}

Result<std::optional<DirectoryEntryRow>> SqlStore::GetDirectoryEntry(const std::string& authority_namespace) {
  if (auto ok = CheckText("authority_namespace", authority_namespace); !ok)
    return std::unexpected(ok.error());
  auto lease = AcquireReader();
  if (!lease) return std::unexpected(lease.error());
  return QueryOne<DirectoryEntryRow>(
      (*lease)->conn(), kGetDirectoryEntry, {Param::Text(authority_namespace)},
      [](const Row& row) -> Result<DirectoryEntryRow> { return DecodeDirectoryEntry(row); });
}

Result<std::vector<DirectoryEntryRow>> SqlStore::ListDirectoryEntries() {
  auto lease = AcquireReader();
  if (!lease) return std::unexpected(lease.error());
  return QueryAll<DirectoryEntryRow>(
      (*lease)->conn(), kListDirectoryEntries, {},
      [](const Row& row) -> Result<DirectoryEntryRow> { return DecodeDirectoryEntry(row); });
}

Result<std::int64_t> SqlStore::BlobChunkCount(const std::string& blob_id) {
  if (auto ok = CheckText("blob_id", blob_id); !ok) return std::unexpected(ok.error());
  auto lease = AcquireReader();
  if (!lease) return std::unexpected(lease.error());
  auto count = QueryInt((*lease)->conn(), kBlobChunkCount, {Param::Text(blob_id)});
  if (!count) return std::unexpected(count.error());
  return count->value_or(0);
}

Result<std::optional<std::vector<std::uint8_t>>> SqlStore::ReadBlobChunk(const std::string& blob_id,
                                                                         std::int64_t index) {
  if (auto ok = CheckText("blob_id", blob_id); !ok) return std::unexpected(ok.error());
  auto lease = AcquireReader();
  if (!lease) return std::unexpected(lease.error());
  return QueryOne<std::vector<std::uint8_t>>((*lease)->conn(), kReadBlobChunk,
                                             {Param::Text(blob_id), Param::Int(index)},
                                             [](const Row& row) -> Result<std::vector<std::uint8_t>> {
                                               const auto bytes = row.Bytes(0);
                                               return std::vector<std::uint8_t>(bytes.begin(), bytes.end());
                                             });
}

Result<std::int64_t> SqlStore::AuditSize() {
  auto lease = AcquireReader();
  if (!lease) return std::unexpected(lease.error());
  auto size = QueryInt((*lease)->conn(), kAuditSize, {});
  if (!size) return std::unexpected(size.error());
  const std::optional<std::int64_t> head = *size;
  if (!head) return Fail(ErrorCode::kInternal, "audit size: the audit_head row is missing");
  return *head;
}

Result<std::vector<AuditRow>> SqlStore::ReadAudit(std::int64_t from, std::int64_t to) {
  if (from < 0 || to < from) {
    return Fail(ErrorCode::kInvalidArgument,
                "audit range [" + std::to_string(from) + ", " + std::to_string(to) + ") is not a range");
  }
  auto lease = AcquireReader();
  if (!lease) return std::unexpected(lease.error());
  return QueryAll<AuditRow>((*lease)->conn(), kReadAudit, {Param::Int(from), Param::Int(to)},
                            [](const Row& row) -> Result<AuditRow> { return DecodeAudit(row); });
}

Result<std::vector<AuditRow>> SqlStore::ReadAuditForPatient(const std::string& patient_id) {
  if (auto ok = CheckText("patient_id", patient_id); !ok) return std::unexpected(ok.error());
  auto lease = AcquireReader();
  if (!lease) return std::unexpected(lease.error());
  return QueryAll<AuditRow>((*lease)->conn(), kReadAuditForPatient, {Param::Text(patient_id)},
                            [](const Row& row) -> Result<AuditRow> { return DecodeAudit(row); });
}

Result<std::vector<TreeHeadRow>> SqlStore::ReadTreeHeads() {
  auto lease = AcquireReader();
  if (!lease) return std::unexpected(lease.error());
  return QueryAll<TreeHeadRow>((*lease)->conn(), kReadTreeHeads, {}, DecodeTreeHead);
}

Result<std::optional<TreeHeadRow>> SqlStore::LatestTreeHead() {
  auto lease = AcquireReader();
  if (!lease) return std::unexpected(lease.error());
  return QueryOne<TreeHeadRow>((*lease)->conn(), kLatestTreeHead, {}, DecodeTreeHead);
}

}  // namespace cipherchart::server::internal
