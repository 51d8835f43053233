// How a chart's records are sealed (docs/formats.md, "Chart records"; docs/data-model.md,
// "Storage layout"). Per patient pseudonym the server holds:
//   owner-directory   the patient's personal-domain authority (namespace patient_<id>): its
//                     certificate chain and key statement (CCMD), in a signed public envelope
//                     (scheme 0x0011)
//   owner-authority   that authority's secrets, sealed under the one-time enrolment code
//                     (enrolment.h)
//   sk.<section>.<n>  a section key: 32 random bytes, sealed with multi-authority ABE under the
//                     section's policy (envelope scheme 0x0003) and signed by its author
//   e.<hex>           an entry: FHIR resources of one section, encrypted under a key derived
//                     from a section key (scheme 0x0010, which names the section key record)
//                     and signed by its author
//   a.<hex>           an attachment: a file of any size, sealed like an entry, streamed
// So a reader runs one ABE decryption per section key, not per entry.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cipherchart/common/error.h"
#include "cipherchart/common/secret.h"
#include "cipherchart/envelope/envelope.h"
#include "cipherchart/envelope/signature.h"
#include "cipherchart/protocol/ids.h"
#include "cipherchart/protocol/labels.h"

namespace cipherchart::chart {

using protocol::kOwnerAuthorityRecord;
using protocol::kOwnerDirectoryRecord;
using protocol::kPublicRecordSchemeId;
using protocol::kSectionKeyEntrySchemeId;
using protocol::PatientNamespace;

// The pseudo-section of de-identified copies for researchers.
inline constexpr std::string_view kResearchSection = "research";
// The section attachments go to.
inline constexpr std::string_view kAttachmentsSection = "attachments";
// A DocumentReference's Attachment.url for an attachment record.
inline constexpr std::string_view kAttachmentUrlPrefix = "cipherchart:attachment/";

// What the server sees of a one-time enrolment code: SHA-256(label || 0x00 || code), hex. The
// server stores the SHA-256 of this proof at registration and checks it at enrolment; the code
// itself, which seals the patient's personal-domain authority, never reaches the server.
Result<std::string> EnrolmentProof(std::string_view code);

// An entry's key: HKDF-SHA-256(section key, info = label || entry id).
Result<SecretBytes> EntryKey(const SecretBytes& section_key, std::string_view entry_id);
// The public-parameter id an entry names its section key by: SHA-256(label || section key).
envelope::PublicParamsId SectionKeyId(const SecretBytes& section_key);

// A public record (scheme 0x0011): signed, not secret.
Result<std::vector<std::uint8_t>> SealPublicRecord(std::string_view record_id,
                                                   std::span<const std::uint8_t> payload,
                                                   const envelope::Ed25519SigningKey& author);
Result<std::vector<std::uint8_t>> OpenPublicRecord(std::span<const std::uint8_t> envelope_bytes,
                                                   std::string_view record_id,
                                                   const envelope::Ed25519PublicKey& author);

// `r`'s error with "<context>: " before its message (same code).
template <class T>
std::unexpected<Error> WithContext(const Result<T>& r, const std::string& context) {
  return std::unexpected(Error(r.error().code(), context + ": " + r.error().message()));
}

// Errors that mean "this record is not what its author wrote", as opposed to "not for you".
bool IsIntegrityError(const Error& e);

}  // namespace cipherchart::chart
