// Record sections under FAME CP-ABE: the glue between fame.h (the KEM) and the record
// envelope (envelope.h, the DEM and the author's signatures). docs/architecture.md, "Record
// sealing".
//
// Sealing: fame::Encapsulate under the policy gives (ciphertext, 32-byte key); the envelope is
// sealed with scheme id kFameCpAbeSchemeId, the authority's public-parameter id, the policy's
// canonical text, KEM ciphertext = fame::Serialize(ciphertext) and that key, and signed by the
// author. Opening: the envelope authenticates the header (author, record id, version) first;
// only then does its resolver parse the KEM ciphertext and decapsulate with the reader's key, so
// a forged or replayed envelope costs no pairing. Errors are the envelope's (kInvalidEncoding,
// kUnsupported, kIntegrity, kSignerMismatch, kContextMismatch: envelope.h) and, from the
// resolver: kUnsupported for another scheme id, the FAME decoder's code (prefixed "record: KEM
// ciphertext") for a KEM ciphertext that does not parse or whose policy is not the header's, and
// fame::Decapsulate's kInvalidArgument ("... do not satisfy the policy") for a reader whose
// attributes do not satisfy it.
//
// One envelope is under one authority's key: see authority.h. The overloads taking a
// VerifiedAuthority refuse a policy with attributes outside its namespace; those taking a UserKey
// refuse an envelope made under another authority's public parameters before decapsulating.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string_view>
#include <vector>

#include "cipherchart/abe/authority.h"
#include "cipherchart/abe/authority_directory.h"
#include "cipherchart/abe/fame.h"
#include "cipherchart/abe/maabe.h"
#include "cipherchart/abe/policy.h"
#include "cipherchart/common/error.h"
#include "cipherchart/envelope/envelope.h"

