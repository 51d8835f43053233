// Internal to the SQL store (sql_store.cc and the sql_*.cc files beside it): the write
// transaction, row decoding and query helpers, and the statements more than one file runs.
// Every statement (an `Sql` constant) is defined exactly once: the PostgreSQL backend prepares
// statements by the constant's address and name.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "src/server/store/sql_store.h"

namespace cipherchart::server::internal {

// Used by records and blobs (sql_records.cc) and key packages (sql_directory.cc).
inline constexpr Sql kBlobExists = {"blob exists", "SELECT 1 FROM blobs WHERE blob_id = $1"};

inline Error Invalid(std::string message) { return Error(ErrorCode::kInvalidArgument, std::move(message)); }
// A uniqueness, versioning or state rule refused the write (docs/storage.md, "Errors").
inline Error Conflict(std::string message) { return Error(ErrorCode::kConflict, std::move(message)); }

// kInvalidArgument if `value` is empty, else CheckText.
Result<void> CheckNonEmptyText(std::string_view field, std::string_view value);

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
                                             std::initializer_list<Param> params);
// Whether `sql` returns a row.
Result<bool> Exists(Connection& conn, const Sql& sql, std::initializer_list<Param> params);

// The write transaction, on a leased connection. Its methods are defined by concern:
// savepoints and commit in sql_store.cc, accounts, challenges and sessions in sql_accounts.cc,
// patients, blobs and records in sql_records.cc, key packages and the directory in
// sql_directory.cc, the audit log in sql_audit.cc.
class SqlWriteTx final : public WriteTx {
 public:
  SqlWriteTx(std::unique_ptr<Lease> lease, const Dialect& dialect)
      : lease_(std::move(lease)), dialect_(dialect) {}
  ~SqlWriteTx() override {
    if (lease_) Rollback();
  }
  SqlWriteTx(const SqlWriteTx&) = delete;
  SqlWriteTx& operator=(const SqlWriteTx&) = delete;

  Result<void> Savepoint() override;
  Result<void> ReleaseSavepoint() override;
  // Undoes everything since the matching Savepoint() and ends that savepoint (no Release
  // needed afterwards). PostgreSQL also drops the audit-head lock if it was taken after it.
  Result<void> RollbackToSavepoint() override;

  Result<void> InsertAccount(const Account& a) override;
  Result<void> DecideRegistration(const std::string& user_id, ApprovalState state, const std::string& reason,
                                  const std::string& decided_by, std::int64_t decided_at) override;
  Result<void> InsertChallenge(const Challenge& c) override;
  Result<std::optional<Challenge>> ConsumeChallenge(const std::array<std::uint8_t, 32>& nonce) override;
  Result<void> InsertSession(const Session& s) override;
  Result<void> DeleteSession(const std::array<std::uint8_t, 32>& token_hash) override;
  Result<void> DeleteExpired(std::int64_t now_seconds) override;

  Result<void> InsertPatient(const Patient& p) override;
  Result<bool> EnrolPatient(const std::string& patient_id, const std::array<std::uint8_t, 32>& code_hash,
                            const std::string& owner_user_id) override;
  Result<std::string> CreateBlob() override;
  Result<void> AppendBlobChunk(const std::string& blob_id, std::int64_t index,
                               const std::vector<std::uint8_t>& bytes) override;
  Result<std::int64_t> DeleteOrphanBlobs(std::int64_t before_ms) override;
  Result<void> InsertRecordVersion(const RecordMeta& m) override;

  Result<void> InsertKeyPackage(const KeyPackage& k) override;
  Result<bool> PutDirectoryEntry(const DirectoryEntryRow& d, std::int64_t max_entries) override;

  Result<std::int64_t> LockAuditHead() override;
  Result<void> AppendAudit(const std::vector<AuditRow>& rows) override;
  Result<void> InsertTreeHead(const TreeHeadRow& head) override;

  Result<void> Commit() override;
  void Rollback() override;

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

}  // namespace cipherchart::server::internal
