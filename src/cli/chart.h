// A patient's chart on the server, as the CLI reads and writes it (docs/data-model.md, "Storage
// layout"). Per patient pseudonym the server holds:
//   owner-directory   the patient's personal-domain authority (namespace patient_<id>): its
//                     certificate chain and key statement (CCMD), in a signed public envelope
//   owner-authority   that authority's secrets, sealed under the one-time enrolment code
//   sk.<section>.<n>  a section key: 32 random bytes, sealed with multi-authority ABE under the
//                     section's policy (envelope scheme 0x0003) and signed by its author
//   e.<hex>           an entry: FHIR resources of one section, encrypted under a key derived
//                     from a section key (envelope scheme 0x0010, which names the section key
//                     record) and signed by its author
// So a reader runs one ABE decryption per section key, not per entry, and a writer who can open
// a section's current key reuses it; one who cannot (or whose policy file says otherwise) makes
// a new one.
#pragma once
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "cipherchart/abe/authority_directory.h"
#include "cipherchart/abe/maabe.h"
#include "cipherchart/envelope/signature.h"
#include "cipherchart/fhir/fhir.h"
#include "src/cli/session.h"

namespace cipherchart::cli {

inline constexpr std::uint16_t kSectionKeyEntrySchemeId = 0x0010;
inline constexpr std::uint16_t kPublicRecordSchemeId = 0x0011;
inline constexpr std::string_view kOwnerDirectoryRecord = "owner-directory";
inline constexpr std::string_view kOwnerAuthorityRecord = "owner-authority";
// The pseudo-section of de-identified copies for researchers.
inline constexpr std::string_view kResearchSection = "research";

// "PKV7-2M9Q-XR4T-0HBD-Y" -> "patient_pkv72m9qxr4t0hbd" (without the check character).
std::string PatientNamespace(std::string_view patient_id);

// What the server sees of a one-time enrolment code: SHA-256("cipherchart enrolment proof v1"
// || 0x00 || code), hex. The server stores the SHA-256 of this proof at registration and checks
// it at enrolment; the code itself, which seals the patient's personal-domain authority
// (owner-authority), never reaches the server, so the server cannot open that seal (100-bit code).
Result<std::string> EnrolmentProof(std::string_view code);

// The account behind a user id, as GET /v1/accounts/{id} says.
struct AccountInfo {
  std::string user_id, role, state, organisation, name;
  envelope::Ed25519PublicKey identity_key{};
  X25519PublicKey delivery_key{};
};
Result<AccountInfo> LookUpAccount(Session& s, const std::string& user_id);

// A public record (scheme 0x0011): signed, not secret.
Result<std::vector<std::uint8_t>> SealPublicRecord(std::string_view record_id,
                                                   std::span<const std::uint8_t> payload,
                                                   const envelope::Ed25519SigningKey& author);
Result<std::vector<std::uint8_t>> OpenPublicRecord(std::span<const std::uint8_t> envelope_bytes,
                                                   std::string_view record_id,
                                                   const envelope::Ed25519PublicKey& author);

// The verified authority directory an encryptor uses: every server entry that verifies against
// `roots` (others are skipped with a warning), plus, when `patient_id` is given, the patient's
// own authority from its owner-directory record (trusted for its namespace only, and only if a
// practitioner wrote it).
Result<abe::AuthorityDirectory> LoadDirectory(Session& s, const std::vector<abe::TrustedRoot>& roots,
                                              const std::string& patient_id,
                                              std::vector<std::string>& warnings);

struct ChartEntry {
  std::string record_id;
  std::uint64_t version = 0;
  std::string section;
  std::string author_id, author_name;
  std::string created_at;
  enum class State { kOpened, kNoAccess, kTampered, kError } state = State::kError;
  nlohmann::json payload;  // {"kind", "resources": [...]} once opened
  std::string detail;      // why not opened
};
std::string_view StateName(ChartEntry::State s);

struct ReadOptions {
  bool outsourced = false;         // decrypt section keys through a transform key (RW15 outsourcing)
  int connections = 4;             // parallel downloads
  std::set<std::string> sections;  // only these (empty: all)
};
struct ReadStats {
  std::size_t records = 0, section_keys_opened = 0, entries_opened = 0;
  double list_ms = 0, fetch_ms = 0, abe_ms = 0, transform_ms = 0;
};
Result<std::vector<ChartEntry>> ReadChart(const Settings& settings, const std::string& user_id,
                                          const envelope::Ed25519SigningKey& identity,
                                          const std::string& patient_id, const abe::maabe::UserKey& keys,
                                          const ReadOptions& options, ReadStats* stats = nullptr);

// An attachment: a file of any size in its own record "a.<24 hex>" of the attachments section,
// sealed like an entry (scheme 0x0010: the key derives from the writer's attachments section
// key and the record id; the envelope names the section key record) and signed by its author,
// streamed in both directions. The chart entry that goes with it holds a FHIR DocumentReference
// whose attachment url is "cipherchart:attachment/<record id>".
struct AttachmentRef {
  std::string record_id;
  std::uint64_t size = 0;
  std::string sha1_base64;  // FHIR Attachment.hash (base64 SHA-1 of the content)
};
inline constexpr std::string_view kAttachmentUrlPrefix = "cipherchart:attachment/";
// Downloads attachment `record_id` of `patient_id` and opens it into `out_path`: the plaintext
// goes to "<out_path>.partial" and is renamed only once the envelope's final signature has
// verified, so a tampered or truncated attachment leaves no file (kIntegrity-class error).
// Returns the size written.
Result<std::uint64_t> FetchAttachment(const Settings& settings, const std::string& user_id,
                                      const envelope::Ed25519SigningKey& identity,
                                      const std::string& patient_id, const abe::maabe::UserKey& keys,
                                      const std::string& record_id, const std::string& out_path);

// Writes entries of one patient. Section policies come from the policy file with the variables
// {patient_ns} and {org} (the author's organisation namespace).
class ChartWriter {
 public:
  ChartWriter(Session& session, std::string patient_id, const envelope::Ed25519SigningKey& author,
              abe::AuthorityDirectory directory, fhir::PolicyFile policies, std::string organisation,
              const abe::maabe::UserKey* reader_keys);
  // Appends one entry (`payload` = {"kind", "resources"}) to `section` ("research" for the
  // de-identified copies); returns its record id.
  Result<std::string> AddEntry(const std::string& section, const nlohmann::json& payload);
  // Streams the file at `path` (any size, constant memory) into a new attachment record of the
  // attachments section; see AttachmentRef.
  Result<AttachmentRef> AddAttachment(const std::string& path);
  std::size_t section_keys_made() const { return made_; }
  const fhir::PolicyFile& policies() const { return policies_; }

 private:
  struct SectionKey {
    std::string record_id;
    SecretBytes key;
  };
  Result<const SectionKey*> KeyFor(const std::string& section);
  Result<std::string> PolicyFor(const std::string& section);
  Session& session_;
  std::string patient_id_;
  const envelope::Ed25519SigningKey& author_;
  abe::AuthorityDirectory directory_;
  fhir::PolicyFile policies_;
  std::string organisation_;
  const abe::maabe::UserKey* reader_;
  bool listed_ = false;
  std::map<std::string, std::vector<nlohmann::json>> existing_;  // section -> its sk records (listing)
  std::map<std::string, SectionKey> keys_;
  std::size_t made_ = 0;
};

// Entry records use the section's name in the envelope's policy field (authenticated) and on
// the server's X-CipherChart-Section header (metadata only).
Result<SecretBytes> EntryKey(const SecretBytes& section_key, std::string_view entry_id);
envelope::PublicParamsId SectionKeyId(const SecretBytes& section_key);
// "e." + 24 hex digits (96 random bits).
Result<std::string> NewEntryId();

}  // namespace cipherchart::cli
