#include "apps/cipherchart/flows_common.h"

#include <unistd.h>

#include "cipherchart/abe/maabe_serialize.h"

namespace cipherchart::app {

Result<Args> ParseArgs(std::string command, int argc, char** argv, int start,
                       const std::set<std::string>& value_options,
                       const std::set<std::string>& flag_options) {
  static const std::set<std::string> kCommonValues = {
      "home", "server", "ca-file", "trust-file", "policy-file", "passphrase-file", "device-key"};
  Args a;
  a.command = std::move(command);
  for (int i = start; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      a.help = true;
      continue;
    }
    if (arg == "--json") {
      a.common.json = true;
      continue;
    }
    if (!arg.starts_with("--")) {
      a.positional.push_back(arg);
      continue;
    }
    std::string name = arg.substr(2), value;
    bool has_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    if (flag_options.count(name) != 0) {
      if (has_value) return Fail(ErrorCode::kInvalidArgument, "option --" + name + " takes no value");
      a.flags.insert(name);
      continue;
    }
    if (kCommonValues.count(name) == 0 && value_options.count(name) == 0)
      return Fail(ErrorCode::kInvalidArgument, "unknown option --" + name);
    if (!has_value) {
      if (i + 1 >= argc) return Fail(ErrorCode::kInvalidArgument, "option --" + name + " needs a value");
      value = argv[++i];
    }
    if (name == "home")
      a.common.home = value;
    else if (name == "server")
      a.common.server = value;
    else if (name == "ca-file")
      a.common.ca_file = value;
    else if (name == "trust-file")
      a.common.trust_file = value;
    else if (name == "policy-file")
      a.common.policy_file = value;
    else if (name == "passphrase-file")
      a.common.passphrase_file = value;
    else if (name == "device-key")
      a.common.device_key = value;
    else
      a.values[name].push_back(value);
  }
  return a;
}

int RunRole(const std::string& role, const char* usage, int argc, char** argv,
            const std::set<std::string>& value_options, const std::set<std::string>& flag_options,
            const VerbHandler& verb_handler) {
  auto a = ParseArgs(role, argc, argv, 2, value_options, flag_options);
  if (!a) {
    std::fprintf(stderr, "cipherchart %s: %s (see --help)\n", role.c_str(), a.error().message().c_str());
    return kUsage;
  }
  if (a->help || a->positional.empty()) {
    std::fputs(usage, a->help ? stdout : stderr);
    return a->help ? kOk : kUsage;
  }
  const std::string verb = a->positional[0];
  a->command = role + " " + verb;
  auto s = cli::ResolveSettings(a->common);
  if (!s) return DieWith(*a, s.error());
  try {
    return verb_handler(*a, *s, verb);
  } catch (const nlohmann::json::exception& e) {
    return Die(*a, kFailed, std::string("malformed JSON (from the server or a file): ") + e.what());
  }
}

int Die(const Args& a, int code, const std::string& message) {
  std::fprintf(stderr, "cipherchart %s: %s\n", a.command.c_str(), message.c_str());
  if (a.common.json)
    std::printf("%s\n", nlohmann::json{{"error", message}, {"exit_code", code}}.dump().c_str());
  return code;
}

int ExitFor(const Error& e) {
  switch (e.code()) {
    case ErrorCode::kWrongCredentials:
      return kLocked;
    case ErrorCode::kIntegrity:
    case ErrorCode::kSignerMismatch:
      return kTampered;
    case ErrorCode::kPermissionDenied:
      return kRefused;
    default:
      return kFailed;
  }
}

int DieWith(const Args& a, const Error& e) { return Die(a, ExitFor(e), e.message()); }

void Emit(const Args& a, const std::string& human, const nlohmann::json& json) {
  if (a.common.json)
    std::printf("%s\n", json.dump().c_str());
  else
    std::fputs(human.c_str(), stdout);
}

