// Command-line support: exit codes, human or --json output, errors, progress.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "cipherchart/common/error.h"

namespace cipherchart::cli {

// Exit codes of every command (also in --help).
enum Exit : int {
  kOk = 0,
  kFailed = 1,    // something went wrong (message on stderr)
  kUsage = 2,     // bad command line
  kRefused = 3,   // the server or the cryptography refused access
  kTampered = 4,  // a record or the log failed its integrity check
  kLocked = 5,    // the wallet did not open: wrong passphrase or second factor
};
inline constexpr const char* kExitCodesHelp =
    "exit codes: 0 ok, 1 failed, 2 usage, 3 refused, 4 tampered record or log, 5 wrong passphrase or second "
    "factor";

int ExitFor(const Error& e);

// Text from the server or from decrypted records, made safe for a terminal: C0 and C1 control
// characters (but newline and tab), DEL, bidirectional overrides and invalid UTF-8 become U+FFFD,
// so nothing can move the cursor, recolour, or reorder what the user reads.
std::string TerminalSafe(std::string_view text);

// One command's output: `name` ("doctor view") prefixes messages on stderr.
class Output {
 public:
  Output(std::string name, bool json) : name_(std::move(name)), json_(json) {}
  bool json() const { return json_; }
  // Prints `human` (made TerminalSafe) or, with --json, `json`.
  void Emit(const std::string& human, const nlohmann::json& json) const;
  // Prints the error (stderr, and {"error", "exit_code"} on stdout with --json); returns `code`.
  int Die(int code, const std::string& message) const;
  int Die(const Error& e) const { return Die(ExitFor(e), e.message()); }
  // After a result was emitted: the reason for a non-zero exit, on stderr only; returns `code`.
  int Report(int code, const std::string& message) const;
  void Warn(const std::string& message) const;
  // A progress callback for long work: a bar on stderr, only on a terminal and never with --json.
  void Progress(std::string_view label, std::size_t done, std::size_t total) const;

 private:
  std::string name_;
  bool json_;
};

}  // namespace cipherchart::cli
