// The helpers every handler file shares: see handler.h.
#include "src/server/handler.h"

#include "cipherchart/common/bytes.h"
#include "cipherchart/protocol/api.h"

namespace cipherchart::server {

ApiResult<Target> ParseTarget(std::string_view target) {
  auto bad = [](std::string why) { return Reject(400, "bad_path", std::move(why)); };
  Target t;
  if (target.empty() || target.front() != '/') return bad("the request target must start with '/'");
  std::string_view path = target, query;
  if (const auto q = target.find('?'); q != std::string_view::npos) {
    path = target.substr(0, q);
    query = target.substr(q + 1);
  }
  if (path.find_first_of("%#\\") != std::string_view::npos)
    return bad("the path contains '%', '#' or '\\', which no route uses");
  path.remove_prefix(1);
  while (!path.empty()) {
    const auto slash = path.find('/');
    const auto seg = path.substr(0, slash);
    if (seg.empty() || seg == "." || seg == "..") return bad("the path has an empty, '.' or '..' segment");
    t.segments.emplace_back(seg);
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
    if (path.empty()) return bad("the path ends with '/'");
  }
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto pair = query.substr(0, amp);
    const auto eq = pair.find('=');
    if (eq == std::string_view::npos || eq == 0 || pair.find_first_of("%#") != std::string_view::npos)
      return bad("the query must be key=value pairs without escapes");
    if (!t.query.emplace(std::string(pair.substr(0, eq)), std::string(pair.substr(eq + 1))).second)
      return bad("the query repeats a key");
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return t;
}

std::string Service::Call::Param(std::string_view name) const {
  const auto want = protocol::Segments(pattern);
  for (std::size_t i = 0; i < want.size() && i < segments.size(); ++i) {
    const std::string_view w = want[i];
    if (w.size() == name.size() + 2 && w.front() == '{' && w.back() == '}' &&
        w.substr(1, name.size()) == name)
      return std::string(segments[i]);
  }
  return {};
}

HttpReply JsonReply(int status, const json& body) {
  HttpReply r;
  r.status = status;
  r.body = body.dump();
  return r;
}

ApiResult<const std::string*> Fields::Find(const char* name, std::size_t max_len) const {
  const auto it = j_.find(name);
  if (it == j_.end() || it->is_null()) return nullptr;
  if (!it->is_string())
    return Reject(400, "bad_field", std::string("field '") + name + "': expected a string");
  const auto& s = it->get_ref<const std::string&>();
  if (s.size() > max_len) {
    return Reject(400, "bad_field",
                  std::string("field '") + name + "': longer than " + std::to_string(max_len) + " bytes");
  }
  return &s;
}

ApiResult<std::optional<std::string>> Fields::Str(const char* name, bool required,
                                                  std::size_t max_len) const {
  auto s = Find(name, max_len);
  if (!s) return std::unexpected(s.error());
  if (*s != nullptr) return **s;
  if (required) return Missing(name);
  return std::nullopt;
}

ApiResult<std::string> Fields::Required(const char* name, std::size_t max_len) const {
  auto s = Find(name, max_len);
  if (!s) return std::unexpected(s.error());
  if (*s == nullptr) return Missing(name);
  return **s;
}

std::unexpected<ApiError> Fields::Missing(const char* name) {
  return Reject(400, "missing_field", std::string("field '") + name + "' is required");
}

std::optional<std::int64_t> ParseCount(std::string_view s) {
  if (s.empty() || s.size() > 18) return std::nullopt;
  std::int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

std::optional<std::int64_t> QueryCount(const std::map<std::string, std::string>& query, const char* key) {
  const auto it = query.find(key);
  return it == query.end() ? std::nullopt : ParseCount(it->second);
}

}  // namespace cipherchart::server
