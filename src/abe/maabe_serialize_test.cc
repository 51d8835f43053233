// Tests of the multi-authority encodings (maabe_serialize.h): round trips, refusals with
// precise messages, byte flips and truncations, and known-answer vectors
// (testdata/maabe_vectors.txt) generated from seeded randomness:
//   scalar source: Fr::FromBytesWide of the next 64 bytes of DeterministicRandom(kKatSeed).
#include "cipherchart/abe/maabe_serialize.h"

#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "cipherchart/abe/authority_directory.h"
#include "src/abe/glue_test_util.h"
#include "src/abe/maabe_internal.h"
#include "src/abe/seeded_scalars.h"
#include "src/abe/serialize_test_util.h"
#include "src/envelope/test_random.h"

namespace cipherchart::abe::maabe {
namespace {

using abe::testing::Bytes;
using abe::testing::CheckMutations;
using abe::testing::FromHex;
using abe::testing::Hex;
using abe::testing::ToVector;

std::unique_ptr<PolicyNode> Policy(std::string_view text) {
  auto p = ParsePolicy(text);
  EXPECT_TRUE(p.has_value()) << text;
  return p ? std::move(*p) : nullptr;
}

using abe::testing::SeededScalars;

bool SameKeys(const AuthorityKeys& a, const AuthorityKeys& b) {
  if (a.gid != b.gid || a.authority_namespace != b.authority_namespace || a.authority_id != b.authority_id ||
      a.attributes.size() != b.attributes.size())
    return false;
  for (const auto& [name, k] : a.attributes) {
    auto it = b.attributes.find(name);
    if (it == b.attributes.end() || !(it->second.k == k.k) || !(it->second.kp == k.kp)) return false;
  }
  return true;
}
bool SameUser(const UserKey& a, const UserKey& b) {
  if (a.gid != b.gid || a.by_authority.size() != b.by_authority.size()) return false;
  for (const auto& [ns, keys] : a.by_authority) {
    auto it = b.by_authority.find(ns);
    if (it == b.by_authority.end() || !SameKeys(keys, it->second)) return false;
  }
  return true;
}

// The known-answer objects: two authorities, one identity's keys from both, an encapsulation,
// a transformation key and the cloud's partial decryption.
constexpr std::string_view kKatSeed = "cipherchart maabe rw15 kat v1";
constexpr std::string_view kKatGid = "practitioner:0042";
constexpr std::string_view kKatDirectorySeed = "cipherchart maabe directory kat v1";
constexpr std::uint64_t kKatNotBefore = 1'767'225'600,
                        kKatNotAfter = 1'893'456'000;  // 2026-01-01 .. 2030-01-01
constexpr std::string_view kKatPolicy =
    "hospital_a.role:doctor AND (board.licence:active OR hospital_a.years >= 10)";
struct KatObjects {
  AuthorityKeyPair hospital, board;
  AuthorityKeys hospital_keys;
  UserKey user;
  Encapsulation enc;
  TransformKeyPair tk;
  PartialDecryption partial;
};
KatObjects MakeKatObjects() {
  const auto random = SeededScalars(kKatSeed);
  KatObjects o;
  auto hospital = internal::AuthoritySetupWith("hospital_a", random);
  auto board = internal::AuthoritySetupWith("board", random);
  if (!hospital || !board) std::abort();
  o.hospital = std::move(*hospital);
  o.board = std::move(*board);
  auto attrs = ParseAttributeSet("hospital_a.role:doctor, hospital_a.years=4");
  auto hk = internal::KeyGenWith(o.hospital, kKatGid, attrs->Expanded(), random);
  auto bk = internal::KeyGenWith(o.board, kKatGid, {"board.licence:active"}, random);
  if (!hk || !bk) std::abort();
  o.hospital_keys = *hk;
  o.user.gid = std::string(kKatGid);
  if (!AddKeys(o.user, *hk) || !AddKeys(o.user, *bk)) std::abort();
  const std::vector<AuthorityPublicKey> pks = {o.hospital.pk, o.board.pk};
  auto enc = internal::EncapsulateWith(pks, *Policy(kKatPolicy), random);
  auto tk = internal::MakeTransformKeyWith(o.user, random);
  if (!enc || !tk) std::abort();
  o.enc = std::move(*enc);
  o.tk = *tk;
  auto partial = Transform(o.tk.tk, o.enc.ct);
  if (!partial) std::abort();
  o.partial = *partial;
  return o;
}
const KatObjects& Kat() {
  static const KatObjects objects = MakeKatObjects();
  return objects;
}

TEST(MaabeSerialize, RoundTripsAndParsedObjectsStillWork) {
  const KatObjects& k = Kat();
  auto pk_bytes = Serialize(k.hospital.pk);
  ASSERT_TRUE(pk_bytes.has_value());
  EXPECT_EQ(pk_bytes->size(), 5u + 2 + 10 + 576 + 48);
  auto pk = ParsePublicKey(*pk_bytes);
  ASSERT_TRUE(pk.has_value()) << pk.error().message();
  EXPECT_EQ(pk->authority_namespace, "hospital_a");
  EXPECT_EQ(pk->e_alpha, k.hospital.pk.e_alpha);
  EXPECT_EQ(pk->g_y, k.hospital.pk.g_y);
  EXPECT_EQ(*AuthorityId(*pk), k.hospital.id);

  auto msk_bytes = Serialize(k.board.msk);
  ASSERT_TRUE(msk_bytes.has_value());
  auto msk = ParseMasterKey(msk_bytes->span());
  ASSERT_TRUE(msk.has_value()) << msk.error().message();
  auto rebuilt = FromMasterKey(*msk);
  ASSERT_TRUE(rebuilt.has_value());
  EXPECT_EQ(rebuilt->id, k.board.id);

  auto ak_bytes = Serialize(k.hospital_keys);
  ASSERT_TRUE(ak_bytes.has_value()) << ak_bytes.error().message();
  auto ak = ParseAuthorityKeys(ak_bytes->span());
  ASSERT_TRUE(ak.has_value()) << ak.error().message();
  EXPECT_TRUE(SameKeys(*ak, k.hospital_keys));

  auto uk_bytes = Serialize(k.user);
  ASSERT_TRUE(uk_bytes.has_value()) << uk_bytes.error().message();
  auto user = ParseUserKey(uk_bytes->span());
  ASSERT_TRUE(user.has_value()) << user.error().message();
  EXPECT_TRUE(SameUser(*user, k.user));
  EXPECT_TRUE(*Serialize(*user) == *uk_bytes);

  auto ct_bytes = Serialize(k.enc.ct);
  ASSERT_TRUE(ct_bytes.has_value()) << ct_bytes.error().message();
  auto ct = ParseCiphertext(*ct_bytes);
  ASSERT_TRUE(ct.has_value()) << ct.error().message();
  EXPECT_EQ(*Serialize(*ct), *ct_bytes);
  EXPECT_EQ(ct->authorities, k.enc.ct.authorities);

  // The parsed key opens the parsed ciphertext.
  auto key = Decapsulate(*user, *ct);
  ASSERT_TRUE(key.has_value()) << key.error().message();
  EXPECT_TRUE(*key == k.enc.key);

  auto tk_bytes = Serialize(k.tk.tk);
  ASSERT_TRUE(tk_bytes.has_value());
  auto tk = ParseTransformKey(tk_bytes->span());
  ASSERT_TRUE(tk.has_value()) << tk.error().message();
  auto partial = Transform(*tk, *ct);
  ASSERT_TRUE(partial.has_value());
  const auto pd_bytes = Serialize(*partial);
  EXPECT_EQ(pd_bytes.size(), kPartialDecryptionSize);
  auto pd = ParsePartialDecryption(pd_bytes);
  ASSERT_TRUE(pd.has_value());
  auto key2 = DecryptTransformed(k.tk.b, *pd);
  ASSERT_TRUE(key2.has_value());
  EXPECT_TRUE(*key2 == k.enc.key);

  // The object types are not interchangeable.
  auto wrong = ParseCiphertext(uk_bytes->span());
  ASSERT_FALSE(wrong.has_value());
  EXPECT_NE(wrong.error().message().find("magic"), std::string::npos);
  EXPECT_FALSE(ParseUserKey(tk_bytes->span()).has_value());
}

TEST(MaabeSerialize, DecodersNameTheFieldAndOffset) {
  const KatObjects& k = Kat();
  auto ct_bytes = *Serialize(k.enc.ct);
  // The authority count sits after magic, version, u32 policy length and the policy text.
  const std::size_t count_at = 5 + 4 + k.enc.ct.policy.size();
  Bytes bad = ct_bytes;
  bad[count_at + 1] = 1;  // claim one authority: board's rows then have none
  auto r = ParseCiphertext(bad);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidEncoding);
  EXPECT_EQ(r.error().message(),
            "multi-authority ciphertext: offset " + std::to_string(count_at) +
                ": field authorities: ciphertext: policy attribute \"hospital_a.role:doctor\" "
                "belongs to none of its authorities");

