// The storage cloud's database layer: one interface, two backends (SQLite embedded by default,
// PostgreSQL for several stateless servers behind a load balancer). The server never hands
// plaintext to it: records and key packages are opaque envelopes (docs/architecture.md,
// "Storage server").
//
// Concurrency model. Reads (`Store::Get*`, `List*`, `Read*`) may be called from any thread at
// any time. Writes happen only inside a `WriteTx`, and a server process holds at most one
// `WriteTx` at a time: its single writer thread batches many requests' writes, each inside a
// savepoint, into one transaction and one fsync (group commit, docs/api.md). Several server
// processes may write to one PostgreSQL concurrently; `WriteTx::LockAuditHead` serialises
// their audit-log appends.
//
// Durability. `WriteTx::Commit` returns only once the transaction is durable (SQLite: WAL with
// synchronous=FULL; PostgreSQL: synchronous_commit=on). Nothing a transaction wrote is visible
// to readers before that.
//
// Errors. Every method returns Result. Codes used: kInvalidArgument (a value outside the
// documented domain), kConflict (a uniqueness or state precondition failed: the row
// exists, the registration is not pending, the version is not next), kUnsupported, and
// kInternal (the database failed; the message names the statement, never a bound value).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cipherchart/common/error.h"
#include "cipherchart/protocol/api.h"

namespace cipherchart::server {

using Role = protocol::Role;  // stored as its number

// Patients need no approval (kApproved at registration); practitioners and authority admins
// start kPending; a server admin is created approved by `cipherchart server add-admin`.
using ApprovalState = protocol::ApprovalState;  // stored as its number

struct Account {
  std::string user_id;  // server-assigned, "u" + 26 base32 characters
  Role role = Role::kPatient;
  std::array<std::uint8_t, 32> identity_key{};  // Ed25519 public key (login signatures)
  std::array<std::uint8_t, 32> delivery_key{};  // X25519 public key (key packages)
  std::string organisation;                     // authority namespace, e.g. "hospital-a"; "" for patients
  std::string details_json;                     // registration details as canonical JSON text
  ApprovalState state = ApprovalState::kPending;
  std::string decision_reason;  // "" until decided
  std::string decided_by;       // user_id of the admin, "" until decided
  std::int64_t created_at = 0;  // unix seconds
  std::int64_t decided_at = 0;  // unix seconds, 0 until decided
  std::string password_hash;    // Argon2id encoded string, "" if none
};

// A login challenge: single use, short-lived.
struct Challenge {
  std::array<std::uint8_t, 32> nonce{};
  std::string user_id;
  std::int64_t expires_at = 0;  // unix seconds
};

// A session: the server stores SHA-256(token), never the token.
struct Session {
  std::array<std::uint8_t, 32> token_hash{};
  std::string user_id;
  std::int64_t expires_at = 0;  // unix seconds
};

// A pseudonymous patient: the ID carries no identity. `owner_user_id` is "" until the patient
// enrols with the one-time code whose SHA-256 is stored.
struct Patient {
  std::string patient_id;
  std::string owner_user_id;
  std::string created_by;  // practitioner user_id
  std::array<std::uint8_t, 32> enrolment_code_hash{};
  bool enrolment_used = false;
  std::int64_t created_at = 0;
};

// A stored byte string (record envelope or key package). Large bodies are streamed into
// numbered chunks of at most kMaxChunkSize bytes while the request is read; a blob becomes
// reachable only when the row that references it commits. Unreferenced blobs (an upload cut
// off by a crash or a client) are removed by `WriteTx::DeleteOrphanBlobs`.
inline constexpr std::size_t kMaxChunkSize = 1 << 20;

struct RecordMeta {
  std::string patient_id;
  std::string record_id;
  std::int64_t version = 0;               // 1, 2, 3, ... per (patient_id, record_id); never overwritten
  std::string section;                    // e.g. "vital-signs"; free text from the client, <= 64 bytes
  std::string policy;                     // the policy text the client encrypted under (metadata only)
  std::string author_id;                  // user_id of the uploader
  std::int64_t size = 0;                  // bytes in the blob
  std::array<std::uint8_t, 32> sha256{};  // of the blob, computed by the server while streaming
  std::int64_t created_at = 0;            // unix milliseconds
  bool tombstone = false;                 // a deletion marker by the owner: size 0, no blob
  std::string blob_id;                    // "" for a tombstone
};

struct KeyPackage {
  std::string package_id;
  std::string recipient_id;
  std::string sender_id;
  std::int64_t size = 0;
  std::int64_t created_at = 0;  // unix milliseconds
  std::string blob_id;
};

// One audit-log leaf. `entry` is the canonical byte string that is hashed into the Merkle tree
// (RFC 9162 leaf hash = SHA-256(0x00 || entry)); `patient_id` repeats the entry's patient field
// ("" if none) so a patient's entries can be listed by index.
struct AuditRow {
  std::int64_t seq = 0;  // 0-based leaf index
  std::string patient_id;
  std::vector<std::uint8_t> entry;
};

// A signed tree head as stored: the server signs (tree_size, timestamp, root) after each
// group commit; verification recomputes the roots from the stored entries.
struct TreeHeadRow {
  std::int64_t tree_size = 0;
  std::int64_t timestamp = 0;  // unix milliseconds
  std::array<std::uint8_t, 32> root{};
  std::array<std::uint8_t, 64> signature{};
};

// At most this many namespaces in the authority directory: a directory file holds at most
// abe::kMaxDirectoryEntries, and GET /v1/directory serves them all as one file.
inline constexpr std::int64_t kMaxDirectoryNamespaces = 4096;

// One entry of the authority directory (PUT /v1/directory/{namespace}): the latest directory
// file an authority admin published for the namespace. The server parses it but verifies no
// signature (it has no trust roots; clients verify against their own). The first publisher's
// organisation owns the namespace: only admins of that organisation replace the entry.
struct DirectoryEntryRow {
  std::string authority_namespace;  // abe::ValidateNamespace holds
  std::string organisation;         // the owner: the first publisher's organisation
  std::vector<std::uint8_t> entry;  // a CCMD directory file holding exactly this namespace's entry
  std::string publisher_id;         // user_id of the admin who published this version
  std::int64_t updated_at = 0;      // unix milliseconds
};

class WriteTx {
 public:
  virtual ~WriteTx() = default;

