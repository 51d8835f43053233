// One suite written against ServerPort only, run unchanged against every backend (style.md item
// 8; Tahoe-LAFS's test_istorageserver.py): the in-memory FakeServer, and the real server over
// TLS (HttpServerPort against a server in this process on a loopback port, SQLite store). What
// the chart library may rely on of the server holds for both, so its unit tests on the fake mean
// something; a rule changed in the server without the fake (or the other way) fails here.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cipherchart/abe/authority_directory.h"
#include "cipherchart/abe/maabe_serialize.h"
#include "cipherchart/chart/server_port.h"
#include "cipherchart/common/bytes.h"
#include "cipherchart/common/hex.h"
#include "cipherchart/envelope/hash.h"
#include "cipherchart/protocol/ids.h"
#include "cipherchart/server/audit_entry.h"
#include "cipherchart/server/merkle.h"
#include "src/chart/testing/fake_server.h"
#include "src/chart/testing/result_test_util.h"
// GCC 12 reports a false -Wrestrict (std::string concatenation) in the header's
// FreshPostgresDatabase once it is inlined here, which -Werror builds turn into an error.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wrestrict"
#include "src/server/server_test_util.h"
#pragma GCC diagnostic pop

namespace cipherchart::chart::testing {
namespace {

using Bytes = std::vector<std::uint8_t>;
using json = nlohmann::json;

// ---- the backends ---------------------------------------------------------------------------

// A server to test: new connections to it, and its offline admin command.
class Backend {
 public:
  virtual ~Backend() = default;
  virtual Result<std::unique_ptr<ServerPort>> Connect() = 0;
  // `cipherchart server add-admin`.
  virtual Result<std::string> AddServerAdmin(const envelope::Ed25519PublicKey& identity) = 0;
};

class FakeBackend final : public Backend {
 public:
  Result<std::unique_ptr<ServerPort>> Connect() override { return server_.Connect(); }
  Result<std::string> AddServerAdmin(const envelope::Ed25519PublicKey& identity) override {
    return server_.AddServerAdmin(identity);
  }

 private:
  FakeServer server_;
};

// The real server (src/server) with its SQLite store in a temporary directory, TLS with its
// self-signed certificate, reached through chart::ConnectHttp.
class RealBackend final : public Backend {
 public:
  Result<std::unique_ptr<ServerPort>> Connect() override {
    return ConnectHttp({"127.0.0.1:" + std::to_string(server_.port()), server_.cert()});
  }
  Result<std::string> AddServerAdmin(const envelope::Ed25519PublicKey& identity) override {
    return server_.AddServerAdmin(identity);
  }

