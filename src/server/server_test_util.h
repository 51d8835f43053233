// Test support for the server's HTTP tests: a real server (TLS on a loopback port, the real
// store) in the test process, PostgreSQL clusters started by the tests, and API users that
// register and log in with real Ed25519 keys. Test-only.
#pragma once

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "cipherchart/client/http_client.h"
#include "cipherchart/envelope/signature.h"
#include "cipherchart/server/store.h"
#include "src/server/http_server.h"
#include "src/envelope/sha256.h"
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
    config.store = StoreUrl(backend, dir_.path());
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
  return {{"name", name}, {"licence", "LIC-" + name}, {"practice_start", "2015-01-01"}, {"practice_end", "2030-12-31"}};
}

// Signs the login challenge and stores the session token in `u`.
inline void Login(ApiUser& u) {
  auto c = u.http->Request("POST", "/v1/auth/challenge", json{{"user_id", u.user_id}}.dump(), "application/json");
  EXPECT_TRUE(c && c->status == 201);
  const std::string nonce_hex = Parse(*c)["challenge"];
  auto nonce = FixedFromHex<32>(nonce_hex);
  std::string msg = "CIPHERCHART-LOGIN-V1";
  msg.append(reinterpret_cast<const char*>(nonce->data()), 32);
  msg += u.user_id;
  auto sig = u.key->Sign(std::span(reinterpret_cast<const std::uint8_t*>(msg.data()), msg.size()));
  auto l = u.http->Request("POST", "/v1/auth/login",
                           json{{"user_id", u.user_id}, {"challenge", nonce_hex}, {"signature", ToHex(*sig)}}.dump(),
                           "application/json");
  EXPECT_TRUE(l && l->status == 201) << (l ? l->body : l.error().message());
  if (l && l->status == 201) u.token = Parse(*l)["token"];
}

// Registers and logs in.
inline ApiUser RegisterAndLogin(const TestServer& server, const std::string& role, const std::string& organisation,
                                const json& details = json::object()) {
  ApiUser u;
  u.http = server.Client();
  u.key.emplace(*envelope::Ed25519SigningKey::Generate());
  u.role = role;
  std::array<std::uint8_t, 32> delivery{};
  delivery[0] = 9;
  json reg = {{"role", role}, {"identity_key", ToHex(u.key->public_key())}, {"delivery_key", ToHex(delivery)}};
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
inline ApiUser ApprovedAuthorityAdmin(const TestServer& server, ApiUser& admin, const std::string& organisation) {
  ApiUser a = RegisterAndLogin(server, "authority-admin", organisation, {{"name", "admin of " + organisation}});
  EXPECT_EQ(admin.Call("POST", "/v1/registrations/" + a.user_id + "/approve", json::object()).status, 200);
  return a;
}

// A practitioner of `authority`'s organisation, approved by it.
inline ApiUser ApprovedPractitioner(const TestServer& server, ApiUser& authority, const std::string& name) {
  const std::string org = Parse(authority.Call("GET", "/v1/accounts/me"))["organisation"];
  ApiUser d = RegisterAndLogin(server, "practitioner", org, PractitionerDetails(name));
  EXPECT_EQ(authority.Call("POST", "/v1/registrations/" + d.user_id + "/approve", json::object()).status, 200);
  return d;
}

// Creates a patient (by practitioner `d`) and enrols `owner` with the code; returns the id.
inline std::string CreatePatient(ApiUser& d, ApiUser* owner, const std::string& code = "enrol-code-1234") {
  auto hash = envelope::internal::Sha256Of(std::span(reinterpret_cast<const std::uint8_t*>(code.data()), code.size()));
  auto r = d.Call("POST", "/v1/patients", {{"enrolment_code_sha256", ToHex(*hash)}});
  EXPECT_EQ(r.status, 201) << r.body;
  const std::string pid = Parse(r)["patient_id"];
  if (owner) EXPECT_EQ(owner->Call("POST", "/v1/patients/" + pid + "/enrol", {{"code", code}}).status, 200);
  return pid;
}

inline client::HttpResponse PutRecord(ApiUser& u, const std::string& pid, const std::string& rid, int version,
                                      const std::string& bytes, const std::string& section = "vital-signs") {
  auto headers = u.Auth();
  headers.emplace_back("X-CipherChart-Section", section);
  headers.emplace_back("X-CipherChart-Policy", "doctor or nurse");
  auto r = u.http->Request("PUT", "/v1/patients/" + pid + "/records/" + rid + "/versions/" + std::to_string(version),
                           bytes, "application/octet-stream", headers);
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message());
  return r ? *r : client::HttpResponse{};
}

}  // namespace cipherchart::server::testing