  // Savepoints let one failed request in a batch roll back alone.
  virtual Result<void> Savepoint() = 0;
  virtual Result<void> ReleaseSavepoint() = 0;
  virtual Result<void> RollbackToSavepoint() = 0;

  // kConflict if the user_id or the identity key is taken.
  virtual Result<void> InsertAccount(const Account& account) = 0;
  // Moves a kPending account to `state` (kApproved or kRejected); kConflict if the
  // account is not pending, kInvalidArgument if it does not exist.
  virtual Result<void> DecideRegistration(const std::string& user_id, ApprovalState state,
                                          const std::string& reason, const std::string& decided_by,
                                          std::int64_t decided_at) = 0;

  virtual Result<void> InsertChallenge(const Challenge& challenge) = 0;
  // Deletes and returns the challenge (single use). nullopt if absent (already used or never
  // issued). The caller checks expiry.
  virtual Result<std::optional<Challenge>> ConsumeChallenge(const std::array<std::uint8_t, 32>& nonce) = 0;
  virtual Result<void> InsertSession(const Session& session) = 0;
  virtual Result<void> DeleteSession(const std::array<std::uint8_t, 32>& token_hash) = 0;
  // Removes expired challenges and sessions.
  virtual Result<void> DeleteExpired(std::int64_t now_seconds) = 0;

  // kConflict if the patient_id exists.
  virtual Result<void> InsertPatient(const Patient& patient) = 0;
  // Binds the owner if the code hash matches and was not used: returns false (and changes
  // nothing) otherwise.
  virtual Result<bool> EnrolPatient(const std::string& patient_id,
                                    const std::array<std::uint8_t, 32>& code_hash,
                                    const std::string& owner_user_id) = 0;

  // A new empty blob; chunks are appended with consecutive indices from 0.
  virtual Result<std::string> CreateBlob() = 0;
  virtual Result<void> AppendBlobChunk(const std::string& blob_id, std::int64_t index,
                                       const std::vector<std::uint8_t>& bytes) = 0;
  // Deletes blobs that no record or key package references, created before `before_ms`.
  virtual Result<std::int64_t> DeleteOrphanBlobs(std::int64_t before_ms) = 0;

  // Inserts version `meta.version`, which must be 1 + the latest version of (patient_id,
  // record_id) (1 for a new record): kConflict otherwise. Never updates a row.
  virtual Result<void> InsertRecordVersion(const RecordMeta& meta) = 0;

  virtual Result<void> InsertKeyPackage(const KeyPackage& package) = 0;

