#include "src/cli/output.h"

#include <unistd.h>

#include <cstdio>

namespace cipherchart::cli {

int ExitFor(const Error& e) {
  switch (e.code()) {
    case ErrorCode::kWrongCredentials:
      return kLocked;
    case ErrorCode::kIntegrity:
    case ErrorCode::kSignerMismatch:
      return kTampered;
    case ErrorCode::kPermissionDenied:
    case ErrorCode::kNotFound:
      return kRefused;
    default:
      return kFailed;
  }
}

std::string TerminalSafe(std::string_view s) {
  static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    if (b0 < 0x80) {
      const bool control = (b0 < 0x20 && b0 != '\n' && b0 != '\t') || b0 == 0x7F;
      if (control)
        out += kReplacement;
      else
        out.push_back(static_cast<char>(b0));
      ++i;
      continue;
    }
    std::size_t len = 0;
    std::uint32_t cp = 0, min = 0;
    if ((b0 & 0xE0) == 0xC0)
      len = 2, cp = b0 & 0x1Fu, min = 0x80;
    else if ((b0 & 0xF0) == 0xE0)
      len = 3, cp = b0 & 0x0Fu, min = 0x800;
    else if ((b0 & 0xF8) == 0xF0)
      len = 4, cp = b0 & 0x07u, min = 0x10000;
    bool valid = len != 0 && s.size() - i >= len;
    for (std::size_t k = 1; valid && k < len; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      valid = (b & 0xC0) == 0x80;
      cp = (cp << 6) | (b & 0x3Fu);
    }
    valid = valid && cp >= min && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
    if (!valid) {
      out += kReplacement;
      ++i;
      continue;
    }
    // C1 controls, and the bidirectional embeddings, overrides and isolates (Trojan Source).
    const bool unsafe = (cp >= 0x80 && cp <= 0x9F) || (cp >= 0x202A && cp <= 0x202E) ||
                        (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200E || cp == 0x200F || cp == 0x061C;
    if (unsafe)
      out += kReplacement;
    else
      out.append(s.substr(i, len));
    i += len;
  }
  return out;
}

void Output::Emit(const std::string& human, const nlohmann::json& json) const {
  if (json_)
    std::printf("%s\n", json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  else
    std::fputs(TerminalSafe(human).c_str(), stdout);
}

int Output::Die(int code, const std::string& message) const {
  std::fprintf(stderr, "cipherchart %s: %s\n", name_.c_str(), TerminalSafe(message).c_str());
  if (json_)
    std::printf("%s\n", nlohmann::json{{"error", message}, {"exit_code", code}}
                            .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
                            .c_str());
  return code;
}

int Output::Report(int code, const std::string& message) const {
  std::fprintf(stderr, "cipherchart %s: %s\n", name_.c_str(), TerminalSafe(message).c_str());
  return code;
}

void Output::Warn(const std::string& message) const {
  std::fprintf(stderr, "warning: %s\n", TerminalSafe(message).c_str());
}

void Output::Progress(std::string_view label, std::size_t done, std::size_t total) const {
  if (json_ || total <= 1 || isatty(STDERR_FILENO) == 0) return;
  const int pct = static_cast<int>(100 * done / total);
  std::fprintf(stderr, "\r%.*s [%-25s] %3d%% (%zu/%zu)", static_cast<int>(label.size()), label.data(),
               std::string(static_cast<std::size_t>(pct / 4), '#').c_str(), pct, done, total);
  if (done >= total) std::fputs("\n", stderr);
  std::fflush(stderr);
}

}  // namespace cipherchart::cli
