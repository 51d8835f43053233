// The audit log and its signed tree heads (docs/storage.md: `audit_head`, `audit`,
// `tree_heads`). Appends are serialised by the lock on the `audit_head` row.
#include "src/server/store/sql_internal.h"

namespace cipherchart::server::internal {
namespace {

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

}  // namespace

Result<std::int64_t> SqlWriteTx::LockAuditHead() {
  if (auto ok = CheckOpen(); !ok) return std::unexpected(ok.error());
  auto size = QueryInt(conn(), *dialect_.lock_audit_head, {});
  if (!size) return std::unexpected(size.error());
  const std::optional<std::int64_t> head = *size;
  if (!head) return Fail(ErrorCode::kInternal, "lock audit head: the audit_head row is missing");
  audit_next_ = head;
  return *head;
}

Result<void> SqlWriteTx::AppendAudit(const std::vector<AuditRow>& rows) {
  if (auto ok = CheckOpen(); !ok) return ok;
  if (!audit_next_) return std::unexpected(Conflict("AppendAudit before LockAuditHead in this transaction"));
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
    auto n = conn().Run(kInsertAudit,
                        {Param::Int(row.seq), Param::Text(row.patient_id), Param::Bytes(row.entry)}, nullptr);
    if (!n) return std::unexpected(n.error());
    if (*n != 1) return std::unexpected(Conflict("audit seq " + std::to_string(row.seq) + " exists"));
  }
  auto n = conn().Run(kSetAuditHead, {Param::Int(next)}, nullptr);
  if (!n) return std::unexpected(n.error());
  if (*n != 1) return Fail(ErrorCode::kInternal, "update audit head: the audit_head row is missing");
  audit_next_ = next;
  return {};
}

Result<void> SqlWriteTx::InsertTreeHead(const TreeHeadRow& head) {
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