  // Stores `entry` for its namespace: inserts it (true) if the namespace is new, or replaces the
  // stored entry, publisher and time (false) if `entry.organisation` owns the namespace. The
  // owner never changes. kConflict, changing nothing, if another organisation owns the
  // namespace, or if it is new and `max_entries` namespaces are already stored.
  virtual Result<bool> PutDirectoryEntry(const DirectoryEntryRow& entry, std::int64_t max_entries) = 0;

  // Locks the audit log's head for this transaction and returns its size (the next seq).
  // Called once per transaction before AppendAudit.
  virtual Result<std::int64_t> LockAuditHead() = 0;
  // Appends rows whose seq continue the size LockAuditHead returned, in order.
  virtual Result<void> AppendAudit(const std::vector<AuditRow>& rows) = 0;
  virtual Result<void> InsertTreeHead(const TreeHeadRow& head) = 0;

  // Durable on success. After Commit or Rollback the object may only be destroyed.
  virtual Result<void> Commit() = 0;
  virtual void Rollback() = 0;  // also what the destructor does if neither was called
};

class Store {
 public:
  virtual ~Store() = default;

  // Creates the schema if missing (idempotent; a schema_version table records the layout).
  virtual Result<void> Migrate() = 0;
  // "sqlite" or "postgresql".
  virtual std::string BackendName() const = 0;

  virtual Result<std::unique_ptr<WriteTx>> BeginWrite() = 0;

  virtual Result<std::optional<Account>> GetAccount(const std::string& user_id) = 0;
  // Accounts with this organisation and state (organisation "" = any), oldest first.
  virtual Result<std::vector<Account>> ListAccounts(const std::string& organisation,
                                                    std::optional<ApprovalState> state) = 0;
  virtual Result<std::optional<Session>> GetSession(const std::array<std::uint8_t, 32>& token_hash) = 0;
  virtual Result<std::optional<Patient>> GetPatient(const std::string& patient_id) = 0;

  // Every version of every record of the patient, ordered by (record_id, version).
  virtual Result<std::vector<RecordMeta>> ListRecords(const std::string& patient_id) = 0;
  // The given version, or the latest if `version` is nullopt.
  virtual Result<std::optional<RecordMeta>> GetRecord(const std::string& patient_id,
                                                      const std::string& record_id,
                                                      std::optional<std::int64_t> version) = 0;

  virtual Result<std::vector<KeyPackage>> ListKeyPackages(const std::string& recipient_id) = 0;
  virtual Result<std::optional<KeyPackage>> GetKeyPackage(const std::string& package_id) = 0;

  // The stored directory entry of a namespace, and every entry ordered by namespace (bytewise).
  virtual Result<std::optional<DirectoryEntryRow>> GetDirectoryEntry(
      const std::string& authority_namespace) = 0;
  virtual Result<std::vector<DirectoryEntryRow>> ListDirectoryEntries() = 0;

  // Number of chunks of a committed blob, and one chunk (nullopt past the end).
  virtual Result<std::int64_t> BlobChunkCount(const std::string& blob_id) = 0;
  virtual Result<std::optional<std::vector<std::uint8_t>>> ReadBlobChunk(const std::string& blob_id,
                                                                         std::int64_t index) = 0;

  virtual Result<std::int64_t> AuditSize() = 0;
  // Rows with from <= seq < to, in order.
  virtual Result<std::vector<AuditRow>> ReadAudit(std::int64_t from, std::int64_t to) = 0;
  virtual Result<std::vector<AuditRow>> ReadAuditForPatient(const std::string& patient_id) = 0;
  // All stored tree heads, by tree_size; and the latest.
  virtual Result<std::vector<TreeHeadRow>> ReadTreeHeads() = 0;
  virtual Result<std::optional<TreeHeadRow>> LatestTreeHead() = 0;
};

// SQLite file at `path` (created if missing), WAL mode, synchronous=FULL, foreign keys on.
Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path);
// PostgreSQL via libpq `conninfo` (e.g. "host=127.0.0.1 port=5433 dbname=cipherchart").
// Keeps a small pool of connections; `pool_size` >= 1.
Result<std::unique_ptr<Store>> OpenPostgresStore(const std::string& conninfo, int pool_size = 4);
// "sqlite:PATH" or "postgresql:CONNINFO".
Result<std::unique_ptr<Store>> OpenStore(const std::string& url);

}  // namespace cipherchart::server
