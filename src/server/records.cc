// A patient's records (docs/api.md, "Records"): list every version, fetch one (the latest or a
// given version), append version latest + 1 (streamed), and delete. A delete appends a
// tombstone version; a deleted record is gone in every version, and stays deleted (the store
// refuses any version after a tombstone).
#include "src/server/handler.h"
#include "src/server/ids.h"

namespace cipherchart::server {
namespace {

namespace field = protocol::field;
namespace header = protocol::header;

json RecordJson(const RecordMeta& m) {
  return {
      {field::kRecordId, m.record_id}, {field::kVersion, m.version},      {field::kSection, m.section},
      {field::kPolicy, m.policy},      {field::kAuthorId, m.author_id},   {"size", m.size},
      {"sha256", ToHex(m.sha256)},     {field::kCreatedAt, m.created_at}, {field::kTombstone, m.tombstone}};
}

ApiResult<std::string> RecordIdParam(std::string rid) {
  if (!IsValidRecordId(rid)) return Reject(400, "bad_path", "record ids are 1..64 of [A-Za-z0-9._-]");
  return rid;
}

ApiResult<std::int64_t> VersionParam(std::string_view v) {
  const auto version = ParseCount(v);
  if (!version || *version < 1) return Reject(400, "bad_path", "the version must be a positive integer");
  return *version;
}

}  // namespace

asio::awaitable<HttpReply> Service::ListRecords(const Call& call) {
  const Principal& who = call.caller();
  const std::string patient_id = call.Param("id");
  auto patient = AuthorisePatient(patient_id, who, PatientAccess::kRead, "record.list", "");
  if (!patient) co_return ErrorReply(patient.error());
  auto list = store_.ListRecords(patient_id);
  if (!list) co_return ErrorReply(list.error());
  AuditedWriter::Request w;
  w.audit.push_back({NowMillis(), who.account.user_id, "record.list", patient_id, "", "ok"});
  if (auto r = co_await Commit(std::move(w)); !r) co_return ErrorReply(r.error());
  json out = json::array();
  for (const auto& m : *list) out.push_back(RecordJson(m));
  co_return JsonReply(200, {{field::kPatientId, patient_id}, {field::kRecords, out}});
}

asio::awaitable<HttpReply> Service::PutRecord(const Call& call) {
  const Principal& who = call.caller();
  const HttpRequest& req = call.req;
  const std::string patient_id = call.Param("id"), v = call.Param("v");
  auto rid = RecordIdParam(call.Param("rid"));
  if (!rid) co_return ErrorReply(rid.error());
  auto version = VersionParam(v);
  if (!version) co_return ErrorReply(version.error());
  if (req.section.empty() || req.section.size() > 64 || !IsPrintableText(req.section)) {
    co_return ErrorReply(
        400, "bad_field",
        "header '" + std::string(header::kSection) + "': 1..64 bytes of printable UTF-8 required");
  }
  if (req.policy.size() > 4096 || !IsPrintableText(req.policy)) {
    co_return ErrorReply(
        400, "bad_field",
        "header '" + std::string(header::kPolicy) + "': at most 4096 bytes of printable UTF-8");
  }
  const std::string target = *rid + "@" + v;
  auto patient = AuthorisePatient(patient_id, who, PatientAccess::kAppend, "record.append", target);
  if (!patient) co_return ErrorReply(patient.error());
  RecordMeta meta;
  meta.patient_id = patient_id;
  meta.record_id = *rid;
  meta.version = *version;
  meta.section = req.section;
  meta.policy = req.policy;
  meta.author_id = who.account.user_id;
  meta.created_at = NowMillis();
  auto finish = [meta](WriteTx& tx, const Streamed& s) mutable {
    meta.size = s.size;
    meta.sha256 = s.sha256;
    meta.blob_id = s.blob_id;
    return tx.InsertRecordVersion(meta);
  };
  std::vector<AuditEntry> audit{
      {NowMillis(), who.account.user_id, "record.append", patient_id, target, "ok"}};
  auto stored = co_await StreamToBlob(req, call.body, config_.max_upload, finish, std::move(audit));
  if (!stored) co_return ErrorReply(stored.error());
  co_return JsonReply(201, {{field::kRecordId, *rid},
                            {field::kVersion, *version},
                            {"size", stored->size},
                            {"sha256", ToHex(stored->sha256)}});
}

// GET .../records/{rid} (the latest version) and .../records/{rid}/versions/{v}.
asio::awaitable<HttpReply> Service::FetchRecord(const Call& call) {
  const Principal& who = call.caller();
  const std::string patient_id = call.Param("id"), v = call.Param("v");
  auto rid = RecordIdParam(call.Param("rid"));
  if (!rid) co_return ErrorReply(rid.error());
  std::optional<std::int64_t> version;
  if (!v.empty()) {
    auto parsed = VersionParam(v);
    if (!parsed) co_return ErrorReply(parsed.error());
    version = *parsed;
  }
  const std::string target = *rid + "@" + (v.empty() ? std::string("latest") : v);
  auto patient = AuthorisePatient(patient_id, who, PatientAccess::kRead, "record.fetch", target);
  if (!patient) co_return ErrorReply(patient.error());
  auto meta_r = store_.GetRecord(patient_id, *rid, version);
  if (!meta_r) co_return ErrorReply(meta_r.error());
  const std::optional<RecordMeta>& meta = *meta_r;
  // A deleted record is gone in every version, not only the latest: the owner deletes what
  // nobody should read again (the sealed personal authority after enrolment).
  bool deleted = meta.has_value() && meta->tombstone;
  if (meta.has_value() && !deleted && version.has_value()) {
    auto latest_r = store_.GetRecord(patient_id, *rid, std::nullopt);
    if (!latest_r) co_return ErrorReply(latest_r.error());
    const std::optional<RecordMeta>& latest = *latest_r;
    deleted = latest.has_value() && latest->tombstone;
  }
  if (!meta.has_value() || deleted) {
    LogDetached({NowMillis(), who.account.user_id, "record.fetch", patient_id, target, "denied:404"});
    co_return ErrorReply(
        404, "not_found",
        meta.has_value() ? "the record was deleted by its owner" : "no such record or version");
  }
  // Answered only once the audit entry is durable (docs/api.md).
  AuditedWriter::Request w;
  w.audit.push_back({NowMillis(), who.account.user_id, "record.fetch", patient_id,
                     *rid + "@" + std::to_string(meta->version), "ok"});
  if (auto r = co_await Commit(std::move(w)); !r) co_return ErrorReply(r.error());
  HttpReply reply;
  reply.content_type = "application/octet-stream";
  reply.blob_id = meta->blob_id;
  reply.blob_size = meta->size;
  reply.headers.emplace_back(header::kVersion, std::to_string(meta->version));
  reply.headers.emplace_back(header::kSha256, ToHex(meta->sha256));
  reply.headers.emplace_back(header::kSection, meta->section);
  reply.headers.emplace_back(header::kAuthor, meta->author_id);
  co_return reply;
}

// Only the owner deletes: a tombstone as version latest + 1.
asio::awaitable<HttpReply> Service::DeleteRecord(const Call& call) {
  const Principal& who = call.caller();
  const std::string patient_id = call.Param("id");
  auto rid = RecordIdParam(call.Param("rid"));
  if (!rid) co_return ErrorReply(rid.error());
  auto patient = AuthorisePatient(patient_id, who, PatientAccess::kOwner, "record.delete", *rid);
  if (!patient) co_return ErrorReply(patient.error());
  auto latest_r = store_.GetRecord(patient_id, *rid, std::nullopt);
  if (!latest_r) co_return ErrorReply(latest_r.error());
  const std::optional<RecordMeta>& latest = *latest_r;
  if (!latest.has_value() || latest->tombstone)
    co_return ErrorReply(404, "not_found", "no such record (or already deleted)");
  RecordMeta t;
  t.patient_id = patient_id;
  t.record_id = *rid;
  t.version = latest->version + 1;
  t.section = latest->section;
  t.author_id = who.account.user_id;
  t.created_at = NowMillis();
  t.tombstone = true;
  AuditedWriter::Request w;
  w.apply = [t](WriteTx& tx) { return tx.InsertRecordVersion(t); };
  w.audit.push_back({NowMillis(), who.account.user_id, "record.delete", patient_id,
                     *rid + "@" + std::to_string(t.version), "ok"});
  if (auto r = co_await Commit(std::move(w)); !r) {
    if (r.error().code() == ErrorCode::kConflict)
      co_return ErrorReply(409, "conflict", "a new version was added meanwhile; retry");
    co_return ErrorReply(r.error());
  }
  co_return JsonReply(200,
                      {{field::kRecordId, *rid}, {field::kVersion, t.version}, {field::kTombstone, true}});
}

}  // namespace cipherchart::server