 private:
  server::testing::TestServer server_{"sqlite"};
};

// ---- test data ------------------------------------------------------------------------------

Bytes Pattern(std::size_t size, std::uint8_t seed) {
  Bytes out(size);
  std::uint32_t x = 0x9e3779b9U ^ seed;
  for (auto& b : out) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    b = static_cast<std::uint8_t>(x);
  }
  return out;
}

Bytes BytesOf(std::string_view s) { return {s.begin(), s.end()}; }

std::string CodeHash(std::string_view proof) {
  return ToHex(Must(envelope::Sha256Of(AsBytes(proof)), "SHA-256"));
}

std::string PractitionerDetails(const std::string& name) {
  return json{{"name", name},
              {"licence", "LIC-" + name},
              {"practice_start", "2015-01-01"},
              {"practice_end", "2030-12-31"}}
      .dump();
}

std::uint64_t NowSeconds() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

// A directory entry for the root authority of `ns`: its chain and a statement of a fresh
// multi-authority key (as server_directory_test.cc builds them).
struct Published {
  abe::Authority authority;
  Bytes file;  // the entry as a one-entry directory file
  Bytes pk;    // abe::maabe::Serialize of the stated key
};

Bytes EntryFile(const abe::Authority& authority, std::uint64_t not_before, Bytes& pk_out) {
  auto keys = Must(abe::maabe::AuthoritySetup(authority.authority_namespace()), "authority setup");
  auto statement =
      Must(abe::SignKeyStatement(keys.pk, authority.signing_key(), not_before, NowSeconds() + 86'400),
           "statement");
  pk_out = Must(abe::maabe::Serialize(keys.pk), "serialise");
  const abe::DirectoryEntry entry{authority.chain(), std::move(statement)};
  return Must(abe::EncodeDirectory(std::span(&entry, 1)), "directory file");
}

Published Root(std::string_view ns) {
  auto root = Must(abe::Authority::CreateRoot(ns, NowSeconds() - 3600, NowSeconds() + 365 * 86'400), "root");
  Published p{std::move(root), {}, {}};
  p.file = EntryFile(p.authority, NowSeconds() - 60, p.pk);
  return p;
}

std::vector<std::string> Namespaces(const Bytes& directory_file) {
  auto entries = Must(abe::ParseDirectory(directory_file), "directory");
  std::vector<std::string> out;
  out.reserve(entries.size());
  for (const auto& e : entries) out.push_back(e.statement.public_key.authority_namespace);
  return out;
}

template <class T, class F>
std::set<std::string> IdsOf(const std::vector<T>& rows, F id) {
  std::set<std::string> out;
  for (const auto& r : rows) out.insert(id(r));
  return out;
}

// ---- the suite ------------------------------------------------------------------------------

// An account with its keys and a logged-in connection.
struct User {
  envelope::Ed25519SigningKey key;
  envelope::X25519PublicKey delivery{};
  std::string id;
  std::unique_ptr<ServerPort> port;

  ServerPort* operator->() const { return port.get(); }
};

class ServerPortConformance : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "fake") {
      backend_ = std::make_unique<FakeBackend>();
    } else {
      backend_ = std::make_unique<RealBackend>();
    }
  }

  std::unique_ptr<ServerPort> Connect() { return Must(backend_->Connect(), "connect"); }

  static NewAccount Application(const User& u, const std::string& role, const std::string& organisation,
                                const std::string& details) {
    NewAccount a;
    a.role = role;
    a.identity_key = u.key.public_key();
    a.delivery_key = u.delivery;
    a.organisation = organisation;
    a.details_json = details;
    return a;
  }

  static User Keys() {
    User u{Must(envelope::Ed25519SigningKey::Generate(), "identity key"), {}, {}, nullptr};
    u.delivery = Must(envelope::X25519KeyPair::Generate(), "delivery key").public_key;
    return u;
  }

  // Registers through a fresh connection and logs in on it.
  User Register(const std::string& role, const std::string& organisation = "",
                const std::string& details = "") {
    User u = Keys();
    u.port = Connect();
    u.id = Must(u->Register(Application(u, role, organisation, details)), "register " + role);
    Must(u->Login(u.id, u.key), "login");
    return u;
  }

  User ServerAdmin() {
    User u = Keys();
    u.id = Must(backend_->AddServerAdmin(u.key.public_key()), "add-admin");
    u.port = Connect();
    Must(u->Login(u.id, u.key), "login");
    return u;
  }

  User AuthorityAdmin(User& admin, const std::string& organisation) {
    User a = Register("authority-admin", organisation, json{{"name", "admin of " + organisation}}.dump());
    Must(admin->Decide(a.id, true, ""), "approving an authority admin");
    return a;
  }

  User Practitioner(User& authority, const std::string& organisation, const std::string& name) {
    User d = Register("practitioner", organisation, PractitionerDetails(name));
    Must(authority->Decide(d.id, true, ""), "approving a practitioner");
    return d;
  }

  // A patient created by `doctor` and enrolled by `owner` (if any) with `proof`.
  static std::string NewPatient(User& doctor, User* owner, const std::string& proof = "proof-1") {
    std::string pid = Must(doctor->CreatePatient(CodeHash(proof)), "creating a patient");
    if (owner != nullptr) Must((*owner)->Enrol(pid, proof), "enrolment");
    return pid;
  }

  // The usual cast: a server admin, two organisations with an authority admin and a
  // practitioner each, and an enrolled patient with one record.
  struct World {
    User admin, authority_a, authority_b, doctor, doctor_b, owner, other_patient;
    std::string pid;
  };
  World MakeWorld() {
    User admin = ServerAdmin();
    User authority_a = AuthorityAdmin(admin, "hospital-a");
    User authority_b = AuthorityAdmin(admin, "hospital-b");
    User doctor = Practitioner(authority_a, "hospital-a", "Dr. Ada");
    User doctor_b = Practitioner(authority_b, "hospital-b", "Dr. Bo");
    User owner = Register("patient");
    User other = Register("patient");
    const std::string pid = NewPatient(doctor, &owner);
    Must(doctor->Put(pid, "r1", 1, {"vital-signs", "doctor or nurse"}, BytesOf("envelope-1")),
         "first record");
    return {std::move(admin),    std::move(authority_a), std::move(authority_b), std::move(doctor),
            std::move(doctor_b), std::move(owner),       std::move(other),       pid};
  }

  std::unique_ptr<Backend> backend_;
};

const RecordMeta kMeta{"vital-signs", "doctor or nurse"};

TEST_P(ServerPortConformance, RegistersAndLogsInAnApprovedPatient) {
  User u = Keys();
  u.port = Connect();
  EXPECT_ERROR_CODE(u->Me(), ErrorCode::kPermissionDenied);
  ASSERT_OK_AND_ASSIGN(u.id, u->Register(Application(u, "patient", "", R"({"note":"n","age":3})")));
  EXPECT_TRUE(protocol::IsValidUserId(u.id)) << u.id;
  ASSERT_OK(u->Login(u.id, u.key));
  ASSERT_OK_AND_ASSIGN(const OwnAccount me, u->Me());
  EXPECT_EQ(me.info.user_id, u.id);
  EXPECT_EQ(me.info.role, "patient");
  EXPECT_EQ(me.info.state, "approved");
  EXPECT_EQ(me.info.organisation, "");
  EXPECT_EQ(me.info.identity_key, u.key.public_key());
  EXPECT_EQ(me.info.delivery_key, u.delivery);
  EXPECT_EQ(json::parse(me.details_json), json({{"note", "n"}, {"age", 3}}));
  EXPECT_EQ(me.decision_reason, "");

  // Another patient sees the public part: keys, no organisation, no name.
  User other = Register("patient");
  ASSERT_OK_AND_ASSIGN(const AccountInfo seen, other->Account(u.id));
  EXPECT_EQ(seen.user_id, u.id);
  EXPECT_EQ(seen.role, "patient");
  EXPECT_EQ(seen.state, "approved");
  EXPECT_EQ(seen.identity_key, u.key.public_key());
  EXPECT_EQ(seen.delivery_key, u.delivery);
  EXPECT_EQ(seen.organisation, "");
  EXPECT_EQ(seen.name, "");
}

TEST_P(ServerPortConformance, PractitionersAndAuthorityAdminsStartPendingAndMayOnlyCallMe) {
  User admin = ServerAdmin();
  User authority = AuthorityAdmin(admin, "hospital-a");
  User doctor = Practitioner(authority, "hospital-a", "Dr. Ada");
  User owner = Register("patient");
  const std::string pid = NewPatient(doctor, &owner);
  ASSERT_OK(doctor->Put(pid, "r1", 1, kMeta, BytesOf("x")));

  User pending = Register("practitioner", "hospital-a", PractitionerDetails("Dr. Pending"));
  User pending_admin = Register("authority-admin", "hospital-c", json{{"name", "c"}}.dump());
  for (User* u : {&pending, &pending_admin}) {
    ASSERT_OK_AND_ASSIGN(const OwnAccount me, (*u)->Me());
    EXPECT_EQ(me.info.state, "pending");
    ServerPort& p = *u->port;
    EXPECT_ERROR_CODE(p.Account(doctor.id), ErrorCode::kPermissionDenied);
    EXPECT_ERROR_CODE(p.Registrations("pending"), ErrorCode::kPermissionDenied);
    EXPECT_ERROR_CODE(p.Decide(pending.id, true, ""), ErrorCode::kPermissionDenied);
    EXPECT_ERROR_CODE(p.Directory(), ErrorCode::kPermissionDenied);
    EXPECT_ERROR_CODE(p.PostPackage(doctor.id, BytesOf("k")), ErrorCode::kPermissionDenied);
    EXPECT_ERROR_CODE(p.Packages(), ErrorCode::kPermissionDenied);
    EXPECT_ERROR_CODE(p.CreatePatient(CodeHash("p")), ErrorCode::kPermissionDenied);
    EXPECT_ERROR_CODE(p.Records(pid), ErrorCode::kPermissionDenied);
    EXPECT_ERROR_CODE(p.Fetch(pid, "r1", 0), ErrorCode::kPermissionDenied);
    EXPECT_ERROR_CODE(p.Put(pid, "r1", 2, kMeta, BytesOf("y")), ErrorCode::kPermissionDenied);
    EXPECT_ERROR_CODE(p.Delete(pid, "r1"), ErrorCode::kPermissionDenied);
    EXPECT_ERROR_CODE(p.PatientAudit(pid), ErrorCode::kPermissionDenied);
    EXPECT_ERROR_CODE(p.Inclusion(0, 1), ErrorCode::kPermissionDenied);
    EXPECT_ERROR_CODE(p.Consistency(0, 1), ErrorCode::kPermissionDenied);
    // The audit key and the tree head are for anyone.
    EXPECT_OK(p.AuditKey());
    EXPECT_OK(p.Head());
  }
  // Even a malformed argument is refused for the approval first.
  EXPECT_ERROR_CODE(pending->Account("nobody"), ErrorCode::kPermissionDenied);

  // The registration's details come back on Me (GET /v1/accounts/me carries no "name").
  ASSERT_OK_AND_ASSIGN(const OwnAccount me, pending->Me());
  EXPECT_EQ(me.info.role, "practitioner");
  EXPECT_EQ(me.info.organisation, "hospital-a");
  EXPECT_EQ(me.info.name, "");
  EXPECT_EQ(json::parse(me.details_json)["licence"], "LIC-Dr. Pending");

  // A rejected practitioner keeps only Me, which shows the reason.
  ASSERT_OK(authority->Decide(pending.id, false, "licence expired"));
  ASSERT_OK_AND_ASSIGN(const OwnAccount rejected, pending->Me());
  EXPECT_EQ(rejected.info.state, "rejected");
  EXPECT_EQ(rejected.decision_reason, "licence expired");
  EXPECT_ERROR_CODE(pending->Records(pid), ErrorCode::kPermissionDenied);
  EXPECT_ERROR_CODE(pending->Fetch(pid, "r1", 1), ErrorCode::kPermissionDenied);
}

TEST_P(ServerPortConformance, RegistrationRefusesWhatTheServerRefuses) {
  auto port = Connect();
  const User u = Keys();
  auto try_register = [&](const std::string& role, const std::string& org, const std::string& details) {
    return port->Register(Application(u, role, org, details));
  };
  EXPECT_ERROR_CODE(try_register("practitioner", "", PractitionerDetails("a")), ErrorCode::kInvalidArgument);
  EXPECT_ERROR_CODE(try_register("practitioner", "hospital-a", ""), ErrorCode::kInvalidArgument);
  EXPECT_ERROR_CODE(
      try_register("practitioner", "hospital-a", R"({"name":"a","licence":"l","practice_start":"x"})"),
      ErrorCode::kInvalidArgument);
  EXPECT_ERROR_CODE(
      try_register("practitioner", "hospital-a", R"({"name":"","licence":"l","practice_start":"x",
                                 "practice_end":"y"})"),
      ErrorCode::kInvalidArgument);
  EXPECT_ERROR_CODE(try_register("patient", "", "[1,2]"), ErrorCode::kInvalidArgument);
  EXPECT_ERROR_CODE(try_register("patient", "", "{not json"), ErrorCode::kInvalidArgument);
  EXPECT_ERROR_CODE(try_register("authority-admin", "", R"({"name":"x"})"), ErrorCode::kInvalidArgument);
  EXPECT_ERROR_CODE(try_register("authority-admin", "bad\norg", R"({"name":"x"})"),
                    ErrorCode::kInvalidArgument);
  EXPECT_ERROR_CODE(try_register("nurse", "hospital-a", ""), ErrorCode::kInvalidArgument);
  EXPECT_ERROR_CODE(try_register("server-admin", "", ""), ErrorCode::kPermissionDenied);
  // One account per identity key.
  ASSERT_OK(try_register("patient", "", ""));
  EXPECT_ERROR_CODE(try_register("patient", "", ""), ErrorCode::kConflict);
  EXPECT_ERROR_CODE(try_register("practitioner", "hospital-a", PractitionerDetails("a")),
                    ErrorCode::kConflict);
}

