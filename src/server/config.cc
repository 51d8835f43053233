#include "src/server/config.h"

#include <toml++/toml.h>

#include <cstdlib>
#include <set>
#include <string_view>

namespace cipherchart::server {
namespace {

// Joins message pieces with one allocation.
std::string Cat(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (auto p : parts) out += p;
  return out;
}

Result<std::int64_t> ParseInt(std::string_view name, std::string_view text) {
  std::int64_t v = 0;
  if (text.empty()) return Fail(ErrorCode::kInvalidArgument, std::string(name) + ": empty value");
  for (char c : text) {
    if (c < '0' || c > '9' || v > (INT64_MAX - 9) / 10)
      return Fail(ErrorCode::kInvalidArgument, std::string(name) + ": not a non-negative integer");
    v = v * 10 + (c - '0');
  }
  return v;
}

Result<bool> ParseBool(std::string_view name, std::string_view text) {
  if (text == "1" || text == "true" || text == "yes" || text == "on") return true;
  if (text == "0" || text == "false" || text == "no" || text == "off") return false;
  return Fail(ErrorCode::kInvalidArgument, std::string(name) + ": expected true or false");
}

// Splits "host:port" (IPv6 as "[::1]:port"); a bare host keeps the port.
Result<void> ApplyListen(std::string_view text, ServerConfig& c) {
  std::string_view host = text, port;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return Fail(ErrorCode::kInvalidArgument, "listen: unclosed '['");
    host = text.substr(1, close - 1);
    if (close + 1 < text.size()) {
      if (text[close + 1] != ':') return Fail(ErrorCode::kInvalidArgument, "listen: expected ':' after ']'");
      port = text.substr(close + 2);
    }
  } else if (const auto colon = text.rfind(':'); colon != std::string_view::npos) {
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  if (host.empty()) return Fail(ErrorCode::kInvalidArgument, "listen: empty host");
  c.listen_address = std::string(host);
  if (!port.empty()) {
    auto p = ParseInt("listen port", port);
    if (!p) return std::unexpected(p.error());
    c.port = static_cast<int>(*p);
  }
  return {};
}

template <class T>
Result<void> TomlInt(const toml::node& node, std::string_view name, T& out) {
  const auto v = node.value<std::int64_t>();
  if (!v || *v < 0)
    return Fail(ErrorCode::kInvalidArgument, std::string(name) + ": expected a non-negative integer");
  out = static_cast<T>(*v);
  return {};
}

Result<void> TomlString(const toml::node& node, std::string_view name, std::string& out) {
  const auto v = node.value<std::string>();
  if (!v) return Fail(ErrorCode::kInvalidArgument, std::string(name) + ": expected a string");
  out = *v;
  return {};
}

Result<void> TomlBool(const toml::node& node, std::string_view name, bool& out) {
  const auto v = node.value<bool>();
  if (!v) return Fail(ErrorCode::kInvalidArgument, std::string(name) + ": expected true or false");
  out = *v;
  return {};
}

}  // namespace

Result<void> LoadConfigFile(const std::string& path, ServerConfig& c) {
  toml::table table;
  try {
    table = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    return Fail(ErrorCode::kInvalidEncoding, path + ":" + std::to_string(where.line) + ":" +
                                                 std::to_string(where.column) + ": " +
                                                 std::string(e.description()));
  }
  for (const auto& [key, node] : table) {
    const std::string k(key.str());
    Result<void> r;
    if (k == "data_dir")
      r = TomlString(node, k, c.data_dir);
    else if (k == "store")
      r = TomlString(node, k, c.store);
    else if (k == "listen") {
      std::string s;
      r = TomlString(node, k, s);
      if (r) r = ApplyListen(s, c);
    } else if (k == "port")
      r = TomlInt(node, k, c.port);
    else if (k == "tls")
      r = TomlBool(node, k, c.tls);
    else if (k == "tls_cert")
      r = TomlString(node, k, c.tls_cert);
    else if (k == "tls_key")
      r = TomlString(node, k, c.tls_key);
    else if (k == "audit_key")
      r = TomlString(node, k, c.audit_key);
    else if (k == "threads")
      r = TomlInt(node, k, c.threads);
    else if (k == "log_requests")
      r = TomlBool(node, k, c.log_requests);
    else if (k == "limits" || k == "timeouts" || k == "sessions") {
      const auto* sub = node.as_table();
      if (!sub) return Fail(ErrorCode::kInvalidArgument, Cat({path, ": [", k, "] must be a table"}));
      for (const auto& [skey, snode] : *sub) {
        const std::string s(skey.str());
        const std::string full = Cat({k, ".", s});
        if (k == "limits" && s == "header")
          r = TomlInt(snode, full, c.max_header_bytes);
        else if (k == "limits" && s == "json_body")
          r = TomlInt(snode, full, c.max_json_body);
        else if (k == "limits" && s == "key_package")
          r = TomlInt(snode, full, c.max_key_package);
        else if (k == "limits" && s == "upload")
          r = TomlInt(snode, full, c.max_upload);
        else if (k == "timeouts" && s == "header_ms")
          r = TomlInt(snode, full, c.header_timeout_ms);
        else if (k == "timeouts" && s == "body_idle_ms")
          r = TomlInt(snode, full, c.body_idle_timeout_ms);
        else if (k == "timeouts" && s == "idle_ms")
          r = TomlInt(snode, full, c.idle_timeout_ms);
        else if (k == "sessions" && s == "ttl_s")
          r = TomlInt(snode, full, c.session_ttl_s);
        else if (k == "sessions" && s == "challenge_ttl_s")
          r = TomlInt(snode, full, c.challenge_ttl_s);
        else
          return Fail(ErrorCode::kInvalidArgument, Cat({path, ": unknown setting '", full, "'"}));
        if (!r) return Fail(r.error().code(), path + ": " + r.error().message());
      }
      continue;
    } else {
      return Fail(ErrorCode::kInvalidArgument, Cat({path, ": unknown setting '", k, "'"}));
    }
    if (!r) return Fail(r.error().code(), path + ": " + r.error().message());
  }
  return {};
}

Result<void> ApplyEnvironment(ServerConfig& c) {
  auto env = [](const char* name) -> const char* { return std::getenv(name); };
  if (const char* v = env("CIPHERCHART_DATA_DIR")) c.data_dir = v;
  if (const char* v = env("CIPHERCHART_STORE")) c.store = v;
  if (const char* v = env("CIPHERCHART_LISTEN")) {
    if (auto r = ApplyListen(v, c); !r)
      return Fail(r.error().code(), "CIPHERCHART_LISTEN: " + r.error().message());
  }
  if (const char* v = env("CIPHERCHART_PORT")) {
    auto p = ParseInt("CIPHERCHART_PORT", v);
    if (!p) return std::unexpected(p.error());
    c.port = static_cast<int>(*p);
  }
  if (const char* v = env("CIPHERCHART_TLS")) {
    auto b = ParseBool("CIPHERCHART_TLS", v);
    if (!b) return std::unexpected(b.error());
    c.tls = *b;
  }
  if (const char* v = env("CIPHERCHART_TLS_CERT")) c.tls_cert = v;
  if (const char* v = env("CIPHERCHART_TLS_KEY")) c.tls_key = v;
  if (const char* v = env("CIPHERCHART_AUDIT_KEY")) c.audit_key = v;
  if (const char* v = env("CIPHERCHART_THREADS")) {
    auto t = ParseInt("CIPHERCHART_THREADS", v);
    if (!t) return std::unexpected(t.error());
    c.threads = static_cast<int>(*t);
  }
  if (const char* v = env("CIPHERCHART_LOG_REQUESTS")) {
    auto b = ParseBool("CIPHERCHART_LOG_REQUESTS", v);
    if (!b) return std::unexpected(b.error());
    c.log_requests = *b;
  }
  return {};
}

Result<void> Finalise(ServerConfig& c) {
  if (c.data_dir.empty()) return Fail(ErrorCode::kInvalidArgument, "data_dir: must not be empty");
  if (c.store.empty()) c.store = "sqlite:" + c.data_dir + "/cipherchart.db";
  if (c.tls_cert.empty() != c.tls_key.empty())
    return Fail(ErrorCode::kInvalidArgument, "tls_cert and tls_key: give both or neither");
  if (c.tls_cert.empty()) {
    c.tls_cert = c.data_dir + "/tls.crt";
    c.tls_key = c.data_dir + "/tls.key";
  }
  if (c.audit_key.empty()) c.audit_key = c.data_dir + "/audit.key";
  if (c.port < 0 || c.port > 65535) return Fail(ErrorCode::kInvalidArgument, "port: must be 0..65535");
  if (c.threads < 0 || c.threads > 256) return Fail(ErrorCode::kInvalidArgument, "threads: must be 0..256");
  if (c.max_header_bytes < 1024) return Fail(ErrorCode::kInvalidArgument, "limits.header: at least 1024");
  if (c.max_json_body < 1024) return Fail(ErrorCode::kInvalidArgument, "limits.json_body: at least 1024");
  if (!c.tls && c.listen_address != "127.0.0.1" && c.listen_address != "::1" &&
      c.listen_address != "localhost")
    return Fail(ErrorCode::kInvalidArgument, "tls = false is allowed only on a loopback address");
  return {};
}

}  // namespace cipherchart::server
