#include "abe_seeds.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "authority_fuzz_keys.h"
#include "cipherchart/abe/authority.h"
#include "cipherchart/abe/fame_serialize.h"
#include "cipherchart/pairing/pairing.h"
#include "seed_writer.h"
#include "src/abe/keystore_internal.h"

namespace cipherchart::fuzz {
namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;
using pairing::Fr;
using pairing::G1;
using pairing::G2;

// ---- FAME objects from fixed scalars (valid encodings: every point is k·G) ----

abe::fame::PublicKey FixedPublicKey(std::uint64_t seed) {
  abe::fame::PublicKey pk;
  for (std::size_t i = 0; i < 3; ++i) pk.h_a[i] = G2::Generator().MulVartime(Fr::FromU64(seed + 2 + i));
  const pairing::Gt e = pairing::Pairing(G1::Generator(), G2::Generator());
  pk.t[0] = e.PowVartime(Fr::FromU64(seed + 5));
  pk.t[1] = e.PowVartime(Fr::FromU64(seed + 7));
  return pk;
}

abe::fame::MasterKey FixedMasterKey() {
  abe::fame::MasterKey msk;
  msk.a = {Fr::FromU64(11), Fr::FromU64(12)};
  msk.b = {Fr::FromU64(13), Fr::FromU64(14)};
  for (std::size_t i = 0; i < 3; ++i) msk.g_d[i] = G1::Generator().MulVartime(Fr::FromU64(15 + i));
  return msk;
}

abe::fame::SecretKey FixedSecretKey(const std::vector<std::string>& names, std::uint64_t seed) {
  abe::fame::SecretKey sk;
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

abe::fame::Ciphertext FixedCiphertext(std::string_view policy_text, std::uint64_t seed) {
  auto policy = Must(abe::ParsePolicy(policy_text), "policy");
  abe::fame::Ciphertext ct;
  ct.policy = abe::PolicyToString(*policy);
  ct.matrix = Must(abe::CompileToLsss(*policy), "LSSS");
  for (std::size_t i = 0; i < 3; ++i) ct.c0[i] = G2::Generator().MulVartime(Fr::FromU64(seed + i));
  std::uint64_t k = seed + 100;
  ct.c.resize(ct.matrix.rows.size());
  for (auto& row : ct.c) {
    for (auto& p : row) p = G1::Generator().MulVartime(Fr::FromU64(k++));
  }
  return ct;
}

void WriteFameSeeds(const fs::path& root) {
  SeedWriter w(root, "fuzz_fame_decode");
  w.Add(abe::fame::Serialize(FixedPublicKey(1)));
  w.Add(abe::fame::Serialize(FixedMasterKey()).span());
  w.Add(Must(abe::fame::Serialize(FixedSecretKey({}, 1)), "secret key").span());
  w.Add(Must(abe::fame::Serialize(FixedSecretKey({"a.x", "b.y", "\"x y\".z:\xc3\xa9", "h.years#3=1"}, 2)),
             "secret key")
            .span());
  for (std::string_view policy :
       {"a.x", "a.x AND (b.y OR c.z)", "2 of (a.x, b.y, c.z) AND board.years >= 5"}) {
    w.Add(Must(abe::fame::Serialize(FixedCiphertext(policy, 7)), "ciphertext"));
  }
  abe::fame::TransformKey tk;
  tk.blinded = FixedSecretKey({"a.x", "hospital_a.role:doctor"}, 40);
  w.Add(Must(abe::fame::Serialize(tk), "transform key").span());
}

// ---- authority certificates and chains under the fuzz root ----

envelope::Ed25519SigningKey FixedSigningKey(std::uint8_t fill) {
  return Must(envelope::Ed25519SigningKey::FromSeed(SecretBytes(Bytes(32, fill))), "signing key");
}

void WriteAuthoritySeeds(const fs::path& root) {
  SeedWriter w(root, "fuzz_authority_cert");
  constexpr std::uint64_t kFrom = 1'700'000'000, kTo = 1'900'000'000;
  const envelope::Ed25519SigningKey& root_key = FuzzRootKey();
  const envelope::Ed25519SigningKey sub_key = FixedSigningKey(0x6B);
  const envelope::Ed25519SigningKey leaf_key = FixedSigningKey(0x7C);
  const abe::Certificate root_cert =
      Must(abe::IssueCertificate(kFuzzRootNamespace, FixedPublicKey(1), root_key.public_key(),
                                 kFuzzRootNamespace, root_key, kFrom, kTo),
           "root certificate");
  const abe::Certificate sub_cert =
      Must(abe::IssueCertificate("hospital_a.cardiology", FixedPublicKey(20), sub_key.public_key(),
                                 kFuzzRootNamespace, root_key, kFrom, kTo),
           "sub certificate");
  const abe::Certificate leaf_cert =
      Must(abe::IssueCertificate("hospital_a.cardiology.\"intensive care\"", FixedPublicKey(40),
                                 leaf_key.public_key(), "hospital_a.cardiology", sub_key, kFrom, kTo),
           "leaf certificate");
  const abe::Certificate expired =
      Must(abe::IssueCertificate("hospital_a.oncology", FixedPublicKey(60), leaf_key.public_key(),
                                 kFuzzRootNamespace, root_key, kFrom, kFuzzNow - 1),
           "expired certificate");
  const abe::Certificate stranger =
      Must(abe::IssueCertificate("hospital_b", FixedPublicKey(80), sub_key.public_key(), "hospital_b",
                                 sub_key, kFrom, kTo),
           "unknown root certificate");
  for (const abe::Certificate* c : {&root_cert, &sub_cert, &leaf_cert, &expired, &stranger}) {
    w.Add(Must(abe::EncodeCertificate(*c), "certificate"));
  }
  const std::vector<std::vector<abe::Certificate>> chains = {
      {root_cert}, {root_cert, sub_cert}, {root_cert, sub_cert, leaf_cert}, {root_cert, expired}, {stranger}};
  for (const auto& chain : chains) w.Add(Must(abe::EncodeChain(chain), "chain"));
}

// ---- keystore plaintexts (src/abe/keystore_internal.h) ----

// The public key that belongs to FixedMasterKey() (what Setup would have published with it:
// [A]_2 = (h^a1, h^a2, h), T_t = e(g, h)^(d_t a_t + d_3)), so that Authority::FromParts accepts
// the pair.
abe::fame::PublicKey PublicKeyOfFixedMasterKey() {
  const G2 h = G2::Generator();
  abe::fame::PublicKey pk;
  pk.h_a = {h.MulVartime(Fr::FromU64(11)), h.MulVartime(Fr::FromU64(12)), h};
  const pairing::Gt e = pairing::Pairing(G1::Generator(), h);
  pk.t[0] = e.PowVartime(Fr::FromU64(15) * Fr::FromU64(11) + Fr::FromU64(17));
  pk.t[1] = e.PowVartime(Fr::FromU64(16) * Fr::FromU64(12) + Fr::FromU64(17));
  return pk;
}

void WriteKeystoreSeeds(const fs::path& root) {
  SeedWriter w(root, "fuzz_keystore_payload");
  constexpr std::uint64_t kFrom = 1'700'000'000, kTo = 1'900'000'000;
  const abe::fame::PublicKey pk = PublicKeyOfFixedMasterKey();
  const envelope::Ed25519SigningKey& root_key = FuzzRootKey();  // seed 32 x 0x5A
  const envelope::Ed25519SigningKey sub_key = FixedSigningKey(0x6B);
  const abe::Certificate root_cert = Must(abe::IssueCertificate(kFuzzRootNamespace, pk, root_key.public_key(),
                                                                kFuzzRootNamespace, root_key, kFrom, kTo),
                                          "root certificate");
  const abe::Certificate sub_cert =
      Must(abe::IssueCertificate("hospital_a.\"intensive care\"", pk, sub_key.public_key(),
                                 kFuzzRootNamespace, root_key, kFrom, kTo),
           "sub certificate");
  // A root authority (chain of one) and a sub-authority (chain of two), both holding FixedMasterKey().
  const abe::Authority root_authority =
      Must(abe::Authority::FromParts(FixedMasterKey(), FixedSigningKey(0x5A), {root_cert}), "root authority");
  const abe::Authority sub_authority =
      Must(abe::Authority::FromParts(FixedMasterKey(), FixedSigningKey(0x6B), {root_cert, sub_cert}),
           "sub-authority");
  for (const abe::Authority* a : {&root_authority, &sub_authority}) {
    w.Add(Must(abe::internal::SerializeAuthoritySecrets(*a), "authority secrets").span());
  }
  // A standard and a delegable user key.
  const abe::PublicParamsId id = Must(abe::FamePublicParamsId(pk), "public-parameter id");
  const abe::UserKey standard{kFuzzRootNamespace, id,
                              FixedSecretKey({"hospital_a.role:doctor", "hospital_a.years#3=1"}, 3)};
  abe::UserKey delegable{"hospital_a.\"intensive care\"", id,
                         FixedSecretKey({"hospital_a.\"intensive care\".role:nurse"}, 4)};
  for (std::uint64_t basis_seed : {100, 200}) {
    const abe::fame::SecretKey b = FixedSecretKey({"hospital_a.\"intensive care\".role:nurse"}, basis_seed);
    delegable.key.delegation.push_back({b.k0, b.k, b.kp});
  }
  for (const abe::UserKey* k : {&standard, static_cast<const abe::UserKey*>(&delegable)}) {
    w.Add(Must(abe::internal::SerializeUserKeyPayload(*k), "user key payload").span());
  }
}

}  // namespace

void WriteAbeSeeds(const fs::path& root) {
  WriteFameSeeds(root);
  WriteAuthoritySeeds(root);
  WriteKeystoreSeeds(root);
}

}  // namespace cipherchart::fuzz
