#include "src/server/http_server.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "cipherchart/common/secret.h"
#include "src/server/api_error.h"
#include "src/server/ids.h"
#include "src/server/request_head.h"
#include "src/server/service.h"
#include "src/server/tls.h"

namespace cipherchart::server {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// Lingering close (RFC 9112 section 9.6): half-close, then read and drop what the client is
// still sending (a request body refused from its Content-Length, say) for a bounded time and
// amount before closing. Closing with unread bytes in the receive buffer makes the kernel send a
// reset, which can destroy the response before the client has read it: the client would see
// "connection reset" instead of 413.
constexpr auto kLingerTime = 1000ms;
constexpr std::size_t kLingerBytes = 8u << 20;

asio::awaitable<void> LingeringClose(beast::tcp_stream& s, bool skip) {
  boost::system::error_code ec;
  s.socket().shutdown(tcp::socket::shutdown_send, ec);
  if (!ec && !skip) {
    std::array<char, 16384> scratch{};
    std::size_t total = 0;
    s.expires_after(kLingerTime);
    while (total < kLingerBytes) {
      auto [rec, n] = co_await s.async_read_some(asio::buffer(scratch), kTuple);
      if (rec) break;  // end of stream (the usual case, at once), time out or reset
      total += n;
    }
  }
  s.socket().close(ec);
}

// A deadline for a read that must be answered (408) rather than cut off: Beast's stream
// timeout closes the socket, which leaves nothing to answer on. On expiry this cancels the
// socket's operations instead; the read completes with operation_aborted and `fired()` tells
// why. Runs on the connection's strand, so the cancel never races the coroutine.
class Watchdog {
 public:
  Watchdog(const asio::any_io_executor& ex, tcp::socket& socket)
      : state_(std::make_shared<State>(ex, socket)) {}
  ~Watchdog() {
    try {
      state_->timer.cancel();
    } catch (const boost::system::system_error&) {
      // Only if the reactor fails; the timer's handler holds a weak pointer, so it is harmless.
      std::fputs("{\"level\":\"warn\",\"msg\":\"watchdog timer cancel failed\"}\n", stderr);
    }
  }
  void Arm(std::chrono::milliseconds after) {
    state_->fired = false;
    state_->timer.expires_after(after);
    state_->timer.async_wait([weak = std::weak_ptr<State>(state_)](const boost::system::error_code& ec) {
      if (ec) return;
      if (auto s = weak.lock()) {
        s->fired = true;
        boost::system::error_code ignored;
        s->socket.cancel(ignored);
      }
    });
  }
  void Disarm() { state_->timer.cancel(); }
  bool fired() const { return state_->fired; }

 private:
  struct State {
    State(const asio::any_io_executor& ex, tcp::socket& s) : timer(ex), socket(s) {}
    asio::steady_timer timer;
    tcp::socket& socket;
    bool fired = false;
  };
  std::shared_ptr<State> state_;
};

// Reads one request body through the parser, a caller-sized piece at a time.
template <class Stream>
class BeastBody final : public BodySource {
 public:
  BeastBody(Stream& stream, beast::flat_buffer& buffer, http::request_parser<http::buffer_body>& parser,
            const ServerConfig& config, Watchdog& watchdog)
      : stream_(stream), buffer_(buffer), parser_(parser), config_(config), watchdog_(watchdog) {}

  asio::awaitable<Result<std::size_t>> Read(std::span<std::uint8_t> out) override {
    while (!parser_.is_done()) {
      parser_.get().body().data = out.data();
      parser_.get().body().size = out.size();
      beast::get_lowest_layer(stream_).expires_never();
      watchdog_.Arm(std::chrono::milliseconds(config_.body_idle_timeout_ms));
      auto [ec, n] = co_await http::async_read(stream_, buffer_, parser_, kTuple);
      watchdog_.Disarm();
      (void)n;
      if (ec == http::error::need_buffer) ec = {};
      if (ec) {
        failed_ = true;
        if (watchdog_.fired()) {
          status_ = 408;
          co_return Fail(ErrorCode::kInvalidEncoding,
                         "the body stalled for over " + std::to_string(config_.body_idle_timeout_ms) + " ms");
        }
        if (ec == http::error::body_limit) {
          status_ = 413;
          co_return Fail(ErrorCode::kInvalidEncoding, "the body is over the server's upload limit");
        }
        status_ = 400;
        co_return Fail(ErrorCode::kInvalidEncoding,
                       "the body ended early or is malformed (" + ec.message() + ")");
      }
      const std::size_t got = out.size() - parser_.get().body().size;
      if (got > 0) co_return got;
    }
    co_return std::size_t{0};
  }
  int failure_status() const override { return status_; }
  bool finished() const override { return !failed_ && parser_.is_done(); }

