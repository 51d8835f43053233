// Authorities, certificates and chains (authority.h): namespaces, chain verification and each
// of its refusals, decoder errors, byte flips, truncations and known-answer vectors.
//
// Known-answer vectors: FAME's Setup draws from the OS, so the certified FAME keys are built from
// fixed scalars (FixedFameKey) and the Ed25519 keys come from the test-only DeterministicRandom;
// Ed25519 signing is deterministic, so the certificates are fixed bytes. They are stored in
// testdata/authority_vectors.txt, one "name hex" line each. To regenerate after an intentional
// format change (and bump kCertificateVersion / kChainVersion):
//   CIPHERCHART_REGENERATE_VECTORS=1 ./abe_glue_test --gtest_filter='AuthorityKat*'
#include "cipherchart/abe/authority.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "cipherchart/abe/fame_serialize.h"
#include "src/abe/glue_test_util.h"
#include "src/abe/serialize_test_util.h"

namespace cipherchart::abe {
namespace {

using namespace testing;

bool Contains(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

Bytes Encode(const Certificate& cert) {
  auto bytes = EncodeCertificate(cert);
  EXPECT_TRUE(bytes.has_value()) << bytes.error().ToString();
  return bytes ? *bytes : Bytes{};
}

// Re-signs `cert` (whatever its fields say) with `key`, bypassing IssueCertificate's rules: how
// a dishonest or broken issuer would make a certificate.
Certificate SignedBy(Certificate cert, const envelope::Ed25519SigningKey& key) {
  auto id = FamePublicParamsId(cert.fame_public_key);
  EXPECT_TRUE(id.has_value());
  cert.public_params_id = *id;
  auto message = CertificateSignedMessage(cert);
  EXPECT_TRUE(message.has_value()) << message.error().ToString();
  auto sig = key.Sign(*message);
  EXPECT_TRUE(sig.has_value());
  cert.signature = *sig;
  return cert;
}

ErrorCode VerifyCode(const std::vector<Certificate>& chain, const std::vector<TrustedRoot>& roots,
                     std::uint64_t now = kNow, std::string* message = nullptr) {
  auto r = VerifyChain(chain, roots, now);
  if (r) return ErrorCode::kInternal;  // stands for "verified"
  if (message != nullptr) *message = r.error().message();
  return r.error().code();
}

// ---- namespaces --------------------------------------------------------------------------------

TEST(AuthorityNamespace, ValidAndInvalidNamespaces) {
  for (std::string_view ok :
       {"hospital_a", "hospital_a.cardiology", "a.b-c.d_1", "\"hospital a\".icu", "\"or\"", "_x"}) {
    EXPECT_TRUE(ValidateNamespace(ok).has_value()) << ok << ": " << ValidateNamespace(ok).error().message();
  }
  const std::string too_long(kMaxNamespaceSize + 1, 'a');
  for (std::string_view bad :
       std::initializer_list<std::string_view>{"", ".a", "a.", "a..b", "a:b", " a", "a ", "1a", "or", "a.AND",
                                               "a b", "a.\"\"", "\"plain\"", std::string_view(too_long)}) {
    auto r = ValidateNamespace(bad);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_TRUE(Contains(r.error().message(), "authority namespace")) << r.error().message();
  }
  EXPECT_TRUE(Contains(ValidateNamespace("\"plain\"").error().message(), "write 'plain'"));
  EXPECT_TRUE(Contains(ValidateNamespace("a:b").error().message(), ":value"));
}

TEST(AuthorityNamespace, BelowMeansMorePartsWithTheSamePrefix) {
  EXPECT_TRUE(IsBelowNamespace("hospital_a.cardiology", "hospital_a"));
  EXPECT_TRUE(IsBelowNamespace("hospital_a.cardiology.icu", "hospital_a"));
  EXPECT_TRUE(IsBelowNamespace("\"hospital a\".x", "\"hospital a\""));
  EXPECT_FALSE(IsBelowNamespace("hospital_a", "hospital_a"));
  EXPECT_FALSE(IsBelowNamespace("hospital_ab.x", "hospital_a"));
  EXPECT_FALSE(IsBelowNamespace("hospital_a", "hospital_a.cardiology"));
  EXPECT_FALSE(IsBelowNamespace("hospital_b.cardiology", "hospital_a"));
  EXPECT_FALSE(IsBelowNamespace("\"hospital a.x\"", "\"hospital a\""));
  EXPECT_FALSE(IsBelowNamespace("x", ""));
}

TEST(AuthorityNamespace, PoliciesMayOnlyUseTheAuthoritysAttributes) {
  auto check = [](std::string_view policy, std::string_view ns) {
    return CheckPolicyNamespace(*Policy(policy), ns);
  };
  EXPECT_TRUE(check("hospital_a.role:doctor AND (hospital_a.years >= 5 OR hospital_a.x.y:z)", "hospital_a"));
  EXPECT_TRUE(check("hospital_a.cardiology.role:doctor", "hospital_a.cardiology"));
  EXPECT_TRUE(check("\"hospital a\".role:\"head nurse\"", "\"hospital a\""));

  auto r = check("hospital_a.role:doctor OR 2 of (hospital_a.x, hospital_b.role:doctor, hospital_c.y)",
                 "hospital_a");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(Contains(r.error().message(),
                       "attribute 'hospital_b.role:doctor' is outside the authority namespace "
                       "'hospital_a'"))
      << r.error().message();
  EXPECT_TRUE(Contains(r.error().message(), "multi-authority ABE")) << r.error().message();

  r = check("hospital_a.cardiology.role:doctor AND hospital_a.years >= 5", "hospital_a.cardiology");
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(Contains(r.error().message(), "numeric attribute 'hospital_a.years'")) << r.error().message();
  // The namespace itself is not an attribute of it, nor is a namespace that merely shares a prefix.
  EXPECT_FALSE(check("hospital_a:doctor", "hospital_a"));
  EXPECT_FALSE(check("hospital_ab.role:doctor", "hospital_a"));
  EXPECT_FALSE(check("role:doctor", "hospital_a"));
  EXPECT_FALSE(check("hospital_a.x", "hospital_a."));  // invalid namespace
}

TEST(AuthorityNamespace, KeyAttributesMayOnlyUseTheAuthoritysNamespace) {
  EXPECT_TRUE(CheckAttributesNamespace(Attrs("hospital_a.role:doctor, hospital_a.years=3"), "hospital_a"));
  auto r = CheckAttributesNamespace(Attrs("hospital_a.role:doctor, board.years=3"), "hospital_a");
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(Contains(r.error().message(), "numeric attribute 'board.years'")) << r.error().message();
  EXPECT_FALSE(CheckAttributesNamespace(Attrs("role:doctor"), "hospital_a"));
}

// ---- authorities and chains --------------------------------------------------------------------

TEST(AuthorityChain, RootAndSubAuthoritiesVerify) {
  const Authorities& a = TestAuthorities();
  const std::vector<TrustedRoot> roots = {TrustedRootOf(a.other_root.certificate()), a.anchor()};
  EXPECT_TRUE(a.root.certificate().self_signed());
  EXPECT_EQ(a.icu.chain().size(), 3u);
  EXPECT_EQ(a.icu.authority_namespace(), "hospital_a.cardiology.icu");
  EXPECT_EQ(a.icu.certificate().issuer_namespace, "hospital_a.cardiology");
  for (const Authority* auth : {&a.root, &a.cardiology, &a.icu}) {
    auto v = VerifyChain(auth->chain(), roots, kNow);
    ASSERT_TRUE(v.has_value()) << v.error().ToString();
    EXPECT_EQ(v->authority_namespace, auth->authority_namespace());
    EXPECT_EQ(v->public_key.h_a, auth->public_key().h_a);
    EXPECT_EQ(v->public_key.t, auth->public_key().t);
    EXPECT_EQ(v->public_params_id, auth->public_params_id());
    EXPECT_EQ(v->signing_key, auth->signing_key().public_key());
    EXPECT_EQ(*FamePublicParamsId(auth->public_key()), auth->public_params_id());

    // Through bytes.
    auto bytes = EncodeChain(auth->chain());
    ASSERT_TRUE(bytes.has_value());
    auto again = ParseAndVerifyChain(*bytes, roots, kNow);
    ASSERT_TRUE(again.has_value()) << again.error().ToString();
    EXPECT_EQ(again->public_params_id, auth->public_params_id());
    auto parsed = ParseChain(*bytes);
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(*EncodeChain(*parsed), *bytes);
  }
  // Sub-authorities have their own keys.
  EXPECT_NE(a.cardiology.public_params_id(), a.root.public_params_id());
  EXPECT_NE(a.cardiology.signing_key().public_key(), a.root.signing_key().public_key());
}

TEST(AuthorityChain, SubAuthoritiesMustBeStrictlyBelow) {
  const Authorities& a = TestAuthorities();
  DeterministicRandom rng("refusals");
  for (std::string_view bad :
       {"hospital_b", "hospital_a", "hospital_ab", "hospital_ab.cardiology", "cardiology"}) {
    auto r = a.root.CreateSubAuthority(bad, kNotBefore, kNotAfter, rng);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_TRUE(Contains(r.error().message(), "strictly below")) << r.error().message();
    auto c = a.root.Certify(bad, a.other_root.public_key(), a.other_root.signing_key().public_key(),
                            kNotBefore, kNotAfter);
    ASSERT_FALSE(c.has_value()) << bad;
    EXPECT_EQ(c.error().code(), ErrorCode::kInvalidArgument);
  }
  // A sub-authority cannot create siblings or go back up.
  EXPECT_FALSE(a.cardiology.CreateSubAuthority("hospital_a.oncology", kNotBefore, kNotAfter, rng));
  EXPECT_FALSE(a.cardiology.CreateSubAuthority("hospital_a", kNotBefore, kNotAfter, rng));
  // Invalid namespaces and validity.
  auto r = a.root.CreateSubAuthority("hospital_a.", kNotBefore, kNotAfter, rng);
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(Contains(r.error().message(), "authority namespace")) << r.error().message();
  EXPECT_FALSE(a.root.Certify("hospital_a.x", a.other_root.public_key(), {}, kNotAfter, kNotBefore));
  EXPECT_FALSE(Authority::CreateRoot("a b", kNotBefore, kNotAfter, rng));
  // A root certifies only its own signing key.
  auto self = IssueCertificate("hospital_a", a.root.public_key(), a.other_root.signing_key().public_key(),
                               "hospital_a", a.root.signing_key(), kNotBefore, kNotAfter);
  ASSERT_FALSE(self.has_value());
  EXPECT_TRUE(Contains(self.error().message(), "self-signed")) << self.error().message();
}

TEST(AuthorityChain, CertifyingExternallyMadeKeys) {
  // The sub-authority keeps its master key to itself and sends only its public keys.
  const Authorities& a = TestAuthorities();
  const envelope::Ed25519SigningKey sub_key = SigningKey("external sub-authority");
  auto cert = a.root.Certify("hospital_a.radiology", a.other_root.public_key(), sub_key.public_key(),
                             kNotBefore, kNotAfter);
  ASSERT_TRUE(cert.has_value()) << cert.error().ToString();
  std::vector<Certificate> chain = a.root.chain();
  chain.push_back(*cert);
  auto v = VerifyChain(chain, std::vector<TrustedRoot>{a.anchor()}, kNow);
  ASSERT_TRUE(v.has_value()) << v.error().ToString();
  EXPECT_EQ(v->authority_namespace, "hospital_a.radiology");
  EXPECT_EQ(v->public_params_id, a.other_root.public_params_id());
  EXPECT_EQ(v->signing_key, sub_key.public_key());
}

TEST(AuthorityChain, EachRefusalHasItsCode) {
  const Authorities& a = TestAuthorities();
  const std::vector<TrustedRoot> roots = {a.anchor()};
  std::string message;

  EXPECT_EQ(VerifyCode({}, roots), ErrorCode::kInvalidArgument);
  std::vector<Certificate> too_long(kMaxChainLength + 1, a.root.certificate());
  EXPECT_EQ(VerifyCode(too_long, roots), ErrorCode::kInvalidArgument);

  // Unknown root: no anchors, the right key for another namespace, another key for the namespace.
  EXPECT_EQ(VerifyCode(a.icu.chain(), {}, kNow, &message), ErrorCode::kSignerMismatch);
  EXPECT_TRUE(Contains(message, "unknown root")) << message;
  EXPECT_EQ(VerifyCode(a.icu.chain(), {{"hospital_b", a.root.signing_key().public_key()}}),
            ErrorCode::kSignerMismatch);
  EXPECT_EQ(VerifyCode(a.icu.chain(), {{"hospital_a", a.other_root.signing_key().public_key()}}),
            ErrorCode::kSignerMismatch);

  // The chain must start at a root.
  EXPECT_EQ(VerifyCode({a.cardiology.certificate()}, roots, kNow, &message), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(Contains(message, "self-signed")) << message;

  // Wrong issuer: hospital_a.cardiology.icu does not follow hospital_a directly.
  EXPECT_EQ(VerifyCode({a.root.certificate(), a.icu.certificate()}, roots, kNow, &message),
            ErrorCode::kSignerMismatch);
  EXPECT_TRUE(Contains(message, "wrong issuer")) << message;
  EXPECT_TRUE(Contains(message, "certificate 1 ('hospital_a.cardiology.icu')")) << message;

  // A modified field breaks the signature.
  std::vector<Certificate> chain = a.icu.chain();
  chain[1].not_after += 1;
  EXPECT_EQ(VerifyCode(chain, roots, kNow, &message), ErrorCode::kIntegrity);
  EXPECT_TRUE(Contains(message,
                       "certificate 1 ('hospital_a.cardiology'): the signature does not verify under the "
                       "key of its issuer 'hospital_a'"))
      << message;
  chain = a.icu.chain();
  chain[2].signing_key = a.root.signing_key().public_key();
  EXPECT_EQ(VerifyCode(chain, roots), ErrorCode::kIntegrity);
  chain = a.icu.chain();
  chain[0].fame_public_key = a.other_root.public_key();
  chain[0].public_params_id = a.other_root.public_params_id();
  EXPECT_EQ(VerifyCode(chain, roots), ErrorCode::kIntegrity);
  // A hand-built certificate whose id is not its key's (ParseCertificate would refuse it).
  chain = a.icu.chain();
  chain[2].public_params_id = a.root.public_params_id();
  EXPECT_EQ(VerifyCode(chain, roots, kNow, &message), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(Contains(message, "public-parameter id")) << message;

  // Mallory calls herself hospital_a and certifies hospital_a.cardiology: right issuer name,
  // wrong key.
  const envelope::Ed25519SigningKey mallory = SigningKey("mallory");
  Certificate forged = a.cardiology.certificate();
  forged = SignedBy(forged, mallory);
  EXPECT_EQ(VerifyCode({a.root.certificate(), forged}, roots), ErrorCode::kIntegrity);

  // The genuine issuer signs a certificate outside its namespace (or for its own namespace again):
  // valid signature, but hospital_a may not speak for hospital_b or re-certify itself.
  for (std::string_view ns : {"hospital_b.cardiology", "hospital_a", "hospital_ab.x"}) {
    Certificate outside = a.cardiology.certificate();
    outside.authority_namespace = std::string(ns);
    outside = SignedBy(outside, a.root.signing_key());
    EXPECT_EQ(VerifyCode({a.root.certificate(), outside}, roots, kNow, &message), ErrorCode::kSignerMismatch)
        << ns;
    EXPECT_TRUE(Contains(message, "not strictly below")) << message;
  }

  // Validity, inclusive at both ends, for every certificate of the chain.
  EXPECT_EQ(VerifyCode(a.icu.chain(), roots, kNotBefore), ErrorCode::kInternal);
  EXPECT_EQ(VerifyCode(a.icu.chain(), roots, kNotAfter), ErrorCode::kInternal);
  EXPECT_EQ(VerifyCode(a.icu.chain(), roots, kNotAfter + 1, &message), ErrorCode::kContextMismatch);
  EXPECT_TRUE(Contains(message, "expired at 1900000000")) << message;
  EXPECT_EQ(VerifyCode(a.icu.chain(), roots, kNotBefore - 1, &message), ErrorCode::kContextMismatch);
  EXPECT_TRUE(Contains(message, "not yet valid")) << message;
  auto short_lived = a.cardiology.Certify("hospital_a.cardiology.icu", a.icu.public_key(),
                                          a.icu.signing_key().public_key(), kNotBefore, kNow - 1);
  ASSERT_TRUE(short_lived.has_value());
  chain = a.icu.chain();
  chain[2] = *short_lived;
  EXPECT_EQ(VerifyCode(chain, roots, kNow, &message), ErrorCode::kContextMismatch);
  EXPECT_TRUE(Contains(message, "certificate 2")) << message;
}

TEST(AuthorityChain, IssuedUserKeysStayInTheNamespaceAndWork) {
  const Authorities& a = TestAuthorities();
  auto bad = a.cardiology.IssueUserKey(Attrs("hospital_a.cardiology.role:doctor, hospital_a.role:admin"));
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(Contains(bad.error().message(), "'hospital_a.role:admin'")) << bad.error().message();

  auto key =
      a.cardiology.IssueUserKey(Attrs("hospital_a.cardiology.role:doctor, hospital_a.cardiology.years=9"));
  ASSERT_TRUE(key.has_value()) << key.error().ToString();
  EXPECT_EQ(key->authority_namespace, "hospital_a.cardiology");
  EXPECT_EQ(key->public_params_id, a.cardiology.public_params_id());
  auto enc =
      fame::Encapsulate(a.cardiology.public_key(),
                        *Policy("hospital_a.cardiology.role:doctor AND hospital_a.cardiology.years > 8"));
  ASSERT_TRUE(enc.has_value());
  auto k = fame::Decapsulate(key->key, enc->ct);
  ASSERT_TRUE(k.has_value()) << k.error().ToString();
  EXPECT_TRUE(*k == enc->key);
}

TEST(AuthorityChain, FromPartsChecksThatThePartsBelongTogether) {
  const Authorities& a = TestAuthorities();
  auto seed_copy = [](const Authority& x) {
    return *envelope::Ed25519SigningKey::FromSeed(x.signing_key().seed());
  };
  auto ok = Authority::FromParts(a.cardiology.master_key(), seed_copy(a.cardiology), a.cardiology.chain());
  ASSERT_TRUE(ok.has_value()) << ok.error().ToString();
  EXPECT_EQ(ok->authority_namespace(), "hospital_a.cardiology");

  auto wrong_msk = Authority::FromParts(a.root.master_key(), seed_copy(a.cardiology), a.cardiology.chain());
  ASSERT_FALSE(wrong_msk.has_value());
  EXPECT_TRUE(Contains(wrong_msk.error().message(), "master key does not belong"))
      << wrong_msk.error().message();
  auto wrong_key = Authority::FromParts(a.cardiology.master_key(), seed_copy(a.root), a.cardiology.chain());
  ASSERT_FALSE(wrong_key.has_value());
  EXPECT_TRUE(Contains(wrong_key.error().message(), "signing key")) << wrong_key.error().message();
  EXPECT_FALSE(Authority::FromParts(a.cardiology.master_key(), seed_copy(a.cardiology), {}));
}

// ---- decoder -----------------------------------------------------------------------------------

// Offsets in a certificate for namespace length n (docs/formats.md).
struct CertLayout {
  explicit CertLayout(const Certificate& c) {
    ns = 7;
    id = ns + c.authority_namespace.size();
    key_length = id + 32;
    key = key_length + 4;
    signing_key = key + fame::kSerializedPublicKeySize;
    issuer_length = signing_key + 32;
    issuer = issuer_length + 2;
    not_before = issuer + c.issuer_namespace.size();
    not_after = not_before + 8;
    signature = not_after + 8;
    size = signature + 64;
  }
  std::size_t ns, id, key_length, key, signing_key, issuer_length, issuer, not_before, not_after, signature,
      size;
};

TEST(AuthorityDecoder, LayoutAndRoundTrip) {
  const Certificate& cert = TestAuthorities().cardiology.certificate();
  const Bytes bytes = Encode(cert);
  const CertLayout at(cert);
  ASSERT_EQ(bytes.size(), at.size);
  EXPECT_EQ(bytes.size(), kCertificateFixedSize + cert.authority_namespace.size() +
                              cert.issuer_namespace.size() + fame::kSerializedPublicKeySize);
  EXPECT_EQ(Bytes(bytes.begin(), bytes.begin() + 5), (Bytes{'C', 'C', 'A', 'C', 1}));
  EXPECT_EQ(std::string(bytes.begin() + 7, bytes.begin() + 7 + 21), "hospital_a.cardiology");
  EXPECT_TRUE(std::equal(cert.public_params_id.begin(), cert.public_params_id.end(), bytes.begin() + at.id));
  EXPECT_EQ(bytes[at.key], 'C');  // "CFPK"
  auto parsed = ParseCertificate(bytes);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
  EXPECT_EQ(Encode(*parsed), bytes);
  EXPECT_EQ(parsed->authority_namespace, cert.authority_namespace);
  EXPECT_EQ(parsed->issuer_namespace, "hospital_a");
  EXPECT_EQ(parsed->not_before, kNotBefore);
  EXPECT_EQ(parsed->not_after, kNotAfter);
  EXPECT_EQ(parsed->signature, cert.signature);
}

TEST(AuthorityDecoder, MalformedCertificatesNameTheFieldAndOffset) {
  const Certificate& cert = TestAuthorities().cardiology.certificate();
  const Bytes good = Encode(cert);
  const CertLayout at(cert);
  auto parse = [](const Bytes& b) { return ParseCertificate(b); };
  {
    Bytes bad = good;
    bad[0] = 'X';
    auto r = parse(bad);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidEncoding);
    EXPECT_TRUE(Contains(r.error().message(), "magic")) << r.error().message();
  }
  {
    Bytes bad = good;
    bad[4] = 2;
    auto r = parse(bad);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), ErrorCode::kUnsupported);
    EXPECT_EQ(r.error().message(),
              "certificate: version 2 at offset 4 is not supported (this library reads version 1)");
  }
  {
    Bytes bad = good;
    bad[at.ns + 10] = ' ';  // "hospital_a cardiology"
    auto r = parse(bad);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidEncoding);
    EXPECT_TRUE(Contains(r.error().message(), "certificate: namespace is not valid")) << r.error().message();
    EXPECT_TRUE(Contains(r.error().message(), "at offset 7")) << r.error().message();
  }
  {
    Bytes bad = good;
    bad[6] = 0;  // namespace length 0
    auto r = parse(bad);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().message(), "certificate: namespace length 0 is outside 1..256 at offset 5");
  }
  {
    Bytes bad = good;
    bad[at.id + 3] ^= 1;
    auto r = parse(bad);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidEncoding);
    EXPECT_EQ(r.error().message(),
              "certificate: public-parameter id is not the SHA-256 of the FAME public key that follows it at "
              "offset " +
                  std::to_string(at.id));
  }
  {
    Bytes bad = good;
    bad[at.key + 5] &= 0x7F;  // h_a[0] loses its compression flag
    auto r = parse(bad);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), ErrorCode::kBadFlags);
    EXPECT_TRUE(
        Contains(r.error().message(), "certificate: FAME public key at offset " + std::to_string(at.key)))
        << r.error().message();
  }
  {
    Bytes bad = good;
    bad[at.key_length] = 0x01;  // 16 MiB + ...: over the bound
    auto r = parse(bad);
    ASSERT_FALSE(r.has_value());
    EXPECT_TRUE(Contains(r.error().message(), "FAME public key length")) << r.error().message();
  }
  {
    // not_before > not_after
    Bytes bad = good;
    bad[at.not_before] = 0xFF;
    auto r = parse(bad);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidEncoding);
    EXPECT_TRUE(Contains(r.error().message(), "is after not_after")) << r.error().message();
    EXPECT_TRUE(Contains(r.error().message(), "at offset " + std::to_string(at.not_before)))
        << r.error().message();
  }
  {
    Bytes longer = good;
    longer.push_back(0);
    auto r = parse(longer);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().message(), "certificate: 1 trailing bytes at offset " + std::to_string(good.size()));
  }
  for (std::size_t n = 0; n < good.size(); ++n) {
    auto r = parse(Bytes(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n)));
    ASSERT_FALSE(r.has_value()) << n;
    ASSERT_EQ(r.error().code(), ErrorCode::kInvalidEncoding) << n << ": " << r.error().message();
  }
}