  bad = ct_bytes;
  bad[count_at + 1] = 0;
  r = ParseCiphertext(bad);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message(), "multi-authority ciphertext: offset " + std::to_string(count_at) +
                                     ": field authority count: 0 is outside 1 ..= 256");

  // Swap the two authority entries: no longer sorted.
  ASSERT_EQ(k.enc.ct.authorities[0].authority_namespace, "board");
  bad = ct_bytes;
  const std::size_t first = count_at + 2, second = first + 2 + 5 + 32;
  Bytes swapped(bad.begin() + static_cast<std::ptrdiff_t>(second),
                bad.begin() + static_cast<std::ptrdiff_t>(second + 2 + 10 + 32));
  swapped.insert(swapped.end(), bad.begin() + static_cast<std::ptrdiff_t>(first),
                 bad.begin() + static_cast<std::ptrdiff_t>(second));
  std::copy(swapped.begin(), swapped.end(), bad.begin() + static_cast<std::ptrdiff_t>(first));
  r = ParseCiphertext(bad);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("not in strictly increasing byte order"), std::string::npos)
      << r.error().message();

  // An attribute key outside its authority's namespace.
  AuthorityKeys odd = k.hospital_keys;
  auto node = odd.attributes.extract(odd.attributes.begin());
  node.key() = "board.x";
  odd.attributes.insert(std::move(node));
  auto refused = Serialize(odd);
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.error().message().find("is not in namespace \"hospital_a\""), std::string::npos);

  // A zero master-key scalar.
  auto msk_bytes = Serialize(k.board.msk);
  Bytes zero = ToVector(msk_bytes->span());
  std::fill(zero.end() - 32, zero.end(), 0);
  auto m = ParseMasterKey(zero);
  ASSERT_FALSE(m.has_value());
  EXPECT_NE(m.error().message().find("field y: is zero"), std::string::npos) << m.error().message();
}

