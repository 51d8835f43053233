// Binary encodings of the FAME objects (fame_serialize.h): round trips, refusals, byte flips,
// truncations and known-answer vectors.
//
// Known-answer vectors: FAME's own algorithms draw their randomness from the OS, so the vectors
// serialise objects built by hand from fixed values (MakeKat* below). They are stored in
// testdata/fame_vectors.txt, one "name hex" line each. To regenerate after an intentional
// format change (and bump kSerializationVersion):
//   CIPHERCHART_REGENERATE_VECTORS=1 ./fame_test --gtest_filter='FameSerializeKat*'
#include "cipherchart/abe/fame_serialize.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "cipherchart/pairing/curve.h"
#include "cipherchart/pairing/pairing.h"
#include "src/abe/fame_test_fixture.h"
#include "src/abe/serialize_test_util.h"

namespace cipherchart::abe::fame {
namespace {

using abe::testing::Bytes;
using abe::testing::CheckMutations;
using abe::testing::Hex;
using abe::testing::kFieldModulusBytes;
using abe::testing::ToVector;

std::unique_ptr<PolicyNode> Policy(std::string_view text) {
  auto p = ParsePolicy(text);
  EXPECT_TRUE(p.has_value()) << text;
  return p ? std::move(*p) : nullptr;
}

std::set<std::string> Attrs(std::string_view text) {
  auto a = ParseAttributeSet(text);
  EXPECT_TRUE(a.has_value()) << text;
  return a ? a->Expanded() : std::set<std::string>{};
}

bool SameKey(const SecretKey& a, const SecretKey& b) { return a.k0 == b.k0 && a.kp == b.kp && a.k == b.k; }

class FameSerializeTest : public testing::FameKeysFixture {};

TEST_F(FameSerializeTest, RoundTripsAndParsedObjectsStillWork) {
  const Bytes pk_bytes = Serialize(keys_->pk);
  EXPECT_EQ(pk_bytes.size(), kSerializedPublicKeySize);
  auto pk = ParsePublicKey(pk_bytes);
  ASSERT_TRUE(pk.has_value()) << pk.error().ToString();
  EXPECT_EQ(pk->h_a, keys_->pk.h_a);
  EXPECT_EQ(pk->t, keys_->pk.t);
  EXPECT_EQ(Serialize(*pk), pk_bytes);

  const SecretBytes msk_bytes = Serialize(keys_->msk);
  EXPECT_EQ(msk_bytes.size(), kSerializedMasterKeySize);
  auto msk = ParseMasterKey(msk_bytes.span());
  ASSERT_TRUE(msk.has_value()) << msk.error().ToString();
  EXPECT_EQ(msk->a, keys_->msk.a);
  EXPECT_EQ(msk->b, keys_->msk.b);
  EXPECT_EQ(msk->g_d, keys_->msk.g_d);
  EXPECT_TRUE(Serialize(*msk) == msk_bytes);

  // A key from the parsed master key opens a ciphertext made with the parsed public key, after
  // both went through bytes.
  auto policy = Policy("h.role:doctor AND (h.dept:cardiology OR h.years >= 5)");
  auto enc = Encapsulate(*pk, *policy);
  ASSERT_TRUE(enc.has_value());
  auto sk = KeyGen(*msk, Attrs("h.role:doctor, h.years=7, \"x y\".z:w"));
  ASSERT_TRUE(sk.has_value());

  auto sk_bytes = Serialize(*sk);
  ASSERT_TRUE(sk_bytes.has_value()) << sk_bytes.error().ToString();
  auto sk2 = ParseSecretKey(sk_bytes->span());
  ASSERT_TRUE(sk2.has_value()) << sk2.error().ToString();
  EXPECT_TRUE(SameKey(*sk, *sk2));

  auto ct_bytes = Serialize(enc->ct);
  ASSERT_TRUE(ct_bytes.has_value()) << ct_bytes.error().ToString();
  auto ct = ParseCiphertext(*ct_bytes);
  ASSERT_TRUE(ct.has_value()) << ct.error().ToString();
  EXPECT_EQ(ct->policy, enc->ct.policy);
  EXPECT_EQ(ct->matrix.rows, enc->ct.matrix.rows);
  EXPECT_EQ(ct->matrix.rho, enc->ct.matrix.rho);
  EXPECT_EQ(ct->matrix.columns, enc->ct.matrix.columns);
  EXPECT_EQ(ct->c0, enc->ct.c0);
  EXPECT_EQ(ct->c, enc->ct.c);
  auto again = Serialize(*ct);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(*again, *ct_bytes);

  auto key = Decapsulate(*sk2, *ct);
  ASSERT_TRUE(key.has_value()) << key.error().ToString();
  EXPECT_TRUE(*key == enc->key);

  // Transformation key through bytes.
  auto pair = MakeTransformKey(*sk2);
  ASSERT_TRUE(pair.has_value());
  auto tk_bytes = Serialize(pair->tk);
  ASSERT_TRUE(tk_bytes.has_value());
  auto tk = ParseTransformKey(tk_bytes->span());
  ASSERT_TRUE(tk.has_value()) << tk.error().ToString();
  EXPECT_TRUE(SameKey(tk->blinded, pair->tk.blinded));
  auto partial = Transform(*tk, *ct);
  ASSERT_TRUE(partial.has_value());
  auto key2 = DecryptTransformed(pair->z, *partial);
  ASSERT_TRUE(key2.has_value());
  EXPECT_TRUE(*key2 == enc->key);

  // The object types are not interchangeable.
  auto wrong = ParseTransformKey(sk_bytes->span());
  ASSERT_FALSE(wrong.has_value());
  EXPECT_EQ(wrong.error().code(), ErrorCode::kInvalidEncoding);
  EXPECT_NE(wrong.error().message().find("magic"), std::string::npos) << wrong.error().message();
}

// Builds a secret key with the given attribute names from fixed points.
SecretKey FixedKey(const std::vector<std::string>& names, std::uint64_t seed) {
  SecretKey sk;
  for (std::size_t i = 0; i < 3; ++i) {
    sk.k0[i] = G2::Generator().MulVartime(Fr::FromU64(seed + 10 + i));
    sk.kp[i] = G1::Generator().MulVartime(Fr::FromU64(seed + 20 + i));
  }
  std::uint64_t k = seed + 30;
  for (const auto& name : names) {
    std::array<G1, 3> v;
    for (auto& p : v) p = G1::Generator().MulVartime(Fr::FromU64(k++));
    sk.k.emplace(name, v);
  }
  return sk;
}

Ciphertext FixedCiphertext(std::string_view policy_text, std::uint64_t seed) {
  Ciphertext ct;
  auto policy = Policy(policy_text);
  ct.policy = PolicyToString(*policy);
  auto m = CompileToLsss(*policy);
  EXPECT_TRUE(m.has_value());
  ct.matrix = *m;
  for (std::size_t i = 0; i < 3; ++i) ct.c0[i] = G2::Generator().MulVartime(Fr::FromU64(seed + i));
  std::uint64_t k = seed + 100;
  ct.c.resize(ct.matrix.rows.size());
  for (auto& row : ct.c) {
    for (auto& p : row) p = G1::Generator().MulVartime(Fr::FromU64(k++));
  }
  return ct;
}

PublicKey FixedPublicKey() {
  PublicKey pk;
  for (std::size_t i = 0; i < 3; ++i) pk.h_a[i] = G2::Generator().MulVartime(Fr::FromU64(2 + i));
  const Gt e = pairing::Pairing(G1::Generator(), G2::Generator());
  pk.t[0] = e.PowVartime(Fr::FromU64(5));
  pk.t[1] = e.PowVartime(Fr::FromU64(7));
  return pk;
}

MasterKey FixedMasterKey() {
  MasterKey msk;
  msk.a = {Fr::FromU64(11), Fr::FromU64(12)};
  msk.b = {Fr::FromU64(13), Fr::FromU64(14)};
  for (std::size_t i = 0; i < 3; ++i) msk.g_d[i] = G1::Generator().MulVartime(Fr::FromU64(15 + i));
  return msk;
}

TEST(FameSerializeMutation, Ciphertext) {
  auto bytes = Serialize(FixedCiphertext("a.x AND b.y", 1));
  ASSERT_TRUE(bytes.has_value());
  CheckMutations(
      *bytes, [](const Bytes& b) { return ParseCiphertext(b); },
      [](const Ciphertext& ct) { return *Serialize(ct); }, {0x01, 0x80, 0x20},
      /*9 sign bits + 11 policy characters x 3 masks*/ 9 + 33);
}

TEST(FameSerializeMutation, SecretKey) {
  auto bytes = Serialize(FixedKey({"a.x", "b.y"}, 1));
  ASSERT_TRUE(bytes.has_value());
  CheckMutations(
      ToVector(bytes->span()), [](const Bytes& b) { return ParseSecretKey(b); },
      [](const SecretKey& sk) { return ToVector(Serialize(sk)->span()); }, {0x01, 0x80, 0x20},
      /*12 sign bits + 6 name characters x 3 masks*/ 12 + 18);
}

TEST(FameSerializeMutation, PublicKey) {
  CheckMutations(
      Serialize(FixedPublicKey()), [](const Bytes& b) { return ParsePublicKey(b); },
      [](const PublicKey& pk) { return Serialize(pk); }, {0x01}, 8);
}

TEST(FameSerializeMutation, MasterKey) {
  CheckMutations(
      ToVector(Serialize(FixedMasterKey()).span()), [](const Bytes& b) { return ParseMasterKey(b); },
      [](const MasterKey& msk) { return ToVector(Serialize(msk).span()); }, {0x01, 0x80}, 4 * 32 * 2);
}

TEST(FameSerializeErrors, MagicVersionAndPoints) {
  Bytes sk = ToVector(Serialize(FixedKey({"a.x", "b.y"}, 1))->span());
  Bytes bad = sk;
  bad[0] = 'X';
  auto r = ParseSecretKey(bad);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidEncoding);
  EXPECT_NE(r.error().message().find("magic"), std::string::npos);

