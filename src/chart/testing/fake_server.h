// An in-memory fake of the storage server (docs/api.md) for unit tests of the chart library, in
// the spirit of LevelDB's memenv: the same ServerPort the product uses, over a server that lives
// in the test process, with no disk, sockets or TLS. It enforces the real server's rules
// (src/server/*.cc), so a chart test that passes against it means something:
//   - registration (patients approved at once; practitioners and authority admins pending),
//     challenge-response login verified under the account's identity key, sessions;
//   - the approval guard (a pending or rejected account may call Me and nothing else) and the
//     roles of docs/api.md, "Roles and who may do what" (AuthorisePatient for records);
//   - registrations and decisions, the authority directory (a namespace belongs to the first
//     publisher's organisation), the key mailbox (only the recipient lists and fetches);
//   - patients (created by practitioners, enrolled once with the proof whose SHA-256 matches);
//   - record versions (only latest + 1; nothing after a tombstone; a deleted record is not found
//     in any version);
//   - an append-only audit log of canonical entries (cipherchart/server/audit_entry.h) in a real
//     RFC 9162 Merkle tree (cipherchart/server/merkle.h) with Ed25519-signed tree heads.
// Checks run in the real server's order (authentication, approval, the request's own fields,
// the patient, the role, the stored state), so a call wrong in two ways fails with the same code
// on both. src/chart/testing/server_port_conformance_test.cc runs one suite against this fake
// and the real server over TLS; a rule changed in one must change in the other.
//
// Errors follow server_port.h: kPermissionDenied for 401/403, kNotFound for 404, kConflict for
// 409, kInvalidArgument for 400/413. Messages quote the server's error slug as the HTTP adapter
// does ("... the server said 403 forbidden: ...").
//
// What differs from the real server, on purpose: bodies are held in memory (Upload reads the
// whole stream first); sessions and challenges do not expire unless a test says so
// (ExpireSessions); passwords are not supported (NewAccount has none); denied requests are
// audited at once (the real server logs refusals without waiting for them, so they may reach its
// log a moment later). A path argument that is not one clean URL segment is refused with
// kInvalidArgument (the real server answers 400 for most of those, 404 for one with a '/').
//
// For tests only: the fault and tamper hooks make it a misbehaving or failing server on demand.
// Thread-safe: one mutex guards the state; ports may be used from several threads (Fork).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cipherchart/chart/server_port.h"
#include "cipherchart/common/error.h"
#include "cipherchart/envelope/signature.h"
#include "cipherchart/server/audit_entry.h"

namespace cipherchart::chart::testing {

// What a fault rule sees of a call (the ServerPort method and its arguments).
struct CallInfo {
  std::string_view operation;   // the ServerPort method: "Fetch", "Put", "Login", ...
  std::string_view user_id;     // the caller's account; "" before login (and for Register)
  std::string_view patient_id;  // "" if the call names no patient
  std::string_view record_id;   // "" if the call names no record
  std::uint64_t version = 0;    // as the caller passed it (0 = latest, or none)
  std::uint64_t count = 0;      // 1-based: this is the count-th call of `operation` on the server
};

// An injected failure.
struct Fault {
  enum class When {
    kBefore,  // the call fails before it does anything: nothing stored, nothing audited
    kAfter,   // the call takes effect (stored, audited), then fails: a reply lost on the way
  };
  Error error;
  When when = When::kBefore;
  // Download with kAfter: how many bytes of the body reach the stream before the failure (a
  // connection cut mid-body). Ignored elsewhere.
  std::size_t partial_bytes = 0;
};

class FakeServer {
 public:
  struct Options {
    // Unix milliseconds; the system clock if empty. Account, record and package times, and
    // tree-head timestamps, come from it.
    std::function<std::int64_t()> now_ms;
  };

  // A fresh, empty server with a new Ed25519 audit key. Aborts only if the OS RNG fails.
  FakeServer();
  explicit FakeServer(Options options);
  ~FakeServer();
  FakeServer(const FakeServer&) = delete;
  FakeServer& operator=(const FakeServer&) = delete;

  // A new client connection, not logged in. Ports keep the server's state alive: they may
  // outlive this object (every call then still works on the same state).
  std::unique_ptr<ServerPort> Connect();

  // `cipherchart server add-admin`: an approved server admin with this identity key, created
  // directly (the API refuses to register one). Returns the user id; kConflict if the identity
  // key is registered.
  Result<std::string> AddServerAdmin(const envelope::Ed25519PublicKey& identity_key);

  const envelope::Ed25519PublicKey& audit_key() const;

  // ---- fault injection -----------------------------------------------------------------------
  // The `nth` call of `operation` from now on (1 = the next one) fails with `fault`; e.g.
  // FailNth("Fetch", 3, {Error(ErrorCode::kInternal, "disk")}) makes the third Fetch from now
  // fail. kInvalidArgument for an operation ServerPort does not have or nth < 1.
  Result<void> FailNth(std::string_view operation, std::uint64_t nth, Fault fault);
  Result<void> FailNext(std::string_view operation, Fault fault) {
    return FailNth(operation, 1, std::move(fault));
  }
  // Every call for which `predicate` holds fails with `fault`, `times` times (a negative count:
  // until ClearFaults). Rules are tried in the order they were added; the first match is used
  // (and one of its times consumed). A kAfter fault on a call that fails anyway is consumed and
  // the call's own error returned. Predicates run under the server's lock: they must not call it.
  void FailWhen(std::function<bool(const CallInfo&)> predicate, Fault fault, int times = 1);
  void ClearFaults();
  // How many times `operation` has been called on this server (faulted calls included).
  std::uint64_t Calls(std::string_view operation) const;

  // ---- a misbehaving server: direct access to what is stored -----------------------------------
  // The stored bytes of a record version (0 = the latest, which may be a tombstone: no bytes).
  // kNotFound if there is no such version.
  Result<std::vector<std::uint8_t>> Stored(const std::string& patient_id, const std::string& record_id,
                                           std::uint64_t version) const;
  // Lets `mutate` change a stored record version's bytes (size and listing follow; the audit log
  // does not). kNotFound if there is no such version, kInvalidArgument for a tombstone.
  Result<void> Tamper(const std::string& patient_id, const std::string& record_id, std::uint64_t version,
                      const std::function<void(std::vector<std::uint8_t>&)>& mutate);
  // Lets `mutate` change what the listing says about a version (author, section, policy, ...;
  // record_id and version are kept). kNotFound if there is no such version.
  Result<void> TamperListing(const std::string& patient_id, const std::string& record_id,
                             std::uint64_t version, const std::function<void(RecordInfo&)>& mutate);
  // Lets `mutate` change a stored key package. kNotFound for an unknown package.
  Result<void> TamperPackage(const std::string& package_id,
                             const std::function<void(std::vector<std::uint8_t>&)>& mutate);
  // Ends every session: later calls need a new Login (401 expired_token on the real server).
  void ExpireSessions();

  // ---- inspection ----------------------------------------------------------------------------
  // The audit log so far, oldest first.
  std::vector<server::AuditEntry> AuditLog() const;

  struct State;  // the state the server and its ports share (internal: fake_server.cc)

 private:
  std::shared_ptr<State> state_;
};

}  // namespace cipherchart::chart::testing
