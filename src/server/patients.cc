// Patients (docs/api.md, "Patients"): a practitioner registers a pseudonymous patient with the
// hash of a one-time enrolment code; the patient's account enrols with the code and becomes
// the owner. AuthorisePatient is the server's access rule for a patient's records, the second
// line behind the ABE policies; the owner alone reads the patient's audit trail.
#include "cipherchart/common/bytes.h"
#include "cipherchart/envelope/hash.h"
#include "src/server/handler.h"
#include "src/server/ids.h"

namespace cipherchart::server {
namespace {

namespace field = protocol::field;

ApiError NotAPatientId() { return {400, "bad_path", "not a patient id (check character or format)"}; }

}  // namespace

// Owner patient: everything. An approved practitioner: read and append (the ABE policy decides
// what they can decrypt). Everyone else: nothing. Refusals are audited.
ApiResult<Patient> Service::AuthorisePatient(const std::string& patient_id, const Principal& who,
                                             PatientAccess access, const char* action,
                                             const std::string& target) {
  if (!IsValidPatientId(patient_id)) return std::unexpected(NotAPatientId());
  auto patient_r = store_.GetPatient(patient_id);
  if (!patient_r) return Reject(patient_r.error());
  const std::optional<Patient>& patient = *patient_r;
  if (!patient.has_value()) {
    LogDetached({NowMillis(), who.account.user_id, action, patient_id, target, "denied:404"});
    return Reject(404, "not_found", "no such patient");
  }
  const bool owner = who.account.role == Role::kPatient && patient->owner_user_id == who.account.user_id;
  const bool practitioner = who.account.role == Role::kPractitioner;
  const bool allowed = access == PatientAccess::kOwner ? owner : (owner || practitioner);
  if (!allowed) {
    LogDetached({NowMillis(), who.account.user_id, action, patient_id, target, "denied:403"});
    return Reject(403, "forbidden",
                  access == PatientAccess::kOwner
                      ? "only the patient who owns this record may do that"
                      : "only the owner patient and approved practitioners may do that");
  }
  return *patient;
}

asio::awaitable<HttpReply> Service::CreatePatient(const Call& call) {
  const Account& who = call.caller().account;
  auto j = co_await ReadJsonObject(call.req, call.body, config_.max_json_body);
  if (!j) co_return ErrorReply(j.error());
  auto code_hash = Fields(*j).Hex<32>(field::kEnrolmentCodeSha256);
  if (!code_hash) co_return ErrorReply(code_hash.error());
  if (who.role != Role::kPractitioner) {
    LogDetached({NowMillis(), who.user_id, "patient.create", "", "", "denied:403"});
    co_return ErrorReply(403, "forbidden", "only approved practitioners register patients");
  }
  Patient p;
  auto id = NewPatientId();
  if (!id) co_return ErrorReply(id.error());
  p.patient_id = *id;
  p.created_by = who.user_id;
  p.enrolment_code_hash = *code_hash;
  p.created_at = NowSeconds();
  AuditedWriter::Request w;
  w.apply = [p](WriteTx& tx) { return tx.InsertPatient(p); };
  w.audit.push_back({NowMillis(), who.user_id, "patient.create", p.patient_id, "", "ok"});
  if (auto r = co_await Commit(std::move(w)); !r) co_return ErrorReply(r.error());
  co_return JsonReply(201, {{field::kPatientId, p.patient_id}});
}

asio::awaitable<HttpReply> Service::Enrol(const Call& call) {
  const Account& who = call.caller().account;
  auto j = co_await ReadJsonObject(call.req, call.body, config_.max_json_body);
  if (!j) co_return ErrorReply(j.error());
  auto code = Fields(*j).Required(field::kCode, 256);
  if (!code) co_return ErrorReply(code.error());
  const std::string patient_id = call.Param("id");
  if (!IsValidPatientId(patient_id)) co_return ErrorReply(NotAPatientId());
  if (who.role != Role::kPatient) {
    LogDetached({NowMillis(), who.user_id, "patient.enrol", patient_id, "", "denied:403"});
    co_return ErrorReply(403, "forbidden", "only patient accounts enrol");
  }
  auto patient_r = store_.GetPatient(patient_id);
  if (!patient_r) co_return ErrorReply(patient_r.error());
  const std::optional<Patient>& patient = *patient_r;
  if (!patient.has_value()) co_return ErrorReply(404, "not_found", "no such patient");
  if (patient->enrolment_used)
    co_return ErrorReply(409, "conflict", "this patient's enrolment code was already used");
  auto hash = envelope::Sha256Of(AsBytes(*code));
  if (!hash) co_return ErrorReply(hash.error());
  // The code hash and "unused" are checked in the same statement that binds the owner.
  auto bound = std::make_shared<bool>(false);
  AuditedWriter::Request w;
  w.apply = [patient_id, h = *hash, uid = who.user_id, bound](WriteTx& tx) -> Result<void> {
    auto ok = tx.EnrolPatient(patient_id, h, uid);
    if (!ok) return std::unexpected(ok.error());
    *bound = *ok;
    return {};
  };
  if (auto r = co_await Commit(std::move(w)); !r) co_return ErrorReply(r.error());
  LogDetached({NowMillis(), who.user_id, "patient.enrol", patient_id, "", *bound ? "ok" : "denied:403"});
  if (!*bound) co_return ErrorReply(403, "forbidden", "the enrolment code does not match (or was just used)");
  co_return JsonReply(200, {{field::kPatientId, patient_id}, {"owner", who.user_id}});
}

asio::awaitable<HttpReply> Service::PatientAudit(const Call& call) {
  const Principal& who = call.caller();
  const std::string patient_id = call.Param("id");
  auto patient = AuthorisePatient(patient_id, who, PatientAccess::kOwner, "audit.read", "");
  if (!patient) co_return ErrorReply(patient.error());
  auto rows = store_.ReadAuditForPatient(patient_id);
  if (!rows) co_return ErrorReply(rows.error());
  AuditedWriter::Request w;
  w.audit.push_back({NowMillis(), who.account.user_id, "audit.read", patient_id, "", "ok"});
  if (auto r = co_await Commit(std::move(w)); !r) co_return ErrorReply(r.error());
  json out = json::array();
  for (const auto& row : *rows) {
    if (row.seq >= writer_.size()) continue;  // appended by another server after our tree
    out.push_back(
        {{field::kIndex, row.seq}, {field::kEntry, std::string(row.entry.begin(), row.entry.end())}});
  }
  co_return JsonReply(200, {{field::kPatientId, patient_id}, {field::kEntries, out}});
}

}  // namespace cipherchart::server
