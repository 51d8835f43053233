// Bad input through the real HTTP API (TLS, SQLite): every case gets the documented 4xx with a
// clear message, and the server keeps serving (docs/api.md, "Status codes").
#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <thread>

#include "src/server/server_test_util.h"

namespace cipherchart::server {
namespace {

using namespace testing;  // NOLINT(google-build-using-namespace): the test utilities

ServerConfig ShortTimeouts() {
  ServerConfig c;
  c.header_timeout_ms = 400;
  c.body_idle_timeout_ms = 400;
  c.session_ttl_s = 2;
  c.challenge_ttl_s = 1;
  c.account_cache_ms = 0;
  return c;
}

class BadInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<TestServer>("sqlite", ShortTimeouts());
    admin_ = ServerAdmin(*server_);
    authority_ = ApprovedAuthorityAdmin(*server_, admin_, "hospital-a");
    doctor_ = ApprovedPractitioner(*server_, authority_, "doctor");
    patient_ = RegisterAndLogin(*server_, "patient", "");
    pid_ = CreatePatient(doctor_, &patient_);
  }
  void TearDown() override {
    // Whatever came before, the server still answers.
    auto c = server_->Client();
    auto r = c->Request("GET", "/healthz");
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, 200);
  }

  // Expects `status` and the error code, and a message that says something.
  static void ExpectError(const client::HttpResponse& r, int status, const std::string& code) {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_EQ(ErrorCodeOf(r), code) << r.body;
    const json j = Parse(r);
    if (j.is_object() && j.contains("error")) {
      EXPECT_GT(j["error"]["message"].get<std::string>().size(), 10u);
    }
  }

  client::HttpResponse Post(const std::string& path, const std::string& body,
                            const std::string& type = "application/json") {
    auto c = server_->Client();
    auto r = c->Request("POST", path, body, type);
    EXPECT_TRUE(r.has_value());
    return r ? *r : client::HttpResponse{};
  }

  std::unique_ptr<TestServer> server_;
  ApiUser admin_, authority_, doctor_, patient_;
  std::string pid_;
};

const std::string kKey64(64, 'a');

TEST_F(BadInputTest, MalformedAndWrongTypedJson) {
  ExpectError(Post("/v1/accounts", "{\"role\": \"patient\","), 400, "bad_json");
  ExpectError(Post("/v1/accounts", "[1,2,3]"), 400, "bad_json");
  ExpectError(Post("/v1/accounts", "\"just a string\""), 400, "bad_json");
  ExpectError(Post("/v1/accounts", std::string("{\"role\":\"patient\"\0}", 18)), 400, "bad_json");
  ExpectError(Post("/v1/accounts", R"({"role": 5, "identity_key": "aa", "delivery_key": "bb"})"), 400,
              "bad_field");
  ExpectError(Post("/v1/accounts", R"({"role": "patient", "identity_key": 7, "delivery_key": "bb"})"), 400,
              "bad_field");
  ExpectError(Post("/v1/accounts", R"({"role": "patient", "identity_key": "zz", "delivery_key": "bb"})"), 400,
              "bad_field");
  ExpectError(Post("/v1/accounts", R"({"role": "wizard", "identity_key": "aa", "delivery_key": "bb"})"), 400,
              "bad_field");
  ExpectError(Post("/v1/accounts", R"({"role": "patient", "identity_key": ")" + kKey64 +
                                       R"(", "delivery_key": ")" + kKey64 + R"(", "surprise": 1})"),
              400, "bad_field");
  ExpectError(
      Post("/v1/accounts", R"({"role": "patient", "identity_key": ")" + kKey64 + R"(", "delivery_key": ")" +
                               kKey64 + R"(", "details": "not an object"})"),
      400, "bad_field");
  ExpectError(Post("/v1/auth/challenge", R"({"user_id": ["u"]})"), 400, "bad_field");
  ExpectError(
      Post("/v1/auth/login", json{{"user_id", patient_.user_id}, {"challenge", 1}, {"signature", ""}}.dump()),
      400, "bad_field");
}

