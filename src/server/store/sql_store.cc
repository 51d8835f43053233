// The Store logic shared by both backends: validation, the write transaction's savepoints and
// commit, migration. Every statement in the sql_*.cc files is plain SQL that SQLite 3.35+ and
// PostgreSQL (and Citus) both run; uniqueness conflicts use ON CONFLICT DO NOTHING and a row
// count rather than a failed statement, because a failed statement aborts a whole PostgreSQL
// transaction. By concern: sql_accounts.cc (accounts, challenges, sessions), sql_records.cc
// (patients, blobs, records), sql_directory.cc (key packages, the authority directory),
// sql_audit.cc (the audit log and tree heads).
#include <chrono>

#include "cipherchart/common/random.h"
#include "src/server/store/sql_internal.h"

namespace cipherchart::server::internal {
namespace {

constexpr Sql kSchemaVersionRead = {"read schema version", "SELECT MAX(version) FROM schema_version"};
constexpr Sql kSchemaVersionInsert = {"record schema version",
                                      "INSERT INTO schema_version (version) VALUES ($1)"};

}  // namespace

// ---- shared helpers ---------------------------------------------------------------------

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

// ---- the write transaction: savepoints and commit ---------------------------------------

Result<void> SqlWriteTx::Savepoint() {
  if (auto ok = CheckOpen(); !ok) return ok;
  if (auto ok = conn().Exec("savepoint", "SAVEPOINT sp" + std::to_string(savepoints_.size())); !ok) return ok;
  savepoints_.push_back(audit_next_);
  return {};
}

Result<void> SqlWriteTx::ReleaseSavepoint() {
  if (auto ok = CheckSavepoint(); !ok) return ok;
  if (auto ok =
          conn().Exec("release savepoint", "RELEASE SAVEPOINT sp" + std::to_string(savepoints_.size() - 1));
      !ok) {
    return ok;
  }
  savepoints_.pop_back();
  return {};
}

Result<void> SqlWriteTx::RollbackToSavepoint() {
  if (auto ok = CheckSavepoint(); !ok) return ok;
  const std::string name = "sp" + std::to_string(savepoints_.size() - 1);
  if (auto ok = conn().Exec("rollback to savepoint", "ROLLBACK TO SAVEPOINT " + name); !ok) return ok;
  if (auto ok = conn().Exec("release savepoint", "RELEASE SAVEPOINT " + name); !ok) return ok;
  audit_next_ = savepoints_.back();
  savepoints_.pop_back();
  return {};
}

Result<void> SqlWriteTx::Commit() {
  if (auto ok = CheckOpen(); !ok) return ok;
  auto ok = conn().Commit();
  lease_.reset();  // the connection (and SQLite's writer lock) goes back at once
  return ok;
}

void SqlWriteTx::Rollback() {
  if (!lease_) return;
  conn().Rollback();
  lease_.reset();
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

}  // namespace cipherchart::server::internal