TEST_P(ServerPortConformance, UnauthenticatedCallsAreRefused) {
  World w = MakeWorld();
  ASSERT_OK_AND_ASSIGN(const std::string package, w.authority_a->PostPackage(w.doctor.id, BytesOf("k")));
  auto anon = Connect();
  EXPECT_ERROR_CODE(anon->Me(), ErrorCode::kPermissionDenied);
  EXPECT_ERROR_CODE(anon->Account(w.doctor.id), ErrorCode::kPermissionDenied);
  EXPECT_ERROR_CODE(anon->Account("nobody"), ErrorCode::kPermissionDenied);
  EXPECT_ERROR_CODE(anon->Registrations("pending"), ErrorCode::kPermissionDenied);
  EXPECT_ERROR_CODE(anon->Decide(w.doctor.id, true, ""), ErrorCode::kPermissionDenied);
  EXPECT_ERROR_CODE(anon->Directory(), ErrorCode::kPermissionDenied);
  EXPECT_ERROR_CODE(anon->PublishDirectoryEntry("hospital_a", BytesOf("x")), ErrorCode::kPermissionDenied);
  EXPECT_ERROR_CODE(anon->PostPackage(w.doctor.id, BytesOf("k")), ErrorCode::kPermissionDenied);
  EXPECT_ERROR_CODE(anon->Packages(), ErrorCode::kPermissionDenied);
  EXPECT_ERROR_CODE(anon->Package(package), ErrorCode::kPermissionDenied);
  EXPECT_ERROR_CODE(anon->CreatePatient(CodeHash("p")), ErrorCode::kPermissionDenied);
  EXPECT_ERROR_CODE(anon->Enrol(w.pid, "proof-1"), ErrorCode::kPermissionDenied);
  EXPECT_ERROR_CODE(anon->Records(w.pid), ErrorCode::kPermissionDenied);
  EXPECT_ERROR_CODE(anon->Fetch(w.pid, "r1", 0), ErrorCode::kPermissionDenied);
  EXPECT_ERROR_CODE(anon->Fetch(w.pid, "r1", 1), ErrorCode::kPermissionDenied);
  EXPECT_ERROR_CODE(anon->Put(w.pid, "r1", 2, kMeta, BytesOf("v")), ErrorCode::kPermissionDenied);
  std::istringstream in("abc");
  EXPECT_ERROR_CODE(anon->Upload(w.pid, "r1", 2, kMeta, in, 3), ErrorCode::kPermissionDenied);
  std::ostringstream out;
  EXPECT_ERROR_CODE(anon->Download(w.pid, "r1", 0, out), ErrorCode::kPermissionDenied);
  EXPECT_TRUE(out.str().empty());
  EXPECT_ERROR_CODE(anon->Delete(w.pid, "r1"), ErrorCode::kPermissionDenied);
  EXPECT_ERROR_CODE(anon->PatientAudit(w.pid), ErrorCode::kPermissionDenied);
  EXPECT_ERROR_CODE(anon->Inclusion(0, 1), ErrorCode::kPermissionDenied);
  EXPECT_ERROR_CODE(anon->Consistency(0, 1), ErrorCode::kPermissionDenied);
  // The audit key and the signed tree head need no session.
  ASSERT_OK_AND_ASSIGN(const auto key, anon->AuditKey());
  ASSERT_OK_AND_ASSIGN(const TreeHead head, anon->Head());
  EXPECT_OK(server::VerifyTreeHead(key, {head.tree_size, head.timestamp_ms, head.root, head.signature}));
  // A fork of an unauthenticated connection has no session either.
  ASSERT_OK_AND_ASSIGN(auto fork, anon->Fork());
  EXPECT_ERROR_CODE(fork->Me(), ErrorCode::kPermissionDenied);
  // Nothing was written.
  ASSERT_OK_AND_ASSIGN(const auto rows, w.owner->Records(w.pid));
  EXPECT_EQ(rows.size(), 1u);
}

TEST_P(ServerPortConformance, LoginVerifiesTheSignatureUnderTheIdentityKey) {
  User alice = Register("patient");
  User bob = Register("patient");
  const User mallory = Keys();

  auto port = Connect();
  EXPECT_ERROR_CODE(port->Login(alice.id, mallory.key), ErrorCode::kPermissionDenied);
  EXPECT_ERROR_CODE(port->Login(alice.id, bob.key), ErrorCode::kPermissionDenied);
  EXPECT_ERROR_CODE(port->Me(), ErrorCode::kPermissionDenied);
  // An unknown user gets a challenge, but the login cannot succeed; a malformed id is refused.
  EXPECT_ERROR_CODE(port->Login(Must(protocol::NewUserId(), "user id"), mallory.key),
                    ErrorCode::kPermissionDenied);
  EXPECT_ERROR_CODE(port->Login("nobody", mallory.key), ErrorCode::kInvalidArgument);

  ASSERT_OK(port->Login(alice.id, alice.key));
  ASSERT_OK_AND_ASSIGN(OwnAccount me, port->Me());
  EXPECT_EQ(me.info.user_id, alice.id);
  // A failed login leaves the session as it was; a successful one replaces it.
  EXPECT_ERROR_CODE(port->Login(bob.id, alice.key), ErrorCode::kPermissionDenied);
  ASSERT_OK_AND_ASSIGN(me, port->Me());
  EXPECT_EQ(me.info.user_id, alice.id);
  ASSERT_OK(port->Login(bob.id, bob.key));
  ASSERT_OK_AND_ASSIGN(me, port->Me());
  EXPECT_EQ(me.info.user_id, bob.id);
  // Every login is a new session; the older ones stay valid.
  ASSERT_OK_AND_ASSIGN(me, alice->Me());
  EXPECT_EQ(me.info.user_id, alice.id);
}