TEST(AuthorityDecoder, EverySingleByteFlipFailsToParseOrToVerify) {
  // No flipped certificate both parses and verifies: the signature covers every byte. (One mask
  // per byte: each parse checks the FAME key's five group elements, which is what takes time.)
  const Authorities& a = TestAuthorities();
  const Bytes good = Encode(a.cardiology.certificate());
  const std::vector<TrustedRoot> roots = {a.anchor()};
  std::size_t parsed = 0;
  for (std::size_t i = 0; i < good.size(); ++i) {
    Bytes bad = good;
    bad[i] ^= 0x01;
    auto cert = ParseCertificate(bad);
    if (!cert) {
      EXPECT_FALSE(cert.error().message().empty());
      continue;
    }
    ++parsed;
    const ErrorCode code = VerifyCode({a.root.certificate(), *cert}, roots);
    ASSERT_NE(code, ErrorCode::kInternal) << "byte " << i << " flipped, and the certificate verified";
    ASSERT_TRUE(code == ErrorCode::kIntegrity || code == ErrorCode::kSignerMismatch ||
                code == ErrorCode::kContextMismatch)
        << i << ": " << ErrorCodeName(code);
  }
  // Namespace characters, signing key, validity and signature bytes parse; points and the id
  // do not.
  EXPECT_GT(parsed, 100u);
}

