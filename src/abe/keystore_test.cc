// Keystores (keystore.h): round trips through bytes and files, wrong passphrases and purposes,
// the Argon2 limits, atomic 0600 files; and the sealed plaintexts themselves (keystore_internal.h):
// layout, byte flips, truncations and known-answer vectors.
//
// Known-answer vectors: the "CCAS" and "CCUK" plaintexts of fixed objects (FAME master keys and
// secret keys from fixed scalars, Ed25519 keys from fixed seeds, certificates signed with them:
// Ed25519 is deterministic), one "name hex" line each in testdata/keystore_vectors.txt. To
// regenerate after an intentional format change (and bump kKeystoreVersion):
//   CIPHERCHART_REGENERATE_VECTORS=1 ./abe_glue_test --gtest_filter='KeystoreKat*'
#include "cipherchart/abe/keystore.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "cipherchart/abe/fame_serialize.h"
#include "cipherchart/abe/maabe_serialize.h"
#include "src/abe/glue_test_util.h"
#include "src/abe/keystore_internal.h"

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

// ---- the sealed plaintexts (keystore_internal.h) -----------------------------------------------

using internal::ParseAuthoritySecrets;
using internal::ParseUserKeyPayload;
using internal::SerializeAuthoritySecrets;
using internal::SerializeUserKeyPayload;
using pairing::Fr;