TEST_P(ServerPortConformance, RegistrationsAreVisibleToTheDecidingAdminsOnly) {
  User admin = ServerAdmin();
  User authority_a = AuthorityAdmin(admin, "hospital-a");
  User authority_b = AuthorityAdmin(admin, "hospital-b");
  User doctor = Practitioner(authority_a, "hospital-a", "Dr. Ada");
  User patient = Register("patient");
  User pa = Register("practitioner", "hospital-a", PractitionerDetails("pa"));
  User pb = Register("practitioner", "hospital-b", PractitionerDetails("pb"));
  User pc = Register("authority-admin", "hospital-c", json{{"name", "c"}}.dump());
  auto ids = [](const std::vector<Registration>& rows) {
    return IdsOf(rows, [](const Registration& r) { return r.user_id; });
  };
  using Ids = std::set<std::string>;

  ASSERT_OK_AND_ASSIGN(auto rows, authority_a->Registrations("pending"));
  EXPECT_EQ(ids(rows), Ids({pa.id}));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].role, "practitioner");
  EXPECT_EQ(rows[0].state, "pending");
  EXPECT_EQ(rows[0].organisation, "hospital-a");
  EXPECT_EQ(rows[0].identity_key, pa.key.public_key());
  EXPECT_EQ(rows[0].delivery_key, pa.delivery);
  EXPECT_EQ(json::parse(rows[0].details_json), json::parse(PractitionerDetails("pa")));
  ASSERT_OK_AND_ASSIGN(rows, authority_a->Registrations("approved"));
  EXPECT_EQ(ids(rows), Ids({doctor.id}));
  ASSERT_OK_AND_ASSIGN(rows, authority_b->Registrations("pending"));
  EXPECT_EQ(ids(rows), Ids({pb.id}));
  ASSERT_OK_AND_ASSIGN(rows, admin->Registrations("pending"));
  EXPECT_EQ(ids(rows), Ids({pc.id}));
  ASSERT_OK_AND_ASSIGN(rows, admin->Registrations("approved"));
  EXPECT_EQ(ids(rows), Ids({authority_a.id, authority_b.id}));
  ASSERT_OK_AND_ASSIGN(rows, admin->Registrations("rejected"));
  EXPECT_TRUE(rows.empty());

  EXPECT_ERROR_CODE(doctor->Registrations("pending"), ErrorCode::kPermissionDenied);
  EXPECT_ERROR_CODE(patient->Registrations("pending"), ErrorCode::kPermissionDenied);
  EXPECT_ERROR_CODE(authority_a->Registrations("bogus"), ErrorCode::kInvalidArgument);
  EXPECT_ERROR_CODE(authority_a->Registrations(""), ErrorCode::kInvalidArgument);
}

TEST_P(ServerPortConformance, DecisionsFollowTheRoles) {
  User admin = ServerAdmin();
  User authority_a = AuthorityAdmin(admin, "hospital-a");
  User authority_b = AuthorityAdmin(admin, "hospital-b");
  User patient = Register("patient");
  User pa = Register("practitioner", "hospital-a", PractitionerDetails("pa"));
  User pa2 = Register("practitioner", "hospital-a", PractitionerDetails("pa2"));
  User pc = Register("authority-admin", "hospital-c", json{{"name", "c"}}.dump());

  EXPECT_ERROR_CODE(authority_b->Decide(pa.id, true, ""), ErrorCode::kPermissionDenied);
  EXPECT_ERROR_CODE(admin->Decide(pa.id, true, ""), ErrorCode::kPermissionDenied);
  EXPECT_ERROR_CODE(authority_a->Decide(pc.id, true, ""), ErrorCode::kPermissionDenied);
  EXPECT_ERROR_CODE(patient->Decide(pa.id, true, ""), ErrorCode::kPermissionDenied);
  EXPECT_ERROR_CODE(authority_a->Decide(Must(protocol::NewUserId(), "id"), true, ""), ErrorCode::kNotFound);
  EXPECT_ERROR_CODE(authority_a->Decide("nobody", true, ""), ErrorCode::kInvalidArgument);
  EXPECT_ERROR_CODE(authority_a->Decide(pa2.id, false, ""),
                    ErrorCode::kInvalidArgument);  // a reason is required

  ASSERT_OK(authority_a->Decide(pa.id, true, "checked the licence"));
  EXPECT_ERROR_CODE(authority_a->Decide(pa.id, true, ""), ErrorCode::kConflict);
  EXPECT_ERROR_CODE(authority_a->Decide(pa.id, false, "changed my mind"), ErrorCode::kConflict);
  ASSERT_OK(authority_a->Decide(pa2.id, false, "licence expired"));
  EXPECT_ERROR_CODE(authority_a->Decide(pa2.id, true, ""), ErrorCode::kConflict);
  ASSERT_OK(admin->Decide(pc.id, true, ""));

  ASSERT_OK_AND_ASSIGN(const OwnAccount approved, pa->Me());
  EXPECT_EQ(approved.info.state, "approved");
  EXPECT_EQ(approved.decision_reason, "checked the licence");
  ASSERT_OK_AND_ASSIGN(const OwnAccount rejected, pa2->Me());
  EXPECT_EQ(rejected.info.state, "rejected");
  EXPECT_EQ(rejected.decision_reason, "licence expired");
  // The approved practitioner is now let through; the rejected one is not.
  EXPECT_OK(pa->Account(patient.id));
  EXPECT_OK(pc->Registrations("pending"));
  EXPECT_ERROR_CODE(pa2->Account(patient.id), ErrorCode::kPermissionDenied);
  ASSERT_OK_AND_ASSIGN(auto rows, authority_a->Registrations("rejected"));
  EXPECT_EQ(IdsOf(rows, [](const Registration& r) { return r.user_id; }), std::set<std::string>({pa2.id}));
}

TEST_P(ServerPortConformance, AccountLookupShowsThePublicPart) {
  User admin = ServerAdmin();
  User authority = AuthorityAdmin(admin, "hospital-a");
  User doctor = Practitioner(authority, "hospital-a", "Dr. Ada");
  User patient = Register("patient");
  User pending = Register("practitioner", "hospital-a", PractitionerDetails("Dr. Pending"));

  ASSERT_OK_AND_ASSIGN(AccountInfo a, patient->Account(doctor.id));
  EXPECT_EQ(a.user_id, doctor.id);
  EXPECT_EQ(a.role, "practitioner");
  EXPECT_EQ(a.state, "approved");
  EXPECT_EQ(a.organisation, "hospital-a");
  EXPECT_EQ(a.name, "Dr. Ada");
  EXPECT_EQ(a.identity_key, doctor.key.public_key());
  EXPECT_EQ(a.delivery_key, doctor.delivery);
  ASSERT_OK_AND_ASSIGN(a, doctor->Account(authority.id));
  EXPECT_EQ(a.role, "authority-admin");
  EXPECT_EQ(a.name, "admin of hospital-a");
  ASSERT_OK_AND_ASSIGN(a, patient->Account(admin.id));
  EXPECT_EQ(a.role, "server-admin");
  EXPECT_EQ(a.name, "");
  ASSERT_OK_AND_ASSIGN(a, admin->Account(pending.id));
  EXPECT_EQ(a.state, "pending");
  EXPECT_EQ(a.name, "Dr. Pending");
  ASSERT_OK_AND_ASSIGN(a, doctor->Account(doctor.id));
  EXPECT_EQ(a.user_id, doctor.id);
  EXPECT_ERROR_CODE(doctor->Account(Must(protocol::NewUserId(), "id")), ErrorCode::kNotFound);
  EXPECT_ERROR_CODE(doctor->Account("nobody"), ErrorCode::kInvalidArgument);
}

