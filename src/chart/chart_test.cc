// The chart library against the in-memory fake server (src/chart/testing/fake_server.h): a
// hospital and a medical board, their practitioners, a patient; reads, writes, attachments,
// enrolment, sharing, the access log, and what a misbehaving or failing server does to each.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "cipherchart/abe/record.h"
#include "cipherchart/chart/audit_log.h"
#include "cipherchart/chart/authority_admin.h"
#include "cipherchart/chart/directory.h"
#include "cipherchart/chart/enrolment.h"
#include "cipherchart/chart/keys.h"
#include "cipherchart/chart/reader.h"
#include "cipherchart/chart/records.h"
#include "cipherchart/chart/sharing.h"
#include "cipherchart/chart/writer.h"
#include "cipherchart/common/bytes.h"
#include "cipherchart/fhir/policy_file.h"
#include "src/chart/testing/fake_server.h"
#include "src/chart/testing/result_test_util.h"

namespace cipherchart::chart {
namespace {

using nlohmann::json;
using testing::FakeServer;
using testing::Must;
namespace fs = std::filesystem;

struct User {
  Identity id;
  std::unique_ptr<ServerPort> port;
};

// hospital_a and board authorities, a doctor (hospital_a staff, board doctor), a pharmacist
// (board pharmacist) and a researcher-less world, all on one fake server.
class ChartTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto now = NowSeconds();
    auto admin_key = Must(envelope::Ed25519SigningKey::Generate(), "admin key");
    const std::string admin_id = Must(server_.AddServerAdmin(admin_key.public_key()), "add-admin");
    auto admin = server_.Connect();
    Must(admin->Login(admin_id, admin_key), "admin login");
    for (const std::string ns : {"hospital_a", "hospital_b", "board"}) {
      User a = Join("authority-admin", ns, "{}");
      Must(admin->Decide(a.id.account.user_id, true, ""), "approve authority");
      auto keys = Must(CreateAuthorityKeys(ns, now), "authority keys");
      roots_.push_back(abe::TrustedRootOf(keys.authority.chain().front()));
      Must(PublishAuthority(*a.port, keys, now), "publish");
      authorities_.emplace(ns, std::make_pair(std::move(a), std::move(keys)));
    }
    doctor_ = Practitioner({"hospital_a.staff", "hospital_a.role:doctor"}, {"role:doctor", "licence:active"});
    pharmacist_ = Practitioner({"hospital_a.staff"}, {"role:pharmacist", "licence:active"});
    patient_ = Must(CreatePatient(*doctor_.port, doctor_.id.wallet.id(), now), "create patient");
  }

  User Join(const std::string& role, const std::string& org, const std::string& details) {
    auto port = server_.Connect();
    auto id = Must(RegisterAccount(*port, role, org, details), "register " + role);
    Must(port->Login(id.account.user_id, id.wallet.id()), "login");
    return User{std::move(id), std::move(port)};
  }

  static constexpr const char* kDetails =
      R"({"name":"Dr Test","role":"doctor","licence":"L-1","practice_start":"2020-01-01","practice_end":"2099-12-31"})";

  User Practitioner(const std::vector<std::string>& hospital, const std::vector<std::string>& board) {
    User u = Join("practitioner", "hospital_a", kDetails);
    auto& [ha, hk] = authorities_.at("hospital_a");
    Must(ha.port->Decide(u.id.account.user_id, true, ""), "approve practitioner");
    Must(IssueKeys(*ha.port, hk, u.id.account.user_id, hospital, NowSeconds()), "issue hospital keys");
    auto& [ba, bk] = authorities_.at("board");
    Must(IssueKeys(*ba.port, bk, u.id.account.user_id, board, NowSeconds()), "issue board keys");
    auto got = Must(InstallKeys(*u.port, u.id, roots_, false), "install keys");
    EXPECT_EQ(got.attributes.size(), hospital.size() + board.size())
        << ::testing::PrintToString(got.warnings);
    return u;
  }

