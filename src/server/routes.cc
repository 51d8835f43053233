// The /v1 API's route table (docs/api.md): one row per method and path, in matching order.
// Service::Dispatch (service.cc) takes the first row whose pattern matches the path, checks
// what the row's guard asks for, and calls its handler; the pattern is the route's label in
// /metrics and the request log.
#include "src/server/handler.h"

namespace cipherchart::server {

std::span<const Service::Route> Service::Routes() {
  namespace route = protocol::route;
  using enum Guard;
  static constexpr Route kRoutes[] = {
      // Anyone.
      {"GET", route::kHealth, kNone, &Service::Health},
      {"GET", route::kMetrics, kNone, &Service::MetricsText},
      {"GET", route::kServer, kNone, &Service::ServerInfo},
      {"POST", route::kAccounts, kNone, &Service::Register},
      {"POST", route::kAuthChallenge, kNone, &Service::NewChallenge},
      {"POST", route::kAuthLogin, kNone, &Service::Login},
      {"GET", route::kAuditHead, kNone, &Service::AuditHead},
      // Any session, approved or not. "me" comes before "{user_id}", which it also matches.
      {"POST", route::kAuthLogout, kSession, &Service::Logout},
      {"GET", route::kAccountMe, kSession, &Service::Me},
      // An approved account.
      {"GET", route::kAccount, kApproved, &Service::LookupAccount},
      {"GET", route::kDirectory, kApproved, &Service::Directory},
      {"PUT", route::kDirectoryEntry, kApproved, &Service::PublishDirectoryEntry},
      {"GET", route::kRegistrations, kApproved, &Service::ListRegistrations},
      {"POST", route::kRegistrationApprove, kApproved, &Service::ApproveRegistration},
      {"POST", route::kRegistrationReject, kApproved, &Service::RejectRegistration},
      {"POST", route::kUserKeys, kApproved, &Service::PostKeyPackage},
      {"GET", route::kKeys, kApproved, &Service::ListKeyPackages},
      {"GET", route::kKey, kApproved, &Service::FetchKeyPackage},
      {"GET", route::kAuditInclusion, kApproved, &Service::Inclusion},
      {"GET", route::kAuditConsistency, kApproved, &Service::Consistency},
      {"GET", route::kAuditEntries, kApproved, &Service::AuditEntries},
      {"POST", route::kPatients, kApproved, &Service::CreatePatient},
      {"POST", route::kPatientEnrol, kApproved, &Service::Enrol},
      {"GET", route::kPatientAudit, kApproved, &Service::PatientAudit},
      {"GET", route::kRecords, kApproved, &Service::ListRecords},
      {"GET", route::kRecord, kApproved, &Service::FetchRecord},
      {"DELETE", route::kRecord, kApproved, &Service::DeleteRecord},
      {"GET", route::kRecordVersion, kApproved, &Service::FetchRecord},
      {"PUT", route::kRecordVersion, kApproved, &Service::PutRecord},
  };
  static_assert(
      [] {
        for (const Route& a : kRoutes) {
          for (const Route& b : kRoutes) {
            if (&a == &b || a.pattern != b.pattern) continue;
            if (a.guard != b.guard || a.method == b.method) return false;
          }
        }
        return true;
      }(),
      "the rows of one pattern share their guard and differ in their method");
  return kRoutes;
}

}  // namespace cipherchart::server
