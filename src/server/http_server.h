// The storage server process: TLS (or, for loopback tests only, plain TCP) listener, HTTP/1.1
// keep-alive connections on Boost.Beast coroutines, the /v1 service, the group-commit writer and
// graceful shutdown.
#pragma once

#include <memory>

#include "cipherchart/common/error.h"
#include "cipherchart/envelope/signature.h"
#include "src/server/config.h"

namespace cipherchart::server {

class HttpServer {
 public:
  // Opens (and migrates) the store, loads or creates the audit key and the TLS material, checks
  // the audit log against its latest signed head, and binds the listener.
  static Result<std::unique_ptr<HttpServer>> Start(ServerConfig config);
  ~HttpServer();

  int port() const;
  // Serves until Shutdown() or SIGINT/SIGTERM (if `handle_signals`). Returns after the drain.
  void Run(bool handle_signals);
  // Stops accepting, answers new requests on open connections with 503, lets requests in flight
  // finish (up to shutdown_grace_ms), then commits the writer's queue and returns from Run.
  void Shutdown();

  struct Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Creates the audit signing key at `path` (mode 0600) if the file is missing.
Result<void> EnsureAuditKey(const std::string& path);
// The audit signing key at `path`: exactly 32 bytes (an Ed25519 seed), else kInvalidEncoding.
Result<envelope::Ed25519SigningKey> LoadAuditKey(const std::string& path);

}  // namespace cipherchart::server