  bad = sk;
  bad[4] = 2;
  r = ParseSecretKey(bad);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kUnsupported);
  EXPECT_NE(r.error().message().find("version"), std::string::npos);

  // kp[1] (offset 5 + 288 + 48): clearing the compression flag is kBadFlags.
  bad = sk;
  bad[5 + 288 + 48] &= 0x7F;
  r = ParseSecretKey(bad);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kBadFlags);
  EXPECT_NE(r.error().message().find("kp[1]"), std::string::npos) << r.error().message();
  EXPECT_NE(r.error().message().find("offset 341"), std::string::npos) << r.error().message();

  // x = p - 1 + 1 = p: non-canonical coordinate in k[0][0].
  bad = sk;
  const std::size_t k00 = 5 + 288 + 144 + 2 + 2 + 3;
  const auto& p_bytes = kFieldModulusBytes;
  std::copy(p_bytes.begin(), p_bytes.end(), bad.begin() + static_cast<std::ptrdiff_t>(k00));
  bad[k00] |= 0x80;
  r = ParseSecretKey(bad);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kNonCanonical) << r.error().ToString();
  EXPECT_NE(r.error().message().find("k[0][0]"), std::string::npos) << r.error().message();
}

TEST(FameSerializeErrors, AttributeNames) {
  Bytes sk = ToVector(Serialize(FixedKey({"a.x", "b.y"}, 1))->span());
  const std::size_t second_name = 5 + 288 + 144 + 2 + 2 + 3 + 144 + 2;
  ASSERT_EQ(sk[second_name], 'b');
  Bytes bad = sk;
  bad[second_name] = 'a';
  bad[second_name + 2] = 'x';
  auto r = ParseSecretKey(bad);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidEncoding);
  EXPECT_NE(r.error().message().find("duplicate"), std::string::npos) << r.error().message();

  bad = sk;
  bad[second_name] = 0x01;  // sorts before "a.x"
  r = ParseSecretKey(bad);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("increasing"), std::string::npos) << r.error().message();

  bad = sk;
  bad[second_name] = 0xFF;  // not UTF-8
  r = ParseSecretKey(bad);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("UTF-8"), std::string::npos) << r.error().message();

  bad = sk;
  const std::size_t count = 5 + 288 + 144;
  bad[count] = 0x10;
  bad[count + 1] = 0x01;  // 4097
  r = ParseSecretKey(bad);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("exceeds"), std::string::npos) << r.error().message();

  bad = sk;
  bad[count + 2] = 0x04;
  bad[count + 3] = 0x01;  // name length 1025
  r = ParseSecretKey(bad);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("outside"), std::string::npos) << r.error().message();

  SecretKey big = FixedKey({}, 1);
  big.k.emplace(std::string(kMaxSerializedAttributeBytes + 1, 'a'), std::array<G1, 3>{});
  EXPECT_FALSE(Serialize(big).has_value());
}