namespace cipherchart::abe {

// The envelope scheme id of FAME CP-ABE (docs/formats.md, "Scheme ids").
inline constexpr std::uint16_t kFameCpAbeSchemeId = 0x0001;

// Seals `payload` for `policy` under the authority's FAME public key `pk`, whose
// public-parameter id `public_params_id` must be FamePublicParamsId(pk) (else kInvalidArgument).
// Fails like fame::Encapsulate (an invalid policy) and envelope::SealEnvelope.
Result<std::vector<std::uint8_t>> SealRecordSection(
    const fame::PublicKey& pk, const PublicParamsId& public_params_id, const PolicyNode& policy,
    std::string_view record_id, std::uint64_t record_version, std::span<const std::uint8_t> payload,
    const envelope::Ed25519SigningKey& author, std::uint32_t segment_size = envelope::kDefaultSegmentSize,
    envelope::RandomSource& rng = envelope::OsRandom());
// The same under a verified authority (authority.h, VerifyChain), after CheckPolicyNamespace.
Result<std::vector<std::uint8_t>> SealRecordSection(
    const VerifiedAuthority& authority, const PolicyNode& policy, std::string_view record_id,
    std::uint64_t record_version, std::span<const std::uint8_t> payload,
    const envelope::Ed25519SigningKey& author, std::uint32_t segment_size = envelope::kDefaultSegmentSize,
    envelope::RandomSource& rng = envelope::OsRandom());

// Opens an envelope in memory with the reader's FAME key, expecting this author, record id and
// version. On failure no payload byte is returned.
Result<envelope::OpenedEnvelope> OpenRecordSection(const fame::SecretKey& key,
                                                   std::span<const std::uint8_t> envelope_bytes,
                                                   const envelope::Ed25519PublicKey& expected_author,
                                                   std::string_view expected_record_id,
                                                   std::uint64_t expected_version);
// The same; an authentic envelope under other public parameters than the key's is refused with
// kInvalidArgument ("no key for these public parameters") without decapsulating.
Result<envelope::OpenedEnvelope> OpenRecordSection(const UserKey& key,
                                                   std::span<const std::uint8_t> envelope_bytes,
                                                   const envelope::Ed25519PublicKey& expected_author,
                                                   std::string_view expected_record_id,
                                                   std::uint64_t expected_version);

// ---- multi-authority sections (RW15, maabe.h) ---------------------------------------------------
// The same envelope with scheme id kRw15MaAbeSchemeId; the KEM ciphertext is maabe::Serialize of
// the ciphertext and the public-parameter id is MultiAuthorityParamsId of the authorities it
// uses, so the (signed) header names exactly the authority keys a reader needs. Readers dispatch
// on the header's scheme id: an envelope of the other scheme is refused with kUnsupported.

inline constexpr std::uint16_t kRw15MaAbeSchemeId = 0x0003;

// SHA-256("cipherchart maabe authorities v1" || per authority, in the ciphertext's order:
// u16 namespace length, namespace, 32-byte key id).
Result<PublicParamsId> MultiAuthorityParamsId(std::span<const maabe::CiphertextAuthority> authorities);

// Seals `payload` for a policy that may span authorities, each resolved through the verified
// directory at `now` (unknown or unverified namespaces are refused: AuthorityDirectory::Resolve).
Result<std::vector<std::uint8_t>> SealRecordSection(
    const AuthorityDirectory& directory, std::uint64_t now, const PolicyNode& policy,
    std::string_view record_id, std::uint64_t record_version, std::span<const std::uint8_t> payload,
    const envelope::Ed25519SigningKey& author, std::uint32_t segment_size = envelope::kDefaultSegmentSize,
    envelope::RandomSource& rng = envelope::OsRandom());

// Opens a multi-authority envelope with one identity's keys. Besides the envelope's errors:
// kUnsupported for another scheme id, kInvalidEncoding for a KEM ciphertext that does not parse,
// whose policy is not the header's or whose authorities are not the header's parameter id,
// maabe::Decapsulate's kInvalidArgument for keys that do not satisfy the policy.
Result<envelope::OpenedEnvelope> OpenRecordSection(const maabe::UserKey& key,
                                                   std::span<const std::uint8_t> envelope_bytes,
                                                   const envelope::Ed25519PublicKey& expected_author,
                                                   std::string_view expected_record_id,
                                                   std::uint64_t expected_version);

// ---- either scheme: one reader interface ----------------------------------------------------------
// The keys a reader holds: FAME keys from any number of authorities, and multi-authority keys
// (normally one: one identity's keys from any number of authorities; more when an authority has
// rotated its key, since one UserKey holds one key per authority).
struct ReaderKeys {
  std::vector<UserKey> fame;
  std::vector<maabe::UserKey> multi_authority;
};
// Opens an envelope of either scheme: by the (authenticated) header's scheme id, with the FAME
// key whose public-parameter id the header names, or with the first multi-authority key whose
// attributes satisfy the policy under the authority keys the ciphertext names. Errors as the
// scheme-specific overloads, plus kInvalidArgument when the reader has no key of the envelope's
// kind ("record: no FAME key for the public parameters ..."), kUnsupported for another scheme id.
Result<envelope::OpenedEnvelope> OpenRecordSection(const ReaderKeys& keys,
                                                   std::span<const std::uint8_t> envelope_bytes,
                                                   const envelope::Ed25519PublicKey& expected_author,
                                                   std::string_view expected_record_id,
                                                   std::uint64_t expected_version);

// ---- streaming: file to file in constant memory ------------------------------------------------

// Seals the file `payload_path` into `envelope_path` (written atomically, mode 0600), holding one
// segment at a time. Fails like SealRecordSection, or kInvalidArgument for a file that cannot be
// read or written (then `envelope_path` is left as it was).
Result<void> SealRecordSectionFile(const fame::PublicKey& pk, const PublicParamsId& public_params_id,
                                   const PolicyNode& policy, std::string_view record_id,
                                   std::uint64_t record_version, const std::filesystem::path& payload_path,
                                   const std::filesystem::path& envelope_path,
                                   const envelope::Ed25519SigningKey& author,
                                   std::uint32_t segment_size = envelope::kDefaultSegmentSize,
                                   envelope::RandomSource& rng = envelope::OsRandom());

// Opens the envelope file `envelope_path` into `payload_path`. The payload goes to a temporary
// file (mode 0600) that is renamed to `payload_path` only after the whole envelope, final
// signature included, has verified: on any failure `payload_path` is left as it was and no
// unverified plaintext remains on disk. Returns the (now authenticated) header.
Result<envelope::EnvelopeHeader> OpenRecordSectionFile(const fame::SecretKey& key,
                                                       const std::filesystem::path& envelope_path,
                                                       const std::filesystem::path& payload_path,
                                                       const envelope::Ed25519PublicKey& expected_author,
                                                       std::string_view expected_record_id,
                                                       std::uint64_t expected_version);

}  // namespace cipherchart::abe
