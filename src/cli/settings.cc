#include "src/cli/settings.h"

#include <termios.h>
#include <toml++/toml.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>

#include "cipherchart/common/bytes.h"

namespace cipherchart::cli {
namespace {

namespace fs = std::filesystem;

const char* Env(const char* name) {
  const char* v = std::getenv(name);
  return (v != nullptr && *v != '\0') ? v : nullptr;
}

// The passphrase typed on the terminal without echo (twice with `confirm`).
Result<std::string> Prompt(bool confirm) {
  termios old{};
  tcgetattr(STDIN_FILENO, &old);
  termios quiet = old;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  std::string text;
  for (int round = 0; round < (confirm ? 2 : 1); ++round) {
    std::fputs(round == 0 ? "passphrase: " : "again: ", stderr);
    tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    std::string line;
    std::getline(std::cin, line);
    tcsetattr(STDIN_FILENO, TCSANOW, &old);
    std::fputs("\n", stderr);
    const bool differ = round == 1 && line != text;
    text.swap(line);
    std::fill(line.begin(), line.end(), '\0');
    if (differ) {
      std::fill(text.begin(), text.end(), '\0');
      return Fail(ErrorCode::kInvalidArgument, "the passphrases differ");
    }
  }
  return text;
}

}  // namespace

Result<Settings> ResolveSettings(const Settings& f) {
  Settings s;
  if (!f.home.empty())
    s.home = f.home;
  else if (const char* h = Env("CIPHERCHART_HOME"))
    s.home = h;
  else if (const char* h2 = Env("HOME"))
    s.home = fs::path(h2) / ".cipherchart";
  else
    return Fail(ErrorCode::kInvalidArgument, "no home directory: give --home or set CIPHERCHART_HOME");
  const fs::path cfg = s.home / "config.toml";
  if (fs::exists(cfg)) {
    try {
      const toml::table t = toml::parse_file(cfg.string());
      for (const auto& [k, v] : t) {
        const std::string key(k.str());
        const auto* str = v.as_string();
        if (str == nullptr)
          return Fail(ErrorCode::kInvalidArgument, cfg.string() + ": " + key + ": not a string");
        std::string* slot = key == "server"        ? &s.server
                            : key == "ca_file"     ? &s.ca_file
                            : key == "trust_file"  ? &s.trust_file
                            : key == "policy_file" ? &s.policy_file
                                                   : nullptr;
        if (slot == nullptr)
          return Fail(ErrorCode::kInvalidArgument, cfg.string() + ": unknown setting '" + key + "'");
        *slot = str->get();
      }
    } catch (const toml::parse_error& e) {
      return Fail(ErrorCode::kInvalidArgument, cfg.string() + ": " + std::string(e.description()));
    }
  }
  const std::pair<const char*, std::string Settings::*> kVars[] = {
      {"CIPHERCHART_SERVER", &Settings::server},
      {"CIPHERCHART_CA_FILE", &Settings::ca_file},
      {"CIPHERCHART_TRUST_FILE", &Settings::trust_file},
      {"CIPHERCHART_POLICY_FILE", &Settings::policy_file},
      {"CIPHERCHART_PASSPHRASE_FILE", &Settings::passphrase_file},
      {"CIPHERCHART_DEVICE_KEY", &Settings::device_key}};
  for (const auto& [name, member] : kVars)
    if (const char* v = Env(name)) s.*member = v;
  for (const auto& [name, member] : kVars)
    if (!(f.*member).empty()) s.*member = f.*member;
  if (s.server.empty()) s.server = "127.0.0.1:8443";
  if (s.device_key.empty()) s.device_key = (s.home / "device.key").string();
  s.json = f.json;
  return s;
}

Result<void> SaveSettings(const Settings& s) {
  std::error_code ec;
  fs::create_directories(s.home, ec);
  if (ec) return Fail(ErrorCode::kInvalidArgument, "cannot create " + s.home.string() + ": " + ec.message());
  toml::table t;
  t.insert("server", s.server);
  if (!s.ca_file.empty()) t.insert("ca_file", fs::absolute(s.ca_file).string());
  if (!s.trust_file.empty()) t.insert("trust_file", fs::absolute(s.trust_file).string());
  if (!s.policy_file.empty()) t.insert("policy_file", fs::absolute(s.policy_file).string());
  std::ostringstream os;
  os << t << "\n";
  const std::string text = os.str();
  return chart::WriteFilePrivate(s.home / "config.toml", AsBytes(text));
}

chart::ServerAddress AddressOf(const Settings& s) { return {s.server, s.ca_file}; }

Result<fhir::PolicyFile> Policies(const Settings& s) {
  if (s.policy_file.empty()) return fhir::DefaultPolicyFile();
  return fhir::LoadPolicyFile(s.policy_file);
}

Result<SecretBytes> WalletPassphrase(const Settings& s, bool with_device_key, bool confirm) {
  std::string text;
  if (!s.passphrase_file.empty()) {
    auto b = chart::ReadFileBytes(s.passphrase_file);
    if (!b) return Fail(ErrorCode::kInvalidArgument, "cannot read the passphrase file " + s.passphrase_file);
    text.assign(b->begin(), b->end());
    std::fill(b->begin(), b->end(), 0);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  } else if (const char* v = Env("CIPHERCHART_PASSPHRASE")) {
    text = v;
  } else if (isatty(STDIN_FILENO) != 0) {
    auto typed = Prompt(confirm);
    if (!typed) return std::unexpected(typed.error());
    text = std::move(*typed);
  } else {
    return Fail(ErrorCode::kInvalidArgument,
                "no passphrase: give --passphrase-file, set CIPHERCHART_PASSPHRASE, or run on a terminal");
  }
  if (text.empty()) return Fail(ErrorCode::kInvalidArgument, "the passphrase is empty");
  std::vector<std::uint8_t> device;
  if (with_device_key) {
    auto dev = chart::ReadFileBytes(s.device_key);
    if (!dev || dev->size() != 32) {
      if (dev) std::fill(dev->begin(), dev->end(), 0);
      std::fill(text.begin(), text.end(), '\0');
      // A missing second factor leaves the keystore locked, as a wrong one does (exit 5).
      return Fail(ErrorCode::kWrongCredentials,
                  "the second factor (device key " + s.device_key + ") is missing or not 32 bytes");
    }
    device = std::move(*dev);
  }
  // Straight into the wiping type, sized once: no reallocation leaves a copy behind.
  SecretBytes out(text.size() + (with_device_key ? 1 + device.size() : 0));
  std::copy(text.begin(), text.end(), out.data());
  std::fill(text.begin(), text.end(), '\0');
  if (with_device_key) {
    out.data()[text.size()] = 0;  // separates the passphrase from the device key
    std::copy(device.begin(), device.end(), out.data() + text.size() + 1);
    std::fill(device.begin(), device.end(), 0);
  }
  return out;
}

Result<chart::Identity> Unlock(const Settings& s, SecretBytes* passphrase_out) {
  const chart::Home home(s.home);
  auto acc = home.LoadAccount();
  if (!acc) return std::unexpected(acc.error());
  // Patients' wallets need the device key as well; family members ("personal") do not.
  auto pass = WalletPassphrase(s, acc->role == "patient");
  if (!pass) return std::unexpected(pass.error());
  auto w = home.LoadWallet(*pass);
  if (!w) return std::unexpected(w.error());
  if (passphrase_out != nullptr) *passphrase_out = std::move(*pass);
  return chart::Identity{std::move(*acc), std::move(*w)};
}

Result<SignedIn> SignIn(const Settings& s) {
  SecretBytes pass;
  auto id = Unlock(s, &pass);
  if (!id) return std::unexpected(id.error());
  auto server = chart::ConnectHttp(AddressOf(s));
  if (!server) return std::unexpected(server.error());
  if (auto r = (*server)->Login(id->account.user_id, id->wallet.id()); !r) return std::unexpected(r.error());
  return SignedIn{std::move(*id), std::move(pass), std::move(*server)};
}

Result<void> SaveIdentity(const Settings& s, const chart::Identity& identity, const SecretBytes& passphrase) {
  const chart::Home home(s.home);
  if (auto r = home.SaveWallet(identity.wallet, passphrase); !r) return r;
  if (auto r = home.SaveAccount(identity.account); !r) return r;
  return SaveSettings(s);
}

}  // namespace cipherchart::cli