TEST(FameSerializeErrors, CiphertextPolicy) {
  auto good = Serialize(FixedCiphertext("a.x AND b.y", 1));
  ASSERT_TRUE(good.has_value());
  const std::size_t text = 9;
  ASSERT_EQ(std::string(good->begin() + text, good->begin() + text + 11), "a.x AND b.y");

  Bytes bad = *good;
  bad[text + 4] = '(';  // "a.x (ND b.y"
  auto r = ParseCiphertext(bad);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidEncoding);
  EXPECT_NE(r.error().message().find("does not parse"), std::string::npos) << r.error().message();

  bad = *good;
  bad[text + 4] = 'a';  // "a.x aND b.y": parses, but is not the canonical text
  r = ParseCiphertext(bad);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidEncoding);

  bad = *good;
  bad[text + 4] = 'O';  // "a.x OND b.y"
  r = ParseCiphertext(bad);
  ASSERT_FALSE(r.has_value());

  // "a.x AND b.y" has two rows; claim three.
  bad = *good;
  const std::size_t rows = text + 11 + 288 + 3;
  ASSERT_EQ(bad[rows], 2);
  bad[rows] = 3;
  r = ParseCiphertext(bad);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("row count"), std::string::npos) << r.error().message();

  Ciphertext empty;
  EXPECT_FALSE(Serialize(empty).has_value());
}

