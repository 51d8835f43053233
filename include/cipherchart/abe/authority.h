// Attribute authorities and their certificates (docs/architecture.md, "Authorities";
// docs/formats.md, "Authority certificate" and "Certificate chain").
//
// An authority owns a namespace of attributes ("hospital_a": every attribute it vouches for is
// named "hospital_a.<name>[:<value>]"), a FAME CP-ABE key pair (fame::Setup) under which
// ciphertexts for its attributes are made and with which it issues user keys, and an Ed25519
// signing key with which it certifies sub-authorities. A root authority certifies itself; an
// authority certifies a sub-authority for a namespace strictly below its own
// ("hospital_a.cardiology" under "hospital_a"), which gets its own, independent FAME key pair
// and signing key. So the certificate chain root -> ... -> leaf proves which FAME public key
// speaks for which namespace, and an encryptor who trusts the root's signing key (a
// TrustedRoot, configured out of band) can check it with VerifyChain before encrypting.
//
// One FAME ciphertext is made under ONE authority's public key: its policy may only use
// attributes of that authority's namespace (CheckPolicyNamespace), and a reader needs a key
// from that same authority. The same attribute string under two authorities' keys gives
// unrelated ciphertexts and keys; the envelope's public-parameter id says which key was used.
// A policy that spans authorities ("hospital_a.role:doctor AND board.licensed:yes") needs
// multi-authority ABE (issue 5) and is refused here.
//
// Namespaces use the policy language's name syntax (docs/policy.md): one or more
// dot-separated parts, each written as in canonical policy text (bare "hospital_a", or quoted
// "\"hospital a\""), without a ":value". An attribute or numeric name is in namespace N when its
// canonical text starts with N followed by '.', i.e. its name has N's parts and at least one more.
//
// Certificates are authenticated by signatures, decoded with precise errors (field name and
// offset) and verified against trusted roots and a time; the master key and the signing key are
// secrets that never leave this object except through keystore.h (passphrase-sealed).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cipherchart/abe/fame.h"
#include "cipherchart/abe/policy.h"
#include "cipherchart/common/error.h"
#include "cipherchart/envelope/envelope.h"
#include "cipherchart/envelope/random_source.h"
#include "cipherchart/envelope/signature.h"

namespace cipherchart::abe {

using envelope::PublicParamsId;

inline constexpr std::array<std::uint8_t, 4> kCertificateMagic = {'C', 'C', 'A', 'C'};
inline constexpr std::uint8_t kCertificateVersion = 1;
inline constexpr std::array<std::uint8_t, 4> kChainMagic = {'C', 'C', 'C', 'H'};
inline constexpr std::uint8_t kChainVersion = 1;

inline constexpr std::size_t kMaxNamespaceSize = 256;                // bytes, at least 1
inline constexpr std::size_t kMaxCertifiedPublicKeySize = 1u << 16;  // the FAME public key field
inline constexpr std::size_t kMaxChainLength = 16;                   // certificates, at least 1
// Everything but the three variable fields, then the largest certificate.
inline constexpr std::size_t kCertificateFixedSize = 4 + 1 + 2 + 32 + 4 + envelope::kEd25519PublicKeySize +
                                                     2 + 8 + 8 + envelope::kEd25519SignatureSize;  // 157
inline constexpr std::size_t kMaxCertificateSize =
    kCertificateFixedSize + 2 * kMaxNamespaceSize + kMaxCertifiedPublicKeySize;

// Signature label: the issuer signs label || SHA-256(certificate without its signature).
inline constexpr std::string_view kCertificateSignatureLabel = "cipherchart/authority-certificate/v1";

// ---- namespaces ----------------------------------------------------------------------------------

// Succeeds if `ns` is a namespace as described above, in canonical form, of at most
// kMaxNamespaceSize bytes; kInvalidArgument says why not ("authority namespace: ...").
Result<void> ValidateNamespace(std::string_view ns);

// Whether `child` is strictly below `parent` ("a.b.c" and "a.b" are below "a"; "a", "ab.c" are
// not). Both are assumed valid namespaces; the same test is what puts attributes in a namespace.
bool IsBelowNamespace(std::string_view child, std::string_view parent);

// Refuses (kInvalidArgument, naming the first offending attribute) a policy with an attribute
// or comparison whose name is not in `authority_namespace`, and an invalid namespace.
Result<void> CheckPolicyNamespace(const PolicyNode& policy, std::string_view authority_namespace);
// The same for a key's attributes (plain attributes and numeric names).
Result<void> CheckAttributesNamespace(const AttributeSet& attributes, std::string_view authority_namespace);

// SHA-256 of fame::Serialize(pk): the public-parameter id that names an authority's FAME key
// in certificates and envelopes.
Result<PublicParamsId> FamePublicParamsId(const fame::PublicKey& pk);

// ---- certificates --------------------------------------------------------------------------------

// What an issuer vouches for: "the FAME public key (whose id is public_params_id) and the
// Ed25519 key `signing_key` speak for `authority_namespace` from not_before to not_after".
struct Certificate {
  std::string authority_namespace;  // the subject
  PublicParamsId public_params_id{};
  fame::PublicKey fame_public_key;
  envelope::Ed25519PublicKey signing_key{};
  std::string issuer_namespace;  // the subject's own namespace for a root (self-signed)
  std::uint64_t not_before = 0;  // unix seconds, inclusive
  std::uint64_t not_after = 0;   // unix seconds, inclusive
  envelope::Ed25519Signature signature{};