TEST_F(BadInputTest, MissingFields) {
  ExpectError(Post("/v1/accounts", "{}"), 400, "missing_field");
  ExpectError(Post("/v1/accounts", R"({"role": "patient"})"), 400, "missing_field");
  ExpectError(Post("/v1/accounts", R"({"role": "patient", "identity_key": ")" + kKey64 + R"("})"), 400,
              "missing_field");
  // Practitioners need organisation and the licence details.
  ExpectError(Post("/v1/accounts", R"({"role": "practitioner", "identity_key": ")" + kKey64 +
                                       R"(", "delivery_key": ")" + kKey64 + R"("})"),
              400, "missing_field");
  ExpectError(
      Post("/v1/accounts", R"({"role": "practitioner", "organisation": "h", "identity_key": ")" + kKey64 +
                               R"(", "delivery_key": ")" + kKey64 + R"(", "details": {"name": "x"}})"),
      400, "missing_field");
  ExpectError(Post("/v1/auth/challenge", "{}"), 400, "missing_field");
  ExpectError(Post("/v1/auth/login", json{{"user_id", patient_.user_id}}.dump()), 400, "missing_field");
  ExpectError(authority_.Call("POST", "/v1/registrations/" + doctor_.user_id + "/reject", json::object()),
              400, "missing_field");
  ExpectError(doctor_.Call("POST", "/v1/patients", json::object()), 400, "missing_field");
}

TEST_F(BadInputTest, WrongContentType) {
  ExpectError(Post("/v1/accounts", "{}", "text/plain"), 415, "unsupported_media_type");
  auto h = doctor_.Auth();
  h.emplace_back("X-CipherChart-Section", "notes");
  auto r = doctor_.http->Request("PUT", "/v1/patients/" + pid_ + "/records/r/versions/1", "x",
                                 "application/json", h);
  ExpectError(*r, 415, "unsupported_media_type");
}

TEST_F(BadInputTest, OversizedBodiesAndHeaders) {
  ExpectError(Post("/v1/accounts", std::string(100 * 1024, ' ')), 413, "too_large");
  // A key package over its 16 MiB limit is refused from Content-Length, before any byte is read.
  auto c = server_->Client();
  const std::string big_head = "POST /v1/users/" + doctor_.user_id +
                               "/keys HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
                               "Authorization: Bearer " +
                               authority_.token + "\r\nContent-Length: 999999999\r\n\r\n";
  auto raw = c->SendRaw(big_head, 2000);
  ASSERT_TRUE(raw.has_value());
  EXPECT_NE(raw->find("413"), std::string::npos) << *raw;
  EXPECT_NE(raw->find("too_large"), std::string::npos);
  // Headers over 16 KiB.
  auto h = client::Headers{{"X-Filler", std::string(20 * 1024, 'h')}};
  auto r = server_->Client()->Request("GET", "/healthz", "", "", h);
  ASSERT_TRUE(r.has_value());
  ExpectError(*r, 431, "headers_too_large");
}

