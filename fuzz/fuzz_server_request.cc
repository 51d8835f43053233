// libFuzzer target: the storage server's request handling (src/server/service.cc) behind the same
// HTTP/1.1 parsing as src/server/http_server.cc, without sockets.
//
// One process-wide fixture (recreated every kInputsPerFixture inputs so the database and the
// in-memory audit tree stay small): a SQLite store in a temporary directory (under /dev/shm when
// it exists, so the writer's fsyncs cost nothing), an AuditedWriter with a fixed key, a Service,
// and the accounts, sessions, patients, records and key package of server_fuzz_state.h, written
// straight into the store so that requests get past authentication and reach the handlers.
//
// An input is raw HTTP/1.1 bytes: up to kMaxRequestsPerInput pipelined requests, each parsed by
// a Beast request_parser<buffer_body> with the server's header and body limits, head first, then
// handed to Service::Handle with a BodySource that feeds the rest of the input to the parser, as
// http_server.cc does with a socket (the end of the input is the client closing its side). An
// input whose first byte is below 0x20 is instead a structured request (StructuredRequest below:
// method, path template, credentials and content type from small tables, fuzzed ids, headers
// and body), which is turned into HTTP bytes and run the same way.
//
// Checks on every reply (any failure aborts):
//   - the status is one docs/api.md lists; 500 is a bug (a handler failed on input it should
//     have rejected), and so is 503 (the fixture never drains);
//   - an error reply is application/json of exactly {"error":{"code","message"}}, with a code
//     docs/api.md lists for that status;
//   - no reply (body or headers) contains a fixture session token, and no error message echoes
//     the request's bearer token;
//   - JSON replies parse; the route name is a metrics label that needs no escaping;
//   - a download (record or key package) has exactly the stored blob's size, and a record's
//     X-CipherChart-Sha256 is the SHA-256 of its bytes;
//   - /metrics renders every line (ends with the connections gauge).
// Seeds: fuzz_make_seeds (server_seeds.cc) writes requests for every route, good and bad.
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <future>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "cipherchart/common/secret.h"
#include "cipherchart/envelope/signature.h"
#include "cipherchart/server/store.h"
#include "fuzz_check.h"
#include "server_fuzz_state.h"
#include "src/envelope/sha256.h"
#include "src/server/config.h"
#include "src/server/ids.h"
#include "src/server/metrics.h"
#include "src/server/request_head.h"
#include "src/server/service.h"
#include "src/server/writer.h"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace fs = std::filesystem;
namespace state = cipherchart::fuzz::server_state;
using namespace cipherchart;
using namespace cipherchart::server;
using Bytes = std::span<const std::uint8_t>;
using json = nlohmann::json;

constexpr int kInputsPerFixture = 2000;
constexpr int kMaxRequestsPerInput = 4;

// The owners of state::kTokens, in the same order.
constexpr const char* kSessionUsers[] = {state::kPatientUser, state::kPractitionerUser,
                                         state::kAuthorityAdminUser, state::kServerAdminUser,
                                         state::kPendingUser};
static_assert(std::size(kSessionUsers) == std::size(state::kTokens));

// Setup failures are not findings: stop with a message.
template <class T>
T Must(Result<T> r, const char* what) {
  if (!r) {
    std::fprintf(stderr, "fuzz_server_request: setup: %s: %s\n", what, r.error().ToString().c_str());
    std::abort();
  }
  if constexpr (!std::is_void_v<T>) return std::move(*r);
}

std::array<std::uint8_t, 32> Sha256(std::string_view text) {
  return Must(
      envelope::internal::Sha256Of(Bytes(reinterpret_cast<const std::uint8_t*>(text.data()), text.size())),
      "SHA-256");
}

std::array<std::uint8_t, 32> TokenHash(const char* token) {
  auto raw = Base64UrlDecode(token);
  if (!raw || raw->size() != 32) {
    std::fprintf(stderr, "fuzz_server_request: setup: %s is not a session token\n", token);
    std::abort();
  }
  return Must(envelope::internal::Sha256Of(*raw), "SHA-256");
}

