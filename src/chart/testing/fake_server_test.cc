// What only the fake has: its fault and tamper hooks, its injected clock, the audit of refusals at
// once, and its thread safety. The rules it shares with the real server are tested in
// server_port_conformance_test.cc.
#include "src/chart/testing/fake_server.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cipherchart/common/bytes.h"
#include "cipherchart/common/hex.h"
#include "cipherchart/envelope/hash.h"
#include "cipherchart/server/merkle.h"
#include "src/chart/testing/result_test_util.h"

namespace cipherchart::chart::testing {
namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes BytesOf(std::string_view s) { return {s.begin(), s.end()}; }

const RecordMeta kMeta{"vital-signs", "doctor or nurse"};

struct Logged {
  envelope::Ed25519SigningKey key;
  std::string id;
  std::unique_ptr<ServerPort> port;
  ServerPort* operator->() const { return port.get(); }
};

Logged Register(FakeServer& server, const std::string& role, const std::string& org,
                const std::string& details) {
  Logged u{Must(envelope::Ed25519SigningKey::Generate(), "key"), {}, server.Connect()};
  NewAccount a;
  a.role = role;
  a.identity_key = u.key.public_key();
  a.organisation = org;
  a.details_json = details;
  u.id = Must(u->Register(a), "register");
  Must(u->Login(u.id, u.key), "login");
  return u;
}

// An approved authority admin and practitioner, and two patients, one of whom owns `pid`.
struct Cast {
  Logged authority, doctor, owner, other;
  std::string pid;
};

Cast MakeCast(FakeServer& server) {
  Logged admin{Must(envelope::Ed25519SigningKey::Generate(), "key"), {}, server.Connect()};
  admin.id = Must(server.AddServerAdmin(admin.key.public_key()), "add-admin");
  Must(admin->Login(admin.id, admin.key), "login");
  Logged authority = Register(server, "authority-admin", "hospital-a", R"({"name":"a"})");
  Must(admin->Decide(authority.id, true, ""), "approve");
  Logged doctor =
      Register(server, "practitioner", "hospital-a",
               R"({"name":"d","licence":"l","practice_start":"2015-01-01","practice_end":"2030-01-01"})");
  Must(authority->Decide(doctor.id, true, ""), "approve");
  Logged owner = Register(server, "patient", "", "");
  Logged other = Register(server, "patient", "", "");
  const std::string proof = "proof";
  std::string pid =
      Must(doctor->CreatePatient(ToHex(Must(envelope::Sha256Of(AsBytes(proof)), "hash"))), "patient");
  Must(owner->Enrol(pid, proof), "enrol");
  return {std::move(authority), std::move(doctor), std::move(owner), std::move(other), std::move(pid)};
}

class FakeServerTest : public ::testing::Test {
 protected:
  std::unique_ptr<FakeServer> server_ = std::make_unique<FakeServer>();
  Cast cast_ = MakeCast(*server_);
  Logged& authority_ = cast_.authority;
  Logged& doctor_ = cast_.doctor;
  Logged& owner_ = cast_.owner;
  Logged& other_ = cast_.other;
  const std::string& pid_ = cast_.pid;
};

TEST_F(FakeServerTest, FailNthFailsExactlyThatCall) {
  ServerPort& d = *doctor_.port;
  ASSERT_OK(d.Put(pid_, "r1", 1, kMeta, BytesOf("one")));
  ASSERT_OK(server_->FailNth("Fetch", 3, {Error(ErrorCode::kInternal, "disk on fire")}));
  EXPECT_OK(d.Fetch(pid_, "r1", 0));
  EXPECT_OK(d.Fetch(pid_, "r1", 0));
  auto third = d.Fetch(pid_, "r1", 0);
  ASSERT_FALSE(third.has_value());
  EXPECT_EQ(third.error().code(), ErrorCode::kInternal);
  EXPECT_EQ(third.error().message(), "disk on fire");
  EXPECT_OK(d.Fetch(pid_, "r1", 0));
  EXPECT_EQ(server_->Calls("Fetch"), 4u);
  // Other operations count apart.
  ASSERT_OK(server_->FailNext("Records", {Error(ErrorCode::kInternal, "x")}));
  EXPECT_OK(d.Fetch(pid_, "r1", 0));
  EXPECT_ERROR_CODE(d.Records(pid_), ErrorCode::kInternal);
  EXPECT_OK(d.Records(pid_));
  // A typo is an error, not a rule that never fires.
  EXPECT_ERROR_CODE(server_->FailNth("Fecth", 1, {Error(ErrorCode::kInternal, "x")}),
                    ErrorCode::kInvalidArgument);
  EXPECT_ERROR_CODE(server_->FailNth("Fetch", 0, {Error(ErrorCode::kInternal, "x")}),
                    ErrorCode::kInvalidArgument);
}

TEST_F(FakeServerTest, AFailureBeforeTheCallChangesNothing) {
  ASSERT_OK(server_->FailNext("Put", {Error(ErrorCode::kInternal, "x")}));
  const auto before = server_->AuditLog().size();
  EXPECT_ERROR_CODE(doctor_->Put(pid_, "r1", 1, kMeta, BytesOf("one")), ErrorCode::kInternal);
  EXPECT_EQ(server_->AuditLog().size(), before);
  EXPECT_ERROR_CODE(server_->Stored(pid_, "r1", 1), ErrorCode::kNotFound);
  EXPECT_OK(doctor_->Put(pid_, "r1", 1, kMeta, BytesOf("one")));
}

TEST_F(FakeServerTest, AFailureAfterTheCallLosesOnlyTheReply) {
  ASSERT_OK(server_->FailNext("Put", {Error(ErrorCode::kInternal, "reply lost"), Fault::When::kAfter}));
  EXPECT_ERROR_CODE(doctor_->Put(pid_, "r1", 1, kMeta, BytesOf("one")), ErrorCode::kInternal);
  // It was stored: the retry conflicts and the version reads back.
  EXPECT_ERROR_CODE(doctor_->Put(pid_, "r1", 1, kMeta, BytesOf("one")), ErrorCode::kConflict);
  ASSERT_OK_AND_ASSIGN(const Bytes b, doctor_->Fetch(pid_, "r1", 1));
  EXPECT_EQ(b, BytesOf("one"));
  // A lost login reply leaves the port without the session.
  auto port = server_->Connect();
  ASSERT_OK(server_->FailNext("Login", {Error(ErrorCode::kInternal, "reply lost"), Fault::When::kAfter}));
  EXPECT_ERROR_CODE(port->Login(owner_.id, owner_.key), ErrorCode::kInternal);
  EXPECT_ERROR_CODE(port->Me(), ErrorCode::kPermissionDenied);
}

TEST_F(FakeServerTest, ADownloadCanBeCutMidBody) {
  ASSERT_OK(doctor_->Put(pid_, "r1", 1, kMeta, BytesOf("0123456789")));
  ASSERT_OK(server_->FailNext("Download",
                              {Error(ErrorCode::kInternal, "connection reset"), Fault::When::kAfter, 4}));
  std::ostringstream out;
  EXPECT_ERROR_CODE(owner_->Download(pid_, "r1", 0, out), ErrorCode::kInternal);
  EXPECT_EQ(out.str(), "0123");
  std::ostringstream whole;
  ASSERT_OK(owner_->Download(pid_, "r1", 0, whole));
  EXPECT_EQ(whole.str(), "0123456789");
}

TEST_F(FakeServerTest, FailWhenMatchesByArgumentsAndCaller) {
  ASSERT_OK(doctor_->Put(pid_, "r1", 1, kMeta, BytesOf("one")));
  ASSERT_OK(doctor_->Put(pid_, "r2", 1, kMeta, BytesOf("two")));
  const std::string owner = owner_.id;
  server_->FailWhen([owner](const CallInfo& c) { return c.record_id == "r2" && c.user_id == owner; },
                    {Error(ErrorCode::kNotFound, "hidden")}, 2);
  EXPECT_OK(doctor_->Fetch(pid_, "r2", 0));
  EXPECT_OK(owner_->Fetch(pid_, "r1", 0));
  EXPECT_ERROR_CODE(owner_->Fetch(pid_, "r2", 0), ErrorCode::kNotFound);
  std::ostringstream out;
  EXPECT_ERROR_CODE(owner_->Download(pid_, "r2", 1, out), ErrorCode::kNotFound);
  EXPECT_OK(owner_->Fetch(pid_, "r2", 0));  // twice only
  server_->FailWhen([](const CallInfo& c) { return c.operation == "Head"; },
                    {Error(ErrorCode::kInternal, "x")}, -1);
  for (int i = 0; i < 3; ++i) EXPECT_ERROR_CODE(owner_->Head(), ErrorCode::kInternal);
  server_->ClearFaults();
  EXPECT_OK(owner_->Head());
}

TEST_F(FakeServerTest, TamperChangesWhatTheServerServes) {
  ASSERT_OK(doctor_->Put(pid_, "r1", 1, kMeta, BytesOf("abc")));
  ASSERT_OK(server_->Tamper(pid_, "r1", 1, [](Bytes& b) { b[1] ^= 0x01; }));
  ASSERT_OK_AND_ASSIGN(const Bytes served, owner_->Fetch(pid_, "r1", 1));
  EXPECT_EQ(served, BytesOf("acc"));
  ASSERT_OK_AND_ASSIGN(const Bytes stored, server_->Stored(pid_, "r1", 0));
  EXPECT_EQ(stored, served);
  ASSERT_OK(server_->Tamper(pid_, "r1", 0, [](Bytes& b) { b.push_back('!'); }));
  ASSERT_OK_AND_ASSIGN(auto rows, owner_->Records(pid_));
  EXPECT_EQ(rows[0].size, 4u);
  ASSERT_OK(server_->TamperListing(pid_, "r1", 1, [&](RecordInfo& i) {
    i.author_id = owner_.id;
    i.version = 99;  // kept
  }));
  ASSERT_OK_AND_ASSIGN(rows, owner_->Records(pid_));
  EXPECT_EQ(rows[0].author_id, owner_.id);
  EXPECT_EQ(rows[0].version, 1u);
  EXPECT_ERROR_CODE(server_->Tamper(pid_, "r1", 2, [](Bytes&) {}), ErrorCode::kNotFound);
  EXPECT_ERROR_CODE(server_->Tamper(pid_, "nothing", 0, [](Bytes&) {}), ErrorCode::kNotFound);

  ASSERT_OK_AND_ASSIGN(const std::string pkg, authority_->PostPackage(owner_.id, BytesOf("sealed")));
  ASSERT_OK(server_->TamperPackage(pkg, [](Bytes& b) { b.clear(); }));
  ASSERT_OK_AND_ASSIGN(const Bytes got, owner_->Package(pkg));
  EXPECT_TRUE(got.empty());
  EXPECT_ERROR_CODE(server_->TamperPackage("k-none", [](Bytes&) {}), ErrorCode::kNotFound);
}

TEST_F(FakeServerTest, ExpiredSessionsNeedANewLogin) {
  ASSERT_OK_AND_ASSIGN(auto fork, owner_->Fork());
  server_->ExpireSessions();
  EXPECT_ERROR_CODE(owner_->Me(), ErrorCode::kPermissionDenied);
  EXPECT_ERROR_CODE(fork->Records(pid_), ErrorCode::kPermissionDenied);
  ASSERT_OK(owner_->Login(owner_.id, owner_.key));
  EXPECT_OK(owner_->Records(pid_));
}

TEST_F(FakeServerTest, RefusalsAreAuditedAtOnce) {
  ASSERT_OK(doctor_->Put(pid_, "r1", 1, kMeta, BytesOf("one")));
  EXPECT_ERROR_CODE(other_->Fetch(pid_, "r1", 0), ErrorCode::kPermissionDenied);
  EXPECT_ERROR_CODE(doctor_->Put(pid_, "r1", 1, kMeta, BytesOf("one")), ErrorCode::kConflict);
  const auto log = server_->AuditLog();
  ASSERT_GE(log.size(), 2u);
  const server::AuditEntry& conflict = log.back();
  EXPECT_EQ(conflict.action, "record.append");
  EXPECT_EQ(conflict.outcome, "failed");  // as the real server logs a write that did not apply
  const server::AuditEntry& denied = log[log.size() - 2];
  EXPECT_EQ(denied.actor, other_.id);
  EXPECT_EQ(denied.action, "record.fetch");
  EXPECT_EQ(denied.patient_id, pid_);
  EXPECT_EQ(denied.target, "r1@latest");
  EXPECT_EQ(denied.outcome, "denied:403");
  // The owner sees it in the patient's trail.
  ASSERT_OK_AND_ASSIGN(const auto rows, owner_->PatientAudit(pid_));
  int refusals = 0;
  for (const AuditRow& r : rows) refusals += r.entry.find("denied:403") != std::string::npos ? 1 : 0;
  EXPECT_EQ(refusals, 1);
}

TEST(FakeServerClockTest, TimesComeFromTheInjectedClock) {
  std::atomic<std::int64_t> now{1'700'000'000'000};
  FakeServer server({[&] { return now.load(); }});
  auto port = server.Connect();
  auto key = Must(envelope::Ed25519SigningKey::Generate(), "key");
  NewAccount a;
  a.role = "patient";
  a.identity_key = key.public_key();
  ASSERT_OK_AND_ASSIGN(const std::string id, port->Register(a));
  now += 5000;
  ASSERT_OK(port->Login(id, key));
  ASSERT_OK_AND_ASSIGN(const TreeHead head, port->Head());
  EXPECT_EQ(head.tree_size, 2u);
  EXPECT_EQ(head.timestamp_ms, 1'700'000'005'000);
  EXPECT_OK(server::VerifyTreeHead(server.audit_key(),
                                   {head.tree_size, head.timestamp_ms, head.root, head.signature}));
  const auto log = server.AuditLog();
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0].time_ms, 1'700'000'000'000);
  EXPECT_EQ(log[0].action, "register");
  EXPECT_EQ(log[1].action, "login");
}

