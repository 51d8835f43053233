// The chart library's one way to the storage server (docs/api.md), in the spirit of LevelDB's
// Env: every operation the product layer needs, typed, with the server's answers turned into
// Results. Two implementations: HttpServerPort (http_server_port.h: the real server over TLS)
// and FakeServer (src/chart/testing/fake_server.h: in memory, for unit tests, enforcing the same
// authorisation and versioning rules; one conformance suite runs against both).
//
// Errors: a refusal by the server is kPermissionDenied (401, 403), an unknown patient, record
// or account kNotFound (404), a write that breaks a versioning or uniqueness rule kConflict
// (409), a malformed request kInvalidArgument (400, 413); a transport failure or a malformed
// reply keeps the client's code (kInternal, kInvalidEncoding). The message names the operation
// and quotes the server's error code and message.
#pragma once

#include <cstdint>
#include <istream>
#include <memory>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <vector>

#include "cipherchart/common/error.h"
#include "cipherchart/envelope/key_agreement.h"
#include "cipherchart/envelope/signature.h"

namespace cipherchart::chart {

// An account as another approved account sees it (GET /v1/accounts/{id}).
struct AccountInfo {
  std::string user_id, role, state, organisation, name;
  envelope::Ed25519PublicKey identity_key{};
  envelope::X25519PublicKey delivery_key{};
};

// The caller's own account (GET /v1/accounts/me): the public facts plus its registration
// details (a JSON object as text) and approval decision.
struct OwnAccount {
  AccountInfo info;
  std::string details_json = "{}";
  std::string decision_reason, decided_by;
  std::int64_t created_at = 0;  // unix seconds
};

struct NewAccount {
  std::string role;  // patient | practitioner | authority-admin
  envelope::Ed25519PublicKey identity_key{};
  envelope::X25519PublicKey delivery_key{};
  std::string organisation;       // practitioners and authority admins
  std::string details_json = "";  // a JSON object as text, or empty
};

struct Registration {
  std::string user_id, role, state, organisation;
  std::string details_json = "{}";
  envelope::Ed25519PublicKey identity_key{};
  envelope::X25519PublicKey delivery_key{};
  std::string decision_reason, decided_by;
  std::int64_t created_at = 0;  // unix seconds
};

struct PackageInfo {
  std::string package_id, sender_id;
  std::uint64_t size = 0;
};

// One row of a patient's record listing (every version of every record).
struct RecordInfo {
  std::string record_id;
  std::uint64_t version = 0;
  std::string section, policy, author_id;
  std::int64_t created_at_ms = 0;
  std::uint64_t size = 0;
  bool tombstone = false;
};

// What a write stores beside the bytes, in the clear (metadata the server sees).
struct RecordMeta {
  std::string section;
  std::string policy;
};

struct TreeHead {
  std::uint64_t tree_size = 0;
  std::int64_t timestamp_ms = 0;
  std::array<std::uint8_t, 32> root{};
  std::array<std::uint8_t, 64> signature{};
};

struct AuditRow {
  std::uint64_t index = 0;
  std::string entry;  // the audit entry's canonical JSON text (its leaf hash input)
};

class ServerPort {
 public:
  virtual ~ServerPort() = default;

  // ---- accounts and sessions ------------------------------------------------------------
  // Registers a new account (unauthenticated). Returns its user id.
  virtual Result<std::string> Register(const NewAccount& account) = 0;
  // Challenge-response login (protocol::LoginMessage); later calls act as `user_id`.
  virtual Result<void> Login(const std::string& user_id, const envelope::Ed25519SigningKey& identity) = 0;
  virtual Result<OwnAccount> Me() = 0;
  virtual Result<AccountInfo> Account(const std::string& user_id) = 0;
  // A second connection acting as the same logged-in account (for parallel downloads).
  virtual Result<std::unique_ptr<ServerPort>> Fork() = 0;

  // ---- registrations (authority admins, server admins) -----------------------------------
  virtual Result<std::vector<Registration>> Registrations(const std::string& state) = 0;
  virtual Result<void> Decide(const std::string& user_id, bool approve, const std::string& reason) = 0;

  // ---- the authority directory -----------------------------------------------------------
  virtual Result<std::vector<std::uint8_t>> Directory() = 0;  // a CCMD file
  virtual Result<void> PublishDirectoryEntry(const std::string& authority_namespace,
                                             std::span<const std::uint8_t> entry) = 0;

  // ---- the key mailbox ------------------------------------------------------------------
  virtual Result<std::string> PostPackage(const std::string& recipient_id,
                                          std::span<const std::uint8_t> bytes) = 0;
  virtual Result<std::vector<PackageInfo>> Packages() = 0;
  virtual Result<std::vector<std::uint8_t>> Package(const std::string& package_id) = 0;

  // ---- patients and records ---------------------------------------------------------------
  // Creates a patient bound to SHA-256(EnrolmentProof(code)) (hex). Returns the pseudonym.
  virtual Result<std::string> CreatePatient(const std::string& enrolment_code_sha256) = 0;
  virtual Result<void> Enrol(const std::string& patient_id, const std::string& enrolment_proof) = 0;
  virtual Result<std::vector<RecordInfo>> Records(const std::string& patient_id) = 0;
  // One version of a record; `version` 0 is the latest.
  virtual Result<std::vector<std::uint8_t>> Fetch(const std::string& patient_id, const std::string& record_id,
                                                  std::uint64_t version) = 0;
  virtual Result<void> Put(const std::string& patient_id, const std::string& record_id, std::uint64_t version,
                           const RecordMeta& meta, std::span<const std::uint8_t> bytes) = 0;
  // Streaming forms, in constant memory: `size` bytes from `in`; the body into `out`.
  virtual Result<void> Upload(const std::string& patient_id, const std::string& record_id,
                              std::uint64_t version, const RecordMeta& meta, std::istream& in,
                              std::uint64_t size) = 0;
  virtual Result<void> Download(const std::string& patient_id, const std::string& record_id,
                                std::uint64_t version, std::ostream& out) = 0;
  // A tombstone after the latest version.
  virtual Result<void> Delete(const std::string& patient_id, const std::string& record_id) = 0;

  // ---- the audit log ----------------------------------------------------------------------
  virtual Result<envelope::Ed25519PublicKey> AuditKey() = 0;
  virtual Result<TreeHead> Head() = 0;
  virtual Result<std::vector<AuditRow>> PatientAudit(const std::string& patient_id) = 0;
  virtual Result<std::vector<std::array<std::uint8_t, 32>>> Inclusion(std::uint64_t index,
                                                                      std::uint64_t tree_size) = 0;
  virtual Result<std::vector<std::array<std::uint8_t, 32>>> Consistency(std::uint64_t first,
                                                                        std::uint64_t second) = 0;
};

// Where the server is and how to trust it.
struct ServerAddress {
  std::string host_port = "127.0.0.1:8443";  // HOST:PORT
  std::string ca_file;                       // PEM; empty means plain HTTP, loopback only
};

// The real server over HTTP/1.1 + TLS (src/chart/http_server_port.cc: the HTTP adapter).
Result<std::unique_ptr<ServerPort>> ConnectHttp(const ServerAddress& address);

}  // namespace cipherchart::chart