  ChartWriter Writer(User& u) {
    std::vector<std::string> warnings;
    auto dir = Must(LoadDirectory(*u.port, roots_, patient_.patient_id, warnings), "directory");
    return ChartWriter(*u.port, patient_.patient_id, u.id.account.user_id, u.id.wallet.id(), std::move(dir),
                       fhir::DefaultPolicyFile(), "hospital_a", &u.id.wallet.keys);
  }

  static json Vital(const std::string& id, double value) {
    return {{"resourceType", "Observation"},
            {"id", id},
            {"status", "final"},
            {"category",
             {{{"coding",
                {{{"system", "http://terminology.hl7.org/CodeSystem/observation-category"},
                  {"code", "vital-signs"}}}}}}},
            {"code", {{"text", "Heart rate"}}},
            {"valueQuantity", {{"value", value}, {"unit", "/min"}}}};
  }
  static json Prescription(const std::string& id) {
    return {{"resourceType", "MedicationRequest"},
            {"id", id},
            {"status", "active"},
            {"intent", "order"},
            {"medicationCodeableConcept", {{"text", "Amoxicillin 500 MG"}}}};
  }

  std::vector<ChartEntry> Read(User& u, const ReadOptions& o = {}) {
    return Must(ReadChart(*u.port, u.id.wallet.keys, patient_.patient_id, o), "read");
  }
  static std::set<std::string> Sections(const std::vector<ChartEntry>& entries, ChartEntry::State state) {
    std::set<std::string> out;
    for (const auto& e : entries)
      if (e.state == state) out.insert(e.section);
    return out;
  }

  FakeServer server_;
  std::vector<abe::TrustedRoot> roots_;
  std::map<std::string, std::pair<User, AuthorityKeys>> authorities_;
  User doctor_, pharmacist_;
  NewPatient patient_;
};

TEST_F(ChartTest, WrittenEntriesReadBackAndEachReaderOpensOnlyItsSections) {
  auto w = Writer(doctor_);
  ASSERT_OK_AND_ASSIGN(
      auto n, w.WriteResources({Vital("v1", 72), Prescription("p1")}, "import", Batching::kBySection));
  EXPECT_EQ(n, 3u);  // vital-signs, prescriptions, and the research copy
  const auto doctor_view = Present(Read(doctor_));
  EXPECT_EQ(doctor_view.opened, 2u);
  EXPECT_EQ(doctor_view.not_accessible, 1u);  // the researchers' copy
  ASSERT_EQ(doctor_view.resources.size(), 2u);
  const auto pharmacist = Read(pharmacist_);
  EXPECT_EQ(Sections(pharmacist, ChartEntry::State::kOpened), std::set<std::string>{"prescriptions"});
  EXPECT_EQ(Sections(pharmacist, ChartEntry::State::kNoAccess),
            (std::set<std::string>{"vital-signs", "research"}));
  for (const auto& e : pharmacist) {
    if (e.state == ChartEntry::State::kOpened) {
      EXPECT_EQ(e.payload["resources"][0]["id"], "p1");
    }
  }
  // A second write reuses the writer's own section key: no new sk record.
  auto w2 = Writer(doctor_);
  ASSERT_OK(w2.AddEntry("vital-signs", {{"kind", "report"}, {"resources", json::array({Vital("v2", 80)})}}));
  EXPECT_EQ(w2.section_keys_made(), 0u);
}

TEST_F(ChartTest, AReaderWithoutKeysOpensNothing) {
  auto w = Writer(doctor_);
  ASSERT_OK(w.WriteResources({Vital("v1", 72)}, "import", Batching::kBySection));
  User stranger = Join("practitioner", "hospital_a", kDetails);
  auto& [ha, hk] = authorities_.at("hospital_a");
  ASSERT_OK(ha.port->Decide(stranger.id.account.user_id, true, ""));
  const auto entries = Read(stranger);
  ASSERT_FALSE(entries.empty());
  for (const auto& e : entries) {
    EXPECT_EQ(e.state, ChartEntry::State::kNoAccess) << e.section;
    EXPECT_NE(e.detail.find("no key of section"), std::string::npos) << e.detail;
  }
}

