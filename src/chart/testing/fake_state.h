// Internal to the fake server (src/chart/testing): its state, the helpers its operations share,
// and the per-call lock and fault lookup. fake_server.cc holds FakeServer's own methods,
// fake_port.cc the ServerPort every Connect() returns.
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdlib>
#include <istream>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <ostream>
#include <set>
#include <string>
#include <tuple>
#include <utility>

#include "cipherchart/abe/authority_directory.h"
#include "cipherchart/common/bytes.h"
#include "cipherchart/common/hex.h"
#include "cipherchart/common/random.h"
#include "cipherchart/envelope/hash.h"
#include "cipherchart/protocol/api.h"
#include "cipherchart/protocol/ids.h"
#include "cipherchart/server/merkle.h"
#include "cipherchart/server/store.h"
#include "src/chart/testing/fake_server.h"

namespace cipherchart::chart::testing {
using nlohmann::json;

// The limits the real server applies (src/server/config.h defaults, directory.cc, accounts.cc).
constexpr std::size_t kMaxKeyPackage = 16 * 1024 * 1024;
constexpr std::size_t kMaxDirectoryEntryBody = 1 << 20;
constexpr std::uint64_t kMaxUpload = 4ULL * 1024 * 1024 * 1024;
constexpr std::size_t kMaxDetails = 16 * 1024;
constexpr std::uint64_t kMaxPathCount = 999'999'999'999'999'999ULL;  // ParseCount: 18 digits

// Every ServerPort operation, by method name (the names fault rules use).
constexpr std::string_view kOperations[] = {"Register",      "Login",        "Me",
                                            "Account",       "Fork",         "Registrations",
                                            "Decide",        "Directory",    "PublishDirectoryEntry",
                                            "PostPackage",   "Packages",     "Package",
                                            "CreatePatient", "Enrol",        "Records",
                                            "Fetch",         "Put",          "Upload",
                                            "Download",      "Delete",       "AuditKey",
                                            "Head",          "PatientAudit", "Inclusion",
                                            "Consistency"};

using protocol::ApprovalState;
using protocol::IsPrintableText;
using protocol::kMaxJsonDepth;
using protocol::ParseRole;
using protocol::ParseState;
using protocol::Role;
using protocol::RoleName;
using protocol::StateName;
using Approval = protocol::ApprovalState;

// How an argument the HTTP adapter puts into a path fares with the real server's ParseTarget:
// one clean segment; something ParseTarget or the HTTP parser refuses (400); or several
// segments, which match no route (404 after authentication).
enum class Segment { kClean, kBad, kSeveral };
inline Segment ClassifySegment(std::string_view arg) {
  for (const unsigned char c : arg)
    if (c <= 0x20 || c >= 0x7f || c == '%' || c == '#' || c == '\\' || c == '?') return Segment::kBad;
  bool several = false;
  for (;;) {
    const auto slash = arg.find('/');
    const auto piece = arg.substr(0, slash);
    if (piece.empty() || piece == "." || piece == "..") return Segment::kBad;
    if (slash == std::string_view::npos) break;
    several = true;
    arg.remove_prefix(slash + 1);
  }
  return several ? Segment::kSeveral : Segment::kClean;
}

// A query value the real ParseTarget refuses before authentication.
inline bool BadQueryValue(std::string_view v) {
  for (const unsigned char c : v)
    if (c <= 0x20 || c >= 0x7f || c == '%' || c == '#' || c == '&') return true;
  return false;
}

struct AccountRow {
  std::string user_id;
  Role role = Role::kPatient;
  envelope::Ed25519PublicKey identity_key{};
  envelope::X25519PublicKey delivery_key{};
  std::string organisation;
  json details = json::object();
  Approval state = Approval::kPending;
  std::string decision_reason, decided_by;
  std::int64_t created_at = 0;  // unix seconds (the registrations' order)
};

struct Patient {
  std::string patient_id;
  std::string owner_user_id;
  std::string created_by;
  std::array<std::uint8_t, 32> code_hash{};
  bool enrolment_used = false;
};

struct Version {
  RecordInfo info;
  std::vector<std::uint8_t> bytes;
};

struct PackageRow {
  std::string package_id, recipient_id, sender_id;
  std::int64_t created_at = 0;  // unix milliseconds
  std::vector<std::uint8_t> bytes;
};

struct DirectoryRow {
  std::string organisation;         // the owner: the first publisher's organisation
  std::vector<std::uint8_t> entry;  // a canonical CCMD file holding this namespace's one entry
  std::string publisher_id;
};

enum class Access { kRead, kAppend, kOwner };

inline std::int64_t SystemMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct FakeServer::State {
  explicit State(Options o, envelope::Ed25519SigningKey key)
      : options(std::move(o)), audit_key(std::move(key)) {}

  std::int64_t NowMs() const { return options.now_ms ? options.now_ms() : SystemMillis(); }

  // ---- the request context ----------------------------------------------------------------
  // One call as a handler sees it: what the adapter would call it, and the caller's token.
  struct Req {
    State& s;
    std::string what;
    const std::string& token;

    // The refusal as the HTTP adapter turns it into an Error (http_server_port.cc).
    std::unexpected<Error> Refuse(int status, std::string_view slug, std::string_view message) const {
      ErrorCode code = ErrorCode::kInvalidArgument;
      if (status == 401 || status == 403) code = ErrorCode::kPermissionDenied;
      if (status == 404) code = ErrorCode::kNotFound;
      if (status == 409) code = ErrorCode::kConflict;
      if (status >= 500) code = ErrorCode::kInternal;
      return std::unexpected(Error(code, what + ": the server said " + std::to_string(status) + " " +
                                             std::string(slug) + ": " + std::string(message)));
    }

    // Service::Authenticate: the session's account (401 without a valid session).
    Result<AccountRow*> Session() const {
      if (token.empty())
        return Refuse(401, "unauthenticated", "this route needs 'Authorization: Bearer <token>'");
      const auto it = s.sessions.find(token);
      if (it == s.sessions.end()) return Refuse(401, "bad_token", "the token is not a valid session token");
      const auto a = s.accounts.find(it->second);
      if (a == s.accounts.end()) return Refuse(401, "bad_token", "the token's account no longer exists");
      return &a->second;
    }

    // Service::Dispatch for a route: the path arguments as ParseTarget sees them (400 before
    // anything else), the session (401), approval unless `any_state` (403 not_approved), and a
    // path that matched no route (404).
    Result<AccountRow*> Route(std::initializer_list<std::string_view> path_args,
                              bool any_state = false) const {
      bool unmatched = false;
      for (const auto arg : path_args) {
        const Segment c = ClassifySegment(arg);
        if (c == Segment::kBad)
          return Refuse(400, "bad_path", "the path has an empty, '.', '..' or escaped segment");
        unmatched = unmatched || c == Segment::kSeveral;
      }
      auto who = Session();
      if (!who) return who;
      if (!any_state && (*who)->state != Approval::kApproved) {
        return Refuse(403, "not_approved",
                      "the account is " + std::string(StateName((*who)->state)) +
                          "; only /v1/accounts/me is available until an admin approves it");
      }
      if (unmatched) return Refuse(404, "not_found", "no such route");
      return who;
    }
  };

  // ---- audit ------------------------------------------------------------------------------
  void Audit(std::string actor, std::string action, std::string patient_id, std::string target,
             std::string outcome) {
    server::AuditEntry e{NowMs(),           std::move(actor),  std::move(action), std::move(patient_id),
                         std::move(target), std::move(outcome)};
    auto bytes = server::EncodeAuditEntry(e);
    if (!bytes) return;  // only for text that is not UTF-8, which every caller has checked
    auto leaf = server::LeafHash(*bytes);
    if (!leaf || !tree.Append(*leaf)) std::abort();  // OpenSSL failed: nothing sensible to fake
    audit_rows.push_back({std::move(*bytes), e.patient_id});
    last_append_ms = e.time_ms;
  }

  // ---- patients (patients.cc, AuthorisePatient) ---------------------------------------------
  Result<Patient*> AuthorisePatient(const Req& r, const std::string& patient_id, const AccountRow& who,
                                    Access access, const char* action, const std::string& target) {
    if (!protocol::IsValidPatientId(patient_id))
      return r.Refuse(400, "bad_path", "not a patient id (check character or format)");
    const auto it = patients.find(patient_id);
    if (it == patients.end()) {
      Audit(who.user_id, action, patient_id, target, "denied:404");
      return r.Refuse(404, "not_found", "no such patient");
    }
    const bool owner = who.role == Role::kPatient && it->second.owner_user_id == who.user_id;
    const bool practitioner = who.role == Role::kPractitioner;
    const bool allowed = access == Access::kOwner ? owner : (owner || practitioner);
    if (!allowed) {
      Audit(who.user_id, action, patient_id, target, "denied:403");
      return r.Refuse(403, "forbidden",
                      access == Access::kOwner
                          ? "only the patient who owns this record may do that"
                          : "only the owner patient and approved practitioners may do that");
    }
    return &it->second;
  }

  // The version rows of a record; empty if there are none.
  const std::vector<Version>& VersionsOf(const std::string& patient_id, const std::string& record_id) const {
    static const std::vector<Version> kNone;
    const auto p = records.find(patient_id);
    if (p == records.end()) return kNone;
    const auto it = p->second.find(record_id);
    return it == p->second.end() ? kNone : it->second;
  }

  Version* FindVersion(const std::string& patient_id, const std::string& record_id, std::uint64_t version) {
    const auto p = records.find(patient_id);
    if (p == records.end()) return nullptr;
    const auto it = p->second.find(record_id);
    if (it == p->second.end() || it->second.empty()) return nullptr;
    if (version == 0) return &it->second.back();
    if (version > it->second.size()) return nullptr;
    return &it->second[version - 1];
  }

  // records.cc FetchRecord (with `version` 0 for the latest); the bytes.
  Result<std::vector<std::uint8_t>> FetchRecord(const Req& r, const std::string& pid, const std::string& rid,
                                                std::uint64_t version) {
    auto who = r.Route({pid, rid});
    if (!who) return std::unexpected(who.error());
    if (!protocol::IsValidRecordId(rid))
      return r.Refuse(400, "bad_path", "record ids are 1..64 of [A-Za-z0-9._-]");
    if (version > kMaxPathCount) return r.Refuse(400, "bad_path", "the version must be a positive integer");
    const std::string target = rid + "@" + (version == 0 ? std::string("latest") : std::to_string(version));
    auto patient = AuthorisePatient(r, pid, **who, Access::kRead, "record.fetch", target);
    if (!patient) return std::unexpected(patient.error());
    const auto& versions = VersionsOf(pid, rid);
    const Version* meta = nullptr;
    if (!versions.empty())
      meta =
          version == 0 ? &versions.back() : (version <= versions.size() ? &versions[version - 1] : nullptr);
    // A deleted record is gone in every version, not only the latest.
    const bool deleted = meta != nullptr && versions.back().info.tombstone;
    if (meta == nullptr || deleted) {
      Audit((*who)->user_id, "record.fetch", pid, target, "denied:404");
      return r.Refuse(404, "not_found",
                      meta != nullptr ? "the record was deleted by its owner" : "no such record or version");
    }
    Audit((*who)->user_id, "record.fetch", pid, rid + "@" + std::to_string(meta->info.version), "ok");
    return meta->bytes;
  }

  // records.cc PutRecord.
  Result<void> PutRecord(const Req& r, const std::string& pid, const std::string& rid, std::uint64_t version,
                         const RecordMeta& meta, std::vector<std::uint8_t> bytes) {
    auto who = r.Route({pid, rid});
    if (!who) return std::unexpected(who.error());
    if (!protocol::IsValidRecordId(rid))
      return r.Refuse(400, "bad_path", "record ids are 1..64 of [A-Za-z0-9._-]");
    if (version < 1 || version > kMaxPathCount)
      return r.Refuse(400, "bad_path", "the version must be a positive integer");
    if (meta.section.empty() || meta.section.size() > 64 || !IsPrintableText(meta.section))
      return r.Refuse(400, "bad_field",
                      "header 'X-CipherChart-Section': 1..64 bytes of printable UTF-8 required");
    if (meta.policy.size() > 4096 || !IsPrintableText(meta.policy))
      return r.Refuse(400, "bad_field",
                      "header 'X-CipherChart-Policy': at most 4096 bytes of printable UTF-8");
    const std::string target = rid + "@" + std::to_string(version);
    auto patient = AuthorisePatient(r, pid, **who, Access::kAppend, "record.append", target);
    if (!patient) return std::unexpected(patient.error());
    if (bytes.size() > kMaxUpload) return r.Refuse(413, "too_large", "the body is over this route's limit");
    // The store's InsertRecordVersion; a failed write is still audited, as "failed".
    const std::uint64_t next = VersionsOf(pid, rid).size() + 1;
    if (version != next) {
      Audit((*who)->user_id, "record.append", pid, target, "failed");
      return r.Refuse(409, "conflict",
                      "record version " + std::to_string(version) + " is not the next version (" +
                          std::to_string(next) + ")");
    }
    auto& versions = records[pid][rid];
    if (!versions.empty() && versions.back().info.tombstone) {
      Audit((*who)->user_id, "record.append", pid, target, "failed");
      return r.Refuse(409, "conflict", "the record was deleted by its owner");
    }
    Version v;
    v.info.record_id = rid;
    v.info.version = version;
    v.info.section = meta.section;
    v.info.policy = meta.policy;
    v.info.author_id = (*who)->user_id;
    v.info.created_at_ms = NowMs();
    v.info.size = bytes.size();
    v.bytes = std::move(bytes);
    versions.push_back(std::move(v));
    Audit((*who)->user_id, "record.append", pid, target, "ok");
    return {};
  }

  // ---- state ----------------------------------------------------------------------------------
  std::mutex mu;
  Options options;
  envelope::Ed25519SigningKey audit_key;

  std::map<std::string, AccountRow> accounts;                      // by user id
  std::map<std::array<std::uint8_t, 32>, std::string> challenges;  // nonce -> user id
  std::map<std::string, std::string> sessions;                     // token -> user id
  std::map<std::string, Patient> patients;
  std::map<std::string, std::map<std::string, std::vector<Version>>> records;  // patient, record id
  std::map<std::string, PackageRow> packages;
  std::map<std::string, DirectoryRow> directory;  // by namespace, bytewise

  struct AuditRow {
    std::vector<std::uint8_t> entry;
    std::string patient_id;
  };
  std::vector<AuditRow> audit_rows;
  server::MerkleTree tree;
  std::int64_t last_append_ms = 0;
  std::optional<server::SignedTreeHead> head;  // signed at tree.size()

  struct Rule {
    std::function<bool(const CallInfo&)> predicate;
    Fault fault;
    int times;
  };
  std::vector<Rule> rules;
  std::map<std::string, std::uint64_t, std::less<>> calls;
};

using State = FakeServer::State;
using Req = State::Req;

// One call on the server: holds the lock, counts the call and finds its fault, if any.
class Call {
 public:
  Call(State& s, std::string_view operation, const std::string& token, std::string_view patient_id = {},
       std::string_view record_id = {}, std::uint64_t version = 0)
      : lock_(s.mu) {
    auto it = s.calls.find(operation);
    if (it == s.calls.end()) it = s.calls.emplace(std::string(operation), 0).first;
    const std::uint64_t count = ++it->second;
    std::string_view user;
    if (const auto session = s.sessions.find(token); session != s.sessions.end()) user = session->second;
    const CallInfo info{operation, user, patient_id, record_id, version, count};
    for (auto rule = s.rules.begin(); rule != s.rules.end(); ++rule) {
      if (!rule->predicate(info)) continue;
      fault_ = rule->fault;
      if (rule->times > 0) {
        --rule->times;
        if (rule->times == 0) s.rules.erase(rule);
      }
      break;
    }
  }

