// Identifier grammars shared by the server and its clients (docs/api.md, "Identifiers"): user
// and key-package ids, patient pseudonyms, record ids and the record kinds of a chart, the
// one-time enrolment code. One Crockford base32 alphabet serves all of them.
#pragma once

#include <string>
#include <string_view>

#include "cipherchart/common/error.h"

namespace cipherchart::protocol {

// Crockford base32 (no I, L, O, U); the check alphabet adds five symbols for values 32..36.
inline constexpr std::string_view kCrockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
inline constexpr std::string_view kCrockfordCheck = "0123456789ABCDEFGHJKMNPQRSTVWXYZ*~$=U";

// "u" + 26 lowercase Crockford characters (130 random bits): user ids.
Result<std::string> NewUserId();
bool IsValidUserId(std::string_view id);
// "k" + 26 characters: key package ids.
Result<std::string> NewPackageId();
bool IsValidPackageId(std::string_view id);

// A patient pseudonym: 80 random bits as 16 Crockford characters in four groups of four, then a
// check character (the value mod 37), e.g. "PKV7-2M9Q-XR4T-0HBD-Y". It carries no identity.
Result<std::string> NewPatientId();
// True for a well-formed pseudonym whose check character matches (upper case, with dashes).
bool IsValidPatientId(std::string_view id);
// The patient's personal-domain authority namespace: "PKV7-2M9Q-XR4T-0HBD-Y" ->
// "patient_pkv72m9qxr4t0hbd" (the 16 characters, lowercase; the check character may be '*'
// and adds nothing unique).
std::string PatientNamespace(std::string_view patient_id);

// Record ids on the server: 1..64 characters of [A-Za-z0-9._-], not "." or "..".
bool IsValidRecordId(std::string_view id);

// The record kinds of a chart (docs/data-model.md, "Storage layout").
inline constexpr std::string_view kOwnerDirectoryRecord = "owner-directory";
inline constexpr std::string_view kOwnerAuthorityRecord = "owner-authority";
inline constexpr std::string_view kEntryPrefix = "e.";        // "e." + 24 hex digits
inline constexpr std::string_view kAttachmentPrefix = "a.";   // "a." + 24 hex digits
inline constexpr std::string_view kSectionKeyPrefix = "sk.";  // "sk.<section>.<n>"
enum class RecordKind { kEntry, kAttachment, kSectionKey, kOwnerDirectory, kOwnerAuthority, kOther };
RecordKind KindOf(std::string_view record_id);
// A fresh "e.<24 hex>" or "a.<24 hex>" (96 random bits).
Result<std::string> NewEntryId();
Result<std::string> NewAttachmentId();
// "sk.<section>.<n>".
std::string SectionKeyRecordId(std::string_view section, unsigned n);

// The one-time enrolment code: 20 Crockford characters (100 bits) in groups of five.
Result<std::string> NewEnrolmentCode();
// The code as a person types it: case-insensitive, look-alikes read as digits (O = 0, I and
// L = 1), white space ignored. Empty if nothing is left.
std::string NormaliseEnrolmentCode(std::string_view typed);

}  // namespace cipherchart::protocol