  bool self_signed() const { return issuer_namespace == authority_namespace; }
};

// Signs a certificate for `subject_namespace` with the issuer's key. The subject must be the
// issuer itself (a root: then `subject_signing_key` must be the issuer's public key) or
// strictly below it; namespaces valid; not_before <= not_after. Fails with kInvalidArgument
// otherwise, or kInternal.
Result<Certificate> IssueCertificate(std::string_view subject_namespace,
                                     const fame::PublicKey& subject_fame_key,
                                     const envelope::Ed25519PublicKey& subject_signing_key,
                                     std::string_view issuer_namespace,
                                     const envelope::Ed25519SigningKey& issuer_key, std::uint64_t not_before,
                                     std::uint64_t not_after);

// The message the issuer signs: kCertificateSignatureLabel || SHA-256(encoding without the
// signature). For signing with a key held elsewhere (an HSM). Fails like EncodeCertificate.
Result<std::vector<std::uint8_t>> CertificateSignedMessage(const Certificate& cert);

// The encoding of docs/formats.md. Fails (kInvalidArgument) for fields out of bounds. Checks
// neither the signature nor the public-parameter id (ParseCertificate does the latter).
Result<std::vector<std::uint8_t>> EncodeCertificate(const Certificate& cert);
// Decodes a certificate: kInvalidEncoding with field and offset (including a namespace that is
// not valid, a public-parameter id that is not the FAME key's, not_before > not_after, trailing
// bytes), kUnsupported for another version, the pairing decoder's code for a bad group
// element of the FAME key. Authenticates nothing: that is VerifyChain's job.
Result<Certificate> ParseCertificate(std::span<const std::uint8_t> bytes);

// A chain: the root's self-signed certificate first, each next one issued by the one before,
// the authority the chain is for last. 1 ..= kMaxChainLength certificates.
Result<std::vector<std::uint8_t>> EncodeChain(std::span<const Certificate> chain);
Result<std::vector<Certificate>> ParseChain(std::span<const std::uint8_t> bytes);

// A root the verifier trusts: its namespace and its signing key (configured out of band). Both
// must match: a trusted key does not vouch for another namespace.
struct TrustedRoot {
  std::string authority_namespace;
  envelope::Ed25519PublicKey signing_key{};
};

// What a verified chain says about its last authority.
struct VerifiedAuthority {
  std::string authority_namespace;
  fame::PublicKey public_key;
  PublicParamsId public_params_id{};
  envelope::Ed25519PublicKey signing_key{};
};

// Verifies a chain at time `now` (unix seconds). Checks, in this order, for the root and then for
// each next certificate, and fails with the first that does not hold:
//   - the chain has 1 ..= kMaxChainLength certificates (kInvalidArgument);
//   - the first is self-signed (kInvalidArgument) and its namespace and key are those of a
//     trusted root (kSignerMismatch: "unknown root");
//   - each next certificate names the previous one's namespace as its issuer (kSignerMismatch:
//     "wrong issuer");
//   - its public-parameter id is its FAME key's (kInvalidArgument; only a hand-built
//     Certificate can fail this: ParseCertificate checks it);
//   - its signature verifies under its issuer's key (kIntegrity);
//   - its namespace is strictly below its issuer's (kSignerMismatch: the issuer may not speak
//     for it);
//   - not_before <= now <= not_after (kContextMismatch: "expired" or "not yet valid").
Result<VerifiedAuthority> VerifyChain(std::span<const Certificate> chain,
                                      std::span<const TrustedRoot> trusted_roots, std::uint64_t now);
// ParseChain then VerifyChain.
Result<VerifiedAuthority> ParseAndVerifyChain(std::span<const std::uint8_t> chain_bytes,
                                              std::span<const TrustedRoot> trusted_roots, std::uint64_t now);

// The trust anchor a root certificate stands for (to hand to encryptors out of band).
TrustedRoot TrustedRootOf(const Certificate& root_certificate);

// ---- authorities ---------------------------------------------------------------------------------

// A user's FAME key with the authority it came from (so a reader can pick the right key for an
// envelope's public-parameter id).
struct UserKey {
  std::string authority_namespace;
  PublicParamsId public_params_id{};
  fame::SecretKey key;
};

class Authority {
 public:
  // A new root authority: fresh FAME keys, a fresh Ed25519 key from `rng`, and a self-signed
  // certificate valid from not_before to not_after. kInvalidArgument for a bad namespace or
  // validity; kRandomnessFailure; kInternal.
  static Result<Authority> CreateRoot(std::string_view authority_namespace, std::uint64_t not_before,
                                      std::uint64_t not_after,
                                      envelope::RandomSource& rng = envelope::OsRandom());