TEST(AuthorityDecoder, Chains) {
  const Authorities& a = TestAuthorities();
  auto good = EncodeChain(a.icu.chain());
  ASSERT_TRUE(good.has_value());
  EXPECT_EQ(Bytes(good->begin(), good->begin() + 6), (Bytes{'C', 'C', 'C', 'H', 1, 3}));
  {
    Bytes bad = *good;
    bad[5] = 0;
    auto r = ParseChain(bad);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().message(), "certificate chain: certificate count 0 is outside 1..16 at offset 5");
    bad[5] = 17;
    EXPECT_FALSE(ParseChain(bad));
    bad[5] = 2;  // one certificate left over
    r = ParseChain(bad);
    ASSERT_FALSE(r.has_value());
    EXPECT_TRUE(Contains(r.error().message(), "trailing bytes")) << r.error().message();
  }
  {
    Bytes bad = *good;
    bad[4] = 7;
    EXPECT_EQ(ParseChain(bad).error().code(), ErrorCode::kUnsupported);
  }
  {
    // An error inside a certificate names the certificate and where it starts.
    Bytes bad = *good;
    const std::size_t second = 6 + 4 + Encode(a.root.certificate()).size() + 4;
    bad[second] = 'X';
    auto r = ParseChain(bad);
    ASSERT_FALSE(r.has_value());
    EXPECT_TRUE(Contains(r.error().message(), "certificate chain: certificate 1 at offset " +
                                                  std::to_string(second) + ": certificate: magic"))
        << r.error().message();
  }
  for (std::size_t n = 0; n < good->size(); n += 31) {
    auto r = ParseChain(Bytes(good->begin(), good->begin() + static_cast<std::ptrdiff_t>(n)));
    ASSERT_FALSE(r.has_value()) << n;
    ASSERT_EQ(r.error().code(), ErrorCode::kInvalidEncoding) << n;
  }
  EXPECT_FALSE(EncodeChain({}));
}