TEST_F(ChartTest, ATamperedEntryIsReportedByIdAndNotShown) {
  auto w = Writer(doctor_);
  ASSERT_OK_AND_ASSIGN(
      const std::string good,
      w.AddEntry("vital-signs", {{"kind", "report"}, {"resources", json::array({Vital("a", 1)})}}));
  ASSERT_OK_AND_ASSIGN(
      const std::string bad,
      w.AddEntry("vital-signs", {{"kind", "report"}, {"resources", json::array({Vital("b", 2)})}}));
  ASSERT_OK(server_.Tamper(patient_.patient_id, bad, 1,
                           [](std::vector<std::uint8_t>& b) { b[b.size() / 2] ^= 1; }));
  for (const auto& e : Read(doctor_)) {
    if (e.record_id == bad) {
      EXPECT_EQ(e.state, ChartEntry::State::kTampered);
      EXPECT_TRUE(e.payload.is_null());
    }
    if (e.record_id == good) {
      EXPECT_EQ(e.state, ChartEntry::State::kOpened);
    }
  }
}

TEST_F(ChartTest, AnEntrySwappedForAnotherIsTampered) {
  auto w = Writer(doctor_);
  ASSERT_OK_AND_ASSIGN(
      const std::string a,
      w.AddEntry("vital-signs", {{"kind", "report"}, {"resources", json::array({Vital("a", 1)})}}));
  ASSERT_OK_AND_ASSIGN(
      const std::string b,
      w.AddEntry("vital-signs", {{"kind", "report"}, {"resources", json::array({Vital("b", 2)})}}));
  const auto a_bytes = Must(server_.Stored(patient_.patient_id, a, 1), "stored");
  ASSERT_OK(
      server_.Tamper(patient_.patient_id, b, 1, [&](std::vector<std::uint8_t>& bytes) { bytes = a_bytes; }));
  for (const auto& e : Read(doctor_))
    if (e.record_id == b) {
      EXPECT_EQ(e.state, ChartEntry::State::kTampered);
      EXPECT_NE(e.detail.find("context_mismatch"), std::string::npos) << e.detail;  // bound to entry a
    }
}

TEST_F(ChartTest, AServerErrorMidReadMarksThatEntryAndKeepsTheOthers) {
  auto w = Writer(doctor_);
  for (int i = 0; i < 4; ++i) {
    std::string id(1, 'v');
    id.append(std::to_string(i));
    ASSERT_OK(w.AddEntry("vital-signs", {{"kind", "report"}, {"resources", json::array({Vital(id, i)})}}));
  }
  // The section key is the first Fetch; the 3rd of the entries fails with a 500.
  ASSERT_OK(server_.FailNth(
      "Fetch", 4, {Error(ErrorCode::kInternal, "record e.x: the server said 500 internal: internal error")}));
  ReadOptions one_connection;
  one_connection.connections = 1;
  const auto entries = Read(doctor_, one_connection);
  std::size_t errors = 0, opened = 0;
  for (const auto& e : entries) {
    if (e.state == ChartEntry::State::kError) {
      ++errors;
      EXPECT_NE(e.detail.find("500 internal"), std::string::npos) << e.detail;
    }
    opened += e.state == ChartEntry::State::kOpened;
  }
  EXPECT_EQ(errors, 1u);
  EXPECT_EQ(opened, 3u);
  // A listing that fails fails the read.
  ASSERT_OK(
      server_.FailNext("Records", {Error(ErrorCode::kPermissionDenied, "patient: the server said 403")}));
  EXPECT_ERROR_CODE(ReadChart(*doctor_.port, doctor_.id.wallet.keys, patient_.patient_id, {}),
                    ErrorCode::kPermissionDenied);
}

