// Test support for the server's HTTP tests: a real server (TLS on a loopback port, the real
// store) in the test process, PostgreSQL clusters started by the tests, and API users that
// register and log in with real Ed25519 keys. Test-only.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cipherchart/client/http_client.h"
#include "cipherchart/envelope/signature.h"
#include "cipherchart/server/store.h"
#include "src/envelope/sha256.h"
#include "src/server/http_server.h"
#include "src/server/ids.h"
#include "src/server/store/pg_cluster.h"

namespace cipherchart::server::testing {

using json = nlohmann::json;

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "cipherchart-srv-XXXXXX").string();
    EXPECT_NE(::mkdtemp(pattern.data()), nullptr);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// One PostgreSQL cluster per test binary, started on first use; each caller gets a fresh
// database on it.
inline std::string FreshPostgresDatabase() {
  static std::mutex mu;
  static std::unique_ptr<PgCluster> cluster;
  static int counter = 0;
  std::lock_guard lock(mu);
  if (!cluster) {
    auto c = PgCluster::Start();
    if (!c) {
      ADD_FAILURE() << "PostgreSQL: " << c.error().message();
      return "";
    }
    cluster = std::move(*c);
  }
  // The test clusters hold one database (PgCluster copies a template), so each caller gets
  // its own schema, selected through search_path.
  const std::string name = "t" + std::to_string(::getpid()) + "_" + std::to_string(++counter);
  auto made = PgCluster::Execute(cluster->conninfo(), "CREATE SCHEMA " + name);
  EXPECT_TRUE(made.has_value()) << (made ? "" : made.error().message());
  std::string info = cluster->conninfo() + " options='-c search_path=" + name + "'";
  return info;
}

inline std::string StoreUrl(const std::string& backend, const std::string& data_dir) {
  if (backend == "postgresql") return "postgresql:" + FreshPostgresDatabase();
  return "sqlite:" + data_dir + "/cipherchart.db";
}

// The real server on a free loopback port, run on a background thread.
class TestServer {
 public:
  explicit TestServer(const std::string& backend, ServerConfig config = {}) {
    config.data_dir = dir_.path();
    if (config.store.empty()) config.store = StoreUrl(backend, dir_.path());  // else shared by servers
    config.port = 0;
    config.log_requests = false;
    if (config.threads == 0) config.threads = 2;
    config_ = config;
    Start();
  }
  ~TestServer() { Stop(); }

  void Start() {
    auto s = HttpServer::Start(config_);
    ASSERT_TRUE(s.has_value()) << s.error().message();
    server_ = std::move(*s);
    port_ = server_->port();
    thread_ = std::thread([this] { server_->Run(false); });
  }
  void Stop() {
    if (!server_) return;
    server_->Shutdown();
    thread_.join();
    server_.reset();
  }

  // Creates an approved server admin the way `cipherchart server add-admin` does (directly in
  // the store: the first admin cannot register through the API).
  std::string AddServerAdmin(const envelope::Ed25519PublicKey& identity) const {
    auto store = OpenStore(config_.store);
    EXPECT_TRUE(store.has_value());
    Account a;
    a.user_id = *NewUserId();
    a.role = Role::kServerAdmin;
    a.identity_key = identity;
    a.details_json = "{}";
    a.state = ApprovalState::kApproved;
    a.created_at = NowSeconds();
    auto tx = (*store)->BeginWrite();
    EXPECT_TRUE(tx.has_value());
    EXPECT_TRUE((*tx)->InsertAccount(a).has_value());
    EXPECT_TRUE((*tx)->Commit().has_value());
    return a.user_id;
  }

  int port() const { return port_; }
  const std::string& data_dir() const { return dir_.path(); }
  const ServerConfig& config() const { return config_; }
  std::string cert() const { return dir_.path() + "/tls.crt"; }

  std::unique_ptr<client::HttpClient> Client() const {
    client::ClientOptions o;
    o.port = port_;
    o.tls = config_.tls;
    o.ca_file = config_.tls ? cert() : "";
    o.timeout_ms = 20'000;
    auto c = client::HttpClient::Connect(o);
    EXPECT_TRUE(c.has_value()) << (c ? "" : c.error().message());
    return c ? std::move(*c) : nullptr;
  }

 private:
  TempDir dir_;
  ServerConfig config_;
  std::unique_ptr<HttpServer> server_;
  std::thread thread_;
  int port_ = 0;
};

inline json Parse(const client::HttpResponse& r) {
  json j = json::parse(r.body, nullptr, false);
  return j.is_discarded() ? json() : j;
}

inline std::string ErrorCodeOf(const client::HttpResponse& r) {
  const json j = Parse(r);
  if (!j.is_object() || !j.contains("error")) return "";
  return j["error"].value("code", "");
}

