// The public account lookup (GET /v1/accounts/{user_id}) and the authority directory
// (PUT /v1/directory/{namespace}, GET /v1/directory) through the real HTTP API over TLS, against
// both store backends (docs/api.md, "Accounts and login" and "Authority directory").
#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "cipherchart/abe/authority_directory.h"
#include "cipherchart/abe/maabe_serialize.h"
#include "src/server/server_test_util.h"

namespace cipherchart::server {
namespace {

using namespace testing;  // NOLINT(google-build-using-namespace): the test utilities

class AccountLookupTest : public ::testing::TestWithParam<std::string> {};
class DirectoryTest : public ::testing::TestWithParam<std::string> {};

std::string DeliveryKeyHex() {
  std::array<std::uint8_t, 32> delivery{};
  delivery[0] = 9;  // what RegisterAndLogin registers
  return ToHex(delivery);
}

TEST_P(AccountLookupTest, ShowsKeysAndNameToApprovedAccounts) {
  TestServer server(GetParam());
  ApiUser admin = ServerAdmin(server);
  ApiUser authority = ApprovedAuthorityAdmin(server, admin, "hospital-a");
  ApiUser doctor = ApprovedPractitioner(server, authority, "Dr. Ada");
  ApiUser patient = RegisterAndLogin(server, "patient", "");
  ApiUser pending =
      RegisterAndLogin(server, "practitioner", "hospital-a", PractitionerDetails("Dr. Pending"));
  ApiUser anonymous;
  anonymous.http = server.Client();
  auto path = [](const ApiUser& u) { return "/v1/accounts/" + u.user_id; };
  // The identity keys the lookups must return ("" if a user has none, which then fails below).
  auto key_hex = [](const ApiUser& u) { return u.key ? ToHex(u.key->public_key()) : std::string(); };
  const std::string doctor_key = key_hex(doctor), authority_key = key_hex(authority),
                    patient_key = key_hex(patient);
  ASSERT_FALSE(doctor_key.empty() || authority_key.empty() || patient_key.empty());

  // A practitioner, as a patient sees it.
  auto r = patient.Call("GET", path(doctor));
  ASSERT_EQ(r.status, 200) << r.body;
  const json d = Parse(r);
  EXPECT_EQ(d, json({{"user_id", doctor.user_id},
                     {"role", "practitioner"},
                     {"state", "approved"},
                     {"organisation", "hospital-a"},
                     {"name", "Dr. Ada"},
                     {"identity_key", doctor_key},
                     {"delivery_key", DeliveryKeyHex()}}));

  // An authority admin (name from its details), as a practitioner sees it.
  const json a = Parse(doctor.Call("GET", path(authority)));
  EXPECT_EQ(a["role"], "authority-admin");
  EXPECT_EQ(a["name"], "admin of hospital-a");
  EXPECT_EQ(a["organisation"], "hospital-a");
  EXPECT_EQ(a["identity_key"], authority_key);

  // A patient: keys, no organisation or details.
  r = authority.Call("GET", path(patient));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Parse(r), json({{"user_id", patient.user_id},
                            {"role", "patient"},
                            {"state", "approved"},
                            {"identity_key", patient_key},
                            {"delivery_key", DeliveryKeyHex()}}));

  // A server admin (no name), and a pending account (its state shows).
  const json s = Parse(patient.Call("GET", path(admin)));
  EXPECT_EQ(s["role"], "server-admin");
  EXPECT_EQ(s["name"], "");
  const json p = Parse(admin.Call("GET", path(pending)));
  EXPECT_EQ(p["state"], "pending");
  EXPECT_EQ(p["name"], "Dr. Pending");
  EXPECT_FALSE(p.contains("details"));
  EXPECT_EQ(Parse(doctor.Call("GET", path(doctor)))["user_id"], doctor.user_id);

  // Pending callers keep only /v1/accounts/me.
  r = pending.Call("GET", path(doctor));
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(ErrorCodeOf(r), "not_approved");
  r = pending.Call("GET", "/v1/accounts/me");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(Parse(r)["details"]["licence"], "LIC-Dr. Pending");

