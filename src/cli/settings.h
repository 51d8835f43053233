// Command-line support: where a user's home is, how to reach the server, whom to trust, and
// where the wallet's passphrase comes from. Precedence: flags, then CIPHERCHART_* environment
// variables, then HOME/config.toml, then defaults (docs/user-guide.md, "Configuration").
#pragma once

#include <filesystem>
#include <string>

#include "cipherchart/chart/server_port.h"
#include "cipherchart/chart/wallet.h"
#include "cipherchart/common/error.h"
#include "cipherchart/common/secret.h"
#include "cipherchart/fhir/policy_file.h"

namespace cipherchart::cli {

struct Settings {
  std::filesystem::path home;
  std::string server;           // HOST:PORT (default 127.0.0.1:8443)
  std::string ca_file;          // PEM; none means plain HTTP, loopback only
  std::string trust_file;       // TOML [roots] namespace = "hex Ed25519 key"
  std::string policy_file;      // section policies (config/policies.toml format)
  std::string passphrase_file;  // else CIPHERCHART_PASSPHRASE, else a prompt
  std::string device_key;       // patients: the second factor (default home/device.key)
  bool json = false;
};

// `flags` holds what the command line gave (empty strings for options not given).
Result<Settings> ResolveSettings(const Settings& flags);
// Writes HOME/config.toml (server, ca_file, trust_file, policy_file).
Result<void> SaveSettings(const Settings& settings);

chart::ServerAddress AddressOf(const Settings& s);
Result<fhir::PolicyFile> Policies(const Settings& s);

// The passphrase (from the passphrase file, CIPHERCHART_PASSPHRASE or the terminal, asked twice
// with `confirm`) with, for a patient, the device key appended: both are needed to open the
// wallet. A missing or short device key is kWrongCredentials, as a wrong one is.
Result<SecretBytes> WalletPassphrase(const Settings& s, bool with_device_key, bool confirm = false);

// The identity of the home, unlocked (patients with their device key), and a server port
// logged in as it.
struct SignedIn {
  chart::Identity identity;
  SecretBytes passphrase;  // what opened the wallet, to seal it again after a change
  std::unique_ptr<chart::ServerPort> server;
};
Result<chart::Identity> Unlock(const Settings& s, SecretBytes* passphrase_out = nullptr);
Result<SignedIn> SignIn(const Settings& s);
// Saves the wallet (with the passphrase that opened it), the account and the settings.
Result<void> SaveIdentity(const Settings& s, const chart::Identity& identity, const SecretBytes& passphrase);

}  // namespace cipherchart::cli
