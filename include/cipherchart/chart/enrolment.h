// Enrolment (docs/formats.md, "Owner authority"; docs/threat-model.md, "Enrolment"): the
// registering practitioner makes the patient's pseudonym, a one-time code, and the patient's
// personal-domain authority (namespace patient_<id>); its public part is published as the
// owner-directory record, its secrets are sealed under the code as the owner-authority record.
// The patient takes them with the code, checks them against the published part, and deletes
// the sealed copy. The server sees only EnrolmentProof(code), never the code.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "cipherchart/abe/authority.h"
#include "cipherchart/abe/maabe.h"
#include "cipherchart/chart/server_port.h"
#include "cipherchart/chart/wallet.h"
#include "cipherchart/common/error.h"
#include "cipherchart/common/secret.h"

namespace cipherchart::chart {

// How long a patient's personal-domain authority (its certificate and key statement) is valid:
// 20 years from registration, back-dated 5 minutes for clock skew.
inline constexpr std::uint64_t kPersonalAuthorityValiditySeconds = 20ULL * 365 * 86400;
inline constexpr std::uint64_t kClockSkewSeconds = 300;

// The owner-authority record: the patient's FAME authority keystore and RW15 master-key
// keystore, each sealed (Argon2id) under the enrolment code.
//   v1:     "CCOA" | u8 version = 1 | u32 n | n bytes FAME keystore | u32 m | m bytes RW15 keystore
//   legacy: u32 n | n bytes | u32 m | m bytes (records written before the magic; read only)
struct SealedOwnerAuthority {
  std::vector<std::uint8_t> fame_keystore, multi_authority_keystore;
};
std::vector<std::uint8_t> EncodeOwnerAuthority(const SealedOwnerAuthority& sealed);
// kInvalidEncoding (naming the field) for anything malformed, in either form.
Result<SealedOwnerAuthority> ParseOwnerAuthority(std::span<const std::uint8_t> record);

// What the registering practitioner's client makes for a new patient.
struct NewPatient {
  std::string patient_id;
  std::string enrolment_code;  // shown once to the practitioner, for the patient
};

// Creates the patient on the server (bound to EnrolmentProof(code)), then publishes the
// personal authority's owner-directory (signed by `author`) and stores its sealed secrets
// (owner-authority). The authority's secrets are forgotten when this returns.
Result<NewPatient> CreatePatient(ServerPort& server, const envelope::Ed25519SigningKey& author,
                                 std::uint64_t now_seconds);

// Opens the sealed RW15 master key of `patient_id`'s personal authority with the code.
// kIntegrity for a record that does not open with this code or names another namespace.
Result<abe::maabe::AuthorityKeyPair> OpenOwnerAuthority(std::span<const std::uint8_t> record,
                                                        const SecretBytes& code,
                                                        const std::string& patient_id);

// The patient's side, on a `server` logged in as the patient's new account (`identity`, with a
// fresh wallet): proves the code to the server (a wrong or used code is kPermissionDenied or
// kConflict), opens the sealed authority, checks it against the published owner-directory
// (kIntegrity if they differ), issues the patient's own "<ns>.owner" key into the wallet, keeps
// the authority's master key there. The caller saves the wallet, then calls
// DeleteSealedAuthority: deleting first would lose the authority if the save failed.
struct Enrolled {
  std::vector<std::string> warnings;
};
Result<Enrolled> Enrol(ServerPort& server, Identity& identity, const std::string& patient_id,
                       const SecretBytes& code, const std::vector<abe::TrustedRoot>& roots);
// Deletes the owner-authority record once the enrolled patient's wallet is saved, so that
// whoever sees the code later (on paper, in a shell history) finds nothing to open. Its author
// may have kept the keys: docs/threat-model.md.
Result<void> DeleteSealedAuthority(ServerPort& server, const std::string& patient_id);

}  // namespace cipherchart::chart
