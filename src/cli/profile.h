// A user's local state (docs/user-guide.md, "Files"): one directory per identity, given by
// --home, CIPHERCHART_HOME or ~/.cipherchart.
//   config.toml     server address, CA file, trust file, policy file (plain settings)
//   account.json    user id, role, organisation (public facts the server also knows)
//   wallet.sealed   identity key, delivery key, attribute keys: Argon2id-sealed (passphrase_seal.h)
//   device.key      patients only: the second factor mixed into the wallet's passphrase
//   authority/      authorities only: the sealed FAME authority (chain + signing key) and the
//                   sealed multi-authority master key
#pragma once
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cipherchart/abe/authority.h"
#include "cipherchart/abe/maabe.h"
#include "cipherchart/common/error.h"
#include "cipherchart/common/hex.h"
#include "cipherchart/common/secret.h"
#include "cipherchart/envelope/signature.h"
#include "src/cli/key_package.h"

namespace cipherchart::cli {

// Where and how to reach the server and whom to trust. Precedence: flags, then CIPHERCHART_*
// environment variables, then config.toml in the home directory, then defaults.
struct Settings {
  std::filesystem::path home;
  std::string server = "127.0.0.1:8443";  // HOST:PORT
  std::string ca_file;                    // PEM; default: none (then the server must be plain HTTP)
  std::string trust_file;                 // TOML [roots] namespace = "hex Ed25519 key"
  std::string policy_file;                // section policies (config/policies.toml format)
  std::string passphrase_file;            // else CIPHERCHART_PASSPHRASE, else a prompt
  std::string device_key;                 // patients: the second factor (default home/device.key)
  bool json = false;
};

struct CommonFlags {
  std::string home, server, ca_file, trust_file, policy_file, passphrase_file, device_key;
  bool json = false;
};
Result<Settings> ResolveSettings(const CommonFlags& flags);
// Writes config.toml with the given settings (server, ca_file, trust_file, policy_file).
Result<void> SaveSettings(const Settings& settings);

struct Account {
  std::string user_id;
  std::string role;  // patient | practitioner | authority-admin | server-admin
  std::string organisation;
  std::string patient_id;  // patients: the record they own
};
Result<Account> LoadAccount(const Settings& s);
Result<void> SaveAccount(const Settings& s, const Account& a);

// The secrets of one identity.
struct Wallet {
  std::optional<envelope::Ed25519SigningKey> identity;
  std::optional<DeliveryKey> delivery;
  abe::maabe::UserKey keys;  // attribute keys from every authority, one GID (the user id)
  // Patients: their personal-domain authority (namespace patient_<id>), once enrolled.
  std::optional<abe::maabe::AuthorityMasterKey> personal_authority;

  // LoadWallet and the registration commands always set both keys; abort rather than
  // dereference an empty optional if that invariant is ever broken.
  const envelope::Ed25519SigningKey& id() const {
    if (!identity) std::abort();
    return *identity;
  }
  const DeliveryKey& dk() const {
    if (!delivery) std::abort();
    return *delivery;
  }
};

// The passphrase (from --passphrase-file, CIPHERCHART_PASSPHRASE or the terminal) with, for a
// patient, the device key appended: both are needed to open the wallet.
Result<SecretBytes> WalletPassphrase(const Settings& s, bool with_device_key, bool confirm = false);
Result<void> SaveWallet(const Settings& s, const Wallet& w, const SecretBytes& passphrase);
// kWrongCredentials ("wrong passphrase or second factor") when either is wrong.
Result<Wallet> LoadWallet(const Settings& s, const SecretBytes& passphrase);
bool WalletExists(const Settings& s);
// Makes home/device.key (32 random bytes, mode 0600) unless it exists.
Result<void> CreateDeviceKey(const Settings& s);

// Trusted roots for the authority directory.
Result<std::vector<abe::TrustedRoot>> LoadTrustedRoots(const Settings& s);

Result<std::vector<std::uint8_t>> ReadFileBytes(const std::filesystem::path& p);
// Atomic (temp + rename), mode 0600.
Result<void> WriteFilePrivate(const std::filesystem::path& p, std::span<const std::uint8_t> bytes);
std::uint64_t NowSeconds();
// strftime of a unix time in UTC, e.g. UtcText(t, "%Y-%m-%d").
std::string UtcText(std::int64_t unix_seconds, const char* format);

}  // namespace cipherchart::cli