TEST(FakeServerLifetimeTest, PortsOutliveTheServerObject) {
  std::unique_ptr<ServerPort> port;
  {
    FakeServer server;
    port = server.Connect();
  }
  EXPECT_ERROR_CODE(port->Me(), ErrorCode::kPermissionDenied);
  EXPECT_OK(port->Head());
}

TEST_F(FakeServerTest, ForksWriteConcurrently) {
  constexpr int kThreads = 8, kVersions = 20;
  std::vector<std::unique_ptr<ServerPort>> forks;
  forks.reserve(kThreads);
  for (int i = 0; i < kThreads; ++i) forks.push_back(Must(doctor_->Fork(), "fork"));
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  std::atomic<int> ok{0}, unexpected{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // Every thread appends to its own record and races on a shared one.
      for (int v = 1; v <= kVersions; ++v) {
        if (forks[t]->Put(pid_, "own-" + std::to_string(t), v, kMeta, BytesOf("x"))) ++ok;
        // Losing the race is a conflict; anything else is a bug.
        auto shared = forks[t]->Put(pid_, "shared", static_cast<std::uint64_t>(v), kMeta, BytesOf("y"));
        if (!shared && shared.error().code() != ErrorCode::kConflict) ++unexpected;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), kThreads * kVersions);
  EXPECT_EQ(unexpected.load(), 0);
  ASSERT_OK_AND_ASSIGN(const auto rows, owner_->Records(pid_));
  std::uint64_t shared = 0;
  for (const auto& r : rows)
    if (r.record_id == "shared") shared = std::max(shared, r.version);
  EXPECT_EQ(shared, static_cast<std::uint64_t>(kVersions));  // every thread tried each version in turn
  // Each version of the shared record was written once.
  const auto count = std::ranges::count_if(rows, [](const RecordInfo& r) { return r.record_id == "shared"; });
  EXPECT_EQ(static_cast<std::uint64_t>(count), shared);
}

}  // namespace
}  // namespace cipherchart::chart::testing
