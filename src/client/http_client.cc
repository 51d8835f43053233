#include "cipherchart/client/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <optional>
#include <thread>

namespace cipherchart::client {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

template <class Message>
void CopyHeaders(const Message& msg, HttpResponse& out) {
  out.status = static_cast<int>(msg.result_int());
  for (const auto& field : msg) out.headers[Lower(field.name_string())] = std::string(field.value());
}

}  // namespace

struct HttpClient::Impl {
  ClientOptions options;
  asio::io_context io;
  std::unique_ptr<ssl::context> tls;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls_stream;  // one of the two is set
  std::unique_ptr<beast::tcp_stream> plain_stream;
  beast::flat_buffer buffer;

  bool needs_reopen = false;  // the last reconnect failed; the next call retries it first

  beast::tcp_stream& Lowest() { return tls_stream ? beast::get_lowest_layer(*tls_stream) : *plain_stream; }

  // After a reply that closes the connection, or a transport error: a fresh connection for the
  // next call. A failure here is reported by that next call.
  void ReopenQuietly() { needs_reopen = !Open().has_value(); }
  Result<void> EnsureOpen() {
    if (!needs_reopen) return {};
    auto r = Open();
    needs_reopen = !r.has_value();
    return r;
  }

  Result<void> Open() {
    tls_stream.reset();
    plain_stream.reset();
    buffer.clear();
    boost::system::error_code ec;
    tcp::resolver resolver(io);
    auto endpoints = resolver.resolve(options.host, std::to_string(options.port), ec);
    if (ec) return Fail(ErrorCode::kInternal, "resolve " + options.host + ": " + ec.message());
    if (options.tls) {
      tls_stream = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(io, *tls);
      if (!SSL_set_tlsext_host_name(tls_stream->native_handle(), options.host.c_str()))
        return Fail(ErrorCode::kInternal, "TLS: cannot set SNI");
      tls_stream->set_verify_callback(
          ssl::host_name_verification(options.host == "127.0.0.1" ? "127.0.0.1" : options.host));
    } else {
      plain_stream = std::make_unique<beast::tcp_stream>(io);
    }
    Lowest().expires_after(std::chrono::milliseconds(options.timeout_ms));
    Lowest().connect(endpoints, ec);
    if (ec)
      return Fail(ErrorCode::kInternal,
                  "connect " + options.host + ":" + std::to_string(options.port) + ": " + ec.message());
    Lowest().socket().set_option(tcp::no_delay(true), ec);
    if (tls_stream) {
      tls_stream->handshake(ssl::stream_base::client, ec);
      if (ec) return Fail(ErrorCode::kInternal, "TLS handshake: " + ec.message());
    }
    return {};
  }

  template <class Fn>
  auto WithStream(Fn&& fn) {
    if (tls_stream) return fn(*tls_stream);
    return fn(*plain_stream);
  }
};

HttpClient::HttpClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpClient::~HttpClient() = default;

Result<std::unique_ptr<HttpClient>> HttpClient::Connect(const ClientOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  if (options.tls) {
    if (options.ca_file.empty())
      return Fail(ErrorCode::kInvalidArgument, "TLS needs a certificate to trust (ca_file)");
    impl->tls = std::make_unique<ssl::context>(ssl::context::tls_client);
    ssl::context& tls = *impl->tls;
    boost::system::error_code ec;
    tls.load_verify_file(options.ca_file, ec);
    if (ec) return Fail(ErrorCode::kInvalidArgument, "cannot load " + options.ca_file + ": " + ec.message());
    tls.set_verify_mode(ssl::verify_peer);
  }
  if (auto r = impl->Open(); !r) return std::unexpected(r.error());
  return std::unique_ptr<HttpClient>(new HttpClient(std::move(impl)));
}

Result<void> HttpClient::Reconnect() { return impl_->Open(); }

Result<HttpResponse> HttpClient::Request(std::string_view method, std::string_view target,
                                         std::string_view body, std::string_view content_type,
                                         const Headers& headers) {
  if (auto r = impl_->EnsureOpen(); !r) return std::unexpected(r.error());
  http::request<http::string_body> req{http::string_to_verb(method), std::string(target), 11};
  if (req.method() == http::verb::unknown) req.method_string(method);
  req.set(http::field::host, impl_->options.host);
  req.keep_alive(true);
  for (const auto& [k, v] : headers) req.set(k, v);
  if (!content_type.empty()) req.set(http::field::content_type, content_type);
  req.body() = std::string(body);
  req.prepare_payload();
  for (int attempt = 0;; ++attempt) {
    boost::system::error_code ec;
    HttpResponse out;
    impl_->Lowest().expires_after(std::chrono::milliseconds(impl_->options.timeout_ms));
    impl_->WithStream([&](auto& s) {
      http::write(s, req, ec);
      if (ec) return 0;
      http::response_parser<http::string_body> parser;
      parser.body_limit(1ull << 32);
      http::read(s, impl_->buffer, parser, ec);
      if (!ec) {
        CopyHeaders(parser.get(), out);
        out.body = std::move(parser.get().body());
        if (!parser.get().keep_alive()) impl_->ReopenQuietly();  // the server closes after this reply
      }
      return 0;
    });
    if (!ec) return out;
    // A keep-alive connection the server closed while idle: one retry on a new connection.
    if (attempt == 0 &&
        (ec == http::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == ssl::error::stream_truncated)) {
      if (auto r = impl_->Open(); !r) return std::unexpected(r.error());
      continue;
    }
    return Fail(ErrorCode::kInternal, std::string(method) + " " + std::string(target) + ": " + ec.message());
  }
}