TEST_F(BadInputTest, TruncatedUploadLeavesNothingVisible) {
  auto c = server_->Client();
  const std::string head =
      "PUT /v1/patients/" + pid_ +
      "/records/cut/versions/1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
      "X-CipherChart-Section: notes\r\nAuthorization: Bearer " +
      doctor_.token + "\r\nContent-Length: 100000\r\n\r\n";
  // Half the body, then the client goes away (SendRaw closes after its read timeout).
  auto raw = c->SendRaw(head + std::string(50'000, 'z'), 300);
  ASSERT_TRUE(raw.has_value());
  const json list = Parse(doctor_.Call("GET", "/v1/patients/" + pid_ + "/records"));
  for (const auto& rec : list["records"]) EXPECT_NE(rec["record_id"], "cut");
  EXPECT_EQ(doctor_.Call("GET", "/v1/patients/" + pid_ + "/records/cut").status, 404);
  // The same version can still be written in full.
  EXPECT_EQ(PutRecord(doctor_, pid_, "cut", 1, "complete").status, 201);
}

TEST_F(BadInputTest, SlowClientsTimeOut) {
  // Headers that never finish: 408 after the header timeout, and the connection is closed.
  auto c = server_->Client();
  auto raw = c->SendRaw("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ", 3000);
  ASSERT_TRUE(raw.has_value());
  EXPECT_NE(raw->find("408"), std::string::npos) << *raw;
  EXPECT_NE(raw->find("timeout"), std::string::npos);
  // A body that stalls: 408 too.
  auto c2 = server_->Client();
  const std::string head =
      "PUT /v1/patients/" + pid_ +
      "/records/slow/versions/1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
      "X-CipherChart-Section: notes\r\nAuthorization: Bearer " +
      doctor_.token + "\r\nContent-Length: 1000\r\n\r\n";
  auto raw2 = c2->SendRaw(head + "partial", 3000);
  ASSERT_TRUE(raw2.has_value());
  EXPECT_NE(raw2->find("408"), std::string::npos) << *raw2;
  EXPECT_EQ(doctor_.Call("GET", "/v1/patients/" + pid_ + "/records/slow").status, 404);
}

TEST_F(BadInputTest, InvalidExpiredAndReplayedTokensAndChallenges) {
  auto call_with = [&](const std::string& authorization) {
    auto r = server_->Client()->Request("GET", "/v1/accounts/me", "", "", {{"Authorization", authorization}});
    return r ? *r : client::HttpResponse{};
  };
  ExpectError(call_with(""), 401, "unauthenticated");
  ExpectError(call_with("Basic dXNlcjpwYXNz"), 401, "bad_token");
  ExpectError(call_with("Bearer not-base64!"), 401, "bad_token");
  ExpectError(call_with("Bearer " + Base64UrlEncode(std::vector<std::uint8_t>(32, 7))), 401, "bad_token");
  ExpectError(call_with("Bearer " + Base64UrlEncode(std::vector<std::uint8_t>(31, 7))), 401, "bad_token");
  EXPECT_EQ(call_with("Bearer " + patient_.token).status, 200);

  // A login replayed with the same challenge and signature fails: the challenge is single-use.
  ApiUser u;
  u.http = server_->Client();
  u.key.emplace(*envelope::Ed25519SigningKey::Generate());
  auto reg =
      Post("/v1/accounts",
           json{{"role", "patient"}, {"identity_key", ToHex(u.key->public_key())}, {"delivery_key", kKey64}}
               .dump());
  ASSERT_EQ(reg.status, 201);
  u.user_id = Parse(reg)["user_id"];
  auto challenge = [&] {
    return Parse(Post("/v1/auth/challenge", json{{"user_id", u.user_id}}.dump()))["challenge"]
        .get<std::string>();
  };
  auto sign = [&](const std::string& nonce_hex, const std::string& uid) {
    auto nonce = FixedFromHex<32>(nonce_hex);
    std::string msg = "CIPHERCHART-LOGIN-V1";
    msg.append(reinterpret_cast<const char*>(nonce->data()), 32);
    msg += uid;
    return ToHex(*u.key->Sign(std::span(reinterpret_cast<const std::uint8_t*>(msg.data()), msg.size())));
  };
  const std::string nonce = challenge();
  const std::string login =
      json{{"user_id", u.user_id}, {"challenge", nonce}, {"signature", sign(nonce, u.user_id)}}.dump();
  EXPECT_EQ(Post("/v1/auth/login", login).status, 201);
  ExpectError(Post("/v1/auth/login", login), 401, "bad_challenge");
  // A signature over another user id, and a signature by another key.
  const std::string n2 = challenge();
  ExpectError(
      Post("/v1/auth/login",
           json{{"user_id", u.user_id}, {"challenge", n2}, {"signature", sign(n2, patient_.user_id)}}.dump()),
      401, "bad_signature");
  // A challenge issued for one user cannot log in another.
  const std::string n3 = challenge();
  ExpectError(
      Post("/v1/auth/login",
           json{{"user_id", patient_.user_id}, {"challenge", n3}, {"signature", sign(n3, patient_.user_id)}}
               .dump()),
      401, "bad_challenge");
  // An expired challenge (ttl 1 s here) and an expired session (ttl 2 s).
  const std::string n4 = challenge();
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  ExpectError(
      Post("/v1/auth/login",
           json{{"user_id", u.user_id}, {"challenge", n4}, {"signature", sign(n4, u.user_id)}}.dump()),
      401, "bad_challenge");
  ExpectError(call_with("Bearer " + patient_.token), 401, "expired_token");
  // Logout kills a token at once.
  Login(patient_);
  EXPECT_EQ(patient_.Call("POST", "/v1/auth/logout").status, 200);
  ExpectError(call_with("Bearer " + patient_.token), 401, "bad_token");
}

TEST_F(BadInputTest, UnknownIdsAndRoutes) {
  const std::string unknown_pid = *NewPatientId();
  ExpectError(doctor_.Call("GET", "/v1/patients/" + unknown_pid + "/records"), 404, "not_found");
  ExpectError(doctor_.Call("GET", "/v1/patients/" + pid_ + "/records/nope"), 404, "not_found");
  ExpectError(doctor_.Call("GET", "/v1/patients/" + pid_ + "/records/nope/versions/3"), 404, "not_found");
  ExpectError(doctor_.Call("GET", "/v1/keys/k00000000000000000000000000"), 404, "not_found");
  ExpectError(
      authority_.Call("POST", "/v1/registrations/u00000000000000000000000000/approve", json::object()), 404,
      "not_found");
  ExpectError(doctor_.Call("GET", "/v1/nothing-here"), 404, "not_found");
  ExpectError(doctor_.Call("GET", "/v2/patients"), 404, "not_found");
  ExpectError(doctor_.Call("DELETE", "/v1/accounts/me"), 405, "method_not_allowed");
  ExpectError(doctor_.Call("PATCH", "/healthz"), 405, "method_not_allowed");
  // Malformed ids: a wrong check character, wrong lengths, bad versions.
  std::string wrong_check = pid_;
  wrong_check.back() = wrong_check.back() == 'A' ? 'B' : 'A';
  ExpectError(doctor_.Call("GET", "/v1/patients/" + wrong_check + "/records"), 400, "bad_path");
  ExpectError(doctor_.Call("GET", "/v1/patients/" + pid_ + "/records/r/versions/0"), 400, "bad_path");
  ExpectError(doctor_.Call("GET", "/v1/patients/" + pid_ + "/records/r/versions/-1"), 400, "bad_path");
  ExpectError(doctor_.Call("GET", "/v1/patients/" + pid_ + "/records/r/versions/99999999999999999999"), 400,
              "bad_path");
  ExpectError(doctor_.Call("GET", "/v1/audit/inclusion?index=5"), 400, "bad_request");
  ExpectError(doctor_.Call("GET", "/v1/audit/inclusion?index=999999&tree_size=9999999"), 400, "bad_request");
  ExpectError(doctor_.Call("GET", "/v1/audit/consistency?first=9&second=2"), 400, "bad_request");
}

TEST_F(BadInputTest, PathTricks) {
  for (const std::string& path : std::vector<std::string>{
           "/v1/patients/../accounts/me", "/v1//accounts/me", "/v1/accounts/me/", "/v1/%2e%2e/accounts/me",
           "/v1/patients/" + pid_ + "/records/..", "/v1/patients/" + pid_ + "/records/.%2f..",
           "/v1/accounts/me?x=1&x=2", "/v1/./accounts/me", "/v1/accounts\\me"}) {
    ExpectError(doctor_.Call("GET", path), 400, "bad_path");
  }
  auto raw = server_->Client()->SendRaw("GET v1/accounts/me HTTP/1.1\r\nHost: x\r\n\r\n", 1000);
  EXPECT_NE(raw->find("400"), std::string::npos) << *raw;
  // Garbage that is not HTTP at all.
  auto garbage = server_->Client()->SendRaw(std::string("\x16\x03\x01garbage\r\n\r\n", 14), 1000);
  EXPECT_NE(garbage->find("400"), std::string::npos) << *garbage;
  EXPECT_NE(garbage->find("bad_request"), std::string::npos);
}

TEST_F(BadInputTest, SqlMetacharactersInEveryStringField) {
  const std::vector<std::string> nasty = {"'; DROP TABLE accounts; --",
                                          "\" OR \"1\"=\"1",
                                          "Robert'); DELETE FROM records;--",
                                          "\\x00\\'",
                                          "ünïcödé ✓ 🩺",
                                          "%s%n%x",
                                          "$1 $$ ;"};
  int meta_version = 0;
  for (const auto& s : nasty) {
    // Organisation and details of a registration round-trip verbatim.
    ApiUser d = RegisterAndLogin(*server_, "practitioner", s, PractitionerDetails(s));
    const json me = Parse(d.Call("GET", "/v1/accounts/me"));
    EXPECT_EQ(me["organisation"], s);
    EXPECT_EQ(me["details"]["name"], s);
    EXPECT_EQ(me["details"]["licence"], "LIC-" + s);
    // A rejection reason.
    ApiUser org_admin = ApprovedAuthorityAdmin(*server_, admin_, s);
    EXPECT_EQ(org_admin.Call("POST", "/v1/registrations/" + d.user_id + "/reject", {{"reason", s}}).status,
              200);
    EXPECT_EQ(Parse(d.Call("GET", "/v1/accounts/me"))["decision_reason"], s);
    // Section and policy headers (ASCII-safe ones: header values are bytes, not UTF-8 text).
    if (s.find_first_of("\\%$'\"") != std::string::npos) {
      auto r = PutRecord(doctor_, pid_, "meta", ++meta_version, "bytes", s);
      EXPECT_EQ(r.status, 201) << r.body;
    }
    // As ids they are refused by format, never reaching SQL.
    EXPECT_EQ(doctor_.Call("GET", "/v1/patients/" + pid_ + "/records/" + s).status / 100, 4);
    ExpectError(Post("/v1/auth/challenge", json{{"user_id", s}}.dump()), 400, "bad_field");
  }
  const json list = Parse(doctor_.Call("GET", "/v1/patients/" + pid_ + "/records"));
  std::set<std::string> sections;
  for (const auto& rec : list["records"]) sections.insert(rec["section"]);
  for (const auto& s : nasty) {
    if (s.find_first_of("\\%$'\"") != std::string::npos) {
      EXPECT_TRUE(sections.count(s)) << s;
    }
  }
  // The tables are all still there.
  EXPECT_EQ(patient_.Call("GET", "/v1/patients/" + pid_ + "/records").status, 200);
  EXPECT_EQ(admin_.Call("GET", "/v1/registrations").status, 200);
}

}  // namespace
}  // namespace cipherchart::server
