#include <gtest/gtest.h>

#include <set>

#include "cipherchart/protocol/api.h"
#include "cipherchart/protocol/ids.h"
#include "cipherchart/protocol/labels.h"

namespace cipherchart::protocol {
namespace {

TEST(Routes, PathFillsParametersInOrder) {
  EXPECT_EQ(Path(route::kRecordVersion, {"PKV7-2M9Q-XR4T-0HBD-Y", "e.00", "3"}),
            "/v1/patients/PKV7-2M9Q-XR4T-0HBD-Y/records/e.00/versions/3");
  EXPECT_EQ(Path(route::kKeys), "/v1/keys");
  EXPECT_EQ(PathWithQuery(route::kAuditConsistency, {}, {{"first", "4"}, {"second", "9"}}),
            "/v1/audit/consistency?first=4&second=9");
}

TEST(Routes, MatchesTreatsBracesAsOneSegment) {
  const auto s = Segments("/v1/patients/P/records/e.1/versions/2");
  EXPECT_TRUE(Matches(route::kRecordVersion, s));
  EXPECT_FALSE(Matches(route::kRecord, s));
  EXPECT_TRUE(Matches(route::kAccountMe, Segments("/v1/accounts/me")));
  EXPECT_TRUE(Matches(route::kAccount, Segments("/v1/accounts/me")));  // the table orders me first
  EXPECT_FALSE(Matches(route::kKeys, Segments("/v2/keys")));
  EXPECT_EQ(Segments("//v1//keys/"), (std::vector<std::string_view>{"v1", "keys"}));
}

TEST(Login, MessageIsLabelNonceUserId) {
  const std::vector<std::uint8_t> nonce(32, 0xab);
  const auto m = LoginMessage(nonce, "uabc");
  ASSERT_EQ(m.size(), kLoginLabel.size() + 32 + 4);
  EXPECT_EQ(std::string(m.begin(), m.begin() + 20), "CIPHERCHART-LOGIN-V1");
  EXPECT_EQ(m[20], 0xab);
  EXPECT_EQ(std::string(m.end() - 4, m.end()), "uabc");
}

TEST(Ids, GeneratedIdsSatisfyTheirGrammar) {
  std::set<std::string> seen;
  for (int i = 0; i < 50; ++i) {
    auto u = NewUserId(), k = NewPackageId(), p = NewPatientId(), e = NewEntryId(), a = NewAttachmentId();
    ASSERT_TRUE(u && k && p && e && a);
    EXPECT_TRUE(IsValidUserId(*u)) << *u;
    EXPECT_FALSE(IsValidPackageId(*u));
    EXPECT_TRUE(IsValidPackageId(*k)) << *k;
    EXPECT_TRUE(IsValidPatientId(*p)) << *p;
    EXPECT_EQ(KindOf(*e), RecordKind::kEntry);
    EXPECT_EQ(KindOf(*a), RecordKind::kAttachment);
    EXPECT_TRUE(IsValidRecordId(*e) && IsValidRecordId(*a));
    EXPECT_TRUE(seen.insert(*p).second);
  }
}

TEST(Ids, PatientIdCheckCharacterCatchesOneChangedCharacter) {
  auto p = NewPatientId();
  ASSERT_TRUE(p);
  for (std::size_t i = 0; i < 19; ++i) {
    if ((*p)[i] == '-') continue;
    std::string q = *p;
    q[i] = q[i] == '0' ? '1' : '0';
    EXPECT_FALSE(IsValidPatientId(q)) << q;
  }
  EXPECT_FALSE(IsValidPatientId("pkv7-2m9q-xr4t-0hbd-y"));
  EXPECT_FALSE(IsValidPatientId(""));
}

TEST(Ids, PatientNamespaceDropsDashesAndCheckCharacter) {
  EXPECT_EQ(PatientNamespace("PKV7-2M9Q-XR4T-0HBD-*"), "patient_pkv72m9qxr4t0hbd");
}

TEST(Ids, RecordKinds) {
  EXPECT_EQ(KindOf("owner-directory"), RecordKind::kOwnerDirectory);
  EXPECT_EQ(KindOf("owner-authority"), RecordKind::kOwnerAuthority);
  EXPECT_EQ(KindOf(SectionKeyRecordId("laboratory", 12)), RecordKind::kSectionKey);
  EXPECT_EQ(SectionKeyRecordId("laboratory", 12), "sk.laboratory.12");
  EXPECT_EQ(KindOf("e.0123456789abcdef01234567"), RecordKind::kEntry);
  EXPECT_EQ(KindOf("e.0123456789ABCDEF01234567"), RecordKind::kOther);  // lower-case hex only
  EXPECT_EQ(KindOf("e.short"), RecordKind::kOther);
  EXPECT_FALSE(IsValidRecordId(".."));
  EXPECT_FALSE(IsValidRecordId("a/b"));
  EXPECT_FALSE(IsValidRecordId(std::string(65, 'a')));
}

TEST(Ids, EnrolmentCodeIsTwentyCrockfordCharactersInGroupsOfFive) {
  auto c = NewEnrolmentCode();
  ASSERT_TRUE(c);
  ASSERT_EQ(c->size(), 23u);
  for (std::size_t i = 0; i < c->size(); ++i) {
    if (i % 6 == 5)
      EXPECT_EQ((*c)[i], '-');
    else
      EXPECT_NE(kCrockford.find((*c)[i]), std::string_view::npos);
  }
  EXPECT_EQ(NormaliseEnrolmentCode(*c), *c);
}

TEST(Ids, EnrolmentCodeIsReadAsTyped) {
  EXPECT_EQ(NormaliseEnrolmentCode(" abcde-fgh0o il \n"), "ABCDE-FGH0011");
  EXPECT_EQ(NormaliseEnrolmentCode("  \t"), "");
}

TEST(Labels, AreTheFrozenFormatStrings) {
  // Changing any of these is a new format version: stored records stop opening.
  EXPECT_EQ(label::kEnrolmentProof, "cipherchart enrolment proof v1");
  EXPECT_EQ(label::kKeyPackage, "cipherchart key package v1");
  EXPECT_EQ(label::kEntryKey, "cipherchart entry key v1|");
  EXPECT_EQ(label::kSectionKeyId, "cipherchart section key id v1");
  EXPECT_EQ(label::kPublicRecordIkm, "cipherchart public record");
  EXPECT_EQ(label::kPublicRecordInfo, "cipherchart public record v1|");
  EXPECT_EQ(label::kWalletPurpose, "cipherchart wallet v1");
  EXPECT_EQ(kSectionKeyEntrySchemeId, 0x0010);
  EXPECT_EQ(kPublicRecordSchemeId, 0x0011);
}

}  // namespace
}  // namespace cipherchart::protocol
