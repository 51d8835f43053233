// Patients, blobs and record versions (docs/storage.md: `patients`, `blobs`, `blob_chunks`,
// `records`). Versions are never updated; a tombstone ends a record for good.
#include "src/server/store/sql_internal.h"

namespace cipherchart::server::internal {
namespace {

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

}  // namespace

Result<void> SqlWriteTx::InsertPatient(const Patient& p) {
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

Result<bool> SqlWriteTx::EnrolPatient(const std::string& patient_id,
                                      const std::array<std::uint8_t, 32>& code_hash,
                                      const std::string& owner_user_id) {
  if (auto ok = CheckOpen(); !ok) return std::unexpected(ok.error());
  if (auto ok = CheckText("patient_id", patient_id); !ok) return std::unexpected(ok.error());
  if (auto ok = CheckNonEmptyText("owner_user_id", owner_user_id); !ok) return std::unexpected(ok.error());
  auto n = conn().Run(
      kEnrolPatient, {Param::Text(patient_id), Param::Bytes(code_hash), Param::Text(owner_user_id)}, nullptr);
  if (!n) return std::unexpected(n.error());
  return *n == 1;
}

Result<std::string> SqlWriteTx::CreateBlob() {
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

Result<void> SqlWriteTx::AppendBlobChunk(const std::string& blob_id, std::int64_t index,
                                         const std::vector<std::uint8_t>& bytes) {
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
  auto n = conn().Run(kInsertChunk, {Param::Text(blob_id), Param::Int(index), Param::Bytes(bytes)}, nullptr);
  if (!n) return std::unexpected(n.error());
  if (*n != 1) return std::unexpected(Conflict("blob chunk " + std::to_string(index) + " exists"));
  return {};
}

Result<std::int64_t> SqlWriteTx::DeleteOrphanBlobs(std::int64_t before_ms) {
  if (auto ok = CheckOpen(); !ok) return std::unexpected(ok.error());
  return conn().Run(kDeleteOrphanBlobs, {Param::Int(before_ms)}, nullptr);
}

Result<void> SqlWriteTx::InsertRecordVersion(const RecordMeta& m) {
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

}  // namespace cipherchart::server::internal