TEST_P(ServerPortConformance, TheMailboxIsPrivate) {
  World w = MakeWorld();
  User pending = Register("practitioner", "hospital-a", PractitionerDetails("pending"));
  const Bytes sealed = Pattern(1000, 1);

  ASSERT_OK_AND_ASSIGN(const std::string id, w.authority_a->PostPackage(w.doctor.id, sealed));
  EXPECT_TRUE(protocol::IsValidPackageId(id)) << id;
  ASSERT_OK_AND_ASSIGN(const std::string id2, w.authority_b->PostPackage(w.doctor.id, BytesOf("second")));
  ASSERT_OK_AND_ASSIGN(auto list, w.doctor->Packages());
  ASSERT_EQ(list.size(), 2u);
  for (const PackageInfo& p : list) {
    EXPECT_TRUE(p.package_id == id || p.package_id == id2);
    EXPECT_EQ(p.sender_id, p.package_id == id ? w.authority_a.id : w.authority_b.id);
    EXPECT_EQ(p.size, p.package_id == id ? sealed.size() : 6u);
  }
  ASSERT_OK_AND_ASSIGN(const Bytes fetched, w.doctor->Package(id));
  EXPECT_EQ(fetched, sealed);

  // Nobody else lists or fetches it; someone else's package is "not found".
  ASSERT_OK_AND_ASSIGN(list, w.doctor_b->Packages());
  EXPECT_TRUE(list.empty());
  EXPECT_ERROR_CODE(w.doctor_b->Package(id), ErrorCode::kNotFound);
  EXPECT_ERROR_CODE(w.authority_a->Package(id), ErrorCode::kNotFound);
  EXPECT_ERROR_CODE(w.doctor->Package(Must(protocol::NewPackageId(), "id")), ErrorCode::kNotFound);
  EXPECT_ERROR_CODE(w.doctor->Package("k-not-an-id"), ErrorCode::kInvalidArgument);

  // Who may post to whom.
  EXPECT_ERROR_CODE(w.doctor->PostPackage(w.doctor_b.id, BytesOf("k")), ErrorCode::kPermissionDenied);
  EXPECT_ERROR_CODE(w.owner->PostPackage(w.doctor.id, BytesOf("k")), ErrorCode::kPermissionDenied);
  EXPECT_ERROR_CODE(w.authority_a->PostPackage(pending.id, BytesOf("k")), ErrorCode::kPermissionDenied);
  EXPECT_ERROR_CODE(w.authority_a->PostPackage(w.admin.id, BytesOf("k")), ErrorCode::kPermissionDenied);
  EXPECT_ERROR_CODE(w.authority_a->PostPackage(Must(protocol::NewUserId(), "id"), BytesOf("k")),
                    ErrorCode::kNotFound);
  EXPECT_ERROR_CODE(w.authority_a->PostPackage("nobody", BytesOf("k")), ErrorCode::kInvalidArgument);
  // The personal domain: a patient posts to a patient account.
  ASSERT_OK_AND_ASSIGN(const std::string personal, w.owner->PostPackage(w.other_patient.id, BytesOf("p")));
  ASSERT_OK_AND_ASSIGN(list, w.other_patient->Packages());
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].package_id, personal);
  EXPECT_EQ(list[0].sender_id, w.owner.id);
  ASSERT_OK_AND_ASSIGN(list, w.owner->Packages());
  EXPECT_TRUE(list.empty());
}

TEST_P(ServerPortConformance, ADirectoryNamespaceBelongsToItsFirstPublishersOrganisation) {
  User admin = ServerAdmin();
  User admin_a = AuthorityAdmin(admin, "hospital-a");
  User admin_a2 = AuthorityAdmin(admin, "hospital-a");
  User admin_b = AuthorityAdmin(admin, "hospital-b");
  User doctor = Practitioner(admin_a, "hospital-a", "Dr. Ada");
  User patient = Register("patient");
  const Published hospital = Root("hospital_a");
  const Published board = Root("board");

  ASSERT_OK_AND_ASSIGN(Bytes file, patient->Directory());
  EXPECT_TRUE(Namespaces(file).empty());

  ASSERT_OK(admin_a->PublishDirectoryEntry("hospital_a", hospital.file));
  ASSERT_OK(admin_b->PublishDirectoryEntry("board", board.file));
  // Another admin of the owning organisation rotates the key; another organisation may not.
  Bytes rotated_pk;
  const Bytes rotated = EntryFile(hospital.authority, NowSeconds() - 30, rotated_pk);
  ASSERT_OK(admin_a2->PublishDirectoryEntry("hospital_a", rotated));
  EXPECT_ERROR_CODE(admin_b->PublishDirectoryEntry("hospital_a", rotated), ErrorCode::kPermissionDenied);
  EXPECT_ERROR_CODE(doctor->PublishDirectoryEntry("hospital_a", rotated), ErrorCode::kPermissionDenied);
  EXPECT_ERROR_CODE(patient->PublishDirectoryEntry("hospital_a", rotated), ErrorCode::kPermissionDenied);
  EXPECT_ERROR_CODE(admin->PublishDirectoryEntry("hospital_a", rotated), ErrorCode::kPermissionDenied);
  // What is published must be one entry for the path's namespace.
  EXPECT_ERROR_CODE(admin_a->PublishDirectoryEntry("board", hospital.file), ErrorCode::kInvalidArgument);
  EXPECT_ERROR_CODE(admin_a->PublishDirectoryEntry("hospital_a", BytesOf("CCMD garbage")),
                    ErrorCode::kInvalidArgument);
  EXPECT_ERROR_CODE(admin_a->PublishDirectoryEntry("hospital_a", {}), ErrorCode::kInvalidArgument);
  EXPECT_ERROR_CODE(admin_a->PublishDirectoryEntry("1abc", hospital.file), ErrorCode::kInvalidArgument);

  // Every approved account reads it, sorted by namespace, with the rotated key.
  for (User* reader : {&patient, &doctor, &admin_b, &admin}) {
    ASSERT_OK_AND_ASSIGN(file, (*reader)->Directory());
    ASSERT_EQ(Namespaces(file), (std::vector<std::string>{"board", "hospital_a"}));
    const auto entries = Must(abe::ParseDirectory(file), "directory");
    EXPECT_EQ(Must(abe::maabe::Serialize(entries[1].statement.public_key), "pk"), rotated_pk);
    abe::AuthorityDirectory verified({abe::TrustedRootOf(hospital.authority.certificate()),
                                      abe::TrustedRootOf(board.authority.certificate())});
    EXPECT_OK(verified.AddAll(entries, NowSeconds()));
  }
}