bool Contains(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

Bytes AuthorityPayload(const Authority& authority) {
  auto s = SerializeAuthoritySecrets(authority);
  EXPECT_TRUE(s.has_value()) << s.error().ToString();
  return s ? ToVector(*s) : Bytes{};
}

Bytes UserKeyPayload(const UserKey& key) {
  auto s = SerializeUserKeyPayload(key);
  EXPECT_TRUE(s.has_value()) << s.error().ToString();
  return s ? ToVector(*s) : Bytes{};
}

// A FAME master key from fixed scalars: a = (s+1, s+2), b = (s+3, s+4), g^d for d = (s+5, s+6, s+7).
fame::MasterKey FixedMasterKey(std::uint64_t s) {
  fame::MasterKey msk;
  msk.a = {Fr::FromU64(s + 1), Fr::FromU64(s + 2)};
  msk.b = {Fr::FromU64(s + 3), Fr::FromU64(s + 4)};
  for (std::size_t i = 0; i < 3; ++i)
    msk.g_d[i] = pairing::G1::Generator().MulVartime(Fr::FromU64(s + 5 + i));
  return msk;
}

// The public key Setup would have published with FixedMasterKey(s): [A]_2 = (h^a1, h^a2, h) and
// T_t = e(g, h)^(d_t a_t + d_3).
fame::PublicKey FixedPublicKeyOf(std::uint64_t s) {
  const pairing::G2 h = pairing::G2::Generator();
  fame::PublicKey pk;
  pk.h_a = {h.MulVartime(Fr::FromU64(s + 1)), h.MulVartime(Fr::FromU64(s + 2)), h};
  const pairing::Gt e = pairing::Pairing(pairing::G1::Generator(), h);
  for (std::uint64_t t = 0; t < 2; ++t)
    pk.t[t] = e.PowVartime(Fr::FromU64(s + 5 + t) * Fr::FromU64(s + 1 + t) + Fr::FromU64(s + 7));
  return pk;
}

// A FAME secret key with the given attribute names, every point a fixed multiple of a generator.
fame::SecretKey FixedSecretKey(const std::vector<std::string>& names, std::uint64_t seed) {
  fame::SecretKey sk;
  for (std::size_t i = 0; i < 3; ++i) {
    sk.k0[i] = pairing::G2::Generator().MulVartime(Fr::FromU64(seed + 10 + i));
    sk.kp[i] = pairing::G1::Generator().MulVartime(Fr::FromU64(seed + 20 + i));
  }
  std::uint64_t k = seed + 30;
  for (const auto& name : names) {
    std::array<pairing::G1, 3> v;
    for (auto& p : v) p = pairing::G1::Generator().MulVartime(Fr::FromU64(k++));
    sk.k.emplace(name, v);
  }
  return sk;
}

envelope::Ed25519SigningKey SeedKey(std::uint8_t fill) {
  auto key = envelope::Ed25519SigningKey::FromSeed(SecretBytes(Bytes(envelope::kEd25519SeedSize, fill)));
  EXPECT_TRUE(key.has_value());
  return std::move(*key);
}

Certificate Issue(std::string_view subject_namespace, const fame::PublicKey& pk,
                  const envelope::Ed25519SigningKey& subject_key, std::string_view issuer_namespace,
                  const envelope::Ed25519SigningKey& issuer_key) {
  auto c = IssueCertificate(subject_namespace, pk, subject_key.public_key(), issuer_namespace, issuer_key,
                            1'700'000'000, 2'000'000'000);
  EXPECT_TRUE(c.has_value()) << c.error().ToString();
  return *c;
}

Authority MustAuthority(Result<Authority> a) {
  EXPECT_TRUE(a.has_value()) << a.error().ToString();
  return std::move(*a);
}

// The fixed root authority hospital_a: master key FixedMasterKey(10), Ed25519 seed 32 x 0xA1,
// self-signed.
Authority KatRootAuthority() {
  envelope::Ed25519SigningKey key = SeedKey(0xA1);
  const Certificate cert = Issue("hospital_a", FixedPublicKeyOf(10), key, "hospital_a", key);
  return MustAuthority(Authority::FromParts(FixedMasterKey(10), std::move(key), {cert}));
}

// The fixed sub-authority hospital_a."intensive care": master key FixedMasterKey(20), Ed25519
// seed 32 x 0xB2, certified by KatRootAuthority's key (chain of two).
Authority KatSubAuthority() {
  const envelope::Ed25519SigningKey root_key = SeedKey(0xA1);
  envelope::Ed25519SigningKey key = SeedKey(0xB2);
  std::vector<Certificate> chain = {
      Issue("hospital_a", FixedPublicKeyOf(10), root_key, "hospital_a", root_key),
      Issue("hospital_a.\"intensive care\"", FixedPublicKeyOf(20), key, "hospital_a", root_key)};
  return MustAuthority(Authority::FromParts(FixedMasterKey(20), std::move(key), std::move(chain)));
}

// A standard key of the root authority and a delegable key (two delegation bases) of the
// sub-authority.
UserKey KatUserKey() {
  UserKey key;
  key.authority_namespace = "hospital_a";
  key.public_params_id = *FamePublicParamsId(FixedPublicKeyOf(10));
  key.key = FixedSecretKey({"hospital_a.role:doctor", "hospital_a.ward:\"intensive care\""}, 1);
  return key;
}

UserKey KatDelegableUserKey() {
  UserKey key;
  key.authority_namespace = "hospital_a.\"intensive care\"";
  key.public_params_id = *FamePublicParamsId(FixedPublicKeyOf(20));
  const std::vector<std::string> names = {"hospital_a.\"intensive care\".role:nurse"};
  key.key = FixedSecretKey(names, 2);
  for (std::uint64_t basis_seed : {100, 200}) {
    const fame::SecretKey b = FixedSecretKey(names, basis_seed);
    key.key.delegation.push_back({b.k0, b.k, b.kp});
  }
  return key;
}

// Where each field of a payload starts and how long it is (docs/formats.md, "Keystores").
struct Field {
  std::string name;
  std::size_t at;
  std::size_t size;
};

std::size_t BigEndian(const Bytes& b, std::size_t at, std::size_t width) {
  std::size_t v = 0;
  for (std::size_t i = 0; i < width; ++i) v = (v << 8) | b.at(at + i);
  return v;
}

std::vector<Field> AuthorityFields(const Bytes& p) {
  const std::size_t k = BigEndian(p, 5, 4);
  const std::size_t c = BigEndian(p, 41 + k, 4);
  return {{"magic", 0, 4},
          {"version", 4, 1},
          {"master key length", 5, 4},
          {"master key", 9, k},
          {"signing key seed", 9 + k, 32},
          {"chain length", 41 + k, 4},
          {"chain", 45 + k, c}};
}

std::vector<Field> UserKeyFields(const Bytes& p) {
  const std::size_t n = BigEndian(p, 5, 2);
  const std::size_t s = BigEndian(p, 39 + n, 4);
  return {{"magic", 0, 4},
          {"version", 4, 1},
          {"namespace length", 5, 2},
          {"namespace", 7, n},
          {"public-parameter id", 7 + n, 32},
          {"secret key length", 39 + n, 4},
          {"secret key", 43 + n, s}};
}

bool DecoderCode(ErrorCode c) {
  return c == ErrorCode::kInvalidEncoding || c == ErrorCode::kUnsupported || c == ErrorCode::kBadFlags ||
         c == ErrorCode::kNonCanonical || c == ErrorCode::kNotOnCurve || c == ErrorCode::kNotInSubgroup;
}

// Every single-byte change (XOR with each mask) fails with a decoder code (or, for the
// authority, FromParts's kInvalidArgument) and a message, or parses to an object that
// re-serialises to the changed bytes, so to a different object than the original. Every
// truncation fails with kInvalidEncoding naming the field it cut and where that field starts;
// a trailing byte fails too.
template <class Parse, class Reserialize>
void CheckPayloadMutations(const Bytes& good, std::string_view format, const std::vector<Field>& fields,
                           Parse parse, Reserialize reserialize, const std::vector<std::uint8_t>& masks,
                           bool from_parts) {
  ASSERT_TRUE(parse(good).has_value());
  ASSERT_EQ(fields.back().at + fields.back().size, good.size());
  std::size_t accepted = 0;
  for (std::size_t i = 0; i < good.size(); ++i) {
    for (const std::uint8_t mask : masks) {
      Bytes bad = good;
      bad[i] ^= mask;
      auto r = parse(bad);
      if (r.has_value()) {
        ++accepted;
        ASSERT_EQ(reserialize(*r), bad) << "byte " << i << " mask " << int{mask};
      } else {
        const ErrorCode code = r.error().code();
        ASSERT_TRUE(DecoderCode(code) || (from_parts && code == ErrorCode::kInvalidArgument))
            << "byte " << i << ": " << r.error().ToString();
        ASSERT_TRUE(Contains(r.error().message(), std::string(format) + ": ") ||
                    (from_parts && code == ErrorCode::kInvalidArgument))
            << "byte " << i << ": " << r.error().message();
      }
    }
  }
  EXPECT_GT(accepted, 0u);  // names, ids, scalars b: some flips are other valid objects
  for (std::size_t n = 0; n < good.size(); ++n) {
    auto r = parse(Bytes(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n)));
    ASSERT_FALSE(r.has_value()) << "truncated to " << n;
    ASSERT_EQ(r.error().code(), ErrorCode::kInvalidEncoding) << n << ": " << r.error().message();
    const Field* cut = nullptr;
    for (const Field& f : fields) {
      if (n < f.at + f.size) {
        cut = &f;
        break;
      }
    }
    ASSERT_NE(cut, nullptr);
    const std::string expected =
        std::string(format) + ": truncated at offset " + std::to_string(cut->at) + " reading " + cut->name;
    ASSERT_TRUE(Contains(r.error().message(), expected)) << n << ": " << r.error().message();
  }
  Bytes longer = good;
  longer.push_back(0);
  auto r = parse(longer);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message(),
            std::string(format) + ": 1 trailing bytes at offset " + std::to_string(good.size()));
}

