#include "server_seeds.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "seed_writer.h"
#include "server_fuzz_state.h"

namespace cipherchart::fuzz {
namespace {

namespace fs = std::filesystem;
namespace st = server_state;

const std::string kHexKey1(64, 'a');
const std::string kHexKey2 = std::string(62, '0') + "2f";

std::string S(const char* s) { return s; }

// One HTTP/1.1 request. A body (or a POST/PUT without one) gets a Content-Length unless `headers`
// (extra header lines, each ending in CRLF) choose chunked encoding.
std::string Request(std::string_view method, std::string_view target, const char* token = nullptr,
                    const char* content_type = nullptr, std::string_view body = "",
                    std::string_view headers = "") {
  std::string out = std::string(method) + " " + std::string(target) + " HTTP/1.1\r\nHost: cipherchart\r\n";
  if (token) out += std::string("Authorization: Bearer ") + token + "\r\n";
  if (content_type) out += std::string("Content-Type: ") + content_type + "\r\n";
  out += headers;
  if ((!body.empty() || method == "POST" || method == "PUT") &&
      headers.find("Transfer-Encoding") == std::string_view::npos)
    out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  out += "\r\n";
  out += body;
  return out;
}

std::string Json(std::string_view target, const char* token, std::string_view body) {
  return Request("POST", target, token, "application/json", body);
}

std::string Patient(std::string_view rest) {
  return "/v1/patients/" + S(st::kOwnedPatient) + std::string(rest);
}

std::uint8_t IndexOf(std::span<const char* const> table, const char* entry) {
  for (std::size_t i = 0; i < table.size(); ++i)
    if (table[i] && std::strcmp(table[i], entry) == 0) return static_cast<std::uint8_t>(i);
  std::fprintf(stderr, "fuzz_make_seeds: no structured-mode entry '%s'\n", entry);
  std::exit(1);
}

// A structured-mode input (fuzz_server_request.cc, StructuredRequest).
std::string Structured(std::uint8_t flags, const char* method, const char* path, std::uint8_t auth,
                       const char* content_type, std::initializer_list<std::string_view> fields) {
  std::string out;
  out.push_back(static_cast<char>(flags & 0x1f));
  out.push_back(static_cast<char>(IndexOf(st::kMethods, method)));
  out.push_back(static_cast<char>(IndexOf(st::kPaths, path)));
  out.push_back(static_cast<char>(auth));
  out.push_back(static_cast<char>(IndexOf(st::kContentTypes, content_type)));
  bool first = true;
  for (std::string_view f : fields) {
    if (!first) out.push_back('\xff');
    first = false;
    out += f;
  }
  return out;
}

}  // namespace

void WriteServerSeeds(const fs::path& root) {
  SeedWriter w(root, "fuzz_server_request");
  auto add = [&](const std::string& s) {
    w.Add(std::span(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()));
  };
  const std::string patient_account =
      R"({"role":"patient","identity_key":")" + kHexKey1 + R"(","delivery_key":")" + kHexKey2 + R"("})";
  const std::string practitioner_account =
      R"({"role":"practitioner","identity_key":")" + kHexKey2 + R"(","delivery_key":")" + kHexKey1 +
      R"(","organisation":"hospital-a","details":{"name":"Dr A","licence":"L-7","practice_start":"2001-02-03",)"
      R"("practice_end":"2031-02-03"},"password":"correct horse battery"})";
  const std::string section =
      "X-CipherChart-Section: vital-signs\r\nX-CipherChart-Policy: hospital-a.role:doctor\r\n";