class AttachmentTest : public ChartTest {
 protected:
  void SetUp() override {
    ChartTest::SetUp();
    dir_ = fs::temp_directory_path() / ("cc-att-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    std::ofstream f(dir_ / "scan.dcm", std::ios::binary);
    for (int i = 0; i < 300000; ++i) f.put(static_cast<char>(i * 7));
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(AttachmentTest, RoundTripsByteForByteAndRefusesOthersBeforeDownload) {
  auto w = Writer(doctor_);
  ASSERT_OK_AND_ASSIGN(const auto ref, w.AddAttachment(dir_ / "scan.dcm"));
  EXPECT_EQ(ref.size, 300000u);
  EXPECT_EQ(protocol::KindOf(ref.record_id), protocol::RecordKind::kAttachment);
  const json doc = AttachmentReference(ref, dir_ / "scan.dcm", Vital("v", 1), "imaging");
  EXPECT_EQ(doc["content"][0]["attachment"]["url"], "cipherchart:attachment/" + ref.record_id);
  EXPECT_EQ(doc["content"][0]["attachment"]["contentType"], "application/dicom");
  ASSERT_OK_AND_ASSIGN(auto n, FetchAttachment(*doctor_.port, doctor_.id.wallet.keys, patient_.patient_id,
                                               ref.record_id, dir_ / "got"));
  EXPECT_EQ(n, 300000u);
  std::ifstream a(dir_ / "scan.dcm", std::ios::binary), b(dir_ / "got", std::ios::binary);
  EXPECT_TRUE(std::equal(std::istreambuf_iterator<char>(a), {}, std::istreambuf_iterator<char>(b), {}));
  const auto downloads = server_.Calls("Download");
  EXPECT_ERROR_CODE(FetchAttachment(*pharmacist_.port, pharmacist_.id.wallet.keys, patient_.patient_id,
                                    ref.record_id, dir_ / "no"),
                    ErrorCode::kPermissionDenied);
  EXPECT_EQ(server_.Calls("Download"), downloads);  // refused before any byte was fetched
  EXPECT_FALSE(fs::exists(dir_ / "no") || fs::exists(dir_ / "no.partial"));
  EXPECT_ERROR_CODE(
      FetchAttachment(*doctor_.port, doctor_.id.wallet.keys, patient_.patient_id, "e.00", dir_ / "x"),
      ErrorCode::kInvalidArgument);
}

TEST_F(AttachmentTest, ATamperedChunkLeavesNoFile) {
  auto w = Writer(doctor_);
  ASSERT_OK_AND_ASSIGN(const auto ref, w.AddAttachment(dir_ / "scan.dcm"));
  ASSERT_OK(server_.Tamper(patient_.patient_id, ref.record_id, 1,
                           [](std::vector<std::uint8_t>& b) { b[b.size() - 100] ^= 1; }));
  EXPECT_ERROR_CODE(FetchAttachment(*doctor_.port, doctor_.id.wallet.keys, patient_.patient_id, ref.record_id,
                                    dir_ / "got"),
                    ErrorCode::kIntegrity);
  EXPECT_FALSE(fs::exists(dir_ / "got") || fs::exists(dir_ / "got.partial"));
}

TEST_F(ChartTest, EnrolmentGivesThePatientTheWholeChartOnceAndDeletesTheSealedCopy) {
  auto w = Writer(doctor_);
  ASSERT_OK(w.WriteResources({Vital("v1", 72), Prescription("p1")}, "import", Batching::kBySection));
  const SecretBytes code(AsBytes(patient_.enrolment_code));
  User patient = Join("patient", "", "");
  EXPECT_ERROR_CODE(
      Enrol(*patient.port, patient.id, patient_.patient_id, SecretBytes(AsBytes("WRONG-CODE")), roots_),
      ErrorCode::kPermissionDenied);
  ASSERT_OK_AND_ASSIGN(auto enrolled, Enrol(*patient.port, patient.id, patient_.patient_id, code, roots_));
  EXPECT_TRUE(enrolled.warnings.empty()) << ::testing::PrintToString(enrolled.warnings);
  EXPECT_TRUE(patient.id.wallet.personal_authority.has_value());
  EXPECT_EQ(patient.id.account.patient_id, patient_.patient_id);
  const auto v = Present(Read(patient));
  EXPECT_EQ(v.not_accessible, 0u);
  EXPECT_EQ(v.opened, 3u);
  ASSERT_OK(patient.port->Fetch(patient_.patient_id, std::string(kOwnerAuthorityRecord), 0));  // until saved
  ASSERT_OK(DeleteSealedAuthority(*patient.port, patient_.patient_id));
  EXPECT_ERROR_CODE(patient.port->Fetch(patient_.patient_id, std::string(kOwnerAuthorityRecord), 0),
                    ErrorCode::kNotFound);
  User again = Join("patient", "", "");  // the code is spent
  auto second = Enrol(*again.port, again.id, patient_.patient_id, code, roots_);
  ASSERT_FALSE(second);
  EXPECT_TRUE(second.error().code() == ErrorCode::kPermissionDenied ||
              second.error().code() == ErrorCode::kConflict)
      << second.error().ToString();
}

TEST_F(ChartTest, AReplacedSealedAuthorityIsDetectedAtEnrolment) {
  // The sealed copy opens with the code but holds another authority than the published one.
  auto other = Must(CreatePatient(*doctor_.port, doctor_.id.wallet.id(), NowSeconds()), "other patient");
  const auto foreign =
      Must(server_.Stored(other.patient_id, std::string(kOwnerAuthorityRecord), 1), "stored");
  ASSERT_OK(server_.Tamper(patient_.patient_id, std::string(kOwnerAuthorityRecord), 1,
                           [&](std::vector<std::uint8_t>& b) { b = foreign; }));
  User patient = Join("patient", "", "");
  auto r = Enrol(*patient.port, patient.id, patient_.patient_id,
                 SecretBytes(AsBytes(patient_.enrolment_code)), roots_);
  EXPECT_ERROR_CODE(r, ErrorCode::kIntegrity);  // sealed under another code: does not open
}

TEST_F(ChartTest, SharingSendsAMemberOnlyTheSharedSections) {
  auto w = Writer(doctor_);
  ASSERT_OK(w.WriteResources({Vital("v1", 72), Prescription("p1")}, "import", Batching::kBySection));
  User patient = Join("patient", "", "");
  ASSERT_OK(Enrol(*patient.port, patient.id, patient_.patient_id,
                  SecretBytes(AsBytes(patient_.enrolment_code)), roots_));
  User member = Join("patient", "", R"({"name":"Sam"})");
  EXPECT_ERROR_CODE(GrantMember(*patient.port, patient.id, doctor_.id.account.user_id),
                    ErrorCode::kPermissionDenied);
  ASSERT_OK(GrantMember(*patient.port, patient.id, member.id.account.user_id));
  const Shares shares = {{member.id.account.user_id, {"prescriptions"}}};
  ASSERT_OK_AND_ASSIGN(auto sent, SendViews(*patient.port, patient.id, shares));
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].resources, 1u);
  ASSERT_OK_AND_ASSIGN(auto installed, InstallKeys(*member.port, member.id, {}, true));
  EXPECT_EQ(installed.attributes.size(), 1u);
  ASSERT_OK_AND_ASSIGN(auto views, ReadPersonalViews(*member.port, member.id));
  ASSERT_EQ(views.views.size(), 1u);
  EXPECT_EQ(views.views[0]["resources"].size(), 1u);
  EXPECT_EQ(views.views[0]["resources"][0]["resourceType"], "MedicationRequest");
  // A view that opens but has another shape (a dishonest patient-role sender) is counted as
  // tampered and not handed to the front end.
  std::vector<std::string> warnings;
  auto dir = Must(LoadDirectory(*patient.port, {}, patient_.patient_id, warnings), "directory");
  auto policy =
      Must(abe::ParsePolicy(PatientNamespace(patient_.patient_id) + ".member:" + member.id.account.user_id),
           "policy");
  const std::string odd = json{{"patient_id", patient_.patient_id}, {"resources", 7}}.dump();
  const auto now = NowSeconds() + 1;
  auto sealed = Must(
      abe::SealRecordSection(dir, now, *policy, "personal-view", now, AsBytes(odd), patient.id.wallet.id()),
      "seal");
  ASSERT_OK(patient.port->PostPackage(member.id.account.user_id, sealed));
  ASSERT_OK_AND_ASSIGN(views, ReadPersonalViews(*member.port, member.id));
  EXPECT_EQ(views.tampered, 1u);
  ASSERT_EQ(views.views.size(), 1u);
  EXPECT_EQ(views.views[0]["resources"].size(), 1u);
  // A member is no practitioner: the server does not even list the chart for them.
  EXPECT_ERROR_CODE(ReadChart(*member.port, member.id.wallet.keys, patient_.patient_id, {}),
                    ErrorCode::kPermissionDenied);
  EXPECT_ERROR_CODE(ParseShareSections("prescriptions,bogus", fhir::DefaultPolicyFile()),
                    ErrorCode::kInvalidArgument);
}

TEST_F(ChartTest, ThePatientsLogCheckPinsTheHeadAndCatchesARewrite) {
  User patient = Join("patient", "", "");
  ASSERT_OK(Enrol(*patient.port, patient.id, patient_.patient_id,
                  SecretBytes(AsBytes(patient_.enrolment_code)), roots_));
  ASSERT_OK_AND_ASSIGN(auto first, VerifyPatientLog(*patient.port, patient_.patient_id, std::nullopt));
  EXPECT_FALSE(first.entries.empty());
  EXPECT_NE(first.consistency.find("pinned"), std::string::npos);
  EXPECT_EQ(AuditLine(first.entries.front().entry).size() > 20, true);
  EXPECT_EQ(AuditLine(json::array()), "");
  Read(doctor_);  // more log entries
  ASSERT_OK_AND_ASSIGN(auto second, VerifyPatientLog(*patient.port, patient_.patient_id, first.pin));
  EXPECT_GT(second.tree_size, first.tree_size);
  EXPECT_NE(second.consistency.find("consistency proof verified"), std::string::npos);
  PinnedLog forged = first.pin;
  forged.root[0] ^= 1;  // what a forked log looks like from the pinned side
  EXPECT_ERROR_CODE(VerifyPatientLog(*patient.port, patient_.patient_id, forged), ErrorCode::kIntegrity);
  PinnedLog other_key = first.pin;
  other_key.audit_key[0] ^= 1;
  EXPECT_ERROR_CODE(VerifyPatientLog(*patient.port, patient_.patient_id, other_key), ErrorCode::kIntegrity);
}

TEST(AuthorityRules, RegistrationAttributesFollowTheDetailsAndThePracticeTerm) {
  const std::string details =
      R"({"role":"doctor","department":"cardiology","practice_start":"2020-01-01","practice_end":"2030-12-31"})";
  EXPECT_EQ(AttributesFromRegistration("hospital_a", details, "2026-12-07"),
            (std::set<std::string>{"hospital_a.staff", "hospital_a.role:doctor",
                                   "hospital_a.department:cardiology", "hospital_a.licence:active"}));
  EXPECT_EQ(
      AttributesFromRegistration("hospital_a", details, "2031-01-01").count("hospital_a.licence:active"), 0u);
  EXPECT_EQ(AttributesFromRegistration("h", R"({"role": 7})", "2026-01-01"),
            std::set<std::string>{"h.staff"});
  EXPECT_EQ(AttributesFromRegistration("h", "not json", "2026-01-01"), std::set<std::string>{"h.staff"});
}

TEST_F(ChartTest, KeysAreIssuedOnlyToApprovedAccounts) {
  User pending = Join("practitioner", "hospital_a", kDetails);
  auto& [ha, hk] = authorities_.at("hospital_a");
  EXPECT_ERROR_CODE(IssueKeys(*ha.port, hk, pending.id.account.user_id, {"staff"}, NowSeconds()),
                    ErrorCode::kPermissionDenied);
  // Keys signed by another authority's key for hospital_a's namespace are not installed.
  auto& [ba, bk] = authorities_.at("board");
  ASSERT_OK(ha.port->Decide(pending.id.account.user_id, true, ""));
  auto forged =
      Must(abe::maabe::KeyGen(hk.ma, pending.id.account.user_id, {"hospital_a.role:doctor"}), "keygen");
  const auto who = Must(ba.port->Account(pending.id.account.user_id), "account");
  ASSERT_OK(SendAttributeKeys(*ba.port, who, forged, bk.authority.signing_key()));
  ASSERT_OK_AND_ASSIGN(auto got, InstallKeys(*pending.port, pending.id, roots_, false));
  EXPECT_TRUE(got.attributes.empty());
  ASSERT_EQ(got.warnings.size(), 1u);
  EXPECT_NE(got.warnings[0].find("not signed by that authority's verified key"), std::string::npos)
      << got.warnings[0];
}

}  // namespace
}  // namespace cipherchart::chart