struct Fixture {
  fs::path dir;
  ServerConfig config;
  std::unique_ptr<Store> store;
  std::unique_ptr<AuditedWriter> writer;
  Metrics metrics;
  asio::io_context io;
  std::unique_ptr<Service> service;
  int inputs = 0;

  Fixture();
  ~Fixture() {
    service.reset();
    if (writer) writer->Stop();
    writer.reset();
    store.reset();
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  void WriteState();
  void RestoreSessions();
};

Fixture::Fixture() {
  std::error_code ec;
  const fs::path base = fs::is_directory("/dev/shm", ec) ? fs::path("/dev/shm") : fs::temp_directory_path();
  std::string pattern = (base / "cipherchart-fuzz-server-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    std::fprintf(stderr, "fuzz_server_request: setup: cannot create %s\n", pattern.c_str());
    std::abort();
  }
  dir = pattern;
  config.data_dir = dir.string();
  config.tls = false;
  config.log_requests = false;
  Must(Finalise(config), "config");
  store = Must(OpenStore(config.store), "open store");
  Must(store->Migrate(), "migrate");
  WriteState();
  auto key = Must(envelope::Ed25519SigningKey::FromSeed(SecretBytes(std::vector<std::uint8_t>(32, 0x3C))),
                  "audit key");
  writer = Must(AuditedWriter::Start(*store, std::move(key), config.max_batch), "writer");
  service = std::make_unique<Service>(config, *store, *writer, metrics, io);
}

void Fixture::WriteState() {
  const std::int64_t now = NowSeconds();
  const std::int64_t far = now + 10LL * 365 * 24 * 3600;
  auto tx = Must(store->BeginWrite(), "begin");
  struct Who {
    const char* user;
    Role role;
    ApprovalState state;
  };
  const Who accounts[] = {
      {state::kPatientUser, Role::kPatient, ApprovalState::kApproved},
      {state::kPractitionerUser, Role::kPractitioner, ApprovalState::kApproved},
      {state::kAuthorityAdminUser, Role::kAuthorityAdmin, ApprovalState::kApproved},
      {state::kServerAdminUser, Role::kServerAdmin, ApprovalState::kApproved},
      {state::kPendingUser, Role::kPractitioner, ApprovalState::kPending},
      {state::kOtherPatientUser, Role::kPatient, ApprovalState::kApproved},
  };
  std::uint8_t n = 1;
  for (const Who& w : accounts) {
    Account a;
    a.user_id = w.user;
    a.role = w.role;
    a.state = w.state;
    a.identity_key.fill(n);
    a.delivery_key.fill(static_cast<std::uint8_t>(0x80 | n));
    ++n;
    if (w.role != Role::kPatient) a.organisation = state::kOrganisation;
    if (w.role == Role::kPractitioner)
      a.details_json =
          R"({"licence":"L-1","name":"Dr Fuzz","practice_end":"2030-12-31","practice_start":"2010-01-01"})";
    a.created_at = now;
    Must(tx->InsertAccount(a), "account");
  }
  for (std::size_t i = 0; i < std::size(state::kTokens); ++i) {
    Session s;
    s.token_hash = TokenHash(state::kTokens[i]);
    s.user_id = kSessionUsers[i];
    s.expires_at = far;
    Must(tx->InsertSession(s), "session");
  }
  Patient owned;
  owned.patient_id = state::kOwnedPatient;
  owned.owner_user_id = state::kPatientUser;
  owned.created_by = state::kPractitionerUser;
  owned.enrolment_code_hash = Sha256("an already used code");
  owned.enrolment_used = true;
  owned.created_at = now;
  Must(tx->InsertPatient(owned), "patient");
  Patient free = owned;
  free.patient_id = state::kFreePatient;
  free.owner_user_id = "";
  free.enrolment_code_hash = Sha256(state::kEnrolmentCode);
  free.enrolment_used = false;
  Must(tx->InsertPatient(free), "patient");

  auto blob_of = [&](std::string_view text) {
    const std::string id = Must(tx->CreateBlob(), "blob");
    Must(tx->AppendBlobChunk(id, 0, std::vector<std::uint8_t>(text.begin(), text.end())), "chunk");
    return id;
  };
  for (const char* rid : state::kRecordIds) {
    const std::string text = std::string("fuzz record envelope ") + rid;
    RecordMeta m;
    m.patient_id = state::kOwnedPatient;
    m.record_id = rid;
    m.version = 1;
    m.section = state::kRecordSection;
    m.policy = state::kRecordPolicy;
    m.author_id = state::kPractitionerUser;
    m.size = static_cast<std::int64_t>(text.size());
    m.sha256 = Sha256(text);
    m.created_at = now * 1000;
    m.blob_id = blob_of(text);
    Must(tx->InsertRecordVersion(m), "record");
  }
  KeyPackage k;
  k.package_id = state::kPackageId;
  k.recipient_id = state::kPatientUser;
  k.sender_id = state::kAuthorityAdminUser;
  const std::string package = "fuzz key package";
  k.size = static_cast<std::int64_t>(package.size());
  k.created_at = now * 1000;
  k.blob_id = blob_of(package);
  Must(tx->InsertKeyPackage(k), "key package");
  Must(tx->Commit(), "commit");
}

// A logout deletes a fixture session; put it back (through the writer, the one holder of write
// transactions) so later inputs still authenticate.
void Fixture::RestoreSessions() {
  for (std::size_t i = 0; i < std::size(state::kTokens); ++i) {
    const auto hash = TokenHash(state::kTokens[i]);
    if (Must(store->GetSession(hash), "get session")) continue;
    Session s;
    s.token_hash = hash;
    s.user_id = kSessionUsers[i];
    s.expires_at = NowSeconds() + 10LL * 365 * 24 * 3600;
    std::promise<Result<void>> done;
    AuditedWriter::Request w;
    w.apply = [s](WriteTx& tx) { return tx.InsertSession(s); };
    w.done = [&done](Result<void> r) { done.set_value(std::move(r)); };
    writer->Submit(std::move(w));
    Must(done.get_future().get(), "restore session");
  }
}

// The body of one parsed request, read from the rest of the input through the parser, as
// http_server.cc's BeastBody reads it from the socket. The end of the input is the client
// closing the connection: a body cut short there fails with 400.
class InputBody final : public BodySource {
 public:
  InputBody(http::request_parser<http::buffer_body>& parser, Bytes& rest) : parser_(parser), rest_(rest) {}

