// Keystores (keystore.h): round trips through bytes and files, wrong passphrases and purposes,
// the Argon2 limits, atomic 0600 files.
#include "cipherchart/abe/keystore.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <string>
#include <vector>

#include "cipherchart/abe/fame_serialize.h"
#include "src/abe/glue_test_util.h"

namespace cipherchart::abe {
namespace {

using namespace testing;

const SecretBytes& Passphrase() {
  static const SecretBytes p = Text("correct horse battery staple");
  return p;
}

Bytes SealCheap(const Authority& authority, std::string_view seed = "keystore") {
  DeterministicRandom rng(seed);
  auto blob = SealAuthority(authority, Passphrase(), kCheapArgon2, kTestLimits, rng);
  EXPECT_TRUE(blob.has_value()) << blob.error().ToString();
  return blob ? *blob : Bytes{};
}

UserKey DoctorKey() {
  auto key = TestAuthorities().cardiology.IssueUserKey(Attrs("hospital_a.cardiology.role:doctor"));
  EXPECT_TRUE(key.has_value());
  return std::move(*key);
}

Bytes SealCheap(const UserKey& key) {
  DeterministicRandom rng("user keystore");
  auto blob = SealUserKey(key, Passphrase(), kCheapArgon2, kTestLimits, rng);
  EXPECT_TRUE(blob.has_value()) << blob.error().ToString();
  return blob ? *blob : Bytes{};
}

Bytes ToVector(const SecretBytes& s) { return {s.span().begin(), s.span().end()}; }

void ExpectSameAuthority(const Authority& a, const Authority& b) {
  EXPECT_EQ(a.authority_namespace(), b.authority_namespace());
  EXPECT_EQ(a.public_params_id(), b.public_params_id());
  EXPECT_EQ(*EncodeChain(a.chain()), *EncodeChain(b.chain()));
  EXPECT_TRUE(a.signing_key().seed() == b.signing_key().seed());
  EXPECT_EQ(a.signing_key().public_key(), b.signing_key().public_key());
  EXPECT_TRUE(fame::Serialize(a.master_key()) == fame::Serialize(b.master_key()));
}

mode_t FileMode(const std::filesystem::path& p) {
  struct stat st{};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

TEST(Keystore, AuthorityRoundTripsAndStillWorks) {
  const Authority& original = TestAuthorities().cardiology;
  const Bytes blob = SealCheap(original);
  auto info = envelope::ParseSealedBlob(blob);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->params.memory_kib, kCheapArgon2.memory_kib);

  auto opened = OpenAuthority(blob, Passphrase(), kTestLimits);
  ASSERT_TRUE(opened.has_value()) << opened.error().ToString();
  ExpectSameAuthority(*opened, original);

  // The reopened authority issues keys for ciphertexts under the original public key, and its
  // certificates still verify.
  auto key = opened->IssueUserKey(Attrs("hospital_a.cardiology.role:nurse"));
  ASSERT_TRUE(key.has_value());
  auto enc = fame::Encapsulate(original.public_key(), *Policy("hospital_a.cardiology.role:nurse"));
  ASSERT_TRUE(enc.has_value());
  auto k = fame::Decapsulate(key->key, enc->ct);
  ASSERT_TRUE(k.has_value());
  EXPECT_TRUE(*k == enc->key);
  EXPECT_TRUE(VerifyChain(opened->chain(), std::vector<TrustedRoot>{TestAuthorities().anchor()}, kNow));
  auto sub = opened->Certify("hospital_a.cardiology.x", original.public_key(), {}, kNotBefore, kNotAfter);
  ASSERT_TRUE(sub.has_value());
  EXPECT_EQ(sub->signature,
            original.Certify("hospital_a.cardiology.x", original.public_key(), {}, kNotBefore,
                             kNotAfter)
                ->signature);  // Ed25519 is deterministic: the same key signed
}

TEST(Keystore, WrongPassphraseOrPurposeIsAnIntegrityError) {
  const Bytes blob = SealCheap(TestAuthorities().root);
  auto r = OpenAuthority(blob, Text("correct horse battery stapler"), kTestLimits);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kIntegrity);
  // An authority keystore is not a user keystore, and the other way round.
  auto as_user = OpenUserKey(blob, Passphrase(), kTestLimits);
  ASSERT_FALSE(as_user.has_value());
  EXPECT_EQ(as_user.error().code(), ErrorCode::kIntegrity);
  auto as_authority = OpenAuthority(SealCheap(DoctorKey()), Passphrase(), kTestLimits);
  ASSERT_FALSE(as_authority.has_value());
  EXPECT_EQ(as_authority.error().code(), ErrorCode::kIntegrity);
  // Any modified byte after the clear header.
  for (std::size_t i : {std::size_t{49}, blob.size() / 2, blob.size() - 1}) {
    Bytes bad = blob;
    bad[i] ^= 1;
    EXPECT_EQ(OpenAuthority(bad, Passphrase(), kTestLimits).error().code(), ErrorCode::kIntegrity) << i;
  }
  EXPECT_EQ(OpenAuthority(Bytes(blob.begin(), blob.end() - 1), Passphrase(), kTestLimits).error().code(),
            ErrorCode::kInvalidEncoding);
}

TEST(Keystore, ProductionLimitsRefuseCheapParameters) {
  // The defaults are the production setting; a blob sealed with test parameters does not open
  // under them (a downgraded keystore is refused before any Argon2 work).
  const envelope::Argon2Params defaults;
  EXPECT_EQ(defaults.memory_kib, 64u * 1024);
  EXPECT_EQ(defaults.iterations, 3u);
  auto r = OpenAuthority(SealCheap(TestAuthorities().root), Passphrase());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kUnsupported);
  // And sealing with cheap parameters under the default limits is refused too.
  auto sealed = SealAuthority(TestAuthorities().root, Passphrase(), kCheapArgon2);
  ASSERT_FALSE(sealed.has_value());
  EXPECT_EQ(sealed.error().code(), ErrorCode::kInvalidArgument);
}