// ---- known-answer vectors ----------------------------------------------------------------------

// A fixed chain: hospital_a (self-signed) -> hospital_a.cardiology -> hospital_a.cardiology."intensive
// care" (a quoted namespace part).
std::vector<Certificate> KatChain() {
  const envelope::Ed25519SigningKey root = SigningKey("authority-kat-root");
  const envelope::Ed25519SigningKey sub = SigningKey("authority-kat-sub");
  const envelope::Ed25519SigningKey leaf = SigningKey("authority-kat-leaf");
  std::vector<Certificate> chain;
  for (auto c :
       {IssueCertificate("hospital_a", FixedFameKey(1), root.public_key(), "hospital_a", root, 1'700'000'000,
                         2'000'000'000),
        IssueCertificate("hospital_a.cardiology", FixedFameKey(20), sub.public_key(), "hospital_a", root,
                         1'750'000'000, 1'950'000'000),
        IssueCertificate("hospital_a.cardiology.\"intensive care\"", FixedFameKey(40), leaf.public_key(),
                         "hospital_a.cardiology", sub, 1'760'000'000, 1'800'000'000)}) {
    EXPECT_TRUE(c.has_value()) << c.error().ToString();
    chain.push_back(*c);
  }
  return chain;
}

std::map<std::string, std::string> KatVectors() {
  const std::vector<Certificate> chain = KatChain();
  std::map<std::string, std::string> out;
  out["root_certificate"] = Hex(Encode(chain[0]));
  out["sub_certificate"] = Hex(Encode(chain[1]));
  out["leaf_certificate"] = Hex(Encode(chain[2]));
  out["chain"] = Hex(*EncodeChain(chain));
  return out;
}

TEST(AuthorityKat, MatchesStoredVectors) {
  const std::string path = std::string(CIPHERCHART_ABE_TESTDATA) + "/authority_vectors.txt";
  const auto generated = KatVectors();
  const std::string header =
      "# Authority certificates and a chain (docs/formats.md, \"Authority certificate\", \"Certificate "
      "chain\"), version 1.\n"
      "# Generated by authority_test.cc (AuthorityKat): FAME keys from fixed scalars, Ed25519 keys from\n"
      "# DeterministicRandom(\"authority-kat-root\" / \"-sub\" / \"-leaf\"). One \"name hex\" per line.\n";
  if (RegenerateOrCompareVectors(path, header, generated)) GTEST_SKIP() << "rewrote " << path;
  auto stored = ReadVectors(path);

  // The stored chain verifies on its own, under its root, inside every certificate's validity.
  auto chain = ParseChain(FromHex(stored["chain"]));
  ASSERT_TRUE(chain.has_value()) << chain.error().ToString();
  const std::vector<TrustedRoot> roots = {TrustedRootOf((*chain)[0])};
  auto v = VerifyChain(*chain, roots, 1'770'000'000);
  ASSERT_TRUE(v.has_value()) << v.error().ToString();
  EXPECT_EQ(v->authority_namespace, "hospital_a.cardiology.\"intensive care\"");
  EXPECT_EQ(v->public_params_id, *FamePublicParamsId(FixedFameKey(40)));
  EXPECT_EQ(VerifyChain(*chain, roots, 1'800'000'001).error().code(), ErrorCode::kContextMismatch);
}

}  // namespace
}  // namespace cipherchart::abe