// A user with real keys and a session on the server.
struct ApiUser {
  std::unique_ptr<client::HttpClient> http;
  std::optional<envelope::Ed25519SigningKey> key;
  std::string user_id;
  std::string token;
  std::string role;

  client::Headers Auth() const { return {{"Authorization", "Bearer " + token}}; }

  client::HttpResponse Call(std::string_view method, std::string_view target, const json& body = nullptr) {
    auto r = body.is_null() ? http->Request(method, target, "", "", Auth())
                            : http->Request(method, target, body.dump(), "application/json", Auth());
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message());
    return r ? *r : client::HttpResponse{};
  }
};

inline json PractitionerDetails(const std::string& name) {
  return {{"name", name},
          {"licence", "LIC-" + name},
          {"practice_start", "2015-01-01"},
          {"practice_end", "2030-12-31"}};
}

// Signs the login challenge and stores the session token in `u`.
inline void Login(ApiUser& u) {
  auto c =
      u.http->Request("POST", "/v1/auth/challenge", json{{"user_id", u.user_id}}.dump(), "application/json");
  EXPECT_TRUE(c && c->status == 201);
  const std::string nonce_hex = Parse(*c)["challenge"];
  auto nonce = FixedFromHex<32>(nonce_hex);
  std::string msg = "CIPHERCHART-LOGIN-V1";
  msg.append(reinterpret_cast<const char*>(nonce->data()), 32);
  msg += u.user_id;
  auto sig = u.key->Sign(std::span(reinterpret_cast<const std::uint8_t*>(msg.data()), msg.size()));
  auto l = u.http->Request(
      "POST", "/v1/auth/login",
      json{{"user_id", u.user_id}, {"challenge", nonce_hex}, {"signature", ToHex(*sig)}}.dump(),
      "application/json");
  EXPECT_TRUE(l && l->status == 201) << (l ? l->body : l.error().message());
  if (l && l->status == 201) u.token = Parse(*l)["token"];
}

// Registers and logs in. `Server` is TestServer or anything else with a Client() that connects
// to a running server (the durability test's server process).
template <class Server>
ApiUser RegisterAndLogin(const Server& server, const std::string& role, const std::string& organisation,
                         const json& details = json::object()) {
  ApiUser u;
  u.http = server.Client();
  u.key.emplace(*envelope::Ed25519SigningKey::Generate());
  u.role = role;
  std::array<std::uint8_t, 32> delivery{};
  delivery[0] = 9;
  json reg = {
      {"role", role}, {"identity_key", ToHex(u.key->public_key())}, {"delivery_key", ToHex(delivery)}};
  if (!organisation.empty()) reg["organisation"] = organisation;
  if (!details.empty()) reg["details"] = details;
  auto r = u.http->Request("POST", "/v1/accounts", reg.dump(), "application/json");
  EXPECT_TRUE(r && r->status == 201) << (r ? r->body : r.error().message());
  if (!r || r->status != 201) return u;
  u.user_id = Parse(*r)["user_id"];
  Login(u);
  return u;
}

// A server admin created offline, logged in through the API.
inline ApiUser ServerAdmin(const TestServer& server) {
  ApiUser u;
  u.http = server.Client();
  u.key.emplace(*envelope::Ed25519SigningKey::Generate());
  u.role = "server-admin";
  u.user_id = server.AddServerAdmin(u.key->public_key());
  Login(u);
  return u;
}

// An authority admin of `organisation` approved by `admin`.
template <class Server>
ApiUser ApprovedAuthorityAdmin(const Server& server, ApiUser& admin, const std::string& organisation) {
  ApiUser a =
      RegisterAndLogin(server, "authority-admin", organisation, {{"name", "admin of " + organisation}});
  EXPECT_EQ(admin.Call("POST", "/v1/registrations/" + a.user_id + "/approve", json::object()).status, 200);
  return a;
}

// A practitioner of `authority`'s organisation, approved by it.
template <class Server>
ApiUser ApprovedPractitioner(const Server& server, ApiUser& authority, const std::string& name) {
  const std::string org = Parse(authority.Call("GET", "/v1/accounts/me"))["organisation"];
  ApiUser d = RegisterAndLogin(server, "practitioner", org, PractitionerDetails(name));
  EXPECT_EQ(authority.Call("POST", "/v1/registrations/" + d.user_id + "/approve", json::object()).status,
            200);
  return d;
}

// Creates a patient (by practitioner `d`) and enrols `owner` with the code; returns the id.
inline std::string CreatePatient(ApiUser& d, ApiUser* owner, const std::string& code = "enrol-code-1234") {
  auto hash = envelope::internal::Sha256Of(
      std::span(reinterpret_cast<const std::uint8_t*>(code.data()), code.size()));
  auto r = d.Call("POST", "/v1/patients", {{"enrolment_code_sha256", ToHex(*hash)}});
  EXPECT_EQ(r.status, 201) << r.body;
  const std::string pid = Parse(r)["patient_id"];
  if (owner) {
    EXPECT_EQ(owner->Call("POST", "/v1/patients/" + pid + "/enrol", {{"code", code}}).status, 200);
  }
  return pid;
}