TEST(Keystore, UserKeyRoundTrips) {
  const UserKey key = DoctorKey();
  const Bytes blob = SealCheap(key);
  auto opened = OpenUserKey(blob, Passphrase(), kTestLimits);
  ASSERT_TRUE(opened.has_value()) << opened.error().ToString();
  EXPECT_EQ(opened->authority_namespace, key.authority_namespace);
  EXPECT_EQ(opened->public_params_id, key.public_params_id);
  EXPECT_EQ(ToVector(*fame::Serialize(opened->key)), ToVector(*fame::Serialize(key.key)));
  EXPECT_EQ(OpenUserKey(blob, Text("wrong"), kTestLimits).error().code(), ErrorCode::kIntegrity);
  EXPECT_EQ(OpenUserKey(blob, Passphrase()).error().code(), ErrorCode::kUnsupported);

  // A delegable key (with its delegation bases) round-trips too.
  auto delegable = TestAuthorities().cardiology.IssueUserKey(Attrs("hospital_a.cardiology.role:doctor"),
                                                             fame::KeyKind::kDelegable);
  ASSERT_TRUE(delegable.has_value());
  auto reopened = OpenUserKey(SealCheap(*delegable), Passphrase(), kTestLimits);
  ASSERT_TRUE(reopened.has_value()) << reopened.error().ToString();
  EXPECT_EQ(reopened->key.delegation.size(), 2u);
  EXPECT_EQ(ToVector(*fame::Serialize(reopened->key)), ToVector(*fame::Serialize(delegable->key)));

  UserKey bad = key;
  bad.authority_namespace = "not a namespace";
  EXPECT_EQ(SealUserKey(bad, Passphrase(), kCheapArgon2, kTestLimits).error().code(),
            ErrorCode::kInvalidArgument);
}

TEST(Keystore, FilesAreWrittenAtomicallyWithMode0600) {
  TempDir dir;
  const auto path = dir / "hospital_a.cardiology.key";
  // An existing file with a looser mode is replaced, not rewritten in place.
  {
    std::ofstream old(path);
    old << "old contents";
  }
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  DeterministicRandom rng("file");
  auto ok =
      SealAuthorityToFile(path, TestAuthorities().cardiology, Passphrase(), kCheapArgon2, kTestLimits, rng);
  ASSERT_TRUE(ok.has_value()) << ok.error().ToString();
  EXPECT_EQ(FileMode(path), 0600u);
  EXPECT_EQ(dir.Files(), std::set<std::string>{"hospital_a.cardiology.key"});  // no temporary file left
  auto opened = OpenAuthorityFile(path, Passphrase(), kTestLimits);
  ASSERT_TRUE(opened.has_value()) << opened.error().ToString();
  ExpectSameAuthority(*opened, TestAuthorities().cardiology);
  EXPECT_EQ(OpenAuthorityFile(path, Text("wrong"), kTestLimits).error().code(), ErrorCode::kIntegrity);

  const auto user_path = dir / "doctor.key";
  ASSERT_TRUE(SealUserKeyToFile(user_path, DoctorKey(), Passphrase(), kCheapArgon2, kTestLimits));
  EXPECT_EQ(FileMode(user_path), 0600u);
  auto user = OpenUserKeyFile(user_path, Passphrase(), kTestLimits);
  ASSERT_TRUE(user.has_value()) << user.error().ToString();
  EXPECT_EQ(user->public_params_id, TestAuthorities().cardiology.public_params_id());
}

TEST(Keystore, FileErrorsNameThePath) {
  TempDir dir;
  auto missing = OpenAuthorityFile(dir / "missing.key", Passphrase(), kTestLimits);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(missing.error().message().find("missing.key"), std::string::npos) << missing.error().message();

  // A directory that does not exist: nothing is written anywhere.
  auto nowhere = SealUserKeyToFile(dir / "no" / "such" / "dir.key", DoctorKey(), Passphrase(), kCheapArgon2,
                                   kTestLimits);
  ASSERT_FALSE(nowhere.has_value());
  EXPECT_EQ(nowhere.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(dir.Files().empty());

  // A failed seal (bad parameters) leaves an existing keystore untouched.
  const auto path = dir / "user.key";
  ASSERT_TRUE(SealUserKeyToFile(path, DoctorKey(), Passphrase(), kCheapArgon2, kTestLimits));
  const auto before = std::filesystem::file_size(path);
  EXPECT_FALSE(SealUserKeyToFile(path, DoctorKey(), SecretBytes(), kCheapArgon2, kTestLimits));
  EXPECT_EQ(std::filesystem::file_size(path), before);
  EXPECT_TRUE(OpenUserKeyFile(path, Passphrase(), kTestLimits));

  // Oversized files are refused before they are read into memory.
  const auto big = dir / "big.key";
  {
    std::ofstream out(big, std::ios::binary);
    out.seekp(static_cast<std::streamoff>(kMaxKeystoreFileSize));
    out.put(0);
  }
  auto r = OpenUserKeyFile(big, Passphrase(), kTestLimits);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("larger than"), std::string::npos) << r.error().message();
}

}  // namespace
}  // namespace cipherchart::abe
