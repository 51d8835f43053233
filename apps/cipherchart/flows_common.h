// Shared plumbing of the role commands (authority, admin, doctor, patient, personal): argument
// parsing, settings, wallet access, exit codes and output. docs/user-guide.md lists the commands.
#pragma once
#include <cstdio>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "cipherchart/common/error.h"
#include "src/cli/chart.h"
#include "src/cli/profile.h"
#include "src/cli/session.h"

namespace cipherchart::app {

// Exit codes of every role command (also in --help).
enum Exit : int {
  kOk = 0,
  kFailed = 1,    // something went wrong (message on stderr)
  kUsage = 2,     // bad command line
  kRefused = 3,   // the server or the cryptography refused access
  kTampered = 4,  // a record failed its integrity check
  kLocked = 5,    // the wallet did not open: wrong passphrase or second factor
};

struct Args {
  std::string command;  // e.g. "doctor view"
  std::vector<std::string> positional;
  std::map<std::string, std::vector<std::string>> values;
  std::set<std::string> flags;
  cli::CommonFlags common;
  bool help = false;
  std::string Get(const std::string& name, const std::string& fallback = "") const {
    auto it = values.find(name);
    return it == values.end() || it->second.empty() ? fallback : it->second.back();
  }
  const std::vector<std::string>& All(const std::string& name) const {
    static const std::vector<std::string> kNone;
    auto it = values.find(name);
    return it == values.end() ? kNone : it->second;
  }
  bool Flag(const std::string& name) const { return flags.count(name) != 0; }
};

// Parses argv[start..]: `value_options` take a value ("--name V" or "--name=V"), `flag_options`
// do not; the common options (--home, --server, --ca-file, --trust-file, --policy-file,
// --passphrase-file, --device-key, --json, --help) are always known. Unknown options are errors.
Result<Args> ParseArgs(std::string command, int argc, char** argv, int start,
                       const std::set<std::string>& value_options, const std::set<std::string>& flag_options);

// The shape every role command shares: parse argv[2..] (ParseArgs), answer --help or a missing
// verb with `usage`, resolve the settings, name the command "<role> <verb>" for messages, then
// run `verb_handler`. A malformed JSON reply or file that escapes as an exception ends in a clear
// error (exit 1), never a crash.
using VerbHandler = std::function<int(Args&, const cli::Settings&, const std::string& verb)>;
int RunRole(const std::string& role, const char* usage, int argc, char** argv,
            const std::set<std::string>& value_options, const std::set<std::string>& flag_options,
            const VerbHandler& verb_handler);

// Prints the error (stderr, and {"error": ...} on stdout with --json) and returns `code`.
int Die(const Args& a, int code, const std::string& message);
int DieWith(const Args& a, const Error& e);
// Prints `human` or, with --json, `json`.
void Emit(const Args& a, const std::string& human, const nlohmann::json& json);

// A 403/409/... reply as an Error the exit code can be derived from.
Error ApiError(const std::string& what, const cli::ApiReply& r);
int ExitFor(const Error& e);

// A fresh identity (Ed25519) and delivery (X25519) key in `w`.
Result<void> NewIdentity(cli::Wallet& w);
// Registers an account for `role` with a fresh identity and delivery key (into `w`).
Result<cli::Account> RegisterAccount(const cli::Settings& s, const std::string& role,
                                     const std::string& organisation, const nlohmann::json& details,
                                     cli::Wallet& w);
struct Loaded {
  cli::Account account;
  cli::Wallet wallet;
  SecretBytes passphrase;  // what opened the wallet, to seal it again after a change
};
// The account file and the opened wallet of the home directory.
Result<Loaded> LoadIdentity(const cli::Settings& s);
Result<cli::Session> LoginAs(const cli::Settings& s, const Loaded& l);

// Delivers attribute keys: sealed to the recipient's delivery key, signed by `signer` (the
// issuing authority's certified key), posted to their mailbox. Returns the package id.
Result<std::string> SendAttributeKeys(cli::Session& session, const cli::AccountInfo& recipient,
                                      const abe::maabe::AuthorityKeys& keys,
                                      const envelope::Ed25519SigningKey& signer);

// A progress bar on stderr (only on a terminal, never with --json).
class Progress {
 public:
  Progress(const Args& a, std::string label, std::size_t total);
  void Step(std::size_t n = 1);
  void Done();

 private:
  bool on_ = false;
  std::string label_;
  std::size_t total_ = 0, done_ = 0;
  int last_ = -1;
};

// Shared by the doctor, patient and personal commands (doctor_command.cc).
int FetchKeys(Args& a, const cli::Settings& s, bool personal_domain);
int ViewChart(Args& a, const cli::Settings& s, const std::string& patient_id);
// `doctor attachment`, `patient attachment`: one attachment, streamed into --out.
int GetAttachment(Args& a, const cli::Settings& s, const std::string& patient_id,
                  const std::string& record_id);

int AuthorityCommand(int argc, char** argv);
int AdminCommand(int argc, char** argv);
int DoctorCommand(int argc, char** argv);
int PatientCommand(int argc, char** argv);
int PersonalCommand(int argc, char** argv);

}  // namespace cipherchart::app