  // The error of a kBefore fault, if the call has one.
  std::optional<std::unexpected<Error>> Before() const {
    if (fault_ && fault_->when == Fault::When::kBefore) return std::unexpected(fault_->error);
    return std::nullopt;
  }
  // The call's result, unless a kAfter fault replaces a success.
  template <class T>
  Result<T> After(Result<T> r) const {
    if (r && fault_ && fault_->when == Fault::When::kAfter) return std::unexpected(fault_->error);
    return r;
  }
  const std::optional<Fault>& fault() const { return fault_; }
  // A kAfter fault: the call took effect but its reply is lost.
  bool reply_lost() const { return fault_.has_value() && fault_->when == Fault::When::kAfter; }
  void Unlock() { lock_.unlock(); }

 private:
  std::unique_lock<std::mutex> lock_;
  std::optional<Fault> fault_;
};

inline Result<std::string> RandomToken() {
  std::array<std::uint8_t, 32> t{};
  if (auto ok = FillRandom(t); !ok) return std::unexpected(ok.error());
  return ToHex(t);
}

// A new client connection onto `state` (optionally already logged in with `token`).
std::unique_ptr<ServerPort> NewPort(std::shared_ptr<FakeServer::State> state, std::string token = {});

}  // namespace cipherchart::chart::testing