TEST(KeystorePayload, SealedPlaintextsAreTheseEncodings) {
  // Seal* seal exactly these bytes, and Open* parse them.
  const Authority& authority = TestAuthorities().cardiology;
  const Bytes blob = SealCheap(authority);
  auto secret = envelope::OpenWithPassphrase(blob, Passphrase(), kAuthorityKeyPurpose, kTestLimits);
  ASSERT_TRUE(secret.has_value()) << secret.error().ToString();
  EXPECT_EQ(ToVector(*secret), AuthorityPayload(authority));
  auto parsed = ParseAuthoritySecrets(secret->span());
  ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
  ExpectSameAuthority(*parsed, authority);

  const UserKey key = DoctorKey();
  auto user_secret = envelope::OpenWithPassphrase(SealCheap(key), Passphrase(), kUserKeyPurpose, kTestLimits);
  ASSERT_TRUE(user_secret.has_value()) << user_secret.error().ToString();
  EXPECT_EQ(ToVector(*user_secret), UserKeyPayload(key));
}

TEST(KeystorePayload, AuthorityLayout) {
  const Authority authority = KatSubAuthority();
  const Bytes p = AuthorityPayload(authority);
  const auto fields = AuthorityFields(p);
  EXPECT_EQ(Bytes(p.begin(), p.begin() + 5), (Bytes{'C', 'C', 'A', 'S', 1}));
  EXPECT_EQ(fields[3].size, fame::kSerializedMasterKeySize);
  EXPECT_EQ(Bytes(p.begin() + 9, p.begin() + 13), (Bytes{'C', 'F', 'M', 'K'}));
  EXPECT_EQ(Bytes(p.begin() + 9 + 277, p.begin() + 9 + 277 + 32), Bytes(32, 0xB2));
  EXPECT_EQ(Bytes(p.begin() + 45 + 277, p.end()), *EncodeChain(authority.chain()));
  auto parsed = ParseAuthoritySecrets(p);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
  ExpectSameAuthority(*parsed, authority);
  EXPECT_EQ(AuthorityPayload(*parsed), p);
}