// Small objects for the byte-flip tests.
struct SmallObjects {
  AuthorityKeyPair a;
  AuthorityKeys keys;
  Ciphertext ct;
  UserKey user;
  TransformKeyPair tk;
  PartialDecryption partial;
};
const SmallObjects& Small() {
  static const SmallObjects objects = [] {
    const auto random = SeededScalars("cipherchart maabe mutation");
    auto a = internal::AuthoritySetupWith("a", random);
    if (!a) std::abort();
    auto keys = internal::KeyGenWith(*a, "g", {"a.x"}, random);
    const std::vector<AuthorityPublicKey> pks = {a->pk};
    auto enc = internal::EncapsulateWith(pks, *Policy("a.x"), random);
    if (!keys || !enc) std::abort();
    UserKey user;
    if (!AddKeys(user, *keys)) std::abort();
    auto tk = internal::MakeTransformKeyWith(user, random);
    if (!tk) std::abort();
    auto partial = Transform(tk->tk, enc->ct);
    if (!partial) std::abort();
    return SmallObjects{std::move(*a), *keys, std::move(enc->ct), user, *tk, *partial};
  }();
  return objects;
}

TEST(MaabeSerializeMutation, Ciphertext) {
  auto bytes = Serialize(Small().ct);
  ASSERT_TRUE(bytes.has_value());
  CheckMutations(
      *bytes, [](const Bytes& b) { return ParseCiphertext(b); },
      [](const Ciphertext& ct) { return *Serialize(ct); }, {0x01, 0x80, 0x20},
      /*3 sign bits, 32 id bytes x 3 masks, characters of names that stay valid*/ 3 + 96 + 12);
}

TEST(MaabeSerializeMutation, AuthorityKeys) {
  auto bytes = Serialize(Small().keys);
  ASSERT_TRUE(bytes.has_value());
  CheckMutations(
      ToVector(bytes->span()), [](const Bytes& b) { return ParseAuthorityKeys(b); },
      [](const AuthorityKeys& k) { return ToVector(Serialize(k)->span()); }, {0x01, 0x80, 0x20},
      /*2 sign bits, 32 id bytes x 3, gid and name characters*/ 2 + 96 + 12);
}

TEST(MaabeSerializeMutation, PublicKey) {
  auto bytes = Serialize(Small().a.pk);
  ASSERT_TRUE(bytes.has_value());
  CheckMutations(
      *bytes, [](const Bytes& b) { return ParsePublicKey(b); },
      [](const AuthorityPublicKey& pk) { return *Serialize(pk); }, {0x01, 0x80, 0x20},
      /*sign bit, name*/ 1 + 3);
}

