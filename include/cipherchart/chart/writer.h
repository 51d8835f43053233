// Writing a chart (docs/architecture.md, "Data flow: a chart write"): entries of FHIR
// resources, each in its section, encrypted under a section key the writer made (sealed with
// multi-authority ABE under the section's policy from the policy file) and signed by the
// author; attachments streamed into their own records; de-identified copies for researchers.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cipherchart/abe/authority_directory.h"
#include "cipherchart/abe/maabe.h"
#include "cipherchart/chart/server_port.h"
#include "cipherchart/chart/wallet.h"
#include "cipherchart/common/secret.h"
#include "cipherchart/envelope/signature.h"
#include "cipherchart/fhir/fhir.h"

namespace cipherchart::chart {

// An attachment record: its id, size and FHIR Attachment.hash (base64 SHA-1 of the content).
struct AttachmentRef {
  std::string record_id;
  std::uint64_t size = 0;
  std::string sha1_base64;
};

// Called after each entry written, with (done, total): a front end's progress bar.
using ProgressFn = std::function<void(std::size_t done, std::size_t total)>;

// How a batch of resources becomes entries.
enum class Batching {
  kBySection,   // one entry per section (an import: the history shows it as one event)
  kByResource,  // one entry per resource (a batch of additions: one history line each)
};

class ChartWriter {
 public:
  // `server` is logged in as `author_id`; `reader_keys` (may be null) are the writer's own
  // attribute keys, with which it reuses a section key it made earlier instead of making one
  // per write.
  ChartWriter(ServerPort& server, std::string patient_id, std::string author_id,
              const envelope::Ed25519SigningKey& author, abe::AuthorityDirectory directory,
              fhir::PolicyFile policies, std::string organisation, const abe::maabe::UserKey* reader_keys);

  // Appends one entry (`payload` = {"kind", "resources"}) to `section` ("research" for the
  // de-identified copies); returns its record id.
  Result<std::string> AddEntry(const std::string& section, const nlohmann::json& payload);
  // Streams the file at `path` (any size, constant memory) into a new attachment record.
  Result<AttachmentRef> AddAttachment(const std::filesystem::path& path);

  // Writes `resources` (of entry kind `kind`: "import", "prescription", ...) section by section,
  // plus one de-identified copy (Safe Harbor, fresh salt) of what went to researcher sections.
  // `sections`, when given, is each resource's section (already checked); else it is derived.
  // Returns the number of entries written.
  Result<std::size_t> WriteResources(const std::vector<nlohmann::json>& resources, const std::string& kind,
                                     Batching batching, const ProgressFn& progress = {},
                                     const std::vector<fhir::Section>& sections = {});

  std::size_t section_keys_made() const { return made_; }

 private:
  struct SectionKey {
    std::string record_id;
    SecretBytes key;
  };
  Result<const SectionKey*> KeyFor(const std::string& section);
  Result<std::string> PolicyFor(const std::string& section);
  Result<std::size_t> WriteResearchCopy(const std::vector<nlohmann::json>& research, const std::string& kind);
  ServerPort& server_;
  std::string patient_id_, author_id_;
  const envelope::Ed25519SigningKey& author_;
  abe::AuthorityDirectory directory_;
  fhir::PolicyFile policies_;
  std::string organisation_;
  const abe::maabe::UserKey* reader_;
  bool listed_ = false;
  std::map<std::string, std::vector<RecordInfo>> existing_;  // section -> its section key records
  std::map<std::string, SectionKey> keys_;
  std::size_t made_ = 0;
};

// The resources of a new patient's chart: the entries of the FHIR Bundle at `bundle`, or else the
// Patient at `patient` followed by the resources at `more`. Errors name the file.
Result<std::vector<nlohmann::json>> ReadPatientResources(const std::string& bundle,
                                                         const std::string& patient,
                                                         const std::vector<std::string>& more);

// A writer for `identity` on `patient_id`'s chart: the directory verified against `roots` plus
// the patient's own authority (warnings for skipped entries), the section `policies`, and the
// writer's own keys for section-key reuse. `server` and `identity` must outlive the writer.
Result<std::unique_ptr<ChartWriter>> OpenWriter(ServerPort& server, const Identity& identity,
                                                const std::vector<abe::TrustedRoot>& roots,
                                                fhir::PolicyFile policies, const std::string& patient_id,
                                                std::vector<std::string>& warnings);

// A FHIR DocumentReference that points at `ref` (url cipherchart:attachment/<id>), titled with
// the file name, typed from its extension, and related to `about` when it has an id.
nlohmann::json AttachmentReference(const AttachmentRef& ref, const std::filesystem::path& file,
                                   const nlohmann::json& about, std::string_view kind);

}  // namespace cipherchart::chart