TEST_P(ServerPortConformance, PractitionersCreatePatientsWhoEnrolOnceWithTheRightProof) {
  World w = MakeWorld();
  EXPECT_ERROR_CODE(w.owner->CreatePatient(CodeHash("x")), ErrorCode::kPermissionDenied);
  EXPECT_ERROR_CODE(w.authority_a->CreatePatient(CodeHash("x")), ErrorCode::kPermissionDenied);
  EXPECT_ERROR_CODE(w.admin->CreatePatient(CodeHash("x")), ErrorCode::kPermissionDenied);
  EXPECT_ERROR_CODE(w.doctor->CreatePatient("not hex"), ErrorCode::kInvalidArgument);
  EXPECT_ERROR_CODE(w.doctor->CreatePatient(std::string(62, 'a')), ErrorCode::kInvalidArgument);

  ASSERT_OK_AND_ASSIGN(const std::string pid, w.doctor_b->CreatePatient(CodeHash("right proof")));
  EXPECT_TRUE(protocol::IsValidPatientId(pid)) << pid;
  User newcomer = Register("patient");
  // Not the owner yet.
  EXPECT_ERROR_CODE(newcomer->Records(pid), ErrorCode::kPermissionDenied);
  EXPECT_ERROR_CODE(w.doctor->Enrol(pid, "right proof"), ErrorCode::kPermissionDenied);
  EXPECT_ERROR_CODE(newcomer->Enrol(pid, "wrong proof"), ErrorCode::kPermissionDenied);
  EXPECT_ERROR_CODE(newcomer->Enrol(Must(protocol::NewPatientId(), "id"), "right proof"),
                    ErrorCode::kNotFound);
  EXPECT_ERROR_CODE(newcomer->Enrol("not-a-patient", "right proof"), ErrorCode::kInvalidArgument);
  ASSERT_OK(newcomer->Enrol(pid, "right proof"));
  // Once only, for anyone.
  EXPECT_ERROR_CODE(newcomer->Enrol(pid, "right proof"), ErrorCode::kConflict);
  EXPECT_ERROR_CODE(w.other_patient->Enrol(pid, "right proof"), ErrorCode::kConflict);
  EXPECT_ERROR_CODE(w.other_patient->Enrol(pid, "wrong proof"), ErrorCode::kConflict);
  ASSERT_OK_AND_ASSIGN(const auto rows, newcomer->Records(pid));
  EXPECT_TRUE(rows.empty());
  EXPECT_ERROR_CODE(w.other_patient->Records(pid), ErrorCode::kPermissionDenied);
}

TEST_P(ServerPortConformance, RecordVersionsOnlyAppendTheNextVersion) {
  World w = MakeWorld();
  const std::string& pid = w.pid;  // r1 has version 1
  EXPECT_ERROR_CODE(w.doctor->Put(pid, "r1", 1, kMeta, BytesOf("again")), ErrorCode::kConflict);
  EXPECT_ERROR_CODE(w.doctor->Put(pid, "r1", 3, kMeta, BytesOf("skip")), ErrorCode::kConflict);
  EXPECT_ERROR_CODE(w.doctor->Put(pid, "r1", 0, kMeta, BytesOf("zero")), ErrorCode::kInvalidArgument);
  EXPECT_ERROR_CODE(w.doctor->Put(pid, "new", 2, kMeta, BytesOf("not first")), ErrorCode::kConflict);
  ASSERT_OK(w.doctor->Put(pid, "r1", 2, {"labs", "doctor"}, BytesOf("envelope-2")));
  // The owner patient appends too.
  ASSERT_OK(w.owner->Put(pid, "r1", 3, kMeta, BytesOf("envelope-3")));
  ASSERT_OK(w.doctor->Put(pid, "a-first", 1, kMeta, {}));  // an empty body is a version too
  // Record ids, sections and policies are checked.
  EXPECT_ERROR_CODE(w.doctor->Put(pid, std::string(65, 'r'), 1, kMeta, BytesOf("x")),
                    ErrorCode::kInvalidArgument);
  EXPECT_ERROR_CODE(w.doctor->Put(pid, "bad!id", 1, kMeta, BytesOf("x")), ErrorCode::kInvalidArgument);
  EXPECT_ERROR_CODE(w.doctor->Put(pid, "r2", 1, {"", "p"}, BytesOf("x")), ErrorCode::kInvalidArgument);
  EXPECT_ERROR_CODE(w.doctor->Put(pid, "r2", 1, {std::string(65, 's'), "p"}, BytesOf("x")),
                    ErrorCode::kInvalidArgument);
  EXPECT_ERROR_CODE(w.doctor->Put(pid, "r2", 1, {"s", std::string(4097, 'p')}, BytesOf("x")),
                    ErrorCode::kInvalidArgument);

  ASSERT_OK_AND_ASSIGN(Bytes b, w.doctor->Fetch(pid, "r1", 0));
  EXPECT_EQ(b, BytesOf("envelope-3"));
  ASSERT_OK_AND_ASSIGN(b, w.doctor->Fetch(pid, "r1", 1));
  EXPECT_EQ(b, BytesOf("envelope-1"));
  ASSERT_OK_AND_ASSIGN(b, w.owner->Fetch(pid, "r1", 2));
  EXPECT_EQ(b, BytesOf("envelope-2"));
  ASSERT_OK_AND_ASSIGN(b, w.doctor->Fetch(pid, "a-first", 0));
  EXPECT_TRUE(b.empty());
  EXPECT_ERROR_CODE(w.doctor->Fetch(pid, "r1", 4), ErrorCode::kNotFound);
  EXPECT_ERROR_CODE(w.doctor->Fetch(pid, "nothing", 0), ErrorCode::kNotFound);
  EXPECT_ERROR_CODE(w.doctor->Fetch(pid, "nothing", 1), ErrorCode::kNotFound);
  EXPECT_ERROR_CODE(w.doctor->Fetch(pid, "bad!id", 1), ErrorCode::kInvalidArgument);

  // The listing: every version, by record id then version.
  ASSERT_OK_AND_ASSIGN(const auto rows, w.owner->Records(pid));
  ASSERT_EQ(rows.size(), 4u);
  const std::vector<std::pair<std::string, std::uint64_t>> order = {
      {"a-first", 1}, {"r1", 1}, {"r1", 2}, {"r1", 3}};
  for (std::size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i].record_id, order[i].first);
    EXPECT_EQ(rows[i].version, order[i].second);
    EXPECT_FALSE(rows[i].tombstone);
    EXPECT_GT(rows[i].created_at_ms, 0);
  }
  EXPECT_EQ(rows[0].size, 0u);
  EXPECT_EQ(rows[1].size, 10u);
  EXPECT_EQ(rows[1].section, "vital-signs");
  EXPECT_EQ(rows[1].policy, "doctor or nurse");
  EXPECT_EQ(rows[1].author_id, w.doctor.id);
  EXPECT_EQ(rows[2].section, "labs");
  EXPECT_EQ(rows[2].policy, "doctor");
  EXPECT_EQ(rows[3].author_id, w.owner.id);
}