// Scalars: any flip that stays below r (and non-zero) is another valid master key.
TEST(MaabeSerializeMutation, MasterKey) {
  auto bytes = Serialize(Small().a.msk);
  ASSERT_TRUE(bytes.has_value());
  CheckMutations(
      ToVector(bytes->span()), [](const Bytes& b) { return ParseMasterKey(b); },
      [](const AuthorityMasterKey& m) { return ToVector(Serialize(m)->span()); }, {0x01, 0x80, 0x20},
      /*64 scalar bytes x 3 masks*/ 192);
}

TEST(MaabeSerializeMutation, UserKeyAndTransformKey) {
  auto user = Serialize(Small().user);
  ASSERT_TRUE(user.has_value());
  CheckMutations(
      ToVector(user->span()), [](const Bytes& b) { return ParseUserKey(b); },
      [](const UserKey& u) { return ToVector(Serialize(u)->span()); }, {0x01, 0x80, 0x20},
      /*2 sign bits, 32 id bytes x 3, name characters*/ 2 + 96 + 12);
  auto tk = Serialize(Small().tk.tk);
  ASSERT_TRUE(tk.has_value());
  CheckMutations(
      ToVector(tk->span()), [](const Bytes& b) { return ParseTransformKey(b); },
      [](const TransformKey& t) { return ToVector(Serialize(t)->span()); }, {0x01, 0x80, 0x20},
      /*3 sign bits, 32 id bytes x 3, name characters*/ 3 + 96 + 12);
}

TEST(MaabeSerializeMutation, PartialDecryption) {
  // Two GT elements: a flipped byte leaves GT (or the encoding), so nothing else is accepted.
  CheckMutations(
      Serialize(Small().partial), [](const Bytes& b) { return ParsePartialDecryption(b); },
      [](const PartialDecryption& pd) { return Serialize(pd); }, {0x01, 0x80}, 0);
}

TEST(MaabeSerialize, EncoderRefusesWhatTheDecoderWould) {
  Ciphertext ct = Small().ct;
  ct.policy = "a.x  OR a.x";  // not canonical
  EXPECT_EQ(Serialize(ct).error().code(), ErrorCode::kInvalidArgument);
  ct = Small().ct;
  ct.authorities.push_back({"b", {}});  // owns no row
  auto r = Serialize(ct);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("owns no attribute"), std::string::npos) << r.error().message();
}

// ---- Known-answer vectors ----

std::map<std::string, std::string> KatVectors() {
  const KatObjects& k = Kat();
  std::map<std::string, std::string> out;
  out["public_key_hospital_a"] = Hex(*Serialize(k.hospital.pk));
  out["public_key_board"] = Hex(*Serialize(k.board.pk));
  out["master_key_board"] = Hex(Serialize(k.board.msk)->span());
  out["authority_keys_hospital_a"] = Hex(Serialize(k.hospital_keys)->span());
  out["user_key"] = Hex(Serialize(k.user)->span());
  out["ciphertext"] = Hex(*Serialize(k.enc.ct));
  out["kem_key"] = Hex(k.enc.key.span());
  out["transform_key"] = Hex(Serialize(k.tk.tk)->span());
  out["partial_decryption"] = Hex(Serialize(k.partial));
  // The directory objects: hospital_a as a root authority (FAME key FixedFameKey(1), Ed25519 key from
  // DeterministicRandom(kKatDirectorySeed); Ed25519 signatures are deterministic) vouching for its
  // multi-authority public key above.
  envelope::testing::DeterministicRandom rng(kKatDirectorySeed);
  auto signing_key = envelope::Ed25519SigningKey::Generate(rng);
  auto root = abe::IssueCertificate("hospital_a", abe::testing::FixedFameKey(1), signing_key->public_key(),
                                    "hospital_a", *signing_key, kKatNotBefore, kKatNotAfter);
  auto statement = abe::SignKeyStatement(k.hospital.pk, *signing_key, kKatNotBefore, kKatNotAfter);
  const std::vector<abe::DirectoryEntry> entries = {{{*root}, *statement}};
  out["key_statement"] = Hex(*abe::EncodeKeyStatement(*statement));
  out["directory"] = Hex(*abe::EncodeDirectory(entries));
  return out;
}

std::string VectorsPath() { return std::string(CIPHERCHART_ABE_TESTDATA) + "/maabe_vectors.txt"; }

