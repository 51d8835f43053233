#include "cipherchart/protocol/api.h"

#include <algorithm>
#include <cassert>

#include "cipherchart/common/bytes.h"

namespace cipherchart::protocol {

std::string Path(std::string_view pattern, std::initializer_list<std::string_view> args) {
  std::string out;
  out.reserve(pattern.size() + 64);
  auto arg = args.begin();
  for (std::size_t i = 0; i < pattern.size();) {
    if (pattern[i] == '{') {
      const auto close = pattern.find('}', i);
      assert(close != std::string_view::npos && arg != args.end() && "a route parameter without an argument");
      if (arg != args.end()) out.append(*arg++);
      i = close + 1;
    } else {
      out.push_back(pattern[i++]);
    }
  }
  assert(arg == args.end() && "more arguments than route parameters");
  return out;
}

std::string PathWithQuery(std::string_view pattern, std::initializer_list<std::string_view> args,
                          std::initializer_list<std::pair<std::string_view, std::string>> query) {
  std::string out = Path(pattern, args);
  char sep = '?';
  for (const auto& [k, v] : query) {
    out.push_back(sep);
    out.append(k);
    out.push_back('=');
    out.append(v);
    sep = '&';
  }
  return out;
}

std::vector<std::string_view> Segments(std::string_view path) {
  std::vector<std::string_view> out;
  std::size_t at = 0;
  while (at < path.size()) {
    if (path[at] == '/') {
      ++at;
      continue;
    }
    const auto end = std::min(path.find('/', at), path.size());
    out.push_back(path.substr(at, end - at));
    at = end;
  }
  return out;
}

bool Matches(std::string_view pattern, std::span<const std::string_view> segments) {
  const auto want = Segments(pattern);
  if (want.size() != segments.size()) return false;
  for (std::size_t i = 0; i < want.size(); ++i) {
    if (want[i].starts_with('{')) continue;
    if (want[i] != segments[i]) return false;
  }
  return true;
}

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kPatient:
      return "patient";
    case Role::kPractitioner:
      return "practitioner";
    case Role::kAuthorityAdmin:
      return "authority-admin";
    case Role::kServerAdmin:
      return "server-admin";
  }
  return "unknown";
}

std::string_view StateName(ApprovalState s) {
  switch (s) {
    case ApprovalState::kPending:
      return "pending";
    case ApprovalState::kApproved:
      return "approved";
    case ApprovalState::kRejected:
      return "rejected";
  }
  return "unknown";
}

std::optional<Role> ParseRole(std::string_view name) {
  for (Role r : {Role::kPatient, Role::kPractitioner, Role::kAuthorityAdmin, Role::kServerAdmin})
    if (RoleName(r) == name) return r;
  return std::nullopt;
}

std::optional<ApprovalState> ParseState(std::string_view name) {
  for (ApprovalState s : {ApprovalState::kPending, ApprovalState::kApproved, ApprovalState::kRejected})
    if (StateName(s) == name) return s;
  return std::nullopt;
}

bool IsPrintableText(std::string_view s) {
  for (const unsigned char c : s)
    if (c < 0x20 || c == 0x7f) return false;
  return IsValidUtf8(AsBytes(s));
}

std::size_t JsonNestingDepth(std::string_view text) {
  std::size_t depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (const char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

std::vector<std::uint8_t> LoginMessage(std::span<const std::uint8_t> nonce, std::string_view user_id) {
  std::vector<std::uint8_t> msg(kLoginLabel.size() + nonce.size() + user_id.size());
  auto at = std::copy(kLoginLabel.begin(), kLoginLabel.end(), msg.begin());
  at = std::copy(nonce.begin(), nonce.end(), at);
  std::copy(user_id.begin(), user_id.end(), at);
  return msg;
}

}  // namespace cipherchart::protocol