  asio::awaitable<Result<std::size_t>> Read(std::span<std::uint8_t> out) override { co_return ReadNow(out); }
  int failure_status() const override { return status_; }
  bool finished() const override { return !failed_ && parser_.is_done(); }

 private:
  Result<std::size_t> ReadNow(std::span<std::uint8_t> out) {
    while (!parser_.is_done()) {
      parser_.get().body().data = out.data();
      parser_.get().body().size = out.size();
      beast::error_code ec;
      std::size_t used = 0;
      if (rest_.empty()) {
        ec = http::error::partial_message;
      } else {
        used = parser_.put(asio::buffer(rest_.data(), rest_.size()), ec);
        rest_ = rest_.subspan(used);
        // need_more: the input ends inside a chunk header or trailer, so no more bytes come.
        if (ec == http::error::need_more) ec = http::error::partial_message;
        if (ec == http::error::need_buffer) ec = {};
      }
      const std::size_t got = out.size() - parser_.get().body().size;
      if (!ec && got == 0 && used == 0 && !parser_.is_done()) ec = http::error::partial_message;
      if (ec) {
        failed_ = true;
        if (ec == http::error::body_limit) {
          status_ = 413;
          return Fail(ErrorCode::kInvalidEncoding, "the body is over the server's upload limit");
        }
        status_ = 400;
        return Fail(ErrorCode::kInvalidEncoding,
                    "the body ended early or is malformed (" + ec.message() + ")");
      }
      if (got > 0) return got;
    }
    return std::size_t{0};
  }

