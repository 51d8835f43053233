// A small synchronous HTTP/1.1 client for the CipherChart server: TLS with a pinned certificate
// (the server's self-signed one, or a CA file), keep-alive, streamed uploads and downloads.
// Used by the CLI and by the server's HTTP tests.
#pragma once

#include <cstdint>
#include <istream>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cipherchart/common/error.h"

namespace cipherchart::client {

struct ClientOptions {
  std::string host = "127.0.0.1";
  int port = 8443;
  bool tls = true;
  std::string ca_file;  // PEM certificate(s) to trust; required with tls
  int timeout_ms = 30'000;
};

struct HttpResponse {
  int status = 0;
  std::string body;                            // empty for Download
  std::map<std::string, std::string> headers;  // lower-case names
};

using Headers = std::vector<std::pair<std::string, std::string>>;

class HttpClient {
 public:
  static Result<std::unique_ptr<HttpClient>> Connect(const ClientOptions& options);
  ~HttpClient();

  // One request with an in-memory body. Reconnects once if the server had closed the idle
  // connection. kInternal for transport failures (with the cause), never for HTTP statuses.
  Result<HttpResponse> Request(std::string_view method, std::string_view target, std::string_view body = {},
                               std::string_view content_type = {}, const Headers& headers = {});
  // Streams `size` bytes from `in` as the body (Content-Length).
  Result<HttpResponse> Upload(std::string_view method, std::string_view target, std::istream& in,
                              std::uint64_t size, const Headers& headers = {});
  // Streams a 2xx response body into `out`; other statuses come back with their body.
  Result<HttpResponse> Download(std::string_view target, std::ostream& out, const Headers& headers = {});
  // Writes `bytes` as they are (tests of malformed requests) after `pause_ms` between halves
  // when asked, and returns everything the server sends until it closes or `read_timeout_ms`.
  Result<std::string> SendRaw(std::string_view bytes, int read_timeout_ms, int pause_ms = 0);
  // Opens a fresh connection (drops the current one).
  Result<void> Reconnect();

  struct Impl;

 private:
  explicit HttpClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cipherchart::client