  // Unknown, malformed, other methods, no session.
  r = doctor.Call("GET", "/v1/accounts/" + *NewUserId());
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(ErrorCodeOf(r), "not_found");
  r = doctor.Call("GET", "/v1/accounts/nobody");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(ErrorCodeOf(r), "bad_path");
  EXPECT_EQ(doctor.Call("POST", path(patient), json::object()).status, 405);
  EXPECT_EQ(doctor.Call("POST", "/v1/accounts/me", json::object()).status, 405);
  EXPECT_EQ(anonymous.Call("GET", path(doctor)).status, 401);
}

// ---- the directory ----------------------------------------------------------------------

std::uint64_t Now() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

// An authority with its certificate chain and a statement of a fresh multi-authority key.
struct Published {
  abe::Authority authority;
  abe::DirectoryEntry entry;
  std::string pk;  // abe::maabe::Serialize of the stated key, for comparisons
};

abe::DirectoryEntry SignedEntry(const abe::Authority& authority, std::uint64_t not_before,
                                std::string& pk_bytes) {
  auto keys = abe::maabe::AuthoritySetup(authority.authority_namespace());
  EXPECT_TRUE(keys.has_value());
  auto statement = abe::SignKeyStatement(keys->pk, authority.signing_key(), not_before, Now() + 86'400);
  EXPECT_TRUE(statement.has_value());
  auto pk = abe::maabe::Serialize(keys->pk);
  EXPECT_TRUE(pk.has_value());
  pk_bytes.assign(pk->begin(), pk->end());
  return {authority.chain(), std::move(*statement)};
}

Published Root(std::string_view ns) {
  auto root = abe::Authority::CreateRoot(ns, Now() - 3600, Now() + 365 * 86'400);
  EXPECT_TRUE(root.has_value());
  Published p{std::move(*root), {}, {}};
  p.entry = SignedEntry(p.authority, Now() - 60, p.pk);
  return p;
}

std::string FileOf(std::span<const abe::DirectoryEntry> entries) {
  auto bytes = abe::EncodeDirectory(entries);
  EXPECT_TRUE(bytes.has_value());
  return bytes ? std::string(bytes->begin(), bytes->end()) : std::string();
}
std::string FileOf(const abe::DirectoryEntry& entry) { return FileOf(std::span(&entry, 1)); }

client::HttpResponse Publish(ApiUser& u, const std::string& ns, const std::string& body,
                             const std::string& content_type = "application/octet-stream") {
  auto r = u.http->Request("PUT", "/v1/directory/" + ns, body, content_type, u.Auth());
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message());
  return r ? *r : client::HttpResponse{};
}

std::vector<abe::DirectoryEntry> FetchDirectory(ApiUser& u) {
  auto r = u.Call("GET", "/v1/directory");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers["content-type"], "application/octet-stream");
  auto parsed =
      abe::ParseDirectory(std::span(reinterpret_cast<const std::uint8_t*>(r.body.data()), r.body.size()));
  EXPECT_TRUE(parsed.has_value()) << (parsed ? "" : parsed.error().message());
  return parsed ? std::move(*parsed) : std::vector<abe::DirectoryEntry>{};
}

std::vector<std::string> Namespaces(const std::vector<abe::DirectoryEntry>& entries) {
  std::vector<std::string> out;
  out.reserve(entries.size());
  for (const auto& e : entries) out.push_back(e.statement.public_key.authority_namespace);
  return out;
}

TEST_P(DirectoryTest, AdminsPublishAndEveryoneReadsAVerifiableDirectory) {
  TestServer server(GetParam());
  ApiUser admin = ServerAdmin(server);
  ApiUser admin_a = ApprovedAuthorityAdmin(server, admin, "hospital-a");
  ApiUser admin_a2 = ApprovedAuthorityAdmin(server, admin, "hospital-a");
  ApiUser admin_b = ApprovedAuthorityAdmin(server, admin, "hospital-b");
  ApiUser pending_admin = RegisterAndLogin(server, "authority-admin", "hospital-c", {{"name", "c"}});
  ApiUser doctor = ApprovedPractitioner(server, admin_a, "Dr. Ada");
  ApiUser patient = RegisterAndLogin(server, "patient", "");

  Published hospital = Root("hospital_a");
  Published board = Root("board");
  auto cardiology_authority =
      hospital.authority.CreateSubAuthority("hospital_a.cardiology", Now() - 3600, Now() + 86'400);
  ASSERT_TRUE(cardiology_authority.has_value());
  std::string cardiology_pk;
  const abe::DirectoryEntry cardiology = SignedEntry(*cardiology_authority, Now() - 60, cardiology_pk);

  // Empty at first: a valid directory file with no entries.
  EXPECT_TRUE(FetchDirectory(patient).empty());

  // First publication (201), a sub-authority, another organisation's namespace.
  auto r = Publish(admin_a, "hospital_a", FileOf(hospital.entry));
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(Parse(r)["namespace"], "hospital_a");
  EXPECT_EQ(Parse(r)["organisation"], "hospital-a");
  EXPECT_EQ(Parse(r)["publisher"], admin_a.user_id);
  ASSERT_EQ(Publish(admin_a, "hospital_a.cardiology", FileOf(cardiology)).status, 201);
  ASSERT_EQ(Publish(admin_b, "board", FileOf(board.entry)).status, 201);

  // A key rotation by another admin of the owning organisation replaces the entry (200).
  std::string rotated_pk;
  const abe::DirectoryEntry rotated = SignedEntry(hospital.authority, Now() - 30, rotated_pk);
  ASSERT_NE(rotated_pk, hospital.pk);
  r = Publish(admin_a2, "hospital_a", FileOf(rotated));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Parse(r)["publisher"], admin_a2.user_id);

  // Every approved account reads it, sorted by namespace, and it verifies against the roots.
  for (ApiUser* reader : {&patient, &doctor, &admin_b, &admin}) {
    const auto entries = FetchDirectory(*reader);
    ASSERT_EQ(Namespaces(entries),
              (std::vector<std::string>{"board", "hospital_a", "hospital_a.cardiology"}));
    auto pk = abe::maabe::Serialize(entries[1].statement.public_key);
    ASSERT_TRUE(pk.has_value());
    EXPECT_EQ(std::string(pk->begin(), pk->end()), rotated_pk);
    abe::AuthorityDirectory verified({abe::TrustedRootOf(hospital.authority.certificate()),
                                      abe::TrustedRootOf(board.authority.certificate())});
    auto added = verified.AddAll(entries, Now());
    ASSERT_TRUE(added.has_value()) << added.error().message();
    EXPECT_EQ(verified.entries().size(), 3u);
  }
  // A client that trusts only the board root refuses the file (the server verified nothing).
  abe::AuthorityDirectory board_only({abe::TrustedRootOf(board.authority.certificate())});
  EXPECT_FALSE(board_only.AddAll(FetchDirectory(doctor), Now()).has_value());

  // Who may publish.
  auto expect_error = [](const client::HttpResponse& resp, int status, const std::string& code) {
    EXPECT_EQ(resp.status, status) << resp.body;
    EXPECT_EQ(ErrorCodeOf(resp), code) << resp.body;
  };
  expect_error(Publish(admin_b, "hospital_a", FileOf(rotated)), 403, "namespace_owned");
  expect_error(Publish(doctor, "hospital_a", FileOf(rotated)), 403, "forbidden");
  expect_error(Publish(patient, "hospital_a", FileOf(rotated)), 403, "forbidden");
  expect_error(Publish(admin, "hospital_a", FileOf(rotated)), 403, "forbidden");
  expect_error(Publish(pending_admin, "hospital_a", FileOf(rotated)), 403, "not_approved");
  expect_error(pending_admin.Call("GET", "/v1/directory"), 403, "not_approved");

  // What is published: exactly one entry, for the path's namespace, as a directory file.
  r = Publish(admin_b, "board", FileOf(hospital.entry));
  expect_error(r, 400, "bad_directory_entry");
  EXPECT_NE(Parse(r)["error"]["message"].get<std::string>().find("certificate chain is for \"hospital_a\""),
            std::string::npos)
      << r.body;
  auto about_board = abe::SignKeyStatement(board.entry.statement.public_key, hospital.authority.signing_key(),
                                           Now() - 60, Now() + 86'400);
  ASSERT_TRUE(about_board.has_value());
  r = Publish(admin_a, "hospital_a", FileOf(abe::DirectoryEntry{hospital.authority.chain(), *about_board}));
  expect_error(r, 400, "bad_directory_entry");
  EXPECT_NE(Parse(r)["error"]["message"].get<std::string>().find("key statement is for \"board\""),
            std::string::npos)
      << r.body;
  const std::vector<abe::DirectoryEntry> two = {hospital.entry, cardiology};
  r = Publish(admin_a, "hospital_a", FileOf(two));
  expect_error(r, 400, "bad_directory_entry");
  EXPECT_NE(Parse(r)["error"]["message"].get<std::string>().find("holds 2 entries"), std::string::npos);
  expect_error(Publish(admin_a, "hospital_a", FileOf(std::span<const abe::DirectoryEntry>())), 400,
               "bad_directory_entry");
  r = Publish(admin_a, "hospital_a", "CCMD garbage, not a directory");
  expect_error(r, 400, "bad_directory_entry");
  EXPECT_NE(Parse(r)["error"]["message"].get<std::string>().find("not an authority directory file"),
            std::string::npos);
  // A parser error quoting bytes that are not UTF-8 (a namespace inside a certificate).
  std::string not_utf8 = FileOf(hospital.entry);
  not_utf8[not_utf8.find("hospital_a")] = '\xff';
  r = Publish(admin_a, "hospital_a", not_utf8);
  expect_error(r, 400, "bad_directory_entry");
  EXPECT_NE(r.body.find("\\\\xffospital_a"), std::string::npos) << r.body;
  std::string truncated = FileOf(hospital.entry);
  truncated.pop_back();
  expect_error(Publish(admin_a, "hospital_a", truncated), 400, "bad_directory_entry");
  expect_error(Publish(admin_a, "hospital_a", ""), 400, "bad_directory_entry");
  expect_error(Publish(admin_a, "1abc", FileOf(hospital.entry)), 400, "bad_path");
  expect_error(Publish(admin_a, "a:b", FileOf(hospital.entry)), 400, "bad_path");
  expect_error(Publish(admin_a, "hospital_a", FileOf(hospital.entry), "application/json"), 415,
               "unsupported_media_type");
  // Over 1 MiB: refused from Content-Length, before any byte is read.
  auto raw = server.Client()->SendRaw(
      "PUT /v1/directory/hospital_a HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
      "Authorization: Bearer " +
          admin_a.token + "\r\nContent-Length: 1048577\r\n\r\n",
      2000);
  ASSERT_TRUE(raw.has_value());
  EXPECT_NE(raw->find("413"), std::string::npos) << *raw;
  EXPECT_NE(raw->find("too_large"), std::string::npos);
  EXPECT_EQ(admin_a.Call("POST", "/v1/directory").status, 405);
  EXPECT_EQ(admin_a.Call("GET", "/v1/directory/hospital_a").status, 405);
  EXPECT_EQ(admin_a.Call("PUT", "/v1/directory").status, 405);

  // Nothing refused changed the directory.
  const auto after = FetchDirectory(doctor);
  ASSERT_EQ(Namespaces(after), (std::vector<std::string>{"board", "hospital_a", "hospital_a.cardiology"}));
  auto pk = abe::maabe::Serialize(after[1].statement.public_key);
  ASSERT_TRUE(pk.has_value());
  EXPECT_EQ(std::string(pk->begin(), pk->end()), rotated_pk);

  // Each publication and each refused publisher is in the audit log.
  auto log = admin.Call("GET", "/v1/audit/entries?start=0&end=1000");
  ASSERT_EQ(log.status, 200);
  std::multiset<std::string> seen;
  const json listing = Parse(log);
  for (const auto& e : listing["entries"]) {
    const json entry = json::parse(e["entry"].get<std::string>());
    if (entry["action"] != "directory.publish") continue;
    seen.insert(entry["actor"].get<std::string>() + " " + entry["target"].get<std::string>() + " " +
                entry["outcome"].get<std::string>());
  }
  EXPECT_EQ(seen.count(admin_a.user_id + " hospital_a ok"), 1u);
  EXPECT_EQ(seen.count(admin_a.user_id + " hospital_a.cardiology ok"), 1u);
  EXPECT_EQ(seen.count(admin_a2.user_id + " hospital_a ok"), 1u);
  EXPECT_EQ(seen.count(admin_b.user_id + " board ok"), 1u);
  EXPECT_EQ(seen.count(admin_b.user_id + " hospital_a denied:403"), 1u);
  EXPECT_EQ(seen.count(doctor.user_id + " hospital_a denied:403"), 1u);
  EXPECT_EQ(seen.count(admin.user_id + " hospital_a denied:403"), 1u);
}

INSTANTIATE_TEST_SUITE_P(Backends, AccountLookupTest, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });
INSTANTIATE_TEST_SUITE_P(Backends, DirectoryTest, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace cipherchart::server
