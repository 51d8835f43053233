#include "src/cli/profile.h"

#include <termios.h>
#include <toml++/toml.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cipherchart/abe/maabe_serialize.h"
#include "cipherchart/envelope/passphrase_seal.h"
#include "src/abe/atomic_file.h"

namespace cipherchart::cli {
namespace {

namespace fs = std::filesystem;
constexpr std::string_view kWalletPurpose = "cipherchart wallet v1";
constexpr std::size_t kMaxFile = 64u << 20;

const char* Env(const char* name) {
  const char* v = std::getenv(name);
  return (v != nullptr && *v != '\0') ? v : nullptr;
}

// Wallet encoding: a list of (u8 tag, u32 length, bytes); the whole list is the sealed secret.
enum Tag : std::uint8_t { kIdentity = 1, kDelivery = 2, kUserKey = 3, kPersonalAuthority = 4 };

void Put(SecretBytes& out, std::size_t& at, Tag tag, std::span<const std::uint8_t> bytes) {
  out.data()[at++] = tag;
  for (int s = 24; s >= 0; s -= 8) out.data()[at++] = static_cast<std::uint8_t>(bytes.size() >> s);
  std::copy(bytes.begin(), bytes.end(), out.data() + at);
  at += bytes.size();
}

}  // namespace

Result<std::vector<std::uint8_t>> ReadFileBytes(const fs::path& p) {
  return abe::internal::ReadSmallFile(p, kMaxFile);
}

Result<void> WriteFilePrivate(const fs::path& p, std::span<const std::uint8_t> bytes) {
  return abe::internal::WriteFileAtomically(p, bytes);
}

std::uint64_t NowSeconds() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

std::string UtcText(std::int64_t unix_seconds, const char* format) {
  const auto t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  const std::size_t n = std::strftime(buf, sizeof buf, format, &tm);
  return std::string(buf, n);
}

Result<Settings> ResolveSettings(const CommonFlags& f) {
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
        if (key == "server")
          s.server = str->get();
        else if (key == "ca_file")
          s.ca_file = str->get();
        else if (key == "trust_file")
          s.trust_file = str->get();
        else if (key == "policy_file")
          s.policy_file = str->get();
        else
          return Fail(ErrorCode::kInvalidArgument, cfg.string() + ": unknown setting '" + key + "'");
      }
    } catch (const toml::parse_error& e) {
      return Fail(ErrorCode::kInvalidArgument, cfg.string() + ": " + std::string(e.description()));
    }
  }
  if (const char* v = Env("CIPHERCHART_SERVER")) s.server = v;
  if (const char* v = Env("CIPHERCHART_CA_FILE")) s.ca_file = v;
  if (const char* v = Env("CIPHERCHART_TRUST_FILE")) s.trust_file = v;
  if (const char* v = Env("CIPHERCHART_POLICY_FILE")) s.policy_file = v;
  if (const char* v = Env("CIPHERCHART_PASSPHRASE_FILE")) s.passphrase_file = v;
  if (const char* v = Env("CIPHERCHART_DEVICE_KEY")) s.device_key = v;
  if (!f.server.empty()) s.server = f.server;
  if (!f.ca_file.empty()) s.ca_file = f.ca_file;
  if (!f.trust_file.empty()) s.trust_file = f.trust_file;
  if (!f.policy_file.empty()) s.policy_file = f.policy_file;
  if (!f.passphrase_file.empty()) s.passphrase_file = f.passphrase_file;
  if (!f.device_key.empty()) s.device_key = f.device_key;
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
  return WriteFilePrivate(s.home / "config.toml",
                          std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

Result<Account> LoadAccount(const Settings& s) {
  auto bytes = ReadFileBytes(s.home / "account.json");
  if (!bytes)
    return Fail(ErrorCode::kInvalidArgument,
                "no account in " + s.home.string() + " (run the role's 'register' or 'init' first)");
  const auto j = nlohmann::json::parse(bytes->begin(), bytes->end(), nullptr, false);
  if (!j.is_object() || !j.contains("user_id") || !j["user_id"].is_string())
    return Fail(ErrorCode::kInvalidEncoding, (s.home / "account.json").string() + ": not an account file");
  Account a;
  a.user_id = j["user_id"];
  a.role = j.value("role", "");
  a.organisation = j.value("organisation", "");
  a.patient_id = j.value("patient_id", "");
  return a;
}

Result<void> SaveAccount(const Settings& s, const Account& a) {
  std::error_code ec;
  fs::create_directories(s.home, ec);
  const std::string text = nlohmann::json{
      {"user_id", a.user_id},
      {"role", a.role},
      {"organisation", a.organisation},
      {"patient_id",
       a.patient_id}}.dump(2);
  return WriteFilePrivate(s.home / "account.json",
                          std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

Result<SecretBytes> WalletPassphrase(const Settings& s, bool with_device_key, bool confirm) {
  std::string text;
  if (!s.passphrase_file.empty()) {
    auto b = ReadFileBytes(s.passphrase_file);
    if (!b) return Fail(ErrorCode::kInvalidArgument, "cannot read the passphrase file " + s.passphrase_file);
    text.assign(b->begin(), b->end());
    std::fill(b->begin(), b->end(), 0);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  } else if (const char* v = Env("CIPHERCHART_PASSPHRASE")) {
    text = v;
  } else if (isatty(STDIN_FILENO) != 0) {
    // Prompt without echo.
    termios old{};
    tcgetattr(STDIN_FILENO, &old);
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
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
  } else {
    return Fail(ErrorCode::kInvalidArgument,
                "no passphrase: give --passphrase-file, set CIPHERCHART_PASSPHRASE, or run on a terminal");
  }
  if (text.empty()) return Fail(ErrorCode::kInvalidArgument, "the passphrase is empty");
  // Straight into the wiping type, sized once: no reallocation leaves a copy behind.
  std::vector<std::uint8_t> device;
  if (with_device_key) {
    auto dev = ReadFileBytes(s.device_key);
    if (!dev || dev->size() != 32) {
      if (dev) std::fill(dev->begin(), dev->end(), 0);
      std::fill(text.begin(), text.end(), '\0');
      // A missing second factor leaves the keystore locked, as a wrong one does (exit 5).
      return Fail(ErrorCode::kWrongCredentials,
                  "the second factor (device key " + s.device_key + ") is missing or not 32 bytes");
    }
    device = std::move(*dev);
  }
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

bool WalletExists(const Settings& s) { return fs::exists(s.home / "wallet.sealed"); }

Result<void> CreateDeviceKey(const Settings& s) {
  if (fs::exists(s.device_key)) return {};
  std::error_code ec;
  fs::create_directories(fs::absolute(s.device_key).parent_path(), ec);
  auto k = SecretBytes::Random(32);
  if (!k) return std::unexpected(k.error());
  return WriteFilePrivate(s.device_key, k->span());
}

Result<void> SaveWallet(const Settings& s, const Wallet& w, const SecretBytes& passphrase) {
  if (!w.identity || !w.delivery) return Fail(ErrorCode::kInternal, "wallet: identity missing");
  SecretBytes user;
  if (!w.keys.by_authority.empty()) {
    auto u = abe::maabe::Serialize(w.keys);
    if (!u) return std::unexpected(u.error());
    user = std::move(*u);
  }
  SecretBytes personal;
  if (w.personal_authority) {
    auto p = abe::maabe::Serialize(*w.personal_authority);
    if (!p) return std::unexpected(p.error());
    personal = std::move(*p);
  }
  SecretBytes plain(5 + 32 + 5 + 32 + (user.empty() ? 0 : 5 + user.size()) +
                    (personal.empty() ? 0 : 5 + personal.size()));
  std::size_t at = 0;
  Put(plain, at, kIdentity, w.identity->seed().span());
  Put(plain, at, kDelivery, w.delivery->private_key.span());
  if (!user.empty()) Put(plain, at, kUserKey, user.span());
  if (!personal.empty()) Put(plain, at, kPersonalAuthority, personal.span());
  auto sealed = envelope::SealWithPassphrase(plain, passphrase, kWalletPurpose);
  if (!sealed) return std::unexpected(sealed.error());
  std::error_code ec;
  fs::create_directories(s.home, ec);
  return WriteFilePrivate(s.home / "wallet.sealed", *sealed);
}

Result<Wallet> LoadWallet(const Settings& s, const SecretBytes& passphrase) {
  auto blob = ReadFileBytes(s.home / "wallet.sealed");
  if (!blob) return Fail(ErrorCode::kInvalidArgument, "no wallet in " + s.home.string());
  auto plain = envelope::OpenWithPassphrase(*blob, passphrase, kWalletPurpose);
  if (!plain) {
    if (plain.error().code() == ErrorCode::kIntegrity)
      return Fail(ErrorCode::kWrongCredentials, "the wallet did not open: wrong passphrase or second factor");
    return std::unexpected(plain.error());
  }
  Wallet w;
  const auto p = plain->span();
  std::size_t at = 0;
  while (at < p.size()) {
    if (p.size() - at < 5) return Fail(ErrorCode::kInvalidEncoding, "wallet: truncated entry");
    const std::uint8_t tag = p[at];
    const std::size_t len = (std::size_t{p[at + 1]} << 24) | (std::size_t{p[at + 2]} << 16) |
                            (std::size_t{p[at + 3]} << 8) | std::size_t{p[at + 4]};
    at += 5;
    if (len > p.size() - at) return Fail(ErrorCode::kInvalidEncoding, "wallet: entry longer than the wallet");
    const SecretBytes field(p.subspan(at, len));
    at += len;
    if (tag == kIdentity) {
      auto k = envelope::Ed25519SigningKey::FromSeed(field);
      if (!k) return std::unexpected(k.error());
      w.identity.emplace(std::move(*k));
    } else if (tag == kDelivery) {
      auto k = DeliveryKey::FromPrivate(field);
      if (!k) return std::unexpected(k.error());
      w.delivery.emplace(std::move(*k));
    } else if (tag == kUserKey) {
      auto k = abe::maabe::ParseUserKey(field.span());
      if (!k) return std::unexpected(k.error());
      w.keys = std::move(*k);
    } else if (tag == kPersonalAuthority) {
      auto k = abe::maabe::ParseMasterKey(field.span());
      if (!k) return std::unexpected(k.error());
      w.personal_authority.emplace(std::move(*k));
    } else {
      return Fail(ErrorCode::kInvalidEncoding, "wallet: unknown entry " + std::to_string(tag));
    }
  }
  if (!w.identity || !w.delivery) return Fail(ErrorCode::kInvalidEncoding, "wallet: no identity key");
  return w;
}

Result<std::vector<abe::TrustedRoot>> LoadTrustedRoots(const Settings& s) {
  std::vector<abe::TrustedRoot> roots;
  if (s.trust_file.empty()) return roots;
  try {
    const toml::table t = toml::parse_file(s.trust_file);
    const auto* r = t["roots"].as_table();
    if (r == nullptr) return Fail(ErrorCode::kInvalidArgument, s.trust_file + ": no [roots] table");
    for (const auto& [k, v] : *r) {
      const auto* str = v.as_string();
      auto bytes = str ? FromHex(str->get()) : std::nullopt;
      if (!bytes || bytes->size() != 32)
        return Fail(ErrorCode::kInvalidArgument,
                    s.trust_file + ": roots." + std::string(k.str()) + ": not 64 hex digits");
      abe::TrustedRoot root;
      root.authority_namespace = std::string(k.str());
      std::copy(bytes->begin(), bytes->end(), root.signing_key.begin());
      roots.push_back(root);
    }
  } catch (const toml::parse_error& e) {
    return Fail(ErrorCode::kInvalidArgument, s.trust_file + ": " + std::string(e.description()));
  }
  return roots;
}

}  // namespace cipherchart::cli