TEST(KeystorePayload, UserKeyLayout) {
  const UserKey key = KatUserKey();
  const Bytes p = UserKeyPayload(key);
  EXPECT_EQ(Bytes(p.begin(), p.begin() + 7), (Bytes{'C', 'C', 'U', 'K', 1, 0, 10}));
  EXPECT_EQ(std::string(p.begin() + 7, p.begin() + 17), "hospital_a");
  EXPECT_TRUE(std::equal(key.public_params_id.begin(), key.public_params_id.end(), p.begin() + 17));
  EXPECT_EQ(Bytes(p.begin() + 53, p.end()), ToVector(*fame::Serialize(key.key)));
  auto parsed = ParseUserKeyPayload(p);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
  EXPECT_EQ(parsed->authority_namespace, key.authority_namespace);
  EXPECT_EQ(parsed->public_params_id, key.public_params_id);
  EXPECT_EQ(UserKeyPayload(*parsed), p);
}

TEST(KeystorePayload, MalformedPayloadsNameTheFieldAndOffset) {
  const Bytes authority = AuthorityPayload(KatRootAuthority());
  const Bytes user = UserKeyPayload(KatUserKey());
  // Neither parses as the other.
  auto r = ParseUserKeyPayload(authority);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message(), "user keystore: magic is not \"CCUK\" at offset 0");
  auto a = ParseAuthoritySecrets(user);
  ASSERT_FALSE(a.has_value());
  EXPECT_EQ(a.error().message(), "authority keystore: magic is not \"CCAS\" at offset 0");
  {
    Bytes bad = authority;
    bad[4] = 2;
    EXPECT_EQ(ParseAuthoritySecrets(bad).error().code(), ErrorCode::kUnsupported);
    EXPECT_EQ(ParseAuthoritySecrets(bad).error().message(),
              "authority keystore: version 2 at offset 4 is not supported (this library reads version 1)");
  }
  {
    Bytes bad = authority;
    bad[5] = 0x01;  // k = 16 MiB + 277
    EXPECT_TRUE(Contains(ParseAuthoritySecrets(bad).error().message(),
                         "authority keystore: master key length 16777493 is outside 1..1048576 at offset 5"))
        << ParseAuthoritySecrets(bad).error().message();
  }
  {
    Bytes bad = authority;
    bad[9] = 'X';  // the master key's own magic
    auto e = ParseAuthoritySecrets(bad);
    ASSERT_FALSE(e.has_value());
    EXPECT_EQ(e.error().code(), ErrorCode::kInvalidEncoding);
    EXPECT_TRUE(Contains(e.error().message(), "authority keystore: master key at offset 9: "))
        << e.error().message();
  }
  {
    Bytes bad = authority;
    bad[9 + 277] ^= 1;  // another Ed25519 seed: not the certificate's key
    auto e = ParseAuthoritySecrets(bad);
    ASSERT_FALSE(e.has_value());
    EXPECT_EQ(e.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_TRUE(Contains(e.error().message(), "signing key")) << e.error().message();
  }
  {
    Bytes bad = authority;
    bad[45 + 277] = 'X';  // the chain's magic
    auto e = ParseAuthoritySecrets(bad);
    ASSERT_FALSE(e.has_value());
    EXPECT_TRUE(
        Contains(e.error().message(), "authority keystore: chain at offset 322: certificate chain: magic"))
        << e.error().message();
  }
  {
    Bytes bad = user;
    bad[7 + 8] = ' ';  // "hospital a"
    auto e = ParseUserKeyPayload(bad);
    ASSERT_FALSE(e.has_value());
    EXPECT_EQ(e.error().code(), ErrorCode::kInvalidEncoding);
    EXPECT_TRUE(Contains(e.error().message(), "user keystore: namespace is not valid"))
        << e.error().message();
    EXPECT_TRUE(Contains(e.error().message(), "at offset 7")) << e.error().message();
    bad = user;
    bad[6] = 0;
    EXPECT_EQ(ParseUserKeyPayload(bad).error().message(),
              "user keystore: namespace length 0 is outside 1..256 at offset 5");
    bad = user;
    bad[53] = 'X';  // the secret key's magic
    EXPECT_TRUE(
        Contains(ParseUserKeyPayload(bad).error().message(), "user keystore: secret key at offset 53: "))
        << ParseUserKeyPayload(bad).error().message();
  }
  EXPECT_FALSE(ParseAuthoritySecrets({}));
  EXPECT_FALSE(ParseUserKeyPayload({}));
}

