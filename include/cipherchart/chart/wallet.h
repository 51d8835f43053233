// A user's local state (docs/user-guide.md, "Files"): one directory per identity.
//   account.json    user id, role, organisation, patient id (public facts the server also knows)
//   wallet.sealed   identity key, delivery key, attribute keys, a patient's personal authority:
//                   Argon2id-sealed (passphrase_seal.h, purpose protocol::label::kWalletPurpose)
//   device.key      patients only: the second factor mixed into the wallet's passphrase
//   authority/      authorities only: the sealed FAME authority and RW15 master key
//   shares.json     patients only: whom they share a personal view with
//   audit-state.json patients only: the audit key and signed head pinned by the last `log`
// The file names and formats are the chart library's; where the directory is and where the
// passphrase comes from is the front end's (src/cli/settings.h).
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cipherchart/abe/authority_directory.h"
#include "cipherchart/abe/maabe.h"
#include "cipherchart/chart/key_package.h"
#include "cipherchart/chart/server_port.h"
#include "cipherchart/common/error.h"
#include "cipherchart/common/secret.h"
#include "cipherchart/envelope/signature.h"

namespace cipherchart::chart {

struct Account {
  std::string user_id;
  std::string role;  // patient | personal | practitioner | authority-admin | server-admin
  std::string organisation;
  std::string patient_id;  // patients: the record they own
};

// The secrets of one identity.
struct Wallet {
  std::optional<envelope::Ed25519SigningKey> identity;
  std::optional<DeliveryKey> delivery;
  abe::maabe::UserKey keys;  // attribute keys from every authority, one GID (the user id)
  // Patients: their personal-domain authority (namespace patient_<id>), once enrolled.
  std::optional<abe::maabe::AuthorityMasterKey> personal_authority;

  // A wallet made by NewWallet or OpenWallet always has both keys; abort rather than
  // dereference an empty optional if that invariant is ever broken.
  const envelope::Ed25519SigningKey& id() const;
  const DeliveryKey& dk() const;
};

// A fresh identity (Ed25519) and delivery (X25519) key.
Result<Wallet> NewWallet();
// Wallet encoding: (u8 tag, u32 length, bytes)*, sealed whole. kWrongCredentials when the
// passphrase (or second factor) is wrong.
Result<std::vector<std::uint8_t>> SealWallet(const Wallet& wallet, const SecretBytes& passphrase);
Result<Wallet> OpenWallet(std::span<const std::uint8_t> sealed, const SecretBytes& passphrase);

// An unlocked identity: what every signed-in operation needs.
struct Identity {
  Account account;
  Wallet wallet;
};

// Registers a new account for `role` ("patient" also for personal accounts) with a fresh
// identity and delivery key. `details_json` is a JSON object as text (or empty).
Result<Identity> RegisterAccount(ServerPort& server, const std::string& role, const std::string& organisation,
                                 const std::string& details_json);

class Home {
 public:
  explicit Home(std::filesystem::path dir) : dir_(std::move(dir)) {}
  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path AuthorityDir() const { return dir_ / "authority"; }
  std::filesystem::path AuditStatePath() const { return dir_ / "audit-state.json"; }
  std::filesystem::path SharesPath() const { return dir_ / "shares.json"; }

  Result<Account> LoadAccount() const;
  Result<void> SaveAccount(const Account& account) const;
  bool HasWallet() const;
  Result<Wallet> LoadWallet(const SecretBytes& passphrase) const;
  Result<void> SaveWallet(const Wallet& wallet, const SecretBytes& passphrase) const;

 private:
  std::filesystem::path dir_;
};

// Makes `path` (32 random bytes, mode 0600) unless it exists: a patient's second factor.
Result<void> CreateDeviceKey(const std::filesystem::path& path);
// The trusted roots of a trust file (TOML: [roots] namespace = "hex Ed25519 key"); none for "".
Result<std::vector<abe::TrustedRoot>> LoadTrustedRoots(const std::string& trust_file);

// Files of at most 64 MiB, read whole; written atomically with mode 0600.
Result<std::vector<std::uint8_t>> ReadFileBytes(const std::filesystem::path& p);
Result<void> WriteFilePrivate(const std::filesystem::path& p, std::span<const std::uint8_t> bytes);
// A JSON file (a FHIR resource or bundle), parsed with fhir::ParseJson's limits; errors name the
// file.
Result<nlohmann::json> ReadJsonFile(const std::filesystem::path& p);
std::uint64_t NowSeconds();
// strftime of a unix time in UTC, e.g. UtcText(t, "%Y-%m-%d").
std::string UtcText(std::int64_t unix_seconds, const char* format);

}  // namespace cipherchart::chart
