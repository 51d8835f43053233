// The authorisation matrix of docs/api.md ("Roles and who may do what"), all through the real
// HTTP API over TLS, against both store backends: each case is (role, approval state, action,
// whose data) with the expected status.
#include <gtest/gtest.h>

#include <functional>

#include "src/server/server_test_util.h"

namespace cipherchart::server {
namespace {

using namespace testing;  // NOLINT(google-build-using-namespace): the test utilities

class AuthzTest : public ::testing::TestWithParam<std::string> {};

TEST_P(AuthzTest, Matrix) {
  TestServer server(GetParam());
  ApiUser admin = ServerAdmin(server);
  ApiUser authority_a = ApprovedAuthorityAdmin(server, admin, "hospital-a");
  ApiUser authority_b = ApprovedAuthorityAdmin(server, admin, "hospital-b");
  ApiUser authority_pending = RegisterAndLogin(server, "authority-admin", "hospital-c", {{"name", "c"}});
  ApiUser authority_pending2 = RegisterAndLogin(server, "authority-admin", "hospital-d", {{"name", "d"}});
  ApiUser doctor = ApprovedPractitioner(server, authority_a, "doctor-a");
  ApiUser doctor_b = ApprovedPractitioner(server, authority_b, "doctor-b");
  ApiUser pending = RegisterAndLogin(server, "practitioner", "hospital-a", PractitionerDetails("pending"));
  ApiUser to_approve =
      RegisterAndLogin(server, "practitioner", "hospital-a", PractitionerDetails("to-approve"));
  ApiUser rejected = RegisterAndLogin(server, "practitioner", "hospital-a", PractitionerDetails("rejected"));
  ASSERT_EQ(
      authority_a
          .Call("POST", "/v1/registrations/" + rejected.user_id + "/reject", {{"reason", "licence expired"}})
          .status,
      200);
  ApiUser owner = RegisterAndLogin(server, "patient", "");
  ApiUser other_patient = RegisterAndLogin(server, "patient", "");
  const std::string pid = CreatePatient(doctor, &owner);
  const std::string other_pid = CreatePatient(doctor, &other_patient, "second-code-5678");
  ASSERT_EQ(PutRecord(doctor, pid, "r1", 1, "envelope-bytes-1").status, 201);
  ASSERT_EQ(PutRecord(doctor, pid, "to-delete", 1, "x").status, 201);
  auto post_key = [&](ApiUser& from, const ApiUser& to) {
    auto h = from.Auth();
    auto r = from.http->Request("POST", "/v1/users/" + to.user_id + "/keys", "key-package",
                                "application/octet-stream", h);
    return r ? *r : client::HttpResponse{};
  };
  auto key_resp = post_key(authority_a, doctor);
  ASSERT_EQ(key_resp.status, 201);
  const std::string package = Parse(key_resp)["package_id"];
  ApiUser anonymous;
  anonymous.http = server.Client();

  const std::string rec = "/v1/patients/" + pid + "/records";
  int version = 2;
  struct Case {
    std::string name;
    std::function<int()> run;
    int expected;
  };
  std::vector<Case> cases = {
      // The owner patient.
      {"owner lists own records", [&] { return owner.Call("GET", rec).status; }, 200},
      {"owner fetches own record", [&] { return owner.Call("GET", rec + "/r1").status; }, 200},
      {"owner appends", [&] { return PutRecord(owner, pid, "r1", version++, "v").status; }, 201},
      {"owner reads own audit", [&] { return owner.Call("GET", "/v1/patients/" + pid + "/audit").status; },
       200},
      {"owner deletes own record", [&] { return owner.Call("DELETE", rec + "/to-delete").status; }, 200},
      // Deleted means gone in every version, not only the latest.
      {"doctor fetches an old version of a deleted record",
       [&] { return doctor.Call("GET", rec + "/to-delete/versions/1").status; }, 404},
      {"owner fetches an old version of a deleted record",
       [&] { return owner.Call("GET", rec + "/to-delete/versions/1").status; }, 404},
      {"doctor revives a deleted record with a new version",
       [&] { return PutRecord(doctor, pid, "to-delete", 3, "x").status; }, 409},
      // Another patient.
      {"other patient lists", [&] { return other_patient.Call("GET", rec).status; }, 403},
      {"other patient fetches", [&] { return other_patient.Call("GET", rec + "/r1").status; }, 403},
      {"other patient appends", [&] { return PutRecord(other_patient, pid, "r1", version, "v").status; },
       403},
      {"other patient deletes", [&] { return other_patient.Call("DELETE", rec + "/r1").status; }, 403},
      {"other patient reads audit",
       [&] { return other_patient.Call("GET", "/v1/patients/" + pid + "/audit").status; }, 403},
      {"patient creates a patient",
       [&] {
         return owner.Call("POST", "/v1/patients", {{"enrolment_code_sha256", std::string(64, 'a')}}).status;
       },
       403},
      {"patient lists registrations", [&] { return owner.Call("GET", "/v1/registrations").status; }, 403},
      // Approved practitioners (own hospital and another).
      {"approved doctor lists", [&] { return doctor.Call("GET", rec).status; }, 200},
      {"approved doctor fetches", [&] { return doctor.Call("GET", rec + "/r1").status; }, 200},
      {"approved doctor appends", [&] { return PutRecord(doctor, pid, "r1", version++, "v").status; }, 201},
      {"other-hospital doctor fetches", [&] { return doctor_b.Call("GET", rec + "/r1").status; }, 200},
      {"approved doctor deletes", [&] { return doctor.Call("DELETE", rec + "/r1").status; }, 403},
      {"approved doctor reads patient audit",
       [&] { return doctor.Call("GET", "/v1/patients/" + pid + "/audit").status; }, 403},
      {"approved doctor creates patient",
       [&] {
         return doctor.Call("POST", "/v1/patients", {{"enrolment_code_sha256", std::string(64, 'b')}}).status;
       },
       201},
      {"approved doctor approves a doctor",
       [&] {
         return doctor.Call("POST", "/v1/registrations/" + pending.user_id + "/approve", json::object())
             .status;
       },
       403},
      {"doctor reads audit range",
       [&] { return doctor.Call("GET", "/v1/audit/entries?start=0&end=10").status; }, 403},
      {"doctor enrols as patient",
       [&] {
         return doctor.Call("POST", "/v1/patients/" + other_pid + "/enrol", {{"code", "second-code-5678"}})
             .status;
       },
       403},
      // Pending and rejected practitioners.
      {"pending doctor lists", [&] { return pending.Call("GET", rec).status; }, 403},
      {"pending doctor fetches", [&] { return pending.Call("GET", rec + "/r1").status; }, 403},
      {"pending doctor appends", [&] { return PutRecord(pending, pid, "r1", version, "v").status; }, 403},
      {"pending doctor creates patient",
       [&] {
         return pending.Call("POST", "/v1/patients", {{"enrolment_code_sha256", std::string(64, 'c')}})
             .status;
       },
       403},
      {"pending doctor reads own account", [&] { return pending.Call("GET", "/v1/accounts/me").status; },
       200},
      {"pending doctor fetches mailbox", [&] { return pending.Call("GET", "/v1/keys").status; }, 403},
      {"rejected doctor fetches", [&] { return rejected.Call("GET", rec + "/r1").status; }, 403},
      {"rejected doctor lists", [&] { return rejected.Call("GET", rec).status; }, 403},
      // Authority admins.
      {"authority admin lists records", [&] { return authority_a.Call("GET", rec).status; }, 403},
      {"authority admin fetches", [&] { return authority_a.Call("GET", rec + "/r1").status; }, 403},
      {"authority admin lists registrations",
       [&] { return authority_a.Call("GET", "/v1/registrations").status; }, 200},
      {"authority admin approves own-org doctor",
       [&] {
         return authority_a
             .Call("POST", "/v1/registrations/" + to_approve.user_id + "/approve", json::object())
             .status;
       },
       200},
      {"other-org admin approves",
       [&] {
         return authority_b.Call("POST", "/v1/registrations/" + pending.user_id + "/approve", json::object())
             .status;
       },
       403},
      {"authority admin approves an admin",
       [&] {
         return authority_a
             .Call("POST", "/v1/registrations/" + authority_pending2.user_id + "/approve", json::object())
             .status;
       },
       403},
      {"pending admin lists registrations",
       [&] { return authority_pending.Call("GET", "/v1/registrations").status; }, 403},
      {"pending admin approves a doctor",
       [&] {
         return authority_pending
             .Call("POST", "/v1/registrations/" + pending.user_id + "/approve", json::object())
             .status;
       },
       403},
      // Key mailbox.
      {"authority posts key to approved doctor", [&] { return post_key(authority_a, doctor).status; }, 201},
      {"authority posts key to pending doctor", [&] { return post_key(authority_a, pending).status; }, 403},
      {"doctor posts a key", [&] { return post_key(doctor, doctor_b).status; }, 403},
      {"patient posts key to a patient", [&] { return post_key(owner, other_patient).status; }, 201},
      {"patient posts key to a doctor", [&] { return post_key(owner, doctor).status; }, 403},
      {"recipient fetches own package", [&] { return doctor.Call("GET", "/v1/keys/" + package).status; },
       200},
      {"someone else fetches the package", [&] { return doctor_b.Call("GET", "/v1/keys/" + package).status; },
       404},
      // Server admin.
      {"server admin lists records", [&] { return admin.Call("GET", rec).status; }, 403},
      {"server admin reads audit range",
       [&] { return admin.Call("GET", "/v1/audit/entries?start=0&end=10").status; }, 200},
      {"server admin lists admin registrations",
       [&] { return admin.Call("GET", "/v1/registrations").status; }, 200},
      {"server admin approves a doctor",
       [&] {
         return admin.Call("POST", "/v1/registrations/" + pending.user_id + "/approve", json::object())
             .status;
       },
       403},
      {"server admin approves an admin",
       [&] {
         return admin
             .Call("POST", "/v1/registrations/" + authority_pending.user_id + "/approve", json::object())
             .status;
       },
       200},
      // No session.
      {"anonymous lists", [&] { return anonymous.Call("GET", rec).status; }, 401},
      {"anonymous fetches", [&] { return anonymous.Call("GET", rec + "/r1").status; }, 401},
      {"anonymous appends", [&] { return PutRecord(anonymous, pid, "r1", version, "v").status; }, 401},
      {"anonymous reads the tree head", [&] { return anonymous.Call("GET", "/v1/audit/head").status; }, 200},
  };
  ASSERT_GE(cases.size(), 30u);
  for (auto& c : cases) EXPECT_EQ(c.run(), c.expected) << c.name;

  // The newly approved doctor now reads; the approval of a decided registration conflicts.
  EXPECT_EQ(to_approve.Call("GET", rec).status, 200);
  EXPECT_EQ(
      authority_a.Call("POST", "/v1/registrations/" + to_approve.user_id + "/approve", json::object()).status,
      409);
  // The denied attempts are in the owner's audit view.
  const json audit = Parse(owner.Call("GET", "/v1/patients/" + pid + "/audit"));
  int denied = 0;
  for (const auto& e : audit["entries"]) {
    const json entry = json::parse(e["entry"].get<std::string>());
    if (entry["outcome"].get<std::string>().rfind("denied", 0) == 0) ++denied;
  }
  EXPECT_GE(denied, 8);
}

INSTANTIATE_TEST_SUITE_P(Backends, AuthzTest, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace cipherchart::server