TEST_P(ServerPortConformance, ADeletedRecordStaysDeletedInEveryVersion) {
  World w = MakeWorld();
  const std::string& pid = w.pid;
  ASSERT_OK(w.doctor->Put(pid, "r1", 2, kMeta, BytesOf("envelope-2")));
  ASSERT_OK(w.doctor->Put(pid, "kept", 1, kMeta, BytesOf("kept")));
  // Only the owner deletes.
  EXPECT_ERROR_CODE(w.doctor->Delete(pid, "r1"), ErrorCode::kPermissionDenied);
  EXPECT_ERROR_CODE(w.other_patient->Delete(pid, "r1"), ErrorCode::kPermissionDenied);
  EXPECT_ERROR_CODE(w.authority_a->Delete(pid, "r1"), ErrorCode::kPermissionDenied);
  EXPECT_ERROR_CODE(w.owner->Delete(pid, "nothing"), ErrorCode::kNotFound);
  ASSERT_OK(w.owner->Delete(pid, "r1"));

  for (User* reader : {&w.owner, &w.doctor}) {
    for (const std::uint64_t v : {0U, 1U, 2U, 3U})
      EXPECT_ERROR_CODE((*reader)->Fetch(pid, "r1", v), ErrorCode::kNotFound);
    std::ostringstream out;
    EXPECT_ERROR_CODE((*reader)->Download(pid, "r1", 1, out), ErrorCode::kNotFound);
    EXPECT_TRUE(out.str().empty());
  }
  // No version after a tombstone, and no second delete.
  EXPECT_ERROR_CODE(w.doctor->Put(pid, "r1", 3, kMeta, BytesOf("revive")), ErrorCode::kConflict);
  EXPECT_ERROR_CODE(w.owner->Put(pid, "r1", 4, kMeta, BytesOf("revive")), ErrorCode::kConflict);
  EXPECT_ERROR_CODE(w.owner->Delete(pid, "r1"), ErrorCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(const Bytes kept, w.doctor->Fetch(pid, "kept", 0));
  EXPECT_EQ(kept, BytesOf("kept"));

  ASSERT_OK_AND_ASSIGN(const auto rows, w.doctor->Records(pid));
  ASSERT_EQ(rows.size(), 4u);  // kept@1, r1@1, r1@2, r1@3 (the tombstone)
  const RecordInfo& t = rows[3];
  EXPECT_EQ(t.record_id, "r1");
  EXPECT_EQ(t.version, 3u);
  EXPECT_TRUE(t.tombstone);
  EXPECT_EQ(t.size, 0u);
  EXPECT_EQ(t.author_id, w.owner.id);
  EXPECT_EQ(t.section, "vital-signs");
  EXPECT_EQ(t.policy, "");
}

// An id from a command line or a server reply that is not one clean path segment ("..", a
// '/', '?' or '%') never reaches another route: refused before anything is sent.
TEST_P(ServerPortConformance, IdsThatAreNotOneCleanSegmentAreRefused) {
  World w = MakeWorld();
  for (const std::string bad : {"..", "r1/../../../accounts/me", "r1?x=1", "r%2F1", ""}) {
    SCOPED_TRACE(bad);
    EXPECT_ERROR_CODE(w.doctor_b->Fetch(w.pid, bad, 0), ErrorCode::kInvalidArgument);
    EXPECT_ERROR_CODE(w.doctor_b->Put(w.pid, bad, 1, kMeta, BytesOf("x")), ErrorCode::kInvalidArgument);
  }
  EXPECT_ERROR_CODE(w.doctor_b->Records("../keys"), ErrorCode::kInvalidArgument);
  EXPECT_ERROR_CODE(w.doctor_b->Account("me/../x"), ErrorCode::kInvalidArgument);
  EXPECT_ERROR_CODE(w.doctor_b->Package("k/../../server"), ErrorCode::kInvalidArgument);
}

TEST_P(ServerPortConformance, OwnerAndApprovedPractitionersReadAndWriteAPatient) {
  World w = MakeWorld();
  const std::string& pid = w.pid;
  User pending = Register("practitioner", "hospital-a", PractitionerDetails("pending"));
  // A practitioner of another organisation reads and appends (the ABE policy is what limits
  // them); the owner too.
  ASSERT_OK_AND_ASSIGN(const Bytes b, w.doctor_b->Fetch(pid, "r1", 0));
  EXPECT_EQ(b, BytesOf("envelope-1"));
  ASSERT_OK(w.doctor_b->Put(pid, "r1", 2, kMeta, BytesOf("from b")));
  EXPECT_OK(w.doctor_b->Records(pid));
  EXPECT_OK(w.owner->Records(pid));
  // Nobody else.
  for (User* u : {&w.other_patient, &w.authority_a, &w.admin, &pending}) {
    EXPECT_ERROR_CODE((*u)->Records(pid), ErrorCode::kPermissionDenied);
    EXPECT_ERROR_CODE((*u)->Fetch(pid, "r1", 0), ErrorCode::kPermissionDenied);
    EXPECT_ERROR_CODE((*u)->Fetch(pid, "r1", 1), ErrorCode::kPermissionDenied);
    EXPECT_ERROR_CODE((*u)->Put(pid, "r1", 3, kMeta, BytesOf("no")), ErrorCode::kPermissionDenied);
  }
  // Unknown and malformed patients.
  const std::string unknown = Must(protocol::NewPatientId(), "id");
  EXPECT_ERROR_CODE(w.doctor->Records(unknown), ErrorCode::kNotFound);
  EXPECT_ERROR_CODE(w.doctor->Fetch(unknown, "r1", 0), ErrorCode::kNotFound);
  EXPECT_ERROR_CODE(w.doctor->Put(unknown, "r1", 1, kMeta, BytesOf("x")), ErrorCode::kNotFound);
  std::string bad_check = unknown;
  bad_check.back() = bad_check.back() == 'A' ? 'B' : 'A';
  EXPECT_ERROR_CODE(w.doctor->Records(bad_check), ErrorCode::kInvalidArgument);
  EXPECT_ERROR_CODE(w.doctor->Records("nobody"), ErrorCode::kInvalidArgument);
  ASSERT_OK_AND_ASSIGN(const auto rows, w.owner->Records(pid));
  EXPECT_EQ(rows.size(), 2u);
}

TEST_P(ServerPortConformance, OnlyTheOwnerReadsAPatientsAuditEntries) {
  World w = MakeWorld();
  ASSERT_OK(w.doctor->Fetch(w.pid, "r1", 0));
  EXPECT_ERROR_CODE(w.doctor->PatientAudit(w.pid), ErrorCode::kPermissionDenied);
  EXPECT_ERROR_CODE(w.other_patient->PatientAudit(w.pid), ErrorCode::kPermissionDenied);
  EXPECT_ERROR_CODE(w.admin->PatientAudit(w.pid), ErrorCode::kPermissionDenied);
  EXPECT_ERROR_CODE(w.owner->PatientAudit(Must(protocol::NewPatientId(), "id")), ErrorCode::kNotFound);

  ASSERT_OK_AND_ASSIGN(const auto rows, w.owner->PatientAudit(w.pid));
  std::multiset<std::string> seen;
  std::uint64_t last = 0;
  for (const AuditRow& row : rows) {
    ASSERT_OK_AND_ASSIGN(const server::AuditEntry e, server::DecodeAuditEntry(AsBytes(row.entry)));
    EXPECT_EQ(e.patient_id, w.pid) << row.entry;
    EXPECT_TRUE(row.index >= last) << row.index;
    last = row.index;
    if (e.outcome == "ok") seen.insert(e.action + " " + e.actor + " " + e.target);
  }
  EXPECT_EQ(seen.count("patient.create " + w.doctor.id + " "), 1u);
  EXPECT_EQ(seen.count("patient.enrol " + w.owner.id + " "), 1u);
  EXPECT_EQ(seen.count("record.append " + w.doctor.id + " r1@1"), 1u);
  EXPECT_EQ(seen.count("record.fetch " + w.doctor.id + " r1@1"), 1u);

  // Another patient's trail holds nothing of this one.
  const std::string other_pid = NewPatient(w.doctor, &w.other_patient, "proof-2");
  ASSERT_OK_AND_ASSIGN(const auto other_rows, w.other_patient->PatientAudit(other_pid));
  EXPECT_FALSE(other_rows.empty());
  for (const AuditRow& row : other_rows) EXPECT_EQ(row.entry.find(w.pid), std::string::npos) << row.entry;
}

TEST_P(ServerPortConformance, TheAuditLogIsAVerifiableMerkleTree) {
  auto anon = Connect();
  ASSERT_OK_AND_ASSIGN(const envelope::Ed25519PublicKey key, anon->AuditKey());
  auto verify_head = [&](const TreeHead& h) {
    return server::VerifyTreeHead(key, {h.tree_size, h.timestamp_ms, h.root, h.signature});
  };
  ASSERT_OK_AND_ASSIGN(const TreeHead first, anon->Head());
  EXPECT_OK(verify_head(first));

  World w = MakeWorld();
  ASSERT_OK(w.doctor->Put(w.pid, "r1", 2, kMeta, BytesOf("v2")));
  ASSERT_OK(w.doctor->Fetch(w.pid, "r1", 0));
  ASSERT_OK_AND_ASSIGN(const TreeHead second, w.doctor->Head());
  EXPECT_OK(verify_head(second));
  ASSERT_GT(second.tree_size, first.tree_size);
  TreeHead forged = second;
  forged.root[0] ^= 1;
  EXPECT_FALSE(verify_head(forged).has_value());

  // The later tree extends the earlier one.
  ASSERT_OK_AND_ASSIGN(const auto consistency, w.doctor->Consistency(first.tree_size, second.tree_size));
  EXPECT_OK(
      server::VerifyConsistency(first.tree_size, second.tree_size, first.root, second.root, consistency));
  ASSERT_OK_AND_ASSIGN(const auto same, w.owner->Consistency(second.tree_size, second.tree_size));
  EXPECT_TRUE(same.empty());

  // Each of the patient's entries is in the tree the head signs.
  ASSERT_OK_AND_ASSIGN(const auto rows, w.owner->PatientAudit(w.pid));
  int checked = 0;
  for (const AuditRow& row : rows) {
    if (row.index >= second.tree_size) continue;
    ASSERT_OK_AND_ASSIGN(const server::Hash leaf, server::LeafHash(AsBytes(row.entry)));
    ASSERT_OK_AND_ASSIGN(const auto path, w.owner->Inclusion(row.index, second.tree_size));
    EXPECT_OK(server::VerifyInclusion(leaf, row.index, second.tree_size, path, second.root));
    server::Hash wrong = leaf;
    wrong[0] ^= 1;
    EXPECT_FALSE(server::VerifyInclusion(wrong, row.index, second.tree_size, path, second.root).has_value());
    ++checked;
  }
  EXPECT_GE(checked, 4);

  // Ranges outside the log.
  ASSERT_OK_AND_ASSIGN(const TreeHead now, w.owner->Head());
  EXPECT_ERROR_CODE(w.owner->Inclusion(now.tree_size + 5, now.tree_size + 10), ErrorCode::kInvalidArgument);
  EXPECT_ERROR_CODE(w.owner->Inclusion(3, 3), ErrorCode::kInvalidArgument);
  EXPECT_ERROR_CODE(w.owner->Inclusion(0, now.tree_size + 1'000'000), ErrorCode::kInvalidArgument);
  EXPECT_ERROR_CODE(w.owner->Consistency(2, 1), ErrorCode::kInvalidArgument);
  EXPECT_ERROR_CODE(w.owner->Consistency(1, now.tree_size + 1'000'000), ErrorCode::kInvalidArgument);
}

TEST_P(ServerPortConformance, StreamsThreeMebibytesUpAndDown) {
  World w = MakeWorld();
  const Bytes body = Pattern(3 * 1024 * 1024 + 17, 7);
  std::istringstream in(std::string(AsText(body)));
  ASSERT_OK(w.doctor->Upload(w.pid, "big", 1, {"imaging", "radiologist"}, in, body.size()));

  std::ostringstream out;
  ASSERT_OK(w.owner->Download(w.pid, "big", 0, out));
  EXPECT_TRUE(out.str() == AsText(body)) << "downloaded " << out.str().size() << " bytes";
  std::ostringstream by_version;
  ASSERT_OK(w.doctor_b->Download(w.pid, "big", 1, by_version));
  EXPECT_EQ(by_version.str().size(), body.size());
  ASSERT_OK_AND_ASSIGN(const Bytes fetched, w.doctor->Fetch(w.pid, "big", 1));
  EXPECT_TRUE(fetched == body);
  ASSERT_OK_AND_ASSIGN(const auto rows, w.owner->Records(w.pid));
  const auto big = std::ranges::find_if(rows, [](const RecordInfo& r) { return r.record_id == "big"; });
  ASSERT_NE(big, rows.end());
  EXPECT_EQ(big->size, body.size());
  EXPECT_EQ(big->section, "imaging");

  // A streamed upload obeys the versioning rules too; a failed download writes nothing.
  std::istringstream again("again");
  EXPECT_ERROR_CODE(w.doctor->Upload(w.pid, "big", 1, kMeta, again, 5), ErrorCode::kConflict);
  std::ostringstream none;
  EXPECT_ERROR_CODE(w.doctor->Download(w.pid, "big", 2, none), ErrorCode::kNotFound);
  EXPECT_TRUE(none.str().empty());
}

TEST_P(ServerPortConformance, AForkSharesTheLogin) {
  World w = MakeWorld();
  ASSERT_OK(w.doctor->Put(w.pid, "r1", 2, kMeta, Pattern(64 * 1024, 3)));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ServerPort> fork, w.doctor->Fork());
  ASSERT_OK_AND_ASSIGN(const OwnAccount me, fork->Me());
  EXPECT_EQ(me.info.user_id, w.doctor.id);
  ASSERT_OK(fork->Put(w.pid, "r1", 3, kMeta, BytesOf("from the fork")));
  ASSERT_OK_AND_ASSIGN(const auto rows, w.owner->Records(w.pid));
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[2].author_id, w.doctor.id);

  // Parallel downloads, one fork per thread.
  std::vector<std::unique_ptr<ServerPort>> forks;
  forks.reserve(4);
  for (int i = 0; i < 4; ++i) forks.push_back(Must(w.doctor->Fork(), "fork"));
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  threads.reserve(forks.size());
  const Bytes expected = Pattern(64 * 1024, 3);
  for (auto& f : forks) {
    threads.emplace_back([&, port = f.get()] {
      for (int i = 0; i < 3; ++i) {
        auto b = port->Fetch(w.pid, "r1", 2);
        if (b && *b == expected) ++good;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(good.load(), 12);

  // Logging the fork in as someone else leaves the original's session alone.
  ASSERT_OK(fork->Login(w.owner.id, w.owner.key));
  ASSERT_OK_AND_ASSIGN(OwnAccount who, fork->Me());
  EXPECT_EQ(who.info.user_id, w.owner.id);
  ASSERT_OK_AND_ASSIGN(who, w.doctor->Me());
  EXPECT_EQ(who.info.user_id, w.doctor.id);
}

INSTANTIATE_TEST_SUITE_P(Backends, ServerPortConformance, ::testing::Values("fake", "real"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace cipherchart::chart::testing