 private:
  Stream& stream_;
  beast::flat_buffer& buffer_;
  http::request_parser<http::buffer_body>& parser_;
  const ServerConfig& config_;
  Watchdog& watchdog_;
  int status_ = 400;
  bool failed_ = false;
};

std::string ErrorJson(std::string_view code, std::string_view message) {
  std::string out = R"({"error":{"code":")";
  out += code;
  out += R"(","message":")";
  for (char c : message) {
    if (c == '"' || c == '\\') out.push_back('\\');
    if (static_cast<unsigned char>(c) >= 0x20) out.push_back(c);
  }
  out += "\"}}";
  return out;
}

}  // namespace

struct HttpServer::Impl {
  ServerConfig config;
  std::unique_ptr<Store> store;
  std::unique_ptr<AuditedWriter> writer;
  Metrics metrics;
  asio::io_context io;
  std::optional<ssl::context> tls;
  tcp::acceptor acceptor{io};
  std::unique_ptr<Service> service;
  std::atomic<int> busy{0};  // connections inside a request
  std::atomic<bool> stopping{false};
  std::mutex log_mu;
  std::mutex drain_mu;  // held while `drain` is created, so Run cannot miss it
  std::thread drain;    // BeginShutdown's waiter; joined by Run

  asio::awaitable<void> Accept();
  template <class Stream>
  asio::awaitable<void> Serve(Stream& stream);
  template <class Stream>
  asio::awaitable<bool> WriteReply(Stream& stream, HttpReply& reply, bool keep_alive);
  template <class Stream>
  asio::awaitable<void> WriteError(Stream& stream, int status, std::string_view code,
                                   std::string_view message);
  template <class Stream>
  asio::awaitable<void> WriteError(Stream& stream, ApiError error) {
    co_await WriteError(stream, error.status, error.code, error.message);
  }
  void LogRequest(const std::string& method, const HttpReply& reply, double seconds);
  void BeginShutdown();
};

Result<envelope::Ed25519SigningKey> LoadAuditKey(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail(ErrorCode::kInvalidArgument, "audit key: cannot read " + path);
  SecretBytes seed(envelope::kEd25519SeedSize);
  in.read(reinterpret_cast<char*>(seed.data()), static_cast<std::streamsize>(seed.size()));
  if (in.gcount() != static_cast<std::streamsize>(seed.size()) || in.get() != std::char_traits<char>::eof())
    return Fail(ErrorCode::kInvalidEncoding, "audit key: " + path + " must hold exactly 32 bytes");
  return envelope::Ed25519SigningKey::FromSeed(seed);
}

