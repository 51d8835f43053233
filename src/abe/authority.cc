// Authorities, certificates and chains: see authority.h and docs/formats.md.
#include "cipherchart/abe/authority.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "cipherchart/abe/fame_serialize.h"
#include "cipherchart/common/byte_reader.h"
#include "cipherchart/common/bytes.h"
#include "cipherchart/envelope/hash.h"
#include "cipherchart/pairing/curve.h"
#include "src/abe/policy_internal.h"

namespace cipherchart::abe {
namespace {

using envelope::Ed25519PublicKey;
using envelope::Ed25519SigningKey;
using Reader = cipherchart::ByteReader;

std::string Quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

// The encoding without the signature (what the signature covers). The fields must be in bounds.
std::vector<std::uint8_t> EncodeBody(const Certificate& cert, std::span<const std::uint8_t> fame_key) {
  // (Starting from the magic rather than reserve() + insert avoids a GCC 12 -Wstringop-overflow
  // false positive.)
  std::vector<std::uint8_t> out(kCertificateMagic.begin(), kCertificateMagic.end());
  PutU8(out, kCertificateVersion);
  PutU16(out, static_cast<std::uint16_t>(cert.authority_namespace.size()));
  PutBytes(out, cert.authority_namespace);
  PutBytes(out, cert.public_params_id);
  PutU32(out, static_cast<std::uint32_t>(fame_key.size()));
  PutBytes(out, fame_key);
  PutBytes(out, cert.signing_key);
  PutU16(out, static_cast<std::uint16_t>(cert.issuer_namespace.size()));
  PutBytes(out, cert.issuer_namespace);
  PutU64(out, cert.not_before);
  PutU64(out, cert.not_after);
  return out;
}

// Bounds the encoder checks (the decoder checks the same, as encoding errors).
Result<void> CheckFields(const Certificate& cert) {
  auto named = [](std::string_view field, const Result<void>& r) -> Result<void> {
    if (r) return {};
    return Fail(ErrorCode::kInvalidArgument,
                "certificate: " + std::string(field) + ": " + r.error().message());
  };
  if (auto ok = named("namespace", ValidateNamespace(cert.authority_namespace)); !ok) return ok;
  if (auto ok = named("issuer namespace", ValidateNamespace(cert.issuer_namespace)); !ok) return ok;
  if (cert.not_before > cert.not_after) {
    return Fail(ErrorCode::kInvalidArgument, "certificate: not_before " + std::to_string(cert.not_before) +
                                                 " is after not_after " + std::to_string(cert.not_after));
  }
  return {};
}

Result<std::vector<std::uint8_t>> SignedMessage(std::span<const std::uint8_t> body) {
  auto digest = envelope::Sha256Of(body);
  if (!digest) return std::unexpected(digest.error());
  std::vector<std::uint8_t> message(kCertificateSignatureLabel.begin(), kCertificateSignatureLabel.end());
  PutBytes(message, *digest);
  return message;
}

Result<Certificate> ParseCertificateAt(std::span<const std::uint8_t> bytes) {
  Reader r(bytes, "certificate");
  Certificate cert;
  auto magic = r.Bytes(kCertificateMagic.size(), "magic");
  if (!magic) return std::unexpected(magic.error());
  if (!std::equal(magic->begin(), magic->end(), kCertificateMagic.begin())) {
    return std::unexpected(r.Invalid(0, "magic is not \"CCAC\" (not a CipherChart authority certificate)"));
  }
  auto version = r.U8("version");
  if (!version) return std::unexpected(version.error());
  if (*version != kCertificateVersion) {
    return Fail(ErrorCode::kUnsupported, "certificate: version " + std::to_string(*version) +
                                             " at offset 4 is not supported (this library reads version " +
                                             std::to_string(kCertificateVersion) + ")");
  }
  // A namespace: bounds, then the namespace syntax (which implies UTF-8).
  auto take_namespace = [&r](std::string_view length_field, std::string_view field) -> Result<std::string> {
    auto len = r.Length16(length_field, 1, kMaxNamespaceSize);
    if (!len) return std::unexpected(len.error());
    const std::size_t at = r.offset();
    auto value = r.Bytes(*len, field);
    if (!value) return std::unexpected(value.error());
    std::string ns(value->begin(), value->end());
    if (auto ok = ValidateNamespace(ns); !ok) {
      return std::unexpected(
          r.Invalid(at, std::string(field) + " is not valid (" + ok.error().message() + ")"));
    }
    return ns;
  };
  auto ns = take_namespace("namespace length", "namespace");
  if (!ns) return std::unexpected(ns.error());
  cert.authority_namespace = std::move(*ns);
  const std::size_t id_at = r.offset();
  if (auto ok = r.CopyTo(cert.public_params_id, "public-parameter id"); !ok)
    return std::unexpected(ok.error());
  auto key_len = r.Length32("FAME public key length", 1, kMaxCertifiedPublicKeySize);
  if (!key_len) return std::unexpected(key_len.error());
  const std::size_t key_at = r.offset();
  auto key_bytes = r.Bytes(*key_len, "FAME public key");
  if (!key_bytes) return std::unexpected(key_bytes.error());
  auto fame_key = fame::ParsePublicKey(*key_bytes);
  if (!fame_key) {
    return Fail(fame_key.error().code(), "certificate: FAME public key at offset " + std::to_string(key_at) +
                                             ": " + fame_key.error().message());
  }
  cert.fame_public_key = *fame_key;
  auto digest = envelope::Sha256Of(*key_bytes);
  if (!digest) return std::unexpected(digest.error());
  if (!std::equal(digest->begin(), digest->end(), cert.public_params_id.begin())) {
    return std::unexpected(
        r.Invalid(id_at, "public-parameter id is not the SHA-256 of the FAME public key that follows it"));
  }
  if (auto ok = r.CopyTo(cert.signing_key, "signing key"); !ok) return std::unexpected(ok.error());
  auto issuer = take_namespace("issuer namespace length", "issuer namespace");
  if (!issuer) return std::unexpected(issuer.error());
  cert.issuer_namespace = std::move(*issuer);
  const std::size_t validity_at = r.offset();
  auto not_before = r.U64("not_before");
  if (!not_before) return std::unexpected(not_before.error());
  auto not_after = r.U64("not_after");
  if (!not_after) return std::unexpected(not_after.error());
  if (*not_before > *not_after) {
    return std::unexpected(r.Invalid(validity_at, "not_before " + std::to_string(*not_before) +
                                                      " is after not_after " + std::to_string(*not_after)));
  }
  cert.not_before = *not_before;
  cert.not_after = *not_after;
  if (auto ok = r.CopyTo(cert.signature, "signature"); !ok) return std::unexpected(ok.error());
  if (r.remaining() != 0) {
    return std::unexpected(r.Invalid(r.offset(), std::to_string(r.remaining()) + " trailing bytes"));
  }
  return cert;
}

// The policy tree's leaves, left to right, without recursion (a hand-built tree may be deep).
template <class Visit>
Result<void> ForEachLeaf(const PolicyNode& root, Visit visit) {
  std::vector<const PolicyNode*> stack = {&root};
  while (!stack.empty()) {
    const PolicyNode* node = stack.back();
    stack.pop_back();
    if (node->kind == PolicyNode::Kind::kThreshold) {
      for (auto it = node->children.rbegin(); it != node->children.rend(); ++it) {
        if (*it == nullptr) return Fail(ErrorCode::kInvalidArgument, "policy: a gate has a null child");
        stack.push_back(it->get());
      }
    } else if (auto ok = visit(*node); !ok) {
      return ok;
    }
  }
  return {};
}

std::string OutsideNamespace(std::string_view what, std::string_view name, std::string_view ns) {
  return std::string(what) + " " + Quoted(name) + " is outside the authority namespace " + Quoted(ns) +
         " (names must be " + std::string(ns) +
         ".<name>; one FAME ciphertext or key is under a single authority, policies across authorities need "
         "multi-authority ABE)";
}

std::string ChainError(std::size_t index, const Certificate& cert, std::string_view what) {
  return "certificate chain: certificate " + std::to_string(index) + " (" + Quoted(cert.authority_namespace) +
         "): " + std::string(what);
}

// FAME's public [A]_2 is (h^a1, h^a2, h): a master key belongs to a public key when its a1, a2
// give the first two (a master key of another Setup differs with overwhelming probability).
bool MasterKeyMatches(const fame::MasterKey& msk, const fame::PublicKey& pk) {
  const pairing::G2 h = pairing::G2::Generator();
  return pk.h_a[2] == h && h.Mul(msk.a[0]) == pk.h_a[0] && h.Mul(msk.a[1]) == pk.h_a[1];
}

}  // namespace

// ---- namespaces --------------------------------------------------------------------------------

Result<void> ValidateNamespace(std::string_view ns) {
  if (ns.empty()) return Fail(ErrorCode::kInvalidArgument, "authority namespace: empty");
  if (ns.size() > kMaxNamespaceSize) {
    return Fail(ErrorCode::kInvalidArgument, "authority namespace: " + std::to_string(ns.size()) +
                                                 " bytes, the maximum is " +
                                                 std::to_string(kMaxNamespaceSize));
  }
  auto parsed = internal::ParseSingleAttribute(ns);
  if (!parsed) {
    return Fail(ErrorCode::kInvalidArgument,
                "authority namespace " + Quoted(ns) +
                    " is not a name of the policy language: " + parsed.error().message());
  }
  if (parsed->has_value) {
    return Fail(ErrorCode::kInvalidArgument,
                "authority namespace " + Quoted(ns) + " has a ':value' part (a namespace is a dotted name)");
  }
  if (parsed->canonical != ns) {
    return Fail(ErrorCode::kInvalidArgument, "authority namespace " + Quoted(ns) +
                                                 " is not in canonical form (write " +
                                                 Quoted(parsed->canonical) + ")");
  }
  return {};
}

bool IsBelowNamespace(std::string_view child, std::string_view parent) {
  // Canonical texts of dotted names: the parts of `parent` followed by '.' start `child` exactly
  // when its parts are parent's parts and more (a part's text is the same wherever it stands).
  return !parent.empty() && child.size() > parent.size() + 1 && child.starts_with(parent) &&
         child[parent.size()] == '.';
}

Result<void> CheckPolicyNamespace(const PolicyNode& policy, std::string_view authority_namespace) {
  if (auto ok = ValidateNamespace(authority_namespace); !ok) return ok;
  return ForEachLeaf(policy, [&](const PolicyNode& leaf) -> Result<void> {
    if (IsBelowNamespace(leaf.attribute, authority_namespace)) return {};
    const bool comparison = leaf.kind == PolicyNode::Kind::kComparison;
    return Fail(ErrorCode::kInvalidArgument,
                "policy: " + OutsideNamespace(comparison ? "numeric attribute" : "attribute", leaf.attribute,
                                              authority_namespace));
  });
}

Result<void> CheckAttributesNamespace(const AttributeSet& attributes, std::string_view authority_namespace) {
  if (auto ok = ValidateNamespace(authority_namespace); !ok) return ok;
  for (const auto& a : attributes.attributes) {
    if (!IsBelowNamespace(a, authority_namespace)) {
      return Fail(ErrorCode::kInvalidArgument,
                  "attribute set: " + OutsideNamespace("attribute", a, authority_namespace));
    }
  }
  for (const auto& [name, value] : attributes.numeric) {
    if (!IsBelowNamespace(name, authority_namespace)) {
      return Fail(ErrorCode::kInvalidArgument,
                  "attribute set: " + OutsideNamespace("numeric attribute", name, authority_namespace));
    }
  }
  return {};
}

Result<PublicParamsId> FamePublicParamsId(const fame::PublicKey& pk) {
  return envelope::Sha256Of(fame::Serialize(pk));
}

// ---- certificates ------------------------------------------------------------------------------

Result<std::vector<std::uint8_t>> CertificateSignedMessage(const Certificate& cert) {
  if (auto ok = CheckFields(cert); !ok) return std::unexpected(ok.error());
  return SignedMessage(EncodeBody(cert, fame::Serialize(cert.fame_public_key)));
}

Result<std::vector<std::uint8_t>> EncodeCertificate(const Certificate& cert) {
  if (auto ok = CheckFields(cert); !ok) return std::unexpected(ok.error());
  std::vector<std::uint8_t> out = EncodeBody(cert, fame::Serialize(cert.fame_public_key));
  PutBytes(out, cert.signature);
  return out;
}

Result<Certificate> ParseCertificate(std::span<const std::uint8_t> bytes) {
  return ParseCertificateAt(bytes);
}

Result<Certificate> IssueCertificate(std::string_view subject_namespace,
                                     const fame::PublicKey& subject_fame_key,
                                     const Ed25519PublicKey& subject_signing_key,
                                     std::string_view issuer_namespace, const Ed25519SigningKey& issuer_key,
                                     std::uint64_t not_before, std::uint64_t not_after) {
  Certificate cert;
  cert.authority_namespace = std::string(subject_namespace);
  cert.fame_public_key = subject_fame_key;
  cert.signing_key = subject_signing_key;
  cert.issuer_namespace = std::string(issuer_namespace);
  cert.not_before = not_before;
  cert.not_after = not_after;
  if (auto ok = CheckFields(cert); !ok) return std::unexpected(ok.error());
  if (cert.self_signed()) {
    if (subject_signing_key != issuer_key.public_key()) {
      return Fail(ErrorCode::kInvalidArgument, "certificate: a self-signed certificate for " +
                                                   Quoted(subject_namespace) +
                                                   " must certify the signing key that signs it");
    }
  } else if (!IsBelowNamespace(subject_namespace, issuer_namespace)) {
    return Fail(ErrorCode::kInvalidArgument, "certificate: authority " + Quoted(issuer_namespace) +
                                                 " may only certify namespaces strictly below its own, not " +
                                                 Quoted(subject_namespace));
  }
  const std::vector<std::uint8_t> fame_key = fame::Serialize(subject_fame_key);
  auto id = envelope::Sha256Of(fame_key);
  if (!id) return std::unexpected(id.error());
  cert.public_params_id = *id;
  auto message = SignedMessage(EncodeBody(cert, fame_key));
  if (!message) return std::unexpected(message.error());
  auto signature = issuer_key.Sign(*message);
  if (!signature) return std::unexpected(signature.error());
  cert.signature = *signature;
  return cert;
}

Result<std::vector<std::uint8_t>> EncodeChain(std::span<const Certificate> chain) {
  if (chain.empty() || chain.size() > kMaxChainLength) {
    return Fail(ErrorCode::kInvalidArgument, "certificate chain: " + std::to_string(chain.size()) +
                                                 " certificates, outside 1.." +
                                                 std::to_string(kMaxChainLength));
  }
  std::vector<std::uint8_t> out;
  PutBytes(out, kChainMagic);
  PutU8(out, kChainVersion);
  PutU8(out, static_cast<std::uint8_t>(chain.size()));
  for (std::size_t i = 0; i < chain.size(); ++i) {
    auto cert = EncodeCertificate(chain[i]);
    if (!cert) {
      return Fail(cert.error().code(),
                  "certificate chain: certificate " + std::to_string(i) + ": " + cert.error().message());
    }
    PutU32(out, static_cast<std::uint32_t>(cert->size()));
    PutBytes(out, *cert);
  }
  return out;
}

Result<std::vector<Certificate>> ParseChain(std::span<const std::uint8_t> bytes) {
  Reader r(bytes, "certificate chain");
  auto magic = r.Bytes(kChainMagic.size(), "magic");
  if (!magic) return std::unexpected(magic.error());
  if (!std::equal(magic->begin(), magic->end(), kChainMagic.begin())) {
    return std::unexpected(r.Invalid(0, "magic is not \"CCCH\" (not a CipherChart certificate chain)"));
  }
  auto version = r.U8("version");
  if (!version) return std::unexpected(version.error());
  if (*version != kChainVersion) {
    return Fail(ErrorCode::kUnsupported, "certificate chain: version " + std::to_string(*version) +
                                             " at offset 4 is not supported (this library reads version " +
                                             std::to_string(kChainVersion) + ")");
  }
  const std::size_t count_at = r.offset();
  auto count = r.U8("certificate count");
  if (!count) return std::unexpected(count.error());
  if (*count == 0 || *count > kMaxChainLength) {
    return std::unexpected(r.Invalid(count_at, "certificate count " + std::to_string(*count) +
                                                   " is outside 1.." + std::to_string(kMaxChainLength)));
  }
  std::vector<Certificate> chain;
  chain.reserve(*count);
  for (std::size_t i = 0; i < *count; ++i) {
    const std::string field = "certificate " + std::to_string(i);
    auto len = r.Length32(field + " length", 1, static_cast<std::uint32_t>(kMaxCertificateSize));
    if (!len) return std::unexpected(len.error());
    const std::size_t at = r.offset();
    auto cert_bytes = r.Bytes(*len, field);
    if (!cert_bytes) return std::unexpected(cert_bytes.error());
    auto cert = ParseCertificateAt(*cert_bytes);
    if (!cert) {
      return Fail(cert.error().code(), "certificate chain: " + field + " at offset " + std::to_string(at) +
                                           ": " + cert.error().message());
    }
    chain.push_back(std::move(*cert));
  }
  if (r.remaining() != 0) {
    return std::unexpected(r.Invalid(r.offset(), std::to_string(r.remaining()) + " trailing bytes"));
  }
  return chain;
}

Result<VerifiedAuthority> VerifyChain(std::span<const Certificate> chain,
                                      std::span<const TrustedRoot> trusted_roots, std::uint64_t now) {
  if (chain.empty() || chain.size() > kMaxChainLength) {
    return Fail(ErrorCode::kInvalidArgument, "certificate chain: " + std::to_string(chain.size()) +
                                                 " certificates, outside 1.." +
                                                 std::to_string(kMaxChainLength));
  }
  const Certificate& root = chain.front();
  if (!root.self_signed()) {
    return Fail(ErrorCode::kInvalidArgument,
                ChainError(0, root,
                           "the first certificate must be a root's self-signed certificate, but it names " +
                               Quoted(root.issuer_namespace) + " as its issuer"));
  }
  const bool trusted = std::any_of(trusted_roots.begin(), trusted_roots.end(), [&](const TrustedRoot& t) {
    return t.authority_namespace == root.authority_namespace && t.signing_key == root.signing_key;
  });
  if (!trusted) {
    return Fail(ErrorCode::kSignerMismatch,
                ChainError(0, root, "unknown root: no trusted root has this namespace and signing key"));
  }
  for (std::size_t i = 0; i < chain.size(); ++i) {
    const Certificate& cert = chain[i];
    const Certificate& issuer = i == 0 ? cert : chain[i - 1];
    if (i > 0 && cert.issuer_namespace != issuer.authority_namespace) {
      return Fail(ErrorCode::kSignerMismatch,
                  ChainError(i, cert,
                             "wrong issuer: it names " + Quoted(cert.issuer_namespace) +
                                 " but follows the certificate of " + Quoted(issuer.authority_namespace)));
    }
    // Parsed certificates always pass this; a hand-built one might name another key's id.
    auto id = FamePublicParamsId(cert.fame_public_key);
    if (!id) return std::unexpected(id.error());
    if (*id != cert.public_params_id) {
      return Fail(ErrorCode::kInvalidArgument,
                  ChainError(i, cert, "the public-parameter id is not the SHA-256 of its FAME public key"));
    }
    auto message = CertificateSignedMessage(cert);
    if (!message) return std::unexpected(message.error());
    if (auto ok = envelope::Ed25519Verify(issuer.signing_key, *message, cert.signature); !ok) {
      return Fail(ErrorCode::kIntegrity,
                  ChainError(i, cert,
                             "the signature does not verify under the key of its issuer " +
                                 Quoted(issuer.authority_namespace)));
    }
    if (i > 0 && !IsBelowNamespace(cert.authority_namespace, issuer.authority_namespace)) {
      return Fail(ErrorCode::kSignerMismatch,
                  ChainError(i, cert,
                             "the namespace is not strictly below its issuer's " +
                                 Quoted(issuer.authority_namespace) + ", which may not certify it"));
    }
    if (now < cert.not_before) {
      return Fail(ErrorCode::kContextMismatch,
                  ChainError(i, cert,
                             "not yet valid: valid from " + std::to_string(cert.not_before) + ", now is " +
                                 std::to_string(now)));
    }
    if (now > cert.not_after) {
      return Fail(ErrorCode::kContextMismatch, ChainError(i, cert,
                                                          "expired at " + std::to_string(cert.not_after) +
                                                              ", now is " + std::to_string(now)));
    }
  }
  const Certificate& leaf = chain.back();
  return VerifiedAuthority{leaf.authority_namespace, leaf.fame_public_key, leaf.public_params_id,
                           leaf.signing_key};
}

Result<VerifiedAuthority> ParseAndVerifyChain(std::span<const std::uint8_t> chain_bytes,
                                              std::span<const TrustedRoot> trusted_roots, std::uint64_t now) {
  auto chain = ParseChain(chain_bytes);
  if (!chain) return std::unexpected(chain.error());
  return VerifyChain(*chain, trusted_roots, now);
}

TrustedRoot TrustedRootOf(const Certificate& root_certificate) {
  return {root_certificate.authority_namespace, root_certificate.signing_key};
}

// ---- authorities -------------------------------------------------------------------------------

// fame::MasterKey has no move constructor (it wipes itself on destruction): it is copied.
Authority::Authority(const fame::MasterKey& master_key, Ed25519SigningKey signing_key,
                     std::vector<Certificate> chain)
    : master_key_(master_key), signing_key_(std::move(signing_key)), chain_(std::move(chain)) {}
Authority::Authority(Authority&&) noexcept = default;
Authority& Authority::operator=(Authority&&) noexcept = default;
Authority::~Authority() = default;

Result<Authority> Authority::CreateRoot(std::string_view authority_namespace, std::uint64_t not_before,
                                        std::uint64_t not_after, envelope::RandomSource& rng) {
  // Check the cheap things before the (slower) key generation.
  if (auto ok = ValidateNamespace(authority_namespace); !ok) return std::unexpected(ok.error());
  auto signing_key = Ed25519SigningKey::Generate(rng);
  if (!signing_key) return std::unexpected(signing_key.error());
  auto fame_keys = fame::Setup();
  if (!fame_keys) return std::unexpected(fame_keys.error());
  auto cert = IssueCertificate(authority_namespace, fame_keys->pk, signing_key->public_key(),
                               authority_namespace, *signing_key, not_before, not_after);
  if (!cert) return std::unexpected(cert.error());
  std::vector<Certificate> chain;
  chain.push_back(std::move(*cert));
  return Authority(fame_keys->msk, std::move(*signing_key), std::move(chain));
}

Result<Certificate> Authority::Certify(std::string_view sub_namespace, const fame::PublicKey& fame_key,
                                       const Ed25519PublicKey& signing_key, std::uint64_t not_before,
                                       std::uint64_t not_after) const {
  if (auto ok = ValidateNamespace(sub_namespace); !ok) return std::unexpected(ok.error());
  if (!IsBelowNamespace(sub_namespace, authority_namespace())) {
    return Fail(ErrorCode::kInvalidArgument,
                "authority " + Quoted(authority_namespace()) +
                    " may only create sub-authorities strictly below its namespace (" +
                    authority_namespace() + ".<name>), not " + Quoted(sub_namespace));
  }
  return IssueCertificate(sub_namespace, fame_key, signing_key, authority_namespace(), signing_key_,
                          not_before, not_after);
}

Result<Authority> Authority::CreateSubAuthority(std::string_view sub_namespace, std::uint64_t not_before,
                                                std::uint64_t not_after, envelope::RandomSource& rng) const {
  if (auto ok = ValidateNamespace(sub_namespace); !ok) return std::unexpected(ok.error());
  if (!IsBelowNamespace(sub_namespace, authority_namespace())) {
    return Fail(ErrorCode::kInvalidArgument,
                "authority " + Quoted(authority_namespace()) +
                    " may only create sub-authorities strictly below its namespace (" +
                    authority_namespace() + ".<name>), not " + Quoted(sub_namespace));
  }
  if (chain_.size() >= kMaxChainLength) {
    return Fail(ErrorCode::kInvalidArgument, "authority " + Quoted(authority_namespace()) +
                                                 ": a chain has at most " + std::to_string(kMaxChainLength) +
                                                 " certificates");
  }
  auto signing_key = Ed25519SigningKey::Generate(rng);
  if (!signing_key) return std::unexpected(signing_key.error());
  auto fame_keys = fame::Setup();
  if (!fame_keys) return std::unexpected(fame_keys.error());
  auto cert = Certify(sub_namespace, fame_keys->pk, signing_key->public_key(), not_before, not_after);
  if (!cert) return std::unexpected(cert.error());
  std::vector<Certificate> chain = chain_;
  chain.push_back(std::move(*cert));
  return Authority(fame_keys->msk, std::move(*signing_key), std::move(chain));
}

Result<Authority> Authority::FromParts(const fame::MasterKey& master_key, Ed25519SigningKey signing_key,
                                       std::vector<Certificate> chain) {
  if (chain.empty() || chain.size() > kMaxChainLength) {
    return Fail(ErrorCode::kInvalidArgument, "authority: the chain has " + std::to_string(chain.size()) +
                                                 " certificates, outside 1.." +
                                                 std::to_string(kMaxChainLength));
  }
  const Certificate& own = chain.back();
  if (own.signing_key != signing_key.public_key()) {
    return Fail(ErrorCode::kInvalidArgument, "authority " + Quoted(own.authority_namespace) +
                                                 ": the signing key is not the one its certificate names");
  }
  if (!MasterKeyMatches(master_key, own.fame_public_key)) {
    return Fail(ErrorCode::kInvalidArgument,
                "authority " + Quoted(own.authority_namespace) +
                    ": the FAME master key does not belong to the certified public key");
  }
  return Authority(master_key, std::move(signing_key), std::move(chain));
}

Result<UserKey> Authority::IssueUserKey(const AttributeSet& attributes, fame::KeyKind kind) const {
  if (auto ok = CheckAttributesNamespace(attributes, authority_namespace()); !ok)
    return std::unexpected(ok.error());
  auto key = fame::KeyGen(master_key_, attributes.Expanded(), kind);
  if (!key) return std::unexpected(key.error());
  return UserKey{authority_namespace(), public_params_id(), *key};
}

}  // namespace cipherchart::abe