  // Operations and unauthenticated routes.
  add(Request("GET", "/healthz"));
  add(Request("GET", "/metrics"));
  add(Request("GET", "/v1/server"));
  add(Request("GET", "/v1/audit/head"));
  add(Json("/v1/accounts", nullptr, patient_account));
  add(Json("/v1/accounts", nullptr, practitioner_account));
  add(Json("/v1/accounts", nullptr, R"({"role":"server-admin","identity_key":")" + kHexKey1 + R"("})"));
  add(Json("/v1/accounts", nullptr, R"({"role":"patient","identity_key":"zz","extra":[1,2,{"a":null}]})"));
  add(Json("/v1/auth/challenge", nullptr, R"({"user_id":")" + S(st::kPatientUser) + R"("})"));
  add(Json("/v1/auth/login", nullptr,
           R"({"user_id":")" + S(st::kPatientUser) + R"(","challenge":")" + kHexKey1 + R"(","signature":")" +
               kHexKey1 + kHexKey2 + R"(","password":"hunter22"})"));

  // Sessions and accounts.
  add(Request("GET", "/v1/accounts/me", st::kPendingToken));
  add(Request("GET", "/v1/accounts/me", "not-a-token"));
  add(Request("POST", "/v1/auth/logout", st::kServerAdminToken));
  add(Request("GET", "/v1/registrations?state=pending", st::kAuthorityAdminToken));
  add(Request("GET", "/v1/registrations?state=approved", st::kServerAdminToken));
  add(Json("/v1/registrations/" + S(st::kPendingUser) + "/reject", st::kAuthorityAdminToken,
           R"({"reason":"licence not found"})"));
  add(Json("/v1/registrations/" + S(st::kPendingUser) + "/approve", st::kAuthorityAdminToken, "{}"));

  // Key mailbox.
  add(Request("POST", "/v1/users/" + S(st::kPatientUser) + "/keys", st::kAuthorityAdminToken,
              "application/octet-stream", "a key package for the patient"));
  add(Request("POST", "/v1/users/" + S(st::kOtherPatientUser) + "/keys", st::kPatientToken,
              "application/octet-stream", std::string("\x00\x01\x02\xff", 4)));
  add(Request("GET", "/v1/keys", st::kPatientToken));
  add(Request("GET", "/v1/keys/" + S(st::kPackageId), st::kPatientToken));

  // Patients and records.
  add(Json("/v1/patients", st::kPractitionerToken, R"({"enrolment_code_sha256":")" + kHexKey1 + R"("})"));
  add(Json("/v1/patients/" + S(st::kFreePatient) + "/enrol", st::kPatientToken,
           R"({"code":")" + S(st::kEnrolmentCode) + R"("})"));
  add(Request("GET", Patient("/records"), st::kPractitionerToken));
  add(Request("GET", Patient("/records/r1"), st::kPatientToken));
  add(Request("GET", Patient("/records/r2/versions/1"), st::kPractitionerToken));
  add(Request("PUT", Patient("/records/r2/versions/2"), st::kPractitionerToken, "application/octet-stream",
              "envelope bytes, version 2", section));
  add(Request("PUT", Patient("/records/new-record/versions/1"), st::kPatientToken, "application/octet-stream",
              "", section + "Transfer-Encoding: chunked\r\n") +
      "9\r\nenvelope \r\n5\r\nbytes\r\n0\r\n\r\n");
  add(Request("DELETE", Patient("/records/vitals.2024-01"), st::kPatientToken));
  add(Request("GET", Patient("/audit"), st::kPatientToken));

  // Audit log.
  add(Request("GET", "/v1/audit/inclusion?index=0&tree_size=1", st::kPractitionerToken));
  add(Request("GET", "/v1/audit/consistency?first=1&second=3", st::kPatientToken));
  add(Request("GET", "/v1/audit/entries?start=0&end=20", st::kServerAdminToken));

  // Refusals: no or bad credentials, pending account, wrong method, media type, framing, paths.
  add(Request("GET", Patient("/records")));
  add(Request("GET", Patient("/records"), st::kPendingToken));
  add(Request("PATCH", Patient("/records/r1"), st::kPatientToken));
  add(Request("PUT", Patient("/records/r9/versions/1"), st::kPatientToken, "text/plain", "x", section));
  add("PUT " + Patient("/records/r9/versions/1") + " HTTP/1.1\r\nAuthorization: Bearer " + st::kPatientToken +
      "\r\nContent-Type: application/octet-stream\r\n" + section + "\r\n");
  add(Request("GET", "/v1/patients/FZ00-0000-0000-0001-X/records", st::kPractitionerToken));
  add(Request("GET", "/v1/../v1/keys?x=1&x=2", st::kPatientToken));
  add(Json("/v1/patients", st::kPractitionerToken, R"({"enrolment_code_sha256":)"));

  // Found by this target (fixed in service.cc): a key cut inside a UTF-8 character in an error
  // message, a section header that is not UTF-8, nesting deep enough to overflow the stack, an
  // audit range past the end of the log.
  add(Json("/v1/accounts", nullptr, "{\"" + std::string(63, 'x') + "\xc3\xa9\":1}"));
  add(Request("PUT", Patient("/records/r9/versions/1"), st::kPractitionerToken, "application/octet-stream",
              "x", "X-CipherChart-Section: caf\xe9\r\n"));
  add(Json("/v1/accounts", nullptr,
           R"({"role":"patient","identity_key":")" + kHexKey1 + R"(","delivery_key":")" + kHexKey2 +
               R"(","details":{"a":)" + std::string(1500, '[') + std::string(1500, ']') + "}}"));
  add(Request("GET", "/v1/audit/entries?start=100000&end=100020", st::kServerAdminToken));

  // Pipelined: three requests on one connection.
  add(Request("GET", "/v1/accounts/me", st::kPatientToken) + Request("GET", "/v1/keys", st::kPatientToken) +
      Request("GET", Patient("/records"), st::kPatientToken));

  // Structured mode (credentials byte: 1..5 the fixture tokens, 0 none).
  add(Structured(0x0c, "PUT", "/v1/patients/{P}/records/{1}/versions/{2}", 2, "application/octet-stream",
                 {"r7", "1", "notes", "hospital-a.role:nurse", "structured envelope"}));
  add(Structured(0x00, "POST", "/v1/patients/{Q}/enrol", 1, "application/json",
                 {"", "", "", "", R"({"code":"fuzz-enrolment-code"})"}));
  add(Structured(0x00, "GET", "/v1/audit/inclusion?index={1}&tree_size={2}", 3, "application/json",
                 {"1", "2"}));
  add(Structured(0x01, "POST", "/v1/users/{A}/keys", 3, "application/octet-stream",
                 {"", "", "", "", "package"}));
  add(Structured(0x00, "GET", "/v1/patients/{1}/records", 2, "application/json", {"FZ00-0000-0000-0002-W"}));
}

}  // namespace cipherchart::fuzz
