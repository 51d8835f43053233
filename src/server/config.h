// Server configuration: defaults, then a TOML file (`--config FILE`), then CIPHERCHART_*
// environment variables, then command-line flags — each later source overrides the earlier.
#pragma once

#include <cstdint>
#include <string>

#include "cipherchart/common/error.h"

namespace cipherchart::server {

struct ServerConfig {
  std::string data_dir = "cipherchart-data";  // holds the SQLite file, TLS and audit keys
  std::string store;                          // "" = sqlite:<data_dir>/cipherchart.db
  std::string listen_address = "127.0.0.1";
  int port = 8443;        // 0 = any free port (tests)
  bool tls = true;        // false only for loopback tests and fuzzing
  std::string tls_cert;   // "" = <data_dir>/tls.crt (self-signed on first start)
  std::string tls_key;    // "" = <data_dir>/tls.key
  std::string audit_key;  // "" = <data_dir>/audit.key (Ed25519 seed, 0600);
                          // servers sharing one PostgreSQL share this file
  int threads = 0;        // I/O threads; 0 = hardware concurrency
  std::int64_t max_header_bytes = 16 * 1024;
  std::int64_t max_json_body = 64 * 1024;
  std::int64_t max_key_package = 16 * 1024 * 1024;
  std::int64_t max_upload = 4LL * 1024 * 1024 * 1024;
  int header_timeout_ms = 10'000;     // from the first byte of a request to the end of its headers
  int body_idle_timeout_ms = 30'000;  // longest pause while a body streams in
  int idle_timeout_ms = 60'000;       // keep-alive connection with no request
  int session_ttl_s = 900;
  int challenge_ttl_s = 60;
  int account_cache_ms = 2'000;  // how long a role/approval change may take to reach this server
  int max_batch = 4096;          // requests per group commit
  int shutdown_grace_ms = 10'000;
  bool log_requests = true;  // one JSON line per request on stderr
};

// Reads a TOML file into `config` (keys: data_dir, store, listen, port, tls, tls_cert, tls_key,
// threads, log_requests, [limits] header, json_body, key_package, upload, [timeouts] header_ms,
// body_idle_ms, idle_ms, [sessions] ttl_s, challenge_ttl_s). Unknown keys are errors, so a
// misspelt setting is not silently ignored.
Result<void> LoadConfigFile(const std::string& path, ServerConfig& config);
// CIPHERCHART_DATA_DIR, CIPHERCHART_STORE, CIPHERCHART_LISTEN, CIPHERCHART_PORT, CIPHERCHART_TLS,
// CIPHERCHART_TLS_CERT, CIPHERCHART_TLS_KEY, CIPHERCHART_THREADS, CIPHERCHART_LOG_REQUESTS.
Result<void> ApplyEnvironment(ServerConfig& config);
// Fills the derived defaults (store URL, certificate paths) and checks ranges.
Result<void> Finalise(ServerConfig& config);

}  // namespace cipherchart::server