  http::request_parser<http::buffer_body>& parser_;
  Bytes& rest_;
  int status_ = 400;
  bool failed_ = false;
};

bool Contains(std::string_view haystack, std::string_view needle) {
  return !needle.empty() && haystack.find(needle) != std::string_view::npos;
}

void Describe(const HttpRequest& req, const HttpReply& reply) {
  std::fprintf(stderr, "request: %.16s %.200s\nreply: %d route=%.80s content-type=%.60s body=%.400s\n",
               req.method.c_str(), req.target.c_str(), reply.status, reply.route.c_str(),
               reply.content_type.c_str(), reply.body.c_str());
}

// The error codes docs/api.md lists for each status.
const std::map<int, std::set<std::string>>& DocumentedErrors() {
  static const std::map<int, std::set<std::string>> codes = {
      {400, {"bad_json", "bad_field", "missing_field", "bad_request", "bad_path"}},
      {401, {"unauthenticated", "bad_token", "expired_token", "bad_challenge", "bad_signature"}},
      {403, {"forbidden", "not_approved"}},
      {404, {"not_found"}},
      {405, {"method_not_allowed"}},
      {408, {"timeout"}},
      {409, {"conflict"}},
      {411, {"length_required"}},
      {413, {"too_large"}},
      {415, {"unsupported_media_type"}},
      {431, {"headers_too_large"}},
  };
  return codes;
}

// A route name goes into a Prometheus label and a JSON log line unescaped.
bool IsPlainLabel(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s)
    if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\') return false;
  return true;
}

void CheckReply(Fixture& f, const HttpRequest& req, const HttpReply& reply, Bytes input) {
  const int status = reply.status;
  if (status != 200 && status != 201 && !DocumentedErrors().contains(status)) Describe(req, reply);
  FUZZ_CHECK(status == 200 || status == 201 || DocumentedErrors().contains(status), input);
  if (!IsPlainLabel(reply.route)) Describe(req, reply);
  FUZZ_CHECK(IsPlainLabel(reply.route), input);

  for (const char* token : state::kTokens) {
    FUZZ_CHECK(!Contains(reply.body, token), input);
    for (const auto& [name, value] : reply.headers) FUZZ_CHECK(!Contains(value, token), input);
  }

  if (status >= 400) {
    FUZZ_CHECK(reply.content_type == "application/json" && reply.blob_id.empty(), input);
    const json j = json::parse(reply.body, nullptr, /*allow_exceptions=*/false);
    FUZZ_CHECK(j.is_object() && j.size() == 1 && j.contains("error"), input);
    const json& e = j["error"];
    FUZZ_CHECK(e.is_object() && e.size() == 2, input);
    FUZZ_CHECK(e.contains("code") && e["code"].is_string(), input);
    FUZZ_CHECK(e.contains("message") && e["message"].is_string(), input);
    const auto& code = e["code"].get_ref<const std::string&>();
    const auto& message = e["message"].get_ref<const std::string&>();
    if (!DocumentedErrors().at(status).contains(code)) Describe(req, reply);
    FUZZ_CHECK(DocumentedErrors().at(status).contains(code), input);
    FUZZ_CHECK(!message.empty(), input);
    // A bearer token the server would look up is a secret: never echoed.
    constexpr std::string_view kBearer = "Bearer ";
    if (req.authorization.starts_with(kBearer)) {
      const std::string_view token = std::string_view(req.authorization).substr(kBearer.size());
      auto raw = Base64UrlDecode(token);
      if (raw && raw->size() == 32) FUZZ_CHECK(!Contains(message, token), input);
    }
    return;
  }

  if (!reply.blob_id.empty()) {
    FUZZ_CHECK(status == 200 && reply.content_type == "application/octet-stream", input);
    // What http_server.cc's WriteReply streams: every chunk of the blob, which must add up to
    // the size the reply announces.
    std::vector<std::uint8_t> bytes;
    for (std::int64_t index = 0;; ++index) {
      auto chunk = f.store->ReadBlobChunk(reply.blob_id, index);
      FUZZ_CHECK(chunk.has_value(), input);
      if (!*chunk) break;
      bytes.insert(bytes.end(), (*chunk)->begin(), (*chunk)->end());
      FUZZ_CHECK(static_cast<std::int64_t>(bytes.size()) <= reply.blob_size, input);
    }
    FUZZ_CHECK(static_cast<std::int64_t>(bytes.size()) == reply.blob_size, input);
    for (const auto& [name, value] : reply.headers)
      if (name == "X-CipherChart-Sha256") {
        auto digest = envelope::internal::Sha256Of(bytes);
        FUZZ_CHECK(digest.has_value() && value == ToHex(*digest), input);
      }
    return;
  }

  if (reply.content_type == "application/json") {
    if (!json::accept(reply.body)) Describe(req, reply);
    FUZZ_CHECK(json::accept(reply.body), input);
  }
  if (reply.route == "/metrics") FUZZ_CHECK(reply.body.ends_with("\ncipherchart_connections 0\n"), input);
}

