#include "src/cli/session.h"

namespace cipherchart::cli {

std::string ApiReply::Describe() const {
  std::string s = std::to_string(status);
  if (body.is_object() && body.contains("error") && body["error"].is_object()) {
    const auto& e = body["error"];
    s.append(" ")
        .append(e.value("code", std::string()))
        .append(": ")
        .append(e.value("message", std::string()));
  } else if (!raw.empty() && raw.size() < 300) {
    s.append(" ").append(raw);
  }
  return s;
}

Error ApiReply::ToError(const std::string& what) const {
  const ErrorCode code = (status == 401 || status == 403 || status == 404) ? ErrorCode::kPermissionDenied
                                                                           : ErrorCode::kInvalidArgument;
  std::string m = what;
  m.append(": the server said ").append(Describe());
  return Error(code, std::move(m));
}

client::Headers Session::AuthHeaders() const {
  client::Headers h;
  if (!token_.empty()) h.emplace_back("Authorization", "Bearer " + token_);
  return h;
}

Result<Session> Session::Connect(const Settings& s) {
  client::ClientOptions o;
  const auto colon = s.server.rfind(':');
  if (colon == std::string::npos) {
    std::string m = "server: expected HOST:PORT, got '";
    m.append(s.server).append("'");
    return Fail(ErrorCode::kInvalidArgument, m);
  }
  o.host = s.server.substr(0, colon);
  try {
    o.port = std::stoi(s.server.substr(colon + 1));
  } catch (...) {
    return Fail(ErrorCode::kInvalidArgument, "server: bad port in '" + s.server + "'");
  }
  // Plain HTTP only to this machine (the server allows it on loopback only, for tests); any
  // other host needs the CA file, so a missing setting is an error, not a silent downgrade.
  const bool loopback =
      o.host == "127.0.0.1" || o.host == "::1" || o.host == "[::1]" || o.host == "localhost";
  if (s.ca_file.empty() && !loopback)
    return Fail(ErrorCode::kInvalidArgument,
                "no CA file for " + s.server +
                    ": give --ca-file PEM (or CIPHERCHART_CA_FILE); plain HTTP is "
                    "only for loopback");
  o.tls = !s.ca_file.empty();
  o.ca_file = s.ca_file;
  auto http = client::HttpClient::Connect(o);
  if (!http)
    return Fail(http.error().code(),
                "cannot reach the server at " + s.server + ": " + http.error().message());
  Session out;
  out.http_ = std::move(*http);
  return out;
}

Result<Session> Session::Login(const Settings& s, const std::string& user_id,
                               const envelope::Ed25519SigningKey& identity) {
  auto sess = Connect(s);
  if (!sess) return sess;
  auto c = sess->Json("POST", "/v1/auth/challenge", {{"user_id", user_id}});
  if (!c) return std::unexpected(c.error());
  if (c->status != 201) return std::unexpected(c->ToError("login"));
  const std::string challenge = c->body.value("challenge", "");
  auto nonce = FromHex(challenge);
  if (!nonce || nonce->size() != 32) return Fail(ErrorCode::kInvalidEncoding, "login: malformed challenge");
  std::vector<std::uint8_t> msg;
  const std::string_view label = "CIPHERCHART-LOGIN-V1";
  msg.insert(msg.end(), label.begin(), label.end());
  msg.insert(msg.end(), nonce->begin(), nonce->end());
  msg.insert(msg.end(), user_id.begin(), user_id.end());
  auto sig = identity.Sign(msg);
  if (!sig) return std::unexpected(sig.error());
  auto l = sess->Json("POST", "/v1/auth/login",
                      {{"user_id", user_id}, {"challenge", challenge}, {"signature", ToHex(*sig)}});
  if (!l) return std::unexpected(l.error());
  if (l->status != 201) return std::unexpected(l->ToError("login"));
  sess->token_ = l->body.value("token", "");
  sess->user_id_ = user_id;
  return sess;
}

namespace {
ApiReply ToReply(client::HttpResponse r) {
  ApiReply out;
  out.status = r.status;
  out.headers = std::move(r.headers);
  auto it = out.headers.find("content-type");
  if (it != out.headers.end() && it->second.starts_with("application/json"))
    out.body = nlohmann::json::parse(r.body, nullptr, false);
  out.raw = std::move(r.body);
  return out;
}
}  // namespace

Result<ApiReply> Session::Json(std::string_view method, const std::string& target,
                               const nlohmann::json& body) {
  const std::string text = body.is_null() ? std::string() : body.dump();
  auto r = http_->Request(method, target, text, body.is_null() ? std::string_view() : "application/json",
                          AuthHeaders());
  if (!r) return std::unexpected(r.error());
  return ToReply(std::move(*r));
}

Result<ApiReply> Session::PutBytes(std::string_view method, const std::string& target,
                                   std::span<const std::uint8_t> bytes, const client::Headers& extra) {
  client::Headers h = AuthHeaders();
  h.insert(h.end(), extra.begin(), extra.end());
  auto r = http_->Request(method, target,
                          std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()),
                          "application/octet-stream", h);
  if (!r) return std::unexpected(r.error());
  return ToReply(std::move(*r));
}

Result<ApiReply> Session::Get(const std::string& target) {
  auto r = http_->Request("GET", target, {}, {}, AuthHeaders());
  if (!r) return std::unexpected(r.error());
  return ToReply(std::move(*r));
}

Result<ApiReply> Session::Upload(const std::string& target, std::istream& in, std::uint64_t size,
                                 const client::Headers& extra) {
  client::Headers h = AuthHeaders();
  h.insert(h.end(), extra.begin(), extra.end());
  auto r = http_->Upload("PUT", target, in, size, h);
  if (!r) return std::unexpected(r.error());
  return ToReply(std::move(*r));
}

Result<ApiReply> Session::Download(const std::string& target, std::ostream& out) {
  auto r = http_->Download(target, out, AuthHeaders());
  if (!r) return std::unexpected(r.error());
  return ToReply(std::move(*r));
}

}  // namespace cipherchart::cli