  // A new sub-authority for `sub_namespace`, strictly below this one's (else kInvalidArgument),
  // with fresh keys, certified by this authority; its chain is this one's plus the new
  // certificate. Use Certify instead when the sub-authority makes its own keys elsewhere.
  Result<Authority> CreateSubAuthority(std::string_view sub_namespace, std::uint64_t not_before,
                                       std::uint64_t not_after,
                                       envelope::RandomSource& rng = envelope::OsRandom()) const;

  // Certifies another authority's public keys for `sub_namespace` (strictly below this one's).
  Result<Certificate> Certify(std::string_view sub_namespace, const fame::PublicKey& fame_key,
                              const envelope::Ed25519PublicKey& signing_key, std::uint64_t not_before,
                              std::uint64_t not_after) const;

  // Reassembles an authority (keystore.h): the namespace and FAME public key are the last
  // certificate's. Fails with kInvalidArgument if the chain is empty, its last certificate is for
  // another signing key, or the master key does not belong to its FAME public key.
  static Result<Authority> FromParts(const fame::MasterKey& master_key,
                                     envelope::Ed25519SigningKey signing_key, std::vector<Certificate> chain);

  // A user key for `attributes`, all of which must be in this authority's namespace
  // (kInvalidArgument naming the first that is not); `kind` as for fame::KeyGen.
  Result<UserKey> IssueUserKey(const AttributeSet& attributes,
                               fame::KeyKind kind = fame::KeyKind::kStandard) const;

  Authority(Authority&&) noexcept;
  Authority& operator=(Authority&&) noexcept;
  ~Authority();

  const std::string& authority_namespace() const { return chain_.back().authority_namespace; }
  const fame::PublicKey& public_key() const { return chain_.back().fame_public_key; }
  const PublicParamsId& public_params_id() const { return chain_.back().public_params_id; }
  const fame::MasterKey& master_key() const { return master_key_; }
  const envelope::Ed25519SigningKey& signing_key() const { return signing_key_; }
  // Root first, this authority's own certificate last.
  const std::vector<Certificate>& chain() const { return chain_; }
  const Certificate& certificate() const { return chain_.back(); }

 private:
  Authority(const fame::MasterKey& master_key, envelope::Ed25519SigningKey signing_key,
            std::vector<Certificate> chain);
  fame::MasterKey master_key_;
  envelope::Ed25519SigningKey signing_key_;
  std::vector<Certificate> chain_;
};

}  // namespace cipherchart::abe
