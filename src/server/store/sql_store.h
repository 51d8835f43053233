// The Store logic, written once over a small connection abstraction that the SQLite and
// PostgreSQL backends implement (docs/storage.md). Both dialects run the same statements, so
// the two backends cannot drift apart in what they accept, refuse or return.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "cipherchart/server/store.h"

namespace cipherchart::server::internal {

// One statement. Parameters are written $1, $2, ... (the SQLite backend rewrites them to ?1,
// ?2, ...). `name` is what error messages show, and the PostgreSQL prepared-statement name.
struct Sql {
  const char* name;
  const char* text;
};

// A bound value. Text and bytes point into the caller's objects, which outlive the call.
struct Param {
  enum class Kind { kNull, kInt, kBool, kText, kBytes };
  Kind kind = Kind::kNull;
  std::int64_t number = 0;
  const std::uint8_t* data = nullptr;
  std::size_t size = 0;

  static Param Null() { return {}; }
  static Param Int(std::int64_t v) { return {Kind::kInt, v, nullptr, 0}; }
  static Param Bool(bool v) { return {Kind::kBool, v ? 1 : 0, nullptr, 0}; }
  static Param Text(std::string_view s) {
    return {Kind::kText, 0, reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
  }
  static Param Bytes(std::span<const std::uint8_t> b) { return {Kind::kBytes, 0, b.data(), b.size()}; }
};

// One result row; valid only inside the callback that receives it.
class Row {
 public:
  virtual ~Row() = default;
  virtual bool IsNull(int column) const = 0;
  // An integer or boolean column.
  virtual std::int64_t Int(int column) const = 0;
  // The raw bytes of a text or binary column.
  virtual std::span<const std::uint8_t> Bytes(int column) const = 0;
  std::string Text(int column) const {
    const auto b = Bytes(column);
    return {b.begin(), b.end()};
  }
};

using RowFn = std::function<Result<void>(const Row&)>;

// One database connection, used by one thread at a time.
class Connection {
 public:
  virtual ~Connection() = default;
  // Runs `sql` (prepared once per connection), calling `on_row` (if set) for each result row.
  // Returns how many rows an INSERT, UPDATE or DELETE changed. A uniqueness, foreign-key or
  // check violation is kConflict; every other failure kInternal.
  virtual Result<std::int64_t> Run(const Sql& sql, std::initializer_list<Param> params,
                                   const RowFn& on_row) = 0;
  // Parameterless SQL (savepoints, DDL); `name` is for error messages.
  virtual Result<void> Exec(std::string_view name, const std::string& text) = 0;
  virtual Result<void> Begin() = 0;
  // Durable on success. Fails, with no transaction left open, if the database had already
  // aborted the transaction (PostgreSQL after a failed statement outside a savepoint).
  virtual Result<void> Commit() = 0;
  virtual void Rollback() = 0;
};

// A connection on loan: destroying the lease gives it back (to the pool, or the writer lock).
class Lease {
 public:
  virtual ~Lease() = default;
  virtual Connection& conn() = 0;
};

// What differs between the dialects beyond the connection itself.
struct Dialect {
  const char* backend;         // "sqlite" / "postgresql"
  const char* schema;          // idempotent DDL, run inside a transaction by Migrate
  const Sql* lock_audit_head;  // SELECT size FROM audit_head WHERE id = 1 [FOR UPDATE]
};

// 1: the first layout; 2: adds directory_entries (Migrate creates it and records 2).
inline constexpr std::int64_t kSchemaVersion = 2;

class SqlStore : public Store {
 public:
  explicit SqlStore(const Dialect& dialect) : dialect_(dialect) {}

  Result<void> Migrate() override;
  std::string BackendName() const override { return dialect_.backend; }
  Result<std::unique_ptr<WriteTx>> BeginWrite() override;

  Result<std::optional<Account>> GetAccount(const std::string& user_id) override;
  Result<std::vector<Account>> ListAccounts(const std::string& organisation,
                                            std::optional<ApprovalState> state) override;
  Result<std::optional<Session>> GetSession(const std::array<std::uint8_t, 32>& token_hash) override;
  Result<std::optional<Patient>> GetPatient(const std::string& patient_id) override;
  Result<std::vector<RecordMeta>> ListRecords(const std::string& patient_id) override;
  Result<std::optional<RecordMeta>> GetRecord(const std::string& patient_id, const std::string& record_id,
                                              std::optional<std::int64_t> version) override;
  Result<std::vector<KeyPackage>> ListKeyPackages(const std::string& recipient_id) override;
  Result<std::optional<KeyPackage>> GetKeyPackage(const std::string& package_id) override;
  Result<std::optional<DirectoryEntryRow>> GetDirectoryEntry(const std::string& authority_namespace) override;
  Result<std::vector<DirectoryEntryRow>> ListDirectoryEntries() override;
  Result<std::int64_t> BlobChunkCount(const std::string& blob_id) override;
  Result<std::optional<std::vector<std::uint8_t>>> ReadBlobChunk(const std::string& blob_id,
                                                                 std::int64_t index) override;
  Result<std::int64_t> AuditSize() override;
  Result<std::vector<AuditRow>> ReadAudit(std::int64_t from, std::int64_t to) override;
  Result<std::vector<AuditRow>> ReadAuditForPatient(const std::string& patient_id) override;
  Result<std::vector<TreeHeadRow>> ReadTreeHeads() override;
  Result<std::optional<TreeHeadRow>> LatestTreeHead() override;

 protected:
  // A connection for one read (autocommit). Many may be out at once, from any threads.
  virtual Result<std::unique_ptr<Lease>> AcquireReader() = 0;
  // The connection a WriteTx runs on. SQLite: the single writer, held until the transaction
  // ends; PostgreSQL: one from the pool.
  virtual Result<std::unique_ptr<Lease>> AcquireWriter() = 0;

 private:
  const Dialect& dialect_;
};

// kInvalidArgument unless `value` is UTF-8 without NUL bytes: PostgreSQL cannot store a NUL in
// text (and would cut a text parameter at one), so both backends refuse them alike.
Result<void> CheckText(std::string_view field, std::string_view value);

// "b" + 26 base32 characters (128 random bits).
Result<std::string> NewBlobId();

// Unix milliseconds now (blob creation times, compared with DeleteOrphanBlobs' cutoff).
std::int64_t NowMillis();

}  // namespace cipherchart::server::internal