TEST(MaabeSerializeKat, MatchesStoredVectors) {
  const auto generated = KatVectors();
  std::string header =
      "# Multi-authority ABE (RW15) object encodings (docs/formats.md, \"Multi-authority ABE objects\"),\n"
      "# format version 1. Generated by maabe_serialize_test.cc (MaabeSerializeKat): AuthoritySetup\n"
      "# (hospital_a, then board), KeyGen for \"";
  header += std::string(kKatGid) +
            "\" (hospital_a: role:doctor, years=4; board: licence:active),\n# Encapsulate(\"";
  header += std::string(kKatPolicy) + "\"),\n# MakeTransformKey, with scalars from DeterministicRandom(\"" +
            std::string(kKatSeed) +
            "\"); then Transform.\n# key_statement and directory: hospital_a as a root authority (FAME key "
            "FixedFameKey(1), Ed25519 key from "
            "DeterministicRandom(\"" +
            std::string(kKatDirectorySeed) +
            "\"), valid 2026-01-01 ..= 2030-01-01) signing "
            "its key.\n# kem_key is the encapsulated key. One \"name hex\" per line.\n";
  if (abe::testing::RegenerateOrCompareVectors(VectorsPath(), header, generated))
    GTEST_SKIP() << "rewrote " << VectorsPath();
}

// The stored objects work together and re-serialise to themselves, however they were made.
TEST(MaabeSerializeKat, StoredKeyOpensStoredCiphertext) {
  const auto stored = abe::testing::ReadVectors(VectorsPath());
  ASSERT_EQ(stored.size(), 11u);
  auto user = ParseUserKey(FromHex(stored.at("user_key")));
  ASSERT_TRUE(user.has_value()) << user.error().message();
  auto ct = ParseCiphertext(FromHex(stored.at("ciphertext")));
  ASSERT_TRUE(ct.has_value()) << ct.error().message();
  EXPECT_EQ(ct->policy, kKatPolicy);
  auto key = Decapsulate(*user, *ct);
  ASSERT_TRUE(key.has_value()) << key.error().message();
  EXPECT_EQ(Hex(key->span()), stored.at("kem_key"));
  auto tk = ParseTransformKey(FromHex(stored.at("transform_key")));
  auto pd = ParsePartialDecryption(FromHex(stored.at("partial_decryption")));
  ASSERT_TRUE(tk && pd);
  auto partial = Transform(*tk, *ct);
  ASSERT_TRUE(partial.has_value());
  EXPECT_EQ(Hex(Serialize(*partial)), stored.at("partial_decryption"));
  auto hospital = ParsePublicKey(FromHex(stored.at("public_key_hospital_a")));
  auto board = ParsePublicKey(FromHex(stored.at("public_key_board")));
  auto msk = ParseMasterKey(FromHex(stored.at("master_key_board")));
  ASSERT_TRUE(hospital && board && msk);
  auto rebuilt = FromMasterKey(*msk);
  ASSERT_TRUE(rebuilt.has_value());
  EXPECT_EQ(Hex(*Serialize(rebuilt->pk)), stored.at("public_key_board"));
  EXPECT_EQ(ct->authorities[0].id, *AuthorityId(*board));
  EXPECT_EQ(ct->authorities[1].id, *AuthorityId(*hospital));
  EXPECT_EQ(Hex(*Serialize(*ct)), stored.at("ciphertext"));
  EXPECT_EQ(Hex(Serialize(*user)->span()), stored.at("user_key"));
  // The stored directory verifies under its root at a time inside its validity, and resolves the
  // hospital's stored public key.
  auto directory = abe::ParseDirectory(FromHex(stored.at("directory")));
  ASSERT_TRUE(directory.has_value()) << directory.error().message();
  abe::AuthorityDirectory dir({abe::TrustedRootOf(directory->at(0).chain.at(0))});
  ASSERT_TRUE(dir.AddAll(*directory, kKatNotBefore + 1000).has_value());
  EXPECT_EQ(*AuthorityId(dir.entries().at("hospital_a").public_key), *AuthorityId(*hospital));
  auto statement = abe::ParseKeyStatement(FromHex(stored.at("key_statement")));
  ASSERT_TRUE(statement.has_value());
  EXPECT_EQ(Hex(*abe::EncodeKeyStatement(*statement)), stored.at("key_statement"));
  auto ak = ParseAuthorityKeys(FromHex(stored.at("authority_keys_hospital_a")));
  ASSERT_TRUE(ak.has_value());
  EXPECT_EQ(Hex(Serialize(*ak)->span()), stored.at("authority_keys_hospital_a"));
}

}  // namespace
}  // namespace cipherchart::abe::maabe