inline client::HttpResponse PutRecord(ApiUser& u, const std::string& pid, const std::string& rid, int version,
                                      const std::string& bytes, const std::string& section = "vital-signs") {
  auto headers = u.Auth();
  headers.emplace_back("X-CipherChart-Section", section);
  headers.emplace_back("X-CipherChart-Policy", "doctor or nurse");
  auto r = u.http->Request("PUT",
                           "/v1/patients/" + pid + "/records/" + rid + "/versions/" + std::to_string(version),
                           bytes, "application/octet-stream", headers);
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message());
  return r ? *r : client::HttpResponse{};
}

// A child process (the real `cipherchart` binary) with its stdout on a pipe and its stderr in a
// file. It gets SIGKILL if the test process dies, and from the destructor if still running.
class ChildProcess {
 public:
  // Runs argv[0] (a path) with the test's environment plus `extra_env` ("NAME=value" items).
  ChildProcess(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env,
               const std::string& stderr_path) {
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);
    env.insert(env.end(), extra_env.begin(), extra_env.end());
    std::vector<char*> args, envp;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
    args.push_back(nullptr);
    envp.push_back(nullptr);
    int fds[2];
    EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    const int err = ::open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    EXPECT_GE(err, 0) << stderr_path;
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ == 0) {
      // Only async-signal-safe calls between fork and exec (the test process has threads).
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);
      ::dup2(fds[1], 1);
      ::dup2(err, 2);
      ::execve(args[0], args.data(), envp.data());
      ::_exit(127);
    }
    EXPECT_GT(pid_, 0);
    ::close(fds[1]);
    ::close(err);
    out_ = fds[0];
  }
  ~ChildProcess() {
    if (pid_ > 0 && !status_) {
      ::kill(pid_, SIGKILL);
      int st = 0;
      ::waitpid(pid_, &st, 0);
    }
    if (out_ >= 0) ::close(out_);
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  void Signal(int sig) const {
    if (pid_ > 0 && !status_) ::kill(pid_, sig);
  }

  // The next line of stdout (without the newline); nullopt at EOF or after `timeout_ms`.
  std::optional<std::string> ReadLine(int timeout_ms) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
      if (const auto nl = pending_.find('\n'); nl != std::string::npos) {
        std::string line = pending_.substr(0, nl);
        pending_.erase(0, nl + 1);
        return line;
      }
      if (!ReadSome(deadline)) return std::nullopt;
    }
  }
  // The rest of stdout, up to EOF (or `timeout_ms`).
  std::string ReadAll(int timeout_ms) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (ReadSome(deadline)) {
    }
    return std::exchange(pending_, "");
  }

  // The waitpid status once the process has exited; nullopt if it still runs after `timeout_ms`.
  std::optional<int> Wait(int timeout_ms) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (!status_) {
      int st = 0;
      const pid_t r = ::waitpid(pid_, &st, WNOHANG);
      if (r == pid_) {
        status_ = st;
        break;
      }
      if (r < 0 || std::chrono::steady_clock::now() >= deadline) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return status_;
  }

 private:
  // Appends what stdout has to `pending_`; false at EOF, on an error or at the deadline.
  bool ReadSome(std::chrono::steady_clock::time_point deadline) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{out_, POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) return true;
    if (ready <= 0) return false;
    char buf[4096];
    const ssize_t n = ::read(out_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) return true;
    if (n <= 0) return false;
    pending_.append(buf, static_cast<std::size_t>(n));
    return true;
  }

  pid_t pid_ = -1;
  int out_ = -1;
  std::string pending_;
  std::optional<int> status_;
};

struct CommandResult {
  int exit_code = -1;  // -1 if it did not exit normally (or in time)
  std::string out, err;
};

// Runs a command to completion (at most `timeout_ms`) and returns its exit code and output.
inline CommandResult RunCommand(const std::vector<std::string>& argv, int timeout_ms = 60'000) {
  TempDir dir;
  const std::string err_path = dir.path() + "/stderr";
  CommandResult result;
  std::optional<int> status;
  {
    ChildProcess child(argv, {}, err_path);
    result.out = child.ReadAll(timeout_ms);
    status = child.Wait(timeout_ms);
  }
  if (status && WIFEXITED(*status)) result.exit_code = WEXITSTATUS(*status);
  std::ifstream in(err_path);
  std::ostringstream err;
  err << in.rdbuf();
  result.err = err.str();
  return result;
}

}  // namespace cipherchart::server::testing