TEST(Keystore, MultiAuthorityKeysRoundTripAndStayApart) {
  auto authority = maabe::AuthoritySetup("hospital_a");
  ASSERT_TRUE(authority.has_value());
  auto keys = maabe::KeyGen(*authority, "dr-1", {"hospital_a.role:doctor"});
  ASSERT_TRUE(keys.has_value());
  maabe::UserKey user{"dr-1", {}};
  ASSERT_TRUE(maabe::AddKeys(user, *keys).has_value());

  DeterministicRandom rng("multi-authority");
  auto msk_blob = SealMultiAuthorityMasterKey(authority->msk, Passphrase(), kCheapArgon2, kTestLimits, rng);
  auto user_blob = SealMultiAuthorityUserKey(user, Passphrase(), kCheapArgon2, kTestLimits, rng);
  ASSERT_TRUE(msk_blob && user_blob);
  auto pair = OpenMultiAuthorityMasterKey(*msk_blob, Passphrase(), kTestLimits);
  ASSERT_TRUE(pair.has_value()) << pair.error().ToString();
  EXPECT_EQ(pair->id, authority->id);  // the same public key, rebuilt from the master key
  auto opened = OpenMultiAuthorityUserKey(*user_blob, Passphrase(), kTestLimits);
  ASSERT_TRUE(opened.has_value()) << opened.error().ToString();
  EXPECT_TRUE(*maabe::Serialize(*opened) == *maabe::Serialize(user));

  // Wrong passphrase, and each blob under the other's (or a FAME keystore's) purpose.
  EXPECT_EQ(OpenMultiAuthorityUserKey(*user_blob, Text("wrong"), kTestLimits).error().code(),
            ErrorCode::kIntegrity);
  EXPECT_EQ(OpenMultiAuthorityUserKey(*msk_blob, Passphrase(), kTestLimits).error().code(),
            ErrorCode::kIntegrity);
  EXPECT_EQ(OpenMultiAuthorityMasterKey(*user_blob, Passphrase(), kTestLimits).error().code(),
            ErrorCode::kIntegrity);
  EXPECT_EQ(OpenUserKey(*user_blob, Passphrase(), kTestLimits).error().code(), ErrorCode::kIntegrity);

  // Files: atomic, mode 0600, and they open again.
  TempDir dir;
  ASSERT_TRUE(SealMultiAuthorityMasterKeyToFile(dir / "ma.key", authority->msk, Passphrase(), kCheapArgon2,
                                                kTestLimits, rng));
  ASSERT_TRUE(
      SealMultiAuthorityUserKeyToFile(dir / "user.key", user, Passphrase(), kCheapArgon2, kTestLimits, rng));
  EXPECT_EQ(FileMode(dir / "ma.key"), 0600u);
  EXPECT_EQ(FileMode(dir / "user.key"), 0600u);
  auto from_file = OpenMultiAuthorityMasterKeyFile(dir / "ma.key", Passphrase(), kTestLimits);
  ASSERT_TRUE(from_file.has_value());
  EXPECT_EQ(from_file->id, authority->id);
  auto user_from_file = OpenMultiAuthorityUserKeyFile(dir / "user.key", Passphrase(), kTestLimits);
  ASSERT_TRUE(user_from_file.has_value());
  EXPECT_EQ(user_from_file->gid, "dr-1");
  // A key that does not serialise is refused before anything is written.
  maabe::UserKey empty{"dr-2", {}};
  EXPECT_EQ(SealMultiAuthorityUserKey(empty, Passphrase(), kCheapArgon2, kTestLimits).error().code(),
            ErrorCode::kInvalidArgument);
}