// Runs up to kMaxRequestsPerInput pipelined requests from `bytes` (the whole input, or what a
// structured input turned into); `input` is what a failed check prints.
void RunRequests(Fixture& f, Bytes bytes, Bytes input) {
  Bytes rest = bytes;
  for (int i = 0; i < kMaxRequestsPerInput && !rest.empty(); ++i) {
    http::request_parser<http::buffer_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(f.config.max_header_bytes));
    parser.body_limit(static_cast<std::uint64_t>(f.config.max_upload));
    // The head: a malformed or oversized one, or one cut short, is answered by the HTTP layer
    // (400, 431, or 408 after the header timeout) without reaching the service.
    while (!parser.is_header_done()) {
      beast::error_code ec;
      const std::size_t used = parser.put(asio::buffer(rest.data(), rest.size()), ec);
      rest = rest.subspan(used);
      if (ec || used == 0) return;
    }
    auto& head = parser.get();
    HttpRequest req = RequestFromHead(parser);
    const bool client_keep_alive = head.keep_alive();

    InputBody body(parser, rest);
    const auto started = std::chrono::steady_clock::now();
    bool completed = false;
    std::exception_ptr thrown;
    HttpReply reply;
    asio::co_spawn(f.io, f.service->Handle(req, body), [&](std::exception_ptr e, HttpReply r) {
      completed = true;
      thrown = e;
      reply = std::move(r);
    });
    // co_spawn holds work on the io_context until the coroutine ends, so run() also waits out
    // the writer's commits (posted back to the io_context).
    f.io.restart();
    f.io.run();
    FUZZ_CHECK(completed, input);
    FUZZ_CHECK(!thrown, input);
    f.metrics.Record(reply.route, reply.status,
                     std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    static const bool verbose = std::getenv("CIPHERCHART_FUZZ_VERBOSE") != nullptr;
    if (verbose) Describe(req, reply);
    CheckReply(f, req, reply, input);
    if (reply.route == "/v1/auth/logout" && reply.status == 200) f.RestoreSessions();
    // As http_server.cc: a body the handler did not read to the end ends the connection.
    if (!client_keep_alive || !body.finished() || reply.status == 408) return;
  }
}