Result<void> EnsureAuditKey(const std::string& path) {
  namespace fs = std::filesystem;
  if (fs::exists(path)) return {};
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  auto key = envelope::Ed25519SigningKey::Generate();
  if (!key) return std::unexpected(key.error());
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return Fail(ErrorCode::kInternal, "audit key: cannot create " + tmp);
  const auto& seed = key->seed();
  const bool ok =
      ::write(fd, seed.data(), seed.size()) == static_cast<ssize_t>(seed.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return Fail(ErrorCode::kInternal, "audit key: cannot write " + tmp);
  fs::rename(tmp, path, ec);
  if (ec) return Fail(ErrorCode::kInternal, "audit key: rename to " + path + ": " + ec.message());
  return {};
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() {
  if (!impl_) return;
  {
    std::lock_guard lock(impl_->drain_mu);
    if (impl_->drain.joinable()) impl_->drain.join();
  }
  if (impl_->writer) impl_->writer->Stop();
}

Result<std::unique_ptr<HttpServer>> HttpServer::Start(ServerConfig config) {
  if (auto r = Finalise(config); !r) return std::unexpected(r.error());
  auto impl = std::make_unique<Impl>();
  impl->config = std::move(config);
  const ServerConfig& c = impl->config;
  std::error_code fs_ec;
  std::filesystem::create_directories(c.data_dir, fs_ec);
  if (fs_ec) return Fail(ErrorCode::kInvalidArgument, "data_dir " + c.data_dir + ": " + fs_ec.message());

  auto store = OpenStore(c.store);
  if (!store) return std::unexpected(store.error());
  impl->store = std::move(*store);
  if (auto r = impl->store->Migrate(); !r) return std::unexpected(r.error());
  // Uploads cut off by a crash left orphan blobs; no row references them.
  // The cutoff leaves an hour for uploads other servers on the same database have in flight.
  {
    auto tx = impl->store->BeginWrite();
    if (!tx) return std::unexpected(tx.error());
    if (auto r = (*tx)->DeleteOrphanBlobs(NowMillis() - 3'600'000); !r) return std::unexpected(r.error());
    if (auto r = (*tx)->DeleteExpired(NowSeconds()); !r) return std::unexpected(r.error());
    if (auto r = (*tx)->Commit(); !r) return std::unexpected(r.error());
  }

  if (auto r = EnsureAuditKey(c.audit_key); !r) return std::unexpected(r.error());
  auto key = LoadAuditKey(c.audit_key);
  if (!key) return std::unexpected(key.error());
  auto writer = AuditedWriter::Start(*impl->store, std::move(*key), c.max_batch);
  if (!writer) return std::unexpected(writer.error());
  impl->writer = std::move(*writer);

  if (c.tls) {
    if (auto r = EnsureCertificate(c.tls_cert, c.tls_key); !r) return std::unexpected(r.error());
    ssl::context& tls = impl->tls.emplace(ssl::context::tls_server);
    tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                    ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
    boost::system::error_code ec;
    tls.use_certificate_chain_file(c.tls_cert, ec);
    if (ec) return Fail(ErrorCode::kInvalidArgument, "TLS certificate " + c.tls_cert + ": " + ec.message());
    tls.use_private_key_file(c.tls_key, ssl::context::pem, ec);
    if (ec) return Fail(ErrorCode::kInvalidArgument, "TLS key " + c.tls_key + ": " + ec.message());
  }

  boost::system::error_code ec;
  const auto address =
      asio::ip::make_address(c.listen_address == "localhost" ? "127.0.0.1" : c.listen_address, ec);
  if (ec) return Fail(ErrorCode::kInvalidArgument, "listen: '" + c.listen_address + "' is not an IP address");
  const tcp::endpoint endpoint(address, static_cast<unsigned short>(c.port));
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return Fail(ErrorCode::kInvalidArgument,
                "listen on " + c.listen_address + ":" + std::to_string(c.port) + ": " + ec.message());
  impl->service =
      std::make_unique<Service>(impl->config, *impl->store, *impl->writer, impl->metrics, impl->io);
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

int HttpServer::port() const { return impl_->acceptor.local_endpoint().port(); }

void HttpServer::Impl::LogRequest(const std::string& method, const HttpReply& reply, double seconds) {
  metrics.Record(reply.route, reply.status, seconds);
  if (!config.log_requests) return;
  // Route patterns only: ids, tokens and bodies never reach the log.
  char line[320];
  std::snprintf(line, sizeof line,
                "{\"ts\":%lld,\"level\":\"info\",\"msg\":\"request\",\"method\":\"%.8s\",\"route\":\"%.64s\","
                "\"status\":%d,\"ms\":%.3f}\n",
                static_cast<long long>(NowMillis()), method.c_str(), reply.route.c_str(), reply.status,
                seconds * 1000);
  std::lock_guard lock(log_mu);
  std::fputs(line, stderr);
}

template <class Stream>
asio::awaitable<void> HttpServer::Impl::WriteError(Stream& stream, int status, std::string_view code,
                                                   std::string_view message) {
  http::response<http::string_body> res{static_cast<http::status>(status), 11};
  res.set(http::field::content_type, "application/json");
  res.set(http::field::connection, "close");
  res.keep_alive(false);
  res.body() = ErrorJson(code, message);
  res.prepare_payload();
  beast::get_lowest_layer(stream).expires_after(5s);
  (void)co_await http::async_write(stream, res, kTuple);
  HttpReply r;
  r.status = status;
  r.route = "unparsed";
  LogRequest("-", r, 0);
}

template <class Stream>
asio::awaitable<bool> HttpServer::Impl::WriteReply(Stream& stream, HttpReply& reply, bool keep_alive) {
  beast::get_lowest_layer(stream).expires_after(std::chrono::milliseconds(config.body_idle_timeout_ms));
  auto set_common = [&](auto& res) {
    res.set(http::field::server, "cipherchart");
    res.set(http::field::content_type, reply.content_type);
    for (const auto& [k, v] : reply.headers) res.set(k, v);
    res.keep_alive(keep_alive);
  };
  if (reply.blob_id.empty() || reply.blob_size <= static_cast<std::int64_t>(kMaxChunkSize)) {
    http::response<http::string_body> res{static_cast<http::status>(reply.status), 11};
    set_common(res);
    if (!reply.blob_id.empty()) {
      // One chunk at most: read it whole and send it in one write.
      auto chunk_r = store->ReadBlobChunk(reply.blob_id, 0);
      if (!chunk_r) {
        co_await WriteError(stream, InternalError());
        co_return false;
      }
      const auto& chunk = *chunk_r;
      const std::int64_t have = chunk.has_value() ? static_cast<std::int64_t>(chunk->size()) : 0;
      if (have != reply.blob_size) {
        co_await WriteError(stream, InternalError());
        co_return false;
      }
      if (chunk.has_value()) res.body().assign(chunk->begin(), chunk->end());
    } else {
      res.body() = std::move(reply.body);
    }
    res.prepare_payload();
    auto [ec, n] = co_await http::async_write(stream, res, kTuple);
    (void)n;
    co_return !ec;
  }
  // Large blob: headers, then one database chunk at a time (constant memory).
  http::response<http::buffer_body> res{static_cast<http::status>(reply.status), 11};
  set_common(res);
  res.content_length(static_cast<std::uint64_t>(reply.blob_size));
  res.body().data = nullptr;
  res.body().more = true;
  http::response_serializer<http::buffer_body> sr{res};
  auto [hec, hn] = co_await http::async_write_header(stream, sr, kTuple);
  (void)hn;
  if (hec) co_return false;
  std::int64_t sent = 0;
  for (std::int64_t index = 0; sent < reply.blob_size; ++index) {
    auto chunk_r = store->ReadBlobChunk(reply.blob_id, index);
    // The headers are out: a missing chunk can only cut the connection, which the client sees
    // as a short body.
    if (!chunk_r) co_return false;
    const auto& chunk = *chunk_r;
    if (!chunk.has_value() || chunk->empty()) co_return false;
    res.body().data = const_cast<std::uint8_t*>(chunk->data());  // buffer_body takes void*; only read
    res.body().size = chunk->size();
    res.body().more = true;
    beast::get_lowest_layer(stream).expires_after(std::chrono::milliseconds(config.body_idle_timeout_ms));
    auto [ec, n] = co_await http::async_write(stream, sr, kTuple);
    (void)n;
    if (ec && ec != http::error::need_buffer) co_return false;
    sent += static_cast<std::int64_t>(chunk->size());
  }
  res.body().data = nullptr;
  res.body().size = 0;
  res.body().more = false;
  auto [ec, n] = co_await http::async_write(stream, sr, kTuple);
  (void)n;
  co_return !ec;
}

template <class Stream>
asio::awaitable<void> HttpServer::Impl::Serve(Stream& stream) {
  beast::flat_buffer buffer;
  Watchdog watchdog(co_await asio::this_coro::executor, beast::get_lowest_layer(stream).socket());
  for (;;) {
    // Idle keep-alive wait for the first byte, then the header timeout for the rest.
    if (buffer.size() == 0) {
      beast::get_lowest_layer(stream).expires_after(std::chrono::milliseconds(config.idle_timeout_ms));
      auto [ec, n] = co_await stream.async_read_some(buffer.prepare(4096), kTuple);
      if (ec) co_return;  // closed, reset or idle: nothing to answer
      buffer.commit(n);
    }
    if (stopping) {
      co_await WriteError(stream, 503, "shutting_down",
                          "the server is shutting down; retry on another server");
      co_return;
    }
    http::request_parser<http::buffer_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(config.max_header_bytes));
    parser.body_limit(static_cast<std::uint64_t>(config.max_upload));
    beast::get_lowest_layer(stream).expires_never();
    watchdog.Arm(std::chrono::milliseconds(config.header_timeout_ms));
    auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, kTuple);
    watchdog.Disarm();
    (void)n;
    if (ec) {
      if (watchdog.fired())
        co_await WriteError(
            stream, 408, "timeout",
            "the request headers did not arrive within " + std::to_string(config.header_timeout_ms) + " ms");
      else if (ec == http::error::header_limit)
        co_await WriteError(
            stream, 431, "headers_too_large",
            "the request line and headers are over " + std::to_string(config.max_header_bytes) + " bytes");
      else if (ec != http::error::end_of_stream && ec != asio::error::eof &&
               ec != ssl::error::stream_truncated)
        co_await WriteError(stream, 400, "bad_request", "malformed HTTP request: " + ec.message());
      co_return;
    }
    const auto started = std::chrono::steady_clock::now();
    busy.fetch_add(1);
    auto& head = parser.get();
    HttpRequest req = RequestFromHead(parser);
    if (req.has_body && beast::iequals(head[http::field::expect], "100-continue")) {
      http::response<http::empty_body> cont{http::status::continue_, 11};
      (void)co_await http::async_write(stream, cont, kTuple);
    }
    const bool client_keep_alive = head.keep_alive();
    BeastBody<Stream> body(stream, buffer, parser, config, watchdog);
    HttpReply reply = co_await service->Handle(req, body);
    // A body the handler did not read to the end leaves the stream mid-request: close.
    const bool keep = client_keep_alive && body.finished() && !stopping && reply.status != 408;
    const bool written = co_await WriteReply(stream, reply, keep);
    LogRequest(req.method, reply,
               std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    busy.fetch_sub(1);
    if (!written || !keep) co_return;
  }
}

asio::awaitable<void> HttpServer::Impl::Accept() {
  for (;;) {
    // Each connection lives on its own strand: its coroutine, its watchdog and the writer's
    // completions never run at the same time.
    auto strand = asio::make_strand(io);
    auto [ec, socket] = co_await acceptor.async_accept(strand, kTuple);
    if (ec) {
      if (ec == asio::error::operation_aborted || stopping) co_return;
      continue;  // e.g. EMFILE: keep serving the connections we have
    }
    socket.set_option(tcp::no_delay(true), ec);
    asio::co_spawn(
        strand,
        [this, s = std::move(socket)]() mutable -> asio::awaitable<void> {
          metrics.ConnectionOpened();
          beast::tcp_stream tcp_stream(std::move(s));
          if (tls) {
            beast::ssl_stream<beast::tcp_stream> stream(std::move(tcp_stream), *tls);
            beast::get_lowest_layer(stream).expires_after(
                std::chrono::milliseconds(config.header_timeout_ms));
            auto [hec] = co_await stream.async_handshake(ssl::stream_base::server, kTuple);
            if (!hec) co_await Serve(stream);
            // No TLS close_notify exchange: every response is length-delimited, so truncation
            // is visible without it, and waiting for a peer's close_notify would let a client
            // hold the connection open. The lingering close drains raw TCP bytes (TLS records
            // are dropped unread).
            co_await LingeringClose(beast::get_lowest_layer(stream), hec.failed() || stopping);
          } else {
            co_await Serve(tcp_stream);
            co_await LingeringClose(tcp_stream, stopping);
          }
          metrics.ConnectionClosed();
        },
        asio::detached);
  }
}

void HttpServer::Impl::BeginShutdown() {
  if (stopping.exchange(true)) return;
  asio::post(io, [this] {
    boost::system::error_code ec;
    acceptor.close(ec);
  });
  service->BeginDrain();
  // Wait (on a detached thread) for requests in flight, then let the writer commit its queue.
  std::lock_guard lock(drain_mu);
  drain = std::thread([this] {
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(config.shutdown_grace_ms);
    while (busy.load() > 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(5ms);
    writer->Stop();
    io.stop();
  });
}

void HttpServer::Run(bool handle_signals) {
  Impl& s = *impl_;
  std::optional<asio::signal_set> signals;
  if (handle_signals) {
    signals.emplace(s.io, SIGINT, SIGTERM);
    signals->async_wait([&s](const boost::system::error_code& ec, int) {
      if (!ec) s.BeginShutdown();
    });
  }
  asio::co_spawn(s.io, s.Accept(), asio::detached);
  int threads =
      s.config.threads > 0 ? s.config.threads : static_cast<int>(std::thread::hardware_concurrency());
  if (threads < 1) threads = 1;
  std::vector<std::thread> pool;
  for (int i = 1; i < threads; ++i) pool.emplace_back([&s] { s.io.run(); });
  s.io.run();
  for (auto& t : pool) t.join();
  {
    std::lock_guard lock(s.drain_mu);
    if (s.drain.joinable()) s.drain.join();
  }
  s.writer->Stop();
}

void HttpServer::Shutdown() { impl_->BeginShutdown(); }

}  // namespace cipherchart::server
