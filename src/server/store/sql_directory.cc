// Key packages and the authority directory (docs/storage.md: `key_packages`,
// `directory_entries`).
#include "src/server/store/sql_internal.h"

namespace cipherchart::server::internal {
namespace {

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

}  // namespace

Result<void> SqlWriteTx::InsertKeyPackage(const KeyPackage& k) {
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

Result<bool> SqlWriteTx::PutDirectoryEntry(const DirectoryEntryRow& d, std::int64_t max_entries) {
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
                      {Param::Text(d.authority_namespace), Param::Text(d.organisation), Param::Bytes(d.entry),
                       Param::Text(d.publisher_id), Param::Int(d.updated_at)},
                      nullptr);
  if (!n) return std::unexpected(n.error());
  if (*n == 1) return true;
  // Another server inserted the namespace since the check (PostgreSQL): replace if ours.
  auto again = replace();
  if (!again) return std::unexpected(again.error());
  if (*again) return false;
  return std::unexpected(owned);
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

}  // namespace cipherchart::server::internal
