// Known answers and malformed inputs for the chart layer's own formats: the labels it derives
// keys and ids with (checked against Python's hashlib/hmac, computed independently of this
// code), the owner-authority record in both its forms, and key packages.
#include <gtest/gtest.h>

#include "cipherchart/chart/enrolment.h"
#include "cipherchart/chart/key_package.h"
#include "cipherchart/chart/records.h"
#include "cipherchart/common/bytes.h"
#include "cipherchart/common/hex.h"

namespace cipherchart::chart {
namespace {

SecretBytes CountingKey() {
  SecretBytes k(32);
  for (std::size_t i = 0; i < 32; ++i) k.span()[i] = static_cast<std::uint8_t>(i);
  return k;
}

// python3: hashlib.sha256(b'cipherchart section key id v1' + bytes(range(32))).hexdigest()
TEST(ChartLabels, SectionKeyIdIsUnchanged) {
  EXPECT_EQ(ToHex(SectionKeyId(CountingKey())),
            "f0c29c740e41275ec73de442616a16d82f2137f9ece4831f7caf512b663d4c8c");
}

// python3: hashlib.sha256(b'cipherchart enrolment proof v1\x00' + b'ABCDE-FGHJK-MNPQR-STVWX')
TEST(ChartLabels, EnrolmentProofIsUnchanged) {
  auto p = EnrolmentProof("ABCDE-FGHJK-MNPQR-STVWX");
  ASSERT_TRUE(p);
  EXPECT_EQ(*p, "381ba92e92eb961e3a4ec26ce6bcbb8b56c1e45169b62b2bd376473c386cb881");
}

// HKDF-SHA-256 (RFC 5869) of the section key, empty salt, info "cipherchart entry key v1|" + id
// (python3 hmac/hashlib).
TEST(ChartLabels, EntryKeyIsUnchanged) {
  auto k = EntryKey(CountingKey(), "e.000102030405060708090a0b");
  ASSERT_TRUE(k);
  EXPECT_EQ(ToHex(k->span()), "e6ae604e96f472b30631a37e7729796be6fef9da1be07ca7bcb1bc71cc44bcbc");
}

TEST(OwnerAuthority, NewFormRoundTripsWithMagicAndVersion) {
  SealedOwnerAuthority s{{1, 2, 3}, {4, 5}};
  const auto bytes = EncodeOwnerAuthority(s);
  EXPECT_EQ(AsText(std::span(bytes).first(4)), "CCOA");
  EXPECT_EQ(bytes[4], 1);
  auto back = ParseOwnerAuthority(bytes);
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(back->fame_keystore, s.fame_keystore);
  EXPECT_EQ(back->multi_authority_keystore, s.multi_authority_keystore);
}

TEST(OwnerAuthority, LegacyFormWithoutMagicStillReads) {
  const std::vector<std::uint8_t> legacy = {0, 0, 0, 2, 9, 8, 0, 0, 0, 1, 7};
  auto back = ParseOwnerAuthority(legacy);
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(back->fame_keystore, (std::vector<std::uint8_t>{9, 8}));
  EXPECT_EQ(back->multi_authority_keystore, (std::vector<std::uint8_t>{7}));
}

TEST(OwnerAuthority, MalformedRecordsAreRefusedWithTheField) {
  auto bytes = EncodeOwnerAuthority({{1, 2, 3}, {4, 5}});
  auto e = ParseOwnerAuthority(std::span(bytes).first(bytes.size() - 1));
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code(), ErrorCode::kInvalidEncoding);
  EXPECT_NE(e.error().message().find("multi-authority keystore"), std::string::npos) << e.error().message();
  bytes.push_back(0);
  e = ParseOwnerAuthority(bytes);
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().message().find("trailing"), std::string::npos) << e.error().message();
  bytes.pop_back();
  bytes[4] = 2;
  e = ParseOwnerAuthority(bytes);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code(), ErrorCode::kUnsupported);
  EXPECT_FALSE(ParseOwnerAuthority({}));
  EXPECT_FALSE(ParseOwnerAuthority(AsBytes("CCOA")));
  const std::vector<std::uint8_t> zero_length = {0, 0, 0, 0, 0, 0, 0, 1, 7};
  EXPECT_FALSE(ParseOwnerAuthority(zero_length));
}

TEST(KeyPackage, OpensForItsRecipientOnly) {
  auto sender = envelope::Ed25519SigningKey::Generate();
  auto to = DeliveryKey::Generate();
  auto other = DeliveryKey::Generate();
  ASSERT_TRUE(sender && to && other);
  const SecretBytes payload(AsBytes("attribute keys"));
  auto pkg = SealKeyPackage(PackageKind::kAttributeKeys, payload, to->public_key, *sender);
  ASSERT_TRUE(pkg) << pkg.error().message();
  auto opened = OpenKeyPackage(*pkg, *to);
  ASSERT_TRUE(opened) << opened.error().message();
  EXPECT_EQ(opened->kind, PackageKind::kAttributeKeys);
  EXPECT_EQ(opened->sender, sender->public_key());
  EXPECT_TRUE(opened->payload == payload);
  auto wrong = OpenKeyPackage(*pkg, *other);
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code(), ErrorCode::kSignerMismatch);
}

TEST(KeyPackage, EveryFlippedByteIsRefused) {
  auto sender = envelope::Ed25519SigningKey::Generate();
  auto to = DeliveryKey::Generate();
  ASSERT_TRUE(sender && to);
  auto pkg = SealKeyPackage(PackageKind::kInvitation, SecretBytes(AsBytes("x")), to->public_key, *sender);
  ASSERT_TRUE(pkg);
  for (std::size_t i = 0; i < pkg->size(); ++i) {
    auto bad = *pkg;
    bad[i] ^= 0x01;
    EXPECT_FALSE(OpenKeyPackage(bad, *to)) << "byte " << i;
  }
  EXPECT_FALSE(OpenKeyPackage(std::span(*pkg).first(pkg->size() - 1), *to));
}

}  // namespace
}  // namespace cipherchart::chart
