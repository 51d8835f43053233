// The /v1 API (docs/api.md) as a transport-independent service: the HTTP layer (http_server.cc)
// parses a request head, hands it here with a body source, and writes the reply; the fuzz
// target drives the same entry point from parsed bytes without sockets.
#pragma once

#include <array>
#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "cipherchart/protocol/api.h"
#include "cipherchart/server/store.h"
#include "src/server/api_error.h"
#include "src/server/config.h"
#include "src/server/metrics.h"
#include "src/server/writer.h"

namespace cipherchart::server {

namespace asio = boost::asio;

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // as sent: path and query
  std::string content_type;
  std::string authorization;
  std::string section;                          // X-CipherChart-Section
  std::string policy;                           // X-CipherChart-Policy
  std::optional<std::uint64_t> content_length;  // nullopt for chunked
  bool has_body = false;
};

// Pulls a request body. Read returns 0 at the end; on failure, `failure_status()` tells the
// HTTP status the cause deserves (408 timeout, 413 too large, 400 truncated or malformed).
class BodySource {
 public:
  virtual ~BodySource() = default;
  virtual asio::awaitable<Result<std::size_t>> Read(std::span<std::uint8_t> buffer) = 0;
  virtual int failure_status() const = 0;
  virtual bool finished() const = 0;  // the whole body was read
};

struct HttpReply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // A stored blob to stream after the headers (downloads); `body` is then unused.
  std::string blob_id;
  std::int64_t blob_size = 0;
  // For metrics and the request log: a route pattern, never a concrete id.
  std::string route{protocol::route::kUnmatched};
};

struct Target;

class Service {
 public:
  Service(const ServerConfig& config, Store& store, AuditedWriter& writer, Metrics& metrics,
          asio::io_context& io);

  asio::awaitable<HttpReply> Handle(const HttpRequest& request, BodySource& body);

  // For shutdown: new requests get 503 once draining.
  void BeginDrain() { draining_ = true; }

 private:
  struct Principal;  // the authenticated caller (handler.h)
  struct Call;       // one matched request as its handler sees it (handler.h)

  // The route table (routes.cc). Each row declares a method, a path pattern from
  // protocol::route (also the route's label in /metrics and the request log), what the caller
  // needs before the handler runs, and the handler. The first row whose pattern matches the
  // path decides the route; the rows of that pattern decide the method (405 with an Allow
  // header for any other). Rows of one pattern share their guard.
  enum class Guard {
    kNone,      // anyone: health, metrics, server info, registration, login, the tree head
    kSession,   // a valid session, whatever the account's approval state
    kApproved,  // a session of an approved account (403 not_approved otherwise)
  };
  using Handler = asio::awaitable<HttpReply> (Service::*)(const Call&);
  struct Route {
    std::string_view method;
    std::string_view pattern;
    Guard guard;
    Handler handler;
  };
  static std::span<const Route> Routes();

  asio::awaitable<HttpReply> Dispatch(const HttpRequest& req, BodySource& body, const Target& target,
                                      std::string& label);
  asio::awaitable<HttpReply> Invoke(const Route& matched, const Call& call, std::string& label);

  // Runs `request` on the writer; completes once its batch is durable (or failed).
  asio::awaitable<Result<void>> Commit(AuditedWriter::Request request);
  // Queues an audit entry without waiting for it (refusals: the reply does not wait).
  void LogDetached(AuditEntry entry);

  // The caller named by the request's bearer token (401 if there is none or it is not valid).
  ApiResult<Principal> Authenticate(const HttpRequest& req);
  // Accounts and sessions are cached for config.account_cache_ms.
  Result<std::optional<Account>> CachedAccount(const std::string& user_id);
  void ForgetAccount(const std::string& user_id);
  void ForgetSession(const std::array<std::uint8_t, 32>& token_hash);

  // Operational routes (service.cc).
  asio::awaitable<HttpReply> Health(const Call& call);
  asio::awaitable<HttpReply> MetricsText(const Call& call);
  asio::awaitable<HttpReply> ServerInfo(const Call& call);
  // Accounts and registrations (accounts.cc).
  asio::awaitable<HttpReply> Register(const Call& call);
  asio::awaitable<HttpReply> Me(const Call& call);
  asio::awaitable<HttpReply> LookupAccount(const Call& call);
  asio::awaitable<HttpReply> ListRegistrations(const Call& call);
  asio::awaitable<HttpReply> ApproveRegistration(const Call& call);
  asio::awaitable<HttpReply> RejectRegistration(const Call& call);
  asio::awaitable<HttpReply> Decide(const Call& call, bool approve);
  // Challenge-response login and logout (auth.cc).
  asio::awaitable<HttpReply> NewChallenge(const Call& call);
  asio::awaitable<HttpReply> Login(const Call& call);
  asio::awaitable<HttpReply> Logout(const Call& call);
  // The authority directory (directory.cc).
  asio::awaitable<HttpReply> Directory(const Call& call);
  asio::awaitable<HttpReply> PublishDirectoryEntry(const Call& call);
  // The key mailbox (keys.cc).
  asio::awaitable<HttpReply> PostKeyPackage(const Call& call);
  asio::awaitable<HttpReply> ListKeyPackages(const Call& call);
  asio::awaitable<HttpReply> FetchKeyPackage(const Call& call);
  // Patients (patients.cc).
  asio::awaitable<HttpReply> CreatePatient(const Call& call);
  asio::awaitable<HttpReply> Enrol(const Call& call);
  asio::awaitable<HttpReply> PatientAudit(const Call& call);
  // Records (records.cc).
  asio::awaitable<HttpReply> ListRecords(const Call& call);
  asio::awaitable<HttpReply> PutRecord(const Call& call);
  asio::awaitable<HttpReply> FetchRecord(const Call& call);
  asio::awaitable<HttpReply> DeleteRecord(const Call& call);
  // The audit log (audit.cc).
  asio::awaitable<HttpReply> AuditHead(const Call& call);
  asio::awaitable<HttpReply> Inclusion(const Call& call);
  asio::awaitable<HttpReply> Consistency(const Call& call);
  asio::awaitable<HttpReply> AuditEntries(const Call& call);

  // Streams `body` into a new blob (1 MiB chunks, each committed through the writer), calling
  // `finish` in the same transaction as the last chunk, which also logs `audit` (bodies.cc).
  struct Streamed {
    std::string blob_id;
    std::int64_t size = 0;
    std::array<std::uint8_t, 32> sha256{};
  };
  asio::awaitable<ApiResult<Streamed>> StreamToBlob(
      const HttpRequest& req, BodySource& body, std::int64_t limit,
      std::function<Result<void>(WriteTx&, const Streamed&)> finish, std::vector<AuditEntry> audit);

  // The patient, if `who` may read (or append to, or act as the owner of) their records; the
  // refusal is logged as `action` on `target` (patients.cc).
  enum class PatientAccess { kRead, kAppend, kOwner };
  ApiResult<Patient> AuthorisePatient(const std::string& patient_id, const Principal& who,
                                      PatientAccess access, const char* action, const std::string& target);

  const ServerConfig& config_;
  Store& store_;
  AuditedWriter& writer_;
  Metrics& metrics_;
  asio::io_context& io_;
  std::atomic<bool> draining_{false};

  std::mutex cache_mu_;
  struct CachedAcct {
    Account account;
    std::int64_t until_ms;
  };
  std::unordered_map<std::string, CachedAcct> accounts_;
  struct CachedSession {
    Session session;
    std::int64_t until_ms;
  };
  std::unordered_map<std::string, CachedSession> sessions_;  // key: the 32-byte token hash
};

}  // namespace cipherchart::server
