// The SQLite backend: one file in WAL mode (readers never wait for the writer), synchronous=FULL
// (a commit is on disk when it returns), one write connection held by the open WriteTx, and a
// pool of read connections so reads from many threads run side by side.
#include <sqlite3.h>

#include <mutex>
#include <unordered_map>
#include <utility>

#include "src/server/store/sql_store.h"

namespace cipherchart::server {
namespace {

using internal::Connection;
using internal::Lease;
using internal::Param;
using internal::Row;
using internal::RowFn;
using internal::Sql;

// How long a statement waits for another connection's lock (another process writing the same
// file, or a checkpoint) before failing with "database is locked".
constexpr int kBusyTimeoutMs = 10000;
// Idle read connections kept open; more are opened under load and closed when returned.
constexpr std::size_t kMaxIdleReaders = 8;

// INTEGER PRIMARY KEY columns (audit.seq, tree_heads.tree_size) are the rowid: no second index.
constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (
  user_id TEXT PRIMARY KEY,
  role INTEGER NOT NULL,
  identity_key BLOB NOT NULL UNIQUE CHECK (length(identity_key) = 32),
  delivery_key BLOB NOT NULL CHECK (length(delivery_key) = 32),
  organisation TEXT NOT NULL,
  details_json TEXT NOT NULL,
  state INTEGER NOT NULL,
  decision_reason TEXT NOT NULL,
  decided_by TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  decided_at INTEGER NOT NULL,
  password_hash TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS accounts_by_organisation ON accounts (organisation, state, created_at);
CREATE INDEX IF NOT EXISTS accounts_by_state ON accounts (state, created_at);
CREATE TABLE IF NOT EXISTS challenges (
  nonce BLOB PRIMARY KEY,
  user_id TEXT NOT NULL,
  expires_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS challenges_by_expiry ON challenges (expires_at);
CREATE TABLE IF NOT EXISTS sessions (
  token_hash BLOB PRIMARY KEY,
  user_id TEXT NOT NULL,
  expires_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS sessions_by_expiry ON sessions (expires_at);
CREATE TABLE IF NOT EXISTS patients (
  patient_id TEXT PRIMARY KEY,
  owner_user_id TEXT NOT NULL,
  created_by TEXT NOT NULL,
  enrolment_code_hash BLOB NOT NULL CHECK (length(enrolment_code_hash) = 32),
  enrolment_used INTEGER NOT NULL,
  created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS blobs (
  blob_id TEXT PRIMARY KEY,
  created_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS blobs_by_created_at ON blobs (created_at);
CREATE TABLE IF NOT EXISTS blob_chunks (
  blob_id TEXT NOT NULL REFERENCES blobs (blob_id) ON DELETE CASCADE,
  idx INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (blob_id, idx));
CREATE TABLE IF NOT EXISTS records (
  patient_id TEXT NOT NULL,
  record_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  section TEXT NOT NULL,
  policy TEXT NOT NULL,
  author_id TEXT NOT NULL,
  size INTEGER NOT NULL,
  sha256 BLOB NOT NULL CHECK (length(sha256) = 32),
  created_at INTEGER NOT NULL,
  tombstone INTEGER NOT NULL,
  blob_id TEXT REFERENCES blobs (blob_id),
  PRIMARY KEY (patient_id, record_id, version));
CREATE INDEX IF NOT EXISTS records_by_blob ON records (blob_id);
CREATE TABLE IF NOT EXISTS key_packages (
  package_id TEXT PRIMARY KEY,
  recipient_id TEXT NOT NULL,
  sender_id TEXT NOT NULL,
  size INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  blob_id TEXT NOT NULL REFERENCES blobs (blob_id));
CREATE INDEX IF NOT EXISTS key_packages_by_recipient ON key_packages (recipient_id, created_at);
CREATE INDEX IF NOT EXISTS key_packages_by_blob ON key_packages (blob_id);
CREATE TABLE IF NOT EXISTS audit_head (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  size INTEGER NOT NULL);
INSERT INTO audit_head (id, size) VALUES (1, 0) ON CONFLICT DO NOTHING;
CREATE TABLE IF NOT EXISTS audit (
  seq INTEGER PRIMARY KEY,
  patient_id TEXT NOT NULL,
  entry BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS audit_by_patient ON audit (patient_id, seq);
CREATE TABLE IF NOT EXISTS tree_heads (
  tree_size INTEGER PRIMARY KEY,
  timestamp_ms INTEGER NOT NULL,
  root BLOB NOT NULL CHECK (length(root) = 32),
  signature BLOB NOT NULL CHECK (length(signature) = 64));
CREATE TABLE IF NOT EXISTS directory_entries (
  authority_namespace TEXT PRIMARY KEY,
  organisation TEXT NOT NULL,
  entry BLOB NOT NULL,
  publisher_id TEXT NOT NULL,
  updated_at INTEGER NOT NULL);
)sql";

// The write connection holds the database's write lock from BEGIN IMMEDIATE on, so this plain
// read already sees the head no other writer can move.
constexpr Sql kLockAuditHead = {"lock audit head", "SELECT size FROM audit_head WHERE id = 1"};

constexpr internal::Dialect kDialect = {"sqlite", kSchema, &kLockAuditHead};

// "$1" -> "?1": the shared statements use PostgreSQL's parameter syntax.
std::string ToSqliteParams(const char* text) {
  std::string out(text);
  for (std::size_t i = 0; i + 1 < out.size(); ++i) {
    if (out[i] == '$' && out[i + 1] >= '0' && out[i + 1] <= '9') out[i] = '?';
  }
  return out;
}

class SqliteRow final : public Row {
 public:
  explicit SqliteRow(sqlite3_stmt* stmt) : stmt_(stmt) {}
  bool IsNull(int column) const override { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
  std::int64_t Int(int column) const override { return sqlite3_column_int64(stmt_, column); }
  std::span<const std::uint8_t> Bytes(int column) const override {
    // column_blob before column_bytes, as SQLite's documentation asks; NULL for an empty value.
    const void* data = sqlite3_column_blob(stmt_, column);
    const int size = sqlite3_column_bytes(stmt_, column);
    if (data == nullptr || size <= 0) return {};
    return {static_cast<const std::uint8_t*>(data), static_cast<std::size_t>(size)};
  }

 private:
  sqlite3_stmt* stmt_;
};

class SqliteConnection final : public Connection {
 public:
  static Result<std::unique_ptr<SqliteConnection>> Open(const std::string& path, bool writer) {
    sqlite3* db = nullptr;
    // NOMUTEX: a connection is only ever used by one thread at a time (leases guarantee it).
    const int rc = sqlite3_open_v2(path.c_str(), &db,
                                   SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    auto conn = std::unique_ptr<SqliteConnection>(new SqliteConnection(db));
    if (rc != SQLITE_OK) {
      return Fail(ErrorCode::kInternal, "open sqlite database " + path + ": " +
                                            (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, kBusyTimeoutMs);
    if (writer) {
      // journal_mode is stored in the file: set once by the writer, before any reader opens.
      std::string mode;
      auto ran = conn->Query("set journal mode", "PRAGMA journal_mode=WAL", &mode);
      if (!ran) return std::unexpected(ran.error());
      if (mode != "wal") {
        return Fail(ErrorCode::kInternal,
                    "open sqlite database " + path + ": cannot use WAL (journal mode " + mode + ")");
      }
    }
    if (auto ok = conn->ExecRaw("set pragmas", "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON"); !ok)
      return std::unexpected(ok.error());
    if (!writer) {
      if (auto ok = conn->ExecRaw("set query_only", "PRAGMA query_only=ON"); !ok)
        return std::unexpected(ok.error());
    }
    return conn;
  }

  ~SqliteConnection() override {
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
    sqlite3_close_v2(db_);
  }
  SqliteConnection(const SqliteConnection&) = delete;
  SqliteConnection& operator=(const SqliteConnection&) = delete;

  Result<std::int64_t> Run(const Sql& sql, std::initializer_list<Param> params,
                           const RowFn& on_row) override {
    auto stmt = Prepare(sql);
    if (!stmt) return std::unexpected(stmt.error());
    sqlite3_stmt* st = *stmt;
    // Leaves the cached statement reset and unbound whichever way this returns.
    struct Reset {
      sqlite3_stmt* st;
      ~Reset() {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
      }
    } reset{st};
    int index = 1;
    for (const Param& p : params) {
      int rc = SQLITE_OK;
      switch (p.kind) {
        case Param::Kind::kNull:
          rc = sqlite3_bind_null(st, index);
          break;
        case Param::Kind::kInt:
        case Param::Kind::kBool:
          rc = sqlite3_bind_int64(st, index, p.number);
          break;
        case Param::Kind::kText:
          // A null pointer would bind SQL NULL, so an empty string binds a literal "".
          rc = sqlite3_bind_text64(st, index, p.size == 0 ? "" : reinterpret_cast<const char*>(p.data),
                                   p.size, SQLITE_STATIC, SQLITE_UTF8);
          break;
        case Param::Kind::kBytes:
          rc = p.size == 0 ? sqlite3_bind_zeroblob(st, index, 0)
                           : sqlite3_bind_blob64(st, index, p.data, p.size, SQLITE_STATIC);
          break;
      }
      if (rc != SQLITE_OK) return std::unexpected(DbError(sql.name, rc));
      ++index;
    }
    const SqliteRow row(st);
    for (;;) {
      const int rc = sqlite3_step(st);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return std::unexpected(DbError(sql.name, rc));
      if (on_row) {
        if (auto ok = on_row(row); !ok) return std::unexpected(ok.error());
      }
    }
    return sqlite3_changes64(db_);
  }

  Result<void> Exec(std::string_view name, const std::string& text) override {
    return ExecRaw(name, text.c_str());
  }

  Result<void> Begin() override {
    // A transaction left open by a failed ROLLBACK must not swallow the next one.
    if (sqlite3_get_autocommit(db_) == 0) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    // IMMEDIATE takes the write lock now, so no statement of the transaction can hit
    // SQLITE_BUSY halfway (which a deferred transaction could, without the busy handler).
    return ExecRaw("begin", "BEGIN IMMEDIATE");
  }

  Result<void> Commit() override {
    // SQLite rolls the whole transaction back on some errors (disk full, I/O): refuse to
    // report that as a commit.
    if (sqlite3_get_autocommit(db_) != 0) {
      return Fail(ErrorCode::kInternal, "commit: the transaction was rolled back by an earlier error");
    }
    auto ok = ExecRaw("commit", "COMMIT");
    if (!ok) Rollback();
    return ok;
  }

  // Best effort: if ROLLBACK itself fails, the next Begin retries it.
  void Rollback() override {
    if (sqlite3_get_autocommit(db_) == 0) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }

 private:
  explicit SqliteConnection(sqlite3* db) : db_(db) {}

  Result<void> ExecRaw(std::string_view name, const char* text) {
    const int rc = sqlite3_exec(db_, text, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return std::unexpected(DbError(name, rc));
    return {};
  }

  // Runs `text` and keeps the first column of its first row in `*out`.
  Result<void> Query(std::string_view name, const char* text, std::string* out) {
    sqlite3_stmt* st = nullptr;
    int rc = sqlite3_prepare_v2(db_, text, -1, &st, nullptr);
    if (rc == SQLITE_OK) {
      rc = sqlite3_step(st);
      if (rc == SQLITE_ROW) {
        const auto* t = sqlite3_column_text(st, 0);
        if (t != nullptr) *out = reinterpret_cast<const char*>(t);
        rc = SQLITE_OK;
      } else if (rc == SQLITE_DONE) {
        rc = SQLITE_OK;
      }
    }
    Error error = DbError(name, rc);
    sqlite3_finalize(st);
    if (rc != SQLITE_OK) return std::unexpected(std::move(error));
    return {};
  }

  Result<sqlite3_stmt*> Prepare(const Sql& sql) {
    if (auto it = cache_.find(&sql); it != cache_.end()) return it->second;
    const std::string text = ToSqliteParams(sql.text);
    sqlite3_stmt* st = nullptr;
    const int rc = sqlite3_prepare_v3(db_, text.c_str(), static_cast<int>(text.size() + 1),
                                      SQLITE_PREPARE_PERSISTENT, &st, nullptr);
    if (rc != SQLITE_OK) return std::unexpected(DbError(sql.name, rc));
    cache_.emplace(&sql, st);
    return st;
  }

  // Constraint violations are precondition failures; everything else is the database failing.
  // sqlite3_errmsg names the constraint ("UNIQUE constraint failed: accounts.user_id"), never
  // a bound value.
  Error DbError(std::string_view name, int rc) const {
    const ErrorCode code = (rc & 0xff) == SQLITE_CONSTRAINT ? ErrorCode::kConflict : ErrorCode::kInternal;
    return Error(
        code, std::string(name) + ": " + sqlite3_errmsg(db_) + " (sqlite error " + std::to_string(rc) + ")");
  }

  sqlite3* db_;
  // Keyed by the statement's address: every Sql is a constant with static storage.
  std::unordered_map<const Sql*, sqlite3_stmt*> cache_;
};

class SqliteStore final : public internal::SqlStore {
 public:
  SqliteStore(std::string path, std::unique_ptr<SqliteConnection> writer)
      : SqlStore(kDialect), path_(std::move(path)), writer_(std::move(writer)) {}

 protected:
  Result<std::unique_ptr<Lease>> AcquireReader() override {
    std::unique_ptr<SqliteConnection> conn;
    {
      const std::lock_guard lock(readers_mutex_);
      if (!idle_readers_.empty()) {
        conn = std::move(idle_readers_.back());
        idle_readers_.pop_back();
      }
    }
    if (!conn) {
      auto opened = SqliteConnection::Open(path_, /*writer=*/false);
      if (!opened) return std::unexpected(opened.error());
      conn = std::move(*opened);
    }
    return std::make_unique<ReaderLease>(*this, std::move(conn));
  }

  // Blocks while another WriteTx of this store is open (a server has one writer thread).
  Result<std::unique_ptr<Lease>> AcquireWriter() override {
    return std::make_unique<WriterLease>(writer_mutex_, *writer_);
  }

 private:
  class ReaderLease final : public Lease {
   public:
    ReaderLease(SqliteStore& store, std::unique_ptr<SqliteConnection> conn)
        : store_(store), conn_(std::move(conn)) {}
    ~ReaderLease() override {
      const std::lock_guard lock(store_.readers_mutex_);
      if (store_.idle_readers_.size() < kMaxIdleReaders) store_.idle_readers_.push_back(std::move(conn_));
    }
    ReaderLease(const ReaderLease&) = delete;
    ReaderLease& operator=(const ReaderLease&) = delete;
    Connection& conn() override { return *conn_; }

   private:
    SqliteStore& store_;
    std::unique_ptr<SqliteConnection> conn_;
  };

  class WriterLease final : public Lease {
   public:
    WriterLease(std::mutex& mutex, SqliteConnection& conn) : lock_(mutex), conn_(conn) {}
    Connection& conn() override { return conn_; }

   private:
    std::unique_lock<std::mutex> lock_;
    SqliteConnection& conn_;
  };

  std::string path_;
  std::mutex writer_mutex_;
  std::unique_ptr<SqliteConnection> writer_;
  std::mutex readers_mutex_;
  std::vector<std::unique_ptr<SqliteConnection>> idle_readers_;
};

}  // namespace

Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path) {
  if (path.empty()) return Fail(ErrorCode::kInvalidArgument, "sqlite: the database path is empty");
  auto writer = SqliteConnection::Open(path, /*writer=*/true);
  if (!writer) return std::unexpected(writer.error());
  return std::make_unique<SqliteStore>(path, std::move(*writer));
}

}  // namespace cipherchart::server