TEST(KeystorePayload, AuthorityByteFlipsAndTruncations) {
  // One mask per byte: each parse decodes the chain's FAME public keys, which takes time.
  const Bytes good = AuthorityPayload(KatRootAuthority());
  CheckPayloadMutations(
      good, "authority keystore", AuthorityFields(good),
      [](const Bytes& b) { return ParseAuthoritySecrets(b); },
      [](const Authority& a) { return AuthorityPayload(a); }, {0x01}, /*from_parts=*/true);
}

TEST(KeystorePayload, UserKeyByteFlipsAndTruncations) {
  // Three masks for the standard key (0x20 is a point's sign bit), one for the delegable key's
  // three times as many points.
  const std::vector<std::pair<UserKey, std::vector<std::uint8_t>>> cases = {
      {KatUserKey(), {0x01, 0x80, 0x20}}, {KatDelegableUserKey(), {0x01}}};
  for (const auto& [key, masks] : cases) {
    const Bytes good = UserKeyPayload(key);
    CheckPayloadMutations(
        good, "user keystore", UserKeyFields(good), [](const Bytes& b) { return ParseUserKeyPayload(b); },
        [](const UserKey& k) { return UserKeyPayload(k); }, masks, /*from_parts=*/false);
  }
}

// ---- known-answer vectors ----------------------------------------------------------------------

std::string Hex(std::span<const std::uint8_t> b) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (const std::uint8_t x : b) {
    out.push_back(kDigits[x >> 4]);
    out.push_back(kDigits[x & 15]);
  }
  return out;
}

Bytes FromHex(std::string_view hex) {
  Bytes out;
  auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<std::uint8_t>(nibble(hex[i]) * 16 + nibble(hex[i + 1])));
  return out;
}