Result<HttpResponse> HttpClient::Upload(std::string_view method, std::string_view target, std::istream& in,
                                        std::uint64_t size, const Headers& headers) {
  if (auto r = impl_->EnsureOpen(); !r) return std::unexpected(r.error());
  http::request<http::buffer_body> req{http::string_to_verb(method), std::string(target), 11};
  req.set(http::field::host, impl_->options.host);
  req.set(http::field::content_type, "application/octet-stream");
  for (const auto& [k, v] : headers) req.set(k, v);
  req.content_length(size);
  req.keep_alive(true);
  req.body().data = nullptr;
  req.body().more = true;
  boost::system::error_code ec;
  HttpResponse out;
  std::vector<char> buf(256 * 1024);
  impl_->WithStream([&](auto& s) {
    http::request_serializer<http::buffer_body> sr{req};
    impl_->Lowest().expires_after(std::chrono::milliseconds(impl_->options.timeout_ms));
    http::write_header(s, sr, ec);
    if (ec) return 0;
    std::uint64_t left = size;
    while (left > 0) {
      in.read(buf.data(), static_cast<std::streamsize>(std::min<std::uint64_t>(left, buf.size())));
      const auto n = static_cast<std::size_t>(in.gcount());
      if (n == 0) {
        ec = asio::error::eof;
        return 0;
      }
      left -= n;
      req.body().data = buf.data();
      req.body().size = n;
      req.body().more = true;
      impl_->Lowest().expires_after(std::chrono::milliseconds(impl_->options.timeout_ms));
      http::write(s, sr, ec);
      if (ec == http::error::need_buffer) ec = {};
      if (ec) return 0;
    }
    req.body().data = nullptr;
    req.body().more = false;
    http::write(s, sr, ec);
    if (ec) return 0;
    http::response_parser<http::string_body> parser;
    impl_->Lowest().expires_after(std::chrono::milliseconds(impl_->options.timeout_ms));
    http::read(s, impl_->buffer, parser, ec);
    if (!ec) {
      CopyHeaders(parser.get(), out);
      out.body = std::move(parser.get().body());
      if (!parser.get().keep_alive()) impl_->ReopenQuietly();
    }
    return 0;
  });
  if (ec) {
    impl_->ReopenQuietly();
    return Fail(ErrorCode::kInternal, "upload " + std::string(target) + ": " + ec.message());
  }
  return out;
}

Result<HttpResponse> HttpClient::Download(std::string_view target, std::ostream& out_stream,
                                          const Headers& headers) {
  if (auto r = impl_->EnsureOpen(); !r) return std::unexpected(r.error());
  http::request<http::empty_body> req{http::verb::get, std::string(target), 11};
  req.set(http::field::host, impl_->options.host);
  req.keep_alive(true);
  for (const auto& [k, v] : headers) req.set(k, v);
  boost::system::error_code ec;
  HttpResponse out;
  impl_->WithStream([&](auto& s) {
    impl_->Lowest().expires_after(std::chrono::milliseconds(impl_->options.timeout_ms));
    http::write(s, req, ec);
    if (ec) return 0;
    http::response_parser<http::buffer_body> parser;
    parser.body_limit(boost::none);
    http::read_header(s, impl_->buffer, parser, ec);
    if (ec) return 0;
    CopyHeaders(parser.get(), out);
    std::vector<char> buf(256 * 1024);
    const bool ok = out.status / 100 == 2;
    while (!parser.is_done()) {
      parser.get().body().data = buf.data();
      parser.get().body().size = buf.size();
      impl_->Lowest().expires_after(std::chrono::milliseconds(impl_->options.timeout_ms));
      http::read(s, impl_->buffer, parser, ec);
      if (ec == http::error::need_buffer) ec = {};
      if (ec) return 0;
      const std::size_t n = buf.size() - parser.get().body().size;
      if (ok)
        out_stream.write(buf.data(), static_cast<std::streamsize>(n));
      else
        out.body.append(buf.data(), n);
    }
    if (!parser.get().keep_alive()) impl_->ReopenQuietly();
    return 0;
  });
  if (ec) {
    impl_->ReopenQuietly();
    return Fail(ErrorCode::kInternal, "download " + std::string(target) + ": " + ec.message());
  }
  return out;
}

Result<std::string> HttpClient::SendRaw(std::string_view bytes, int read_timeout_ms, int pause_ms) {
  if (auto r = impl_->EnsureOpen(); !r) return std::unexpected(r.error());
  boost::system::error_code ec;
  std::string received;
  impl_->WithStream([&](auto& s) {
    impl_->Lowest().expires_after(std::chrono::milliseconds(impl_->options.timeout_ms));
    const std::size_t half = pause_ms > 0 ? bytes.size() / 2 : bytes.size();
    asio::write(s, asio::buffer(bytes.data(), half), ec);
    if (ec) return 0;
    if (pause_ms > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms));
      asio::write(s, asio::buffer(bytes.data() + half, bytes.size() - half), ec);
      if (ec) {
        ec = {};  // the server may have given up on us already: read what it said
      }
    }
    // Asynchronous reads, because only those honour the stream's deadline: a server that
    // keeps the connection open must not hang the caller.
    char buf[4096];
    for (;;) {
      boost::system::error_code rec;
      std::size_t n = 0;
      impl_->Lowest().expires_after(std::chrono::milliseconds(read_timeout_ms));
      s.async_read_some(asio::buffer(buf), [&](const boost::system::error_code& e, std::size_t k) {
        rec = e;
        n = k;
      });
      impl_->io.restart();
      impl_->io.run();
      received.append(buf, n);
      if (rec) break;
    }
    ec = {};
    return 0;
  });
  impl_->ReopenQuietly();
  return received;
}

}  // namespace cipherchart::client