// ---- Known-answer vectors ----

std::map<std::string, std::string> KatVectors() {
  std::map<std::string, std::string> out;
  out["public_key"] = Hex(Serialize(FixedPublicKey()));
  out["master_key"] = Hex(Serialize(FixedMasterKey()).span());
  out["secret_key"] = Hex(Serialize(FixedKey({"a.x", "b.y", "\"x y\".z:\xc3\xa9"}, 1))->span());
  SecretKey delegable = FixedKey({"a.x", "b.y"}, 2);
  for (std::uint64_t basis_seed : {100, 200}) {
    const SecretKey b = FixedKey({"a.x", "b.y"}, basis_seed);
    delegable.delegation.push_back({b.k0, b.k, b.kp});
  }
  out["delegable_secret_key"] = Hex(Serialize(delegable)->span());
  out["ciphertext"] = Hex(*Serialize(FixedCiphertext("a.x AND (b.y OR c.z)", 7)));
  TransformKey tk;
  tk.blinded = FixedKey({"a.x"}, 40);
  out["transform_key"] = Hex(Serialize(tk)->span());
  return out;
}

TEST(FameSerializeKat, MatchesStoredVectors) {
  const std::string path = std::string(CIPHERCHART_FAME_TESTDATA) + "/fame_vectors.txt";
  const auto generated = KatVectors();
  const std::string header =
      "# FAME object encodings (docs/formats.md, \"ABE objects (FAME)\"), format version 1.\n"
      "# Generated by fame_serialize_test.cc (FameSerializeKat) from fixed values: one \"name hex\" per "
      "line.\n";
  if (abe::testing::RegenerateOrCompareVectors(path, header, generated)) GTEST_SKIP() << "rewrote " << path;
}

}  // namespace
}  // namespace cipherchart::abe::fame