Error ApiError(const std::string& what, const cli::ApiReply& r) { return r.ToError(what); }

Result<void> NewIdentity(cli::Wallet& w) {
  auto id = envelope::Ed25519SigningKey::Generate();
  if (!id) return std::unexpected(id.error());
  auto dk = cli::DeliveryKey::Generate();
  if (!dk) return std::unexpected(dk.error());
  w.identity.emplace(std::move(*id));
  w.delivery.emplace(std::move(*dk));
  return {};
}

// Registers an account for `role` with a new wallet.
Result<cli::Account> RegisterAccount(const cli::Settings& s, const std::string& role,
                                     const std::string& organisation, const nlohmann::json& details,
                                     cli::Wallet& w) {
  if (auto k = NewIdentity(w); !k) return std::unexpected(k.error());
  auto sess = cli::Session::Connect(s);
  if (!sess) return std::unexpected(sess.error());
  nlohmann::json body = {{"role", role},
                         {"identity_key", ToHex(w.id().public_key())},
                         {"delivery_key", ToHex(w.dk().public_key)}};
  if (!organisation.empty()) body["organisation"] = organisation;
  if (!details.empty()) body["details"] = details;
  auto r = sess->Json("POST", "/v1/accounts", body);
  if (!r) return std::unexpected(r.error());
  if (r->status != 201) return std::unexpected(ApiError("registration", *r));
  cli::Account acc;
  acc.user_id = r->body.value("user_id", "");
  acc.role = role;
  acc.organisation = organisation;
  return acc;
}

Result<Loaded> LoadIdentity(const cli::Settings& s) {
  auto acc = cli::LoadAccount(s);
  if (!acc) return std::unexpected(acc.error());
  // Patients' wallets need the device key as well; family members ("personal") do not.
  auto pass = cli::WalletPassphrase(s, acc->role == "patient");
  if (!pass) return std::unexpected(pass.error());
  auto w = cli::LoadWallet(s, *pass);
  if (!w) return std::unexpected(w.error());
  return Loaded{std::move(*acc), std::move(*w), std::move(*pass)};
}

Result<cli::Session> LoginAs(const cli::Settings& s, const Loaded& l) {
  return cli::Session::Login(s, l.account.user_id, l.wallet.id());
}

Result<std::string> SendAttributeKeys(cli::Session& session, const cli::AccountInfo& recipient,
                                      const abe::maabe::AuthorityKeys& keys,
                                      const envelope::Ed25519SigningKey& signer) {
  auto payload = abe::maabe::Serialize(keys);
  if (!payload) return std::unexpected(payload.error());
  auto pkg = cli::SealKeyPackage(cli::PackageKind::kAttributeKeys, *payload, recipient.delivery_key, signer);
  if (!pkg) return std::unexpected(pkg.error());
  auto r = session.PutBytes("POST", "/v1/users/" + recipient.user_id + "/keys", *pkg);
  if (!r) return std::unexpected(r.error());
  if (!r->ok()) return std::unexpected(r->ToError("posting the key package to " + recipient.user_id));
  return r->body.value("package_id", "");
}

Progress::Progress(const Args& a, std::string label, std::size_t total)
    : on_(!a.common.json && isatty(STDERR_FILENO) != 0 && total > 1),
      label_(std::move(label)),
      total_(total) {}

void Progress::Step(std::size_t n) {
  done_ += n;
  if (!on_) return;
  const int pct = static_cast<int>(100 * done_ / std::max<std::size_t>(total_, 1));
  if (pct == last_) return;
  last_ = pct;
  const int bars = pct / 4;
  std::fprintf(stderr, "\r%s [%-25s] %3d%% (%zu/%zu)", label_.c_str(), std::string(bars, '#').c_str(), pct,
               done_, total_);
  std::fflush(stderr);
}

void Progress::Done() {
  if (on_) std::fputs("\n", stderr);
}

}  // namespace cipherchart::app
