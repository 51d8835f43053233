// The PostgreSQL backend, for several stateless servers sharing one database: a small pool of
// libpq connections for reads and one for the write transaction, every value bound as a parameter of a
// prepared statement (text in the binary format, so nothing is ever cut at a NUL; bytes as BYTEA), results in
// binary.
//
// Concurrency between servers rests on row locks and primary keys only (plain SQL that Citus
// also runs): the audit head is one row locked FOR UPDATE; a record version race ends in the
// primary key on (patient_id, record_id, version).
#include <libpq-fe.h>

#include <charconv>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <unordered_set>
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

// Text columns use the "C" collation: byte order, as in SQLite, whatever the database locale.
constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (
  user_id TEXT COLLATE "C" PRIMARY KEY,
  role INTEGER NOT NULL,
  identity_key BYTEA NOT NULL UNIQUE CHECK (length(identity_key) = 32),
  delivery_key BYTEA NOT NULL CHECK (length(delivery_key) = 32),
  organisation TEXT COLLATE "C" NOT NULL,
  details_json TEXT NOT NULL,
  state INTEGER NOT NULL,
  decision_reason TEXT NOT NULL,
  decided_by TEXT COLLATE "C" NOT NULL,
  created_at BIGINT NOT NULL,
  decided_at BIGINT NOT NULL,
  password_hash TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS accounts_by_organisation ON accounts (organisation, state, created_at);
CREATE INDEX IF NOT EXISTS accounts_by_state ON accounts (state, created_at);
CREATE TABLE IF NOT EXISTS challenges (
  nonce BYTEA PRIMARY KEY,
  user_id TEXT COLLATE "C" NOT NULL,
  expires_at BIGINT NOT NULL);
CREATE INDEX IF NOT EXISTS challenges_by_expiry ON challenges (expires_at);
CREATE TABLE IF NOT EXISTS sessions (
  token_hash BYTEA PRIMARY KEY,
  user_id TEXT COLLATE "C" NOT NULL,
  expires_at BIGINT NOT NULL);
CREATE INDEX IF NOT EXISTS sessions_by_expiry ON sessions (expires_at);
CREATE TABLE IF NOT EXISTS patients (
  patient_id TEXT COLLATE "C" PRIMARY KEY,
  owner_user_id TEXT COLLATE "C" NOT NULL,
  created_by TEXT COLLATE "C" NOT NULL,
  enrolment_code_hash BYTEA NOT NULL CHECK (length(enrolment_code_hash) = 32),
  enrolment_used BOOLEAN NOT NULL,
  created_at BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS blobs (
  blob_id TEXT COLLATE "C" PRIMARY KEY,
  created_at BIGINT NOT NULL);
CREATE INDEX IF NOT EXISTS blobs_by_created_at ON blobs (created_at);
CREATE TABLE IF NOT EXISTS blob_chunks (
  blob_id TEXT COLLATE "C" NOT NULL REFERENCES blobs (blob_id) ON DELETE CASCADE,
  idx BIGINT NOT NULL,
  data BYTEA NOT NULL,
  PRIMARY KEY (blob_id, idx));
CREATE TABLE IF NOT EXISTS records (
  patient_id TEXT COLLATE "C" NOT NULL,
  record_id TEXT COLLATE "C" NOT NULL,
  version BIGINT NOT NULL,
  section TEXT NOT NULL,
  policy TEXT NOT NULL,
  author_id TEXT COLLATE "C" NOT NULL,
  size BIGINT NOT NULL,
  sha256 BYTEA NOT NULL CHECK (length(sha256) = 32),
  created_at BIGINT NOT NULL,
  tombstone BOOLEAN NOT NULL,
  blob_id TEXT COLLATE "C" REFERENCES blobs (blob_id),
  PRIMARY KEY (patient_id, record_id, version));
CREATE INDEX IF NOT EXISTS records_by_blob ON records (blob_id);
CREATE TABLE IF NOT EXISTS key_packages (
  package_id TEXT COLLATE "C" PRIMARY KEY,
  recipient_id TEXT COLLATE "C" NOT NULL,
  sender_id TEXT COLLATE "C" NOT NULL,
  size BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  blob_id TEXT COLLATE "C" NOT NULL REFERENCES blobs (blob_id));
CREATE INDEX IF NOT EXISTS key_packages_by_recipient ON key_packages (recipient_id, created_at);
CREATE INDEX IF NOT EXISTS key_packages_by_blob ON key_packages (blob_id);
CREATE TABLE IF NOT EXISTS audit_head (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  size BIGINT NOT NULL);
INSERT INTO audit_head (id, size) VALUES (1, 0) ON CONFLICT DO NOTHING;
CREATE TABLE IF NOT EXISTS audit (
  seq BIGINT PRIMARY KEY,
  patient_id TEXT COLLATE "C" NOT NULL,
  entry BYTEA NOT NULL);
CREATE INDEX IF NOT EXISTS audit_by_patient ON audit (patient_id, seq);
CREATE TABLE IF NOT EXISTS tree_heads (
  tree_size BIGINT PRIMARY KEY,
  timestamp_ms BIGINT NOT NULL,
  root BYTEA NOT NULL CHECK (length(root) = 32),
  signature BYTEA NOT NULL CHECK (length(signature) = 64));
CREATE TABLE IF NOT EXISTS directory_entries (
  authority_namespace TEXT COLLATE "C" PRIMARY KEY,
  organisation TEXT COLLATE "C" NOT NULL,
  entry BYTEA NOT NULL,
  publisher_id TEXT COLLATE "C" NOT NULL,
  updated_at BIGINT NOT NULL);
)sql";

// The row lock is held to the end of the transaction: another server's LockAuditHead waits
// here until this one commits, then reads the size this one wrote.
constexpr Sql kLockAuditHead = {"lock audit head", "SELECT size FROM audit_head WHERE id = 1 FOR UPDATE"};

constexpr internal::Dialect kDialect = {"postgresql", kSchema, &kLockAuditHead};

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, ResultDeleter>;

// libpq's messages end in a newline.
std::string Trimmed(const char* message) {
  std::string s = message != nullptr ? message : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// Binary results: integers are big-endian of their type's width, booleans one byte, text and
// BYTEA the raw bytes.
class PgRow final : public Row {
 public:
  PgRow(const PGresult* result, int row) : result_(result), row_(row) {}
  bool IsNull(int column) const override { return PQgetisnull(result_, row_, column) != 0; }
  std::int64_t Int(int column) const override {
    const auto* p = reinterpret_cast<const std::uint8_t*>(PQgetvalue(result_, row_, column));
    const int size = PQgetlength(result_, row_, column);
    std::uint64_t v = 0;
    for (int i = 0; i < size; ++i) v = (v << 8) | p[i];
    if (size > 0 && size < 8 && (p[0] & 0x80) != 0) v |= ~std::uint64_t{0} << (8 * size);  // sign-extend
    return static_cast<std::int64_t>(v);
  }
  std::span<const std::uint8_t> Bytes(int column) const override {
    const auto* p = reinterpret_cast<const std::uint8_t*>(PQgetvalue(result_, row_, column));
    return {p, static_cast<std::size_t>(PQgetlength(result_, row_, column))};
  }

 private:
  const PGresult* result_;
  int row_;
};

class PgConnection final : public Connection {
 public:
  static Result<std::unique_ptr<PgConnection>> Open(const std::string& conninfo) {
    auto conn = std::unique_ptr<PgConnection>(new PgConnection(PQconnectdb(conninfo.c_str())));
    if (conn->conn_ == nullptr) return Fail(ErrorCode::kInternal, "postgresql: connect: out of memory");
    if (PQstatus(conn->conn_) != CONNECTION_OK) {
      return Fail(ErrorCode::kInternal, "postgresql: connect: " + Trimmed(PQerrorMessage(conn->conn_)));
    }
    // IF NOT EXISTS and friends send NOTICEs, which libpq would print to stderr.
    PQsetNoticeProcessor(conn->conn_, [](void*, const char*) {}, nullptr);
    if (PQsetClientEncoding(conn->conn_, "UTF8") != 0) {
      return Fail(ErrorCode::kInternal,
                  "postgresql: set client encoding: " + Trimmed(PQerrorMessage(conn->conn_)));
    }
    // The server may default to off; a commit must be durable when it returns.
    if (auto ok = conn->ExecRaw("set synchronous_commit", "SET synchronous_commit = on"); !ok)
      return std::unexpected(ok.error());
    return conn;
  }

  ~PgConnection() override { PQfinish(conn_); }
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // Fit to go back to the pool: connected, and no transaction left open.
  bool Reusable() const {
    return PQstatus(conn_) == CONNECTION_OK && PQtransactionStatus(conn_) == PQTRANS_IDLE;
  }

  Result<std::int64_t> Run(const Sql& sql, std::initializer_list<Param> params,
                           const RowFn& on_row) override {
    if (!prepared_.contains(&sql)) {
      const PgResult prepared(PQprepare(conn_, sql.name, sql.text, 0, nullptr));
      if (PQresultStatus(prepared.get()) != PGRES_COMMAND_OK)
        return std::unexpected(DbError(sql.name, prepared.get()));
      prepared_.insert(&sql);
    }
    const std::size_t n = params.size();
    std::vector<const char*> values(n);
    std::vector<int> lengths(n);
    std::vector<int> formats(n);
    std::vector<std::string> numbers(n);  // text forms of integer parameters, alive for the call
    std::size_t i = 0;
    for (const Param& p : params) {
      switch (p.kind) {
        case Param::Kind::kNull:
          values[i] = nullptr;
          break;
        case Param::Kind::kInt:
          numbers[i] = std::to_string(p.number);
          values[i] = numbers[i].c_str();
          break;
        case Param::Kind::kBool:
          values[i] = p.number != 0 ? "t" : "f";
          break;
        case Param::Kind::kText:
        case Param::Kind::kBytes:
          // Binary format: the bytes as they are, with their length (a null pointer would be
          // SQL NULL, so an empty value points at "").
          values[i] = p.size == 0 ? "" : reinterpret_cast<const char*>(p.data);
          lengths[i] = static_cast<int>(p.size);
          formats[i] = 1;
          break;
      }
      ++i;
    }
    const PgResult result(PQexecPrepared(conn_, sql.name, static_cast<int>(n), values.data(), lengths.data(),
                                         formats.data(), /*resultFormat=*/1));
    const ExecStatusType status = PQresultStatus(result.get());
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
      return std::unexpected(DbError(sql.name, result.get()));
    }
    if (on_row && status == PGRES_TUPLES_OK) {
      const int rows = PQntuples(result.get());
      for (int r = 0; r < rows; ++r) {
        if (auto ok = on_row(PgRow(result.get(), r)); !ok) return std::unexpected(ok.error());
      }
    }
    // "" for statements that change no rows.
    const char* changed = PQcmdTuples(result.get());
    std::int64_t count = 0;
    std::from_chars(changed, changed + std::strlen(changed), count);
    return count;
  }

  Result<void> Exec(std::string_view name, const std::string& text) override {
    return ExecRaw(name, text.c_str());
  }

  Result<void> Begin() override { return ExecRaw("begin", "BEGIN"); }

  Result<void> Commit() override {
    const PgResult result(PQexec(conn_, "COMMIT"));
    if (PQresultStatus(result.get()) != PGRES_COMMAND_OK)
      return std::unexpected(DbError("commit", result.get()));
    // COMMIT of a transaction that a failed statement aborted succeeds as a ROLLBACK.
    if (std::strcmp(PQcmdStatus(result.get()), "COMMIT") != 0) {
      return Fail(ErrorCode::kInternal,
                  "commit: a statement outside a savepoint had failed, so the transaction was rolled back");
    }
    return {};
  }

  // Best effort: a connection still in a transaction afterwards is closed, not pooled.
  void Rollback() override {
    if (PQtransactionStatus(conn_) != PQTRANS_IDLE) PQclear(PQexec(conn_, "ROLLBACK"));
  }

 private:
  explicit PgConnection(PGconn* conn) : conn_(conn) {}

  Result<void> ExecRaw(std::string_view name, const char* text) {
    const PgResult result(PQexec(conn_, text));
    const ExecStatusType status = PQresultStatus(result.get());
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
      return std::unexpected(DbError(name, result.get()));
    return {};
  }

  // Integrity violations (SQLSTATE class 23) are precondition failures; the rest is the
  // database failing. Only the primary message is used: the DETAIL field can quote values.
  Error DbError(std::string_view name, const PGresult* result) const {
    const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
    const char* primary = result != nullptr ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
    std::string message =
        std::string(name) + ": " + (primary != nullptr ? primary : Trimmed(PQerrorMessage(conn_)));
    if (state != nullptr) message += " (SQLSTATE " + std::string(state) + ")";
    const bool integrity = state != nullptr && std::strncmp(state, "23", 2) == 0;
    return Error(integrity ? ErrorCode::kConflict : ErrorCode::kInternal, std::move(message));
  }

  PGconn* conn_;
  // Statements prepared on this connection, by the Sql constant's address.
  std::unordered_set<const Sql*> prepared_;
};

class PgStore final : public internal::SqlStore {
 public:
  PgStore(std::string conninfo, int pool_size, std::unique_ptr<PgConnection> first)
      : SqlStore(kDialect), conninfo_(std::move(conninfo)), pool_size_(pool_size), open_(1) {
    idle_.push_back(std::move(first));
  }

 protected:
  Result<std::unique_ptr<Lease>> AcquireReader() override { return Take(); }

  // One write connection beside the read pool, held by the open WriteTx: a second BeginWrite
  // waits (as with SQLite), and a writer thread reading while its transaction is open cannot
  // starve itself of connections.
  Result<std::unique_ptr<Lease>> AcquireWriter() override {
    std::unique_lock lock(writer_mutex_);
    if (!writer_ || !writer_->Reusable()) {
      writer_.reset();
      auto conn = PgConnection::Open(conninfo_);
      if (!conn) return std::unexpected(conn.error());
      writer_ = std::move(*conn);
    }
    return std::make_unique<WriterLease>(std::move(lock), *writer_);
  }

 private:
  class WriterLease final : public Lease {
   public:
    WriterLease(std::unique_lock<std::mutex> lock, PgConnection& conn)
        : lock_(std::move(lock)), conn_(conn) {}
    Connection& conn() override { return conn_; }

   private:
    std::unique_lock<std::mutex> lock_;
    PgConnection& conn_;
  };

  class PoolLease final : public Lease {
   public:
    PoolLease(PgStore& store, std::unique_ptr<PgConnection> conn) : store_(store), conn_(std::move(conn)) {}
    ~PoolLease() override { store_.Give(std::move(conn_)); }
    PoolLease(const PoolLease&) = delete;
    PoolLease& operator=(const PoolLease&) = delete;
    Connection& conn() override { return *conn_; }

   private:
    PgStore& store_;
    std::unique_ptr<PgConnection> conn_;
  };

  // An idle connection, a new one while fewer than pool_size are open, or else the next one
  // given back.
  Result<std::unique_ptr<Lease>> Take() {
    std::unique_lock lock(mutex_);
    available_.wait(lock, [&] { return !idle_.empty() || open_ < pool_size_; });
    if (!idle_.empty()) {
      auto conn = std::move(idle_.back());
      idle_.pop_back();
      return std::make_unique<PoolLease>(*this, std::move(conn));
    }
    ++open_;
    lock.unlock();
    auto conn = PgConnection::Open(conninfo_);
    if (!conn) {
      lock.lock();
      --open_;
      available_.notify_one();
      return std::unexpected(conn.error());
    }
    return std::make_unique<PoolLease>(*this, std::move(*conn));
  }

  // A broken connection, or one whose ROLLBACK failed, is closed rather than reused.
  void Give(std::unique_ptr<PgConnection> conn) {
    if (!conn->Reusable()) conn.reset();
    const std::lock_guard lock(mutex_);
    if (conn) {
      idle_.push_back(std::move(conn));
    } else {
      --open_;
    }
    available_.notify_one();
  }

  std::string conninfo_;
  int pool_size_;
  std::mutex mutex_;
  std::condition_variable available_;
  int open_;  // connections idle or on loan
  std::vector<std::unique_ptr<PgConnection>> idle_;
  std::mutex writer_mutex_;               // held by the open WriteTx
  std::unique_ptr<PgConnection> writer_;  // opened on first use, reopened if broken
};

}  // namespace

Result<std::unique_ptr<Store>> OpenPostgresStore(const std::string& conninfo, int pool_size) {
  if (pool_size < 1) return Fail(ErrorCode::kInvalidArgument, "postgresql: pool_size must be at least 1");
  // One connection now, so a wrong conninfo fails here rather than at the first request.
  auto first = PgConnection::Open(conninfo);
  if (!first) return std::unexpected(first.error());
  return std::make_unique<PgStore>(conninfo, pool_size, std::move(*first));
}

}  // namespace cipherchart::server
