// The /v1 API (docs/api.md) as a transport-independent service: the HTTP layer (http_server.cc)
// parses a request head, hands it here with a body source, and writes the reply; the fuzz
// target drives the same entry point from parsed bytes without sockets.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "cipherchart/server/store.h"
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
  std::string route = "unmatched";  // for metrics: a route pattern, never a concrete id
};

class Service {
 public:
  Service(const ServerConfig& config, Store& store, AuditedWriter& writer, Metrics& metrics,
          asio::io_context& io);

  asio::awaitable<HttpReply> Handle(const HttpRequest& request, BodySource& body);

  // For shutdown: new requests get 503 once draining.
  void BeginDrain() { draining_ = true; }

 private:
  struct Principal;
  struct Route;
  asio::awaitable<HttpReply> Dispatch(const HttpRequest& req, BodySource& body, Route& route);

  asio::awaitable<Result<void>> Commit(AuditedWriter::Request request);
  void LogDetached(AuditEntry entry);

  asio::awaitable<Result<std::string>> ReadJsonBody(const HttpRequest& req, BodySource& body,
                                                    HttpReply& fail);
  // An application/octet-stream body of at most `limit` bytes, in memory (small bodies only).
  asio::awaitable<Result<std::vector<std::uint8_t>>> ReadBinaryBody(const HttpRequest& req, BodySource& body,
                                                                    std::int64_t limit, HttpReply& fail);
  Result<std::optional<Principal>> Authenticate(const HttpRequest& req, HttpReply& fail);
  Result<std::optional<Account>> CachedAccount(const std::string& user_id);
  void ForgetAccount(const std::string& user_id);

  asio::awaitable<HttpReply> Register(const HttpRequest& req, BodySource& body);
  asio::awaitable<HttpReply> NewChallenge(const HttpRequest& req, BodySource& body);
  asio::awaitable<HttpReply> Login(const HttpRequest& req, BodySource& body);
  asio::awaitable<HttpReply> Logout(const HttpRequest& req, const Principal& who);
  HttpReply Me(const Principal& who);
  HttpReply LookupAccount(const Route& route);
  HttpReply Directory();
  asio::awaitable<HttpReply> PublishDirectoryEntry(const HttpRequest& req, BodySource& body,
                                                   const Route& route, const Principal& who);
  asio::awaitable<HttpReply> ListRegistrations(const Route& route, const Principal& who);
  asio::awaitable<HttpReply> Decide(const HttpRequest& req, BodySource& body, const Route& route,
                                    const Principal& who, bool approve);
  asio::awaitable<HttpReply> PostKeyPackage(const HttpRequest& req, BodySource& body, const Route& route,
                                            const Principal& who);
  asio::awaitable<HttpReply> ListKeyPackages(const Principal& who);
  asio::awaitable<HttpReply> FetchKeyPackage(const Route& route, const Principal& who);
  asio::awaitable<HttpReply> CreatePatient(const HttpRequest& req, BodySource& body, const Principal& who);
  asio::awaitable<HttpReply> Enrol(const HttpRequest& req, BodySource& body, const Route& route,
                                   const Principal& who);
  asio::awaitable<HttpReply> ListRecords(const Route& route, const Principal& who);
  asio::awaitable<HttpReply> PutRecord(const HttpRequest& req, BodySource& body, const Route& route,
                                       const Principal& who);
  asio::awaitable<HttpReply> FetchRecord(const Route& route, const Principal& who);
  asio::awaitable<HttpReply> DeleteRecord(const Route& route, const Principal& who);
  asio::awaitable<HttpReply> PatientAudit(const Route& route, const Principal& who);
  HttpReply AuditHead();
  HttpReply Inclusion(const Route& route);
  HttpReply Consistency(const Route& route);
  HttpReply AuditEntries(const Route& route, const Principal& who);
  HttpReply Health();

  // Streams `body` into a new blob (1 MiB chunks, each committed through the writer), calling
  // `finish` in the same transaction as the last chunk. Returns the size and SHA-256.
  struct Streamed {
    std::string blob_id;
    std::int64_t size = 0;
    std::array<std::uint8_t, 32> sha256{};
  };
  asio::awaitable<HttpReply> StreamToBlob(const HttpRequest& req, BodySource& body, std::int64_t limit,
                                          std::function<Result<void>(WriteTx&, const Streamed&)> finish,
                                          std::vector<AuditEntry> audit, Streamed& out);

  // The patient and whether `who` may read (or append to) their records.
  enum class Access { kRead, kAppend, kOwner };
  Result<Patient> AuthorisePatient(const std::string& patient_id, const Principal& who, Access access,
                                   const char* action, const std::string& target, HttpReply& fail);

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