// Structured mode (first byte < 0x20; the tables are in server_fuzz_state.h): byte 0 holds
// flags, bytes 1..4 pick the method, the path template, the credentials and the content type;
// the rest is split at 0xff bytes into {1}, {2} (fuzzed path parts), the section header, the
// policy header and the body (the remainder).
std::vector<std::uint8_t> StructuredRequest(Bytes input) {
  std::uint8_t sel[5] = {};
  for (std::size_t i = 0; i < 5 && i < input.size(); ++i) sel[i] = input[i];
  const std::uint8_t flags = sel[0];
  std::string fields[5];  // {1}, {2}, section, policy, body
  std::size_t field = 0;
  for (std::size_t i = std::min<std::size_t>(5, input.size()); i < input.size(); ++i) {
    if (input[i] == 0xff && field + 1 < std::size(fields)) {
      ++field;
    } else {
      fields[field].push_back(static_cast<char>(input[i]));
    }
  }
  std::string path = state::kPaths[sel[2] % std::size(state::kPaths)];
  const std::pair<std::string_view, std::string_view> slots[] = {
      {"{1}", fields[0]},
      {"{2}", fields[1]},
      {"{P}", state::kOwnedPatient},
      {"{Q}", state::kFreePatient},
      {"{U}", state::kPendingUser},
      {"{A}", state::kPatientUser},
      {"{O}", state::kOtherPatientUser},
      {"{K}", state::kPackageId},
  };
  for (const auto& [slot, value] : slots)
    if (const auto at = path.find(slot); at != std::string::npos) path.replace(at, slot.size(), value);

  std::string out =
      std::string(state::kMethods[sel[1] % std::size(state::kMethods)]) + " " + path + " HTTP/1.1\r\n";
  const std::uint8_t auth = sel[3] % 8;
  if (auth >= 1 && auth <= std::size(state::kTokens))
    out += std::string("Authorization: Bearer ") + state::kTokens[auth - 1] + "\r\n";
  else if (auth == 6)
    out += "Authorization: Bearer " + fields[0] + "\r\n";
  else if (auth == 7)
    out += "Authorization: Basic Zm9vOmJhcg==\r\n";
  if (const char* type = state::kContentTypes[sel[4] % std::size(state::kContentTypes)])
    out += std::string("Content-Type: ") + type + "\r\n";
  if (flags & 0x04) out += "X-CipherChart-Section: " + fields[2] + "\r\n";
  if (flags & 0x08) out += "X-CipherChart-Policy: " + fields[3] + "\r\n";
  const std::string& body = fields[4];
  if (flags & 0x01) {
    char size[32];
    std::snprintf(size, sizeof size, "%zx", body.size());
    out += "Transfer-Encoding: chunked\r\n\r\n";
    if (!body.empty()) out += std::string(size) + "\r\n" + body + "\r\n";
    out += "0\r\n\r\n";
  } else if (flags & 0x02) {
    out += "\r\n" + body;  // no framing: the "body" is the next pipelined request
  } else {
    out += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  }
  return std::vector<std::uint8_t>(out.begin(), out.end());
}

std::unique_ptr<Fixture>& TheFixture() {
  static std::unique_ptr<Fixture> fixture;
  return fixture;
}

// Tears the fixture down at exit before OpenSSL's own atexit cleanup (registered earlier, when
// the first fixture initialised it): the writer thread signs a last tree head as it stops and
// frees its OpenSSL thread state on exit, neither of which works after that cleanup.
void TearDown() { TheFixture().reset(); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Bytes input(data, size);
  auto& fixture = TheFixture();
  if (fixture && fixture->inputs >= kInputsPerFixture) fixture.reset();
  if (!fixture) {
    fixture = std::make_unique<Fixture>();
    static const bool registered = std::atexit(TearDown) == 0;
    if (!registered) std::abort();
  }
  ++fixture->inputs;
  if (!input.empty() && input[0] < 0x20) {
    const auto request = StructuredRequest(input);
    RunRequests(*fixture, request, input);
  } else {
    RunRequests(*fixture, input, input);
  }
  return 0;
}