std::map<std::string, std::string> KatVectors() {
  std::map<std::string, std::string> out;
  out["authority_secrets_root"] = Hex(AuthorityPayload(KatRootAuthority()));
  out["authority_secrets_sub"] = Hex(AuthorityPayload(KatSubAuthority()));
  out["user_key"] = Hex(UserKeyPayload(KatUserKey()));
  out["user_key_delegable"] = Hex(UserKeyPayload(KatDelegableUserKey()));
  return out;
}

TEST(KeystoreKat, MatchesStoredVectors) {
  const std::string path = std::string(CIPHERCHART_ABE_TESTDATA) + "/keystore_vectors.txt";
  const auto generated = KatVectors();
  const char* regen = std::getenv("CIPHERCHART_REGENERATE_VECTORS");
  if (regen != nullptr && std::string(regen) == "1") {
    std::ofstream out(path);
    out << "# Keystore plaintexts, the secrets inside the passphrase seal (docs/formats.md, \"Keystores\"), "
           "version 1.\n"
        << "# Generated by keystore_test.cc (KeystoreKat): FAME keys from fixed scalars, Ed25519 seeds 32 x "
           "0xA1 (root) / 0xB2 (sub).\n"
        << "# One \"name hex\" per line.\n";
    for (const auto& [name, hex] : generated) out << name << ' ' << hex << '\n';
    GTEST_SKIP() << "rewrote " << path;
  }
  std::ifstream in(path);
  ASSERT_TRUE(in) << path << " (regenerate with CIPHERCHART_REGENERATE_VECTORS=1)";
  std::map<std::string, std::string> stored;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto space = line.find(' ');
    ASSERT_NE(space, std::string::npos) << line;
    stored[line.substr(0, space)] = line.substr(space + 1);
  }
  ASSERT_EQ(stored.size(), generated.size());
  for (const auto& [name, hex] : generated) {
    ASSERT_TRUE(stored.contains(name)) << name;
    EXPECT_EQ(stored[name], hex) << name << ": the encoding changed (bump kKeystoreVersion?)";
  }
  // The stored bytes decode to the fixed objects and re-encode to themselves.
  for (const char* name : {"authority_secrets_root", "authority_secrets_sub"}) {
    const Bytes bytes = FromHex(stored[name]);
    auto a = ParseAuthoritySecrets(bytes);
    ASSERT_TRUE(a.has_value()) << name << ": " << a.error().ToString();
    EXPECT_EQ(AuthorityPayload(*a), bytes) << name;
  }
  auto root = ParseAuthoritySecrets(FromHex(stored["authority_secrets_root"]));
  ASSERT_TRUE(root.has_value());
  ExpectSameAuthority(*root, KatRootAuthority());
  auto sub = ParseAuthoritySecrets(FromHex(stored["authority_secrets_sub"]));
  ASSERT_TRUE(sub.has_value());
  ExpectSameAuthority(*sub, KatSubAuthority());
  EXPECT_EQ(sub->authority_namespace(), "hospital_a.\"intensive care\"");
  EXPECT_TRUE(VerifyChain(sub->chain(), std::vector<TrustedRoot>{TrustedRootOf(root->certificate())}, kNow));
  for (const char* name : {"user_key", "user_key_delegable"}) {
    const Bytes bytes = FromHex(stored[name]);
    auto k = ParseUserKeyPayload(bytes);
    ASSERT_TRUE(k.has_value()) << name << ": " << k.error().ToString();
    EXPECT_EQ(UserKeyPayload(*k), bytes) << name;
  }
  auto delegable = ParseUserKeyPayload(FromHex(stored["user_key_delegable"]));
  ASSERT_TRUE(delegable.has_value());
  EXPECT_EQ(delegable->key.delegation.size(), 2u);
  EXPECT_EQ(delegable->public_params_id, sub->public_params_id());
}

}  // namespace
}  // namespace cipherchart::abe
