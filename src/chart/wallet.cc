#include "cipherchart/chart/wallet.h"

#include <toml++/toml.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <nlohmann/json.hpp>

#include "cipherchart/abe/maabe_serialize.h"
#include "cipherchart/common/atomic_file.h"
#include "cipherchart/common/bytes.h"
#include "cipherchart/common/hex.h"
#include "cipherchart/envelope/passphrase_seal.h"
#include "cipherchart/fhir/fhir.h"
#include "cipherchart/protocol/labels.h"

namespace cipherchart::chart {
namespace {

namespace fs = std::filesystem;
using protocol::label::kWalletPurpose;
constexpr std::size_t kMaxFile = 64u << 20;

enum Tag : std::uint8_t { kIdentity = 1, kDelivery = 2, kUserKey = 3, kPersonalAuthority = 4 };

void Put(SecretBytes& out, std::size_t& at, Tag tag, std::span<const std::uint8_t> bytes) {
  out.data()[at++] = tag;
  for (int s = 24; s >= 0; s -= 8) out.data()[at++] = static_cast<std::uint8_t>(bytes.size() >> s);
  std::copy(bytes.begin(), bytes.end(), out.data() + at);
  at += bytes.size();
}

}  // namespace

const envelope::Ed25519SigningKey& Wallet::id() const {
  if (!identity) std::abort();
  return *identity;
}

const DeliveryKey& Wallet::dk() const {
  if (!delivery) std::abort();
  return *delivery;
}

Result<Wallet> NewWallet() {
  auto id = envelope::Ed25519SigningKey::Generate();
  if (!id) return std::unexpected(id.error());
  auto dk = DeliveryKey::Generate();
  if (!dk) return std::unexpected(dk.error());
  Wallet w;
  w.identity.emplace(std::move(*id));
  w.delivery.emplace(std::move(*dk));
  return w;
}

Result<std::vector<std::uint8_t>> SealWallet(const Wallet& w, const SecretBytes& passphrase) {
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
  return envelope::SealWithPassphrase(plain, passphrase, kWalletPurpose);
}

Result<Wallet> OpenWallet(std::span<const std::uint8_t> sealed, const SecretBytes& passphrase) {
  auto plain = envelope::OpenWithPassphrase(sealed, passphrase, kWalletPurpose);
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

Result<Identity> RegisterAccount(ServerPort& server, const std::string& role, const std::string& organisation,
                                 const std::string& details_json) {
  auto w = NewWallet();
  if (!w) return std::unexpected(w.error());
  NewAccount a{role, w->id().public_key(), w->dk().public_key, organisation, details_json};
  auto uid = server.Register(a);
  if (!uid) return std::unexpected(uid.error());
  return Identity{Account{*uid, role, organisation, ""}, std::move(*w)};
}

Result<Account> Home::LoadAccount() const {
  auto bytes = ReadFileBytes(dir_ / "account.json");
  if (!bytes)
    return Fail(ErrorCode::kInvalidArgument,
                "no account in " + dir_.string() + " (run the role's 'register' or 'init' first)");
  const auto j = nlohmann::json::parse(bytes->begin(), bytes->end(), nullptr, false);
  if (!j.is_object() || !j.contains("user_id") || !j["user_id"].is_string())
    return Fail(ErrorCode::kInvalidEncoding, (dir_ / "account.json").string() + ": not an account file");
  auto str = [&](const char* k) {
    const auto it = j.find(k);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  return Account{str("user_id"), str("role"), str("organisation"), str("patient_id")};
}

Result<void> Home::SaveAccount(const Account& a) const {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  const std::string text = nlohmann::json{
      {"user_id", a.user_id},
      {"role", a.role},
      {"organisation", a.organisation},
      {"patient_id",
       a.patient_id}}.dump(2);
  return WriteFilePrivate(dir_ / "account.json", AsBytes(text));
}

bool Home::HasWallet() const { return fs::exists(dir_ / "wallet.sealed"); }

Result<Wallet> Home::LoadWallet(const SecretBytes& passphrase) const {
  auto blob = ReadFileBytes(dir_ / "wallet.sealed");
  if (!blob) return Fail(ErrorCode::kInvalidArgument, "no wallet in " + dir_.string());
  return OpenWallet(*blob, passphrase);
}

Result<void> Home::SaveWallet(const Wallet& w, const SecretBytes& passphrase) const {
  auto sealed = SealWallet(w, passphrase);
  if (!sealed) return std::unexpected(sealed.error());
  std::error_code ec;
  fs::create_directories(dir_, ec);
  return WriteFilePrivate(dir_ / "wallet.sealed", *sealed);
}

Result<void> CreateDeviceKey(const fs::path& path) {
  if (fs::exists(path)) return {};
  std::error_code ec;
  fs::create_directories(fs::absolute(path).parent_path(), ec);
  auto k = SecretBytes::Random(32);
  if (!k) return std::unexpected(k.error());
  return WriteFilePrivate(path, k->span());
}

Result<std::vector<abe::TrustedRoot>> LoadTrustedRoots(const std::string& trust_file) {
  std::vector<abe::TrustedRoot> roots;
  if (trust_file.empty()) return roots;
  try {
    const toml::table t = toml::parse_file(trust_file);
    const auto* r = t["roots"].as_table();
    if (r == nullptr) return Fail(ErrorCode::kInvalidArgument, trust_file + ": no [roots] table");
    for (const auto& [k, v] : *r) {
      const auto* str = v.as_string();
      auto bytes = str ? FixedFromHex<32>(str->get()) : std::nullopt;
      if (!bytes)
        return Fail(ErrorCode::kInvalidArgument,
                    trust_file + ": roots." + std::string(k.str()) + ": not 64 hex digits");
      roots.push_back({std::string(k.str()), *bytes});
    }
  } catch (const toml::parse_error& e) {
    return Fail(ErrorCode::kInvalidArgument, trust_file + ": " + std::string(e.description()));
  }
  return roots;
}

Result<std::vector<std::uint8_t>> ReadFileBytes(const fs::path& p) { return ReadSmallFile(p, kMaxFile); }

Result<void> WriteFilePrivate(const fs::path& p, std::span<const std::uint8_t> bytes) {
  return WriteFileAtomically(p, bytes);
}

Result<nlohmann::json> ReadJsonFile(const fs::path& p) {
  auto bytes = ReadFileBytes(p);
  if (!bytes) return std::unexpected(bytes.error());
  auto j = fhir::ParseJson(AsText(*bytes));
  if (!j) return Fail(j.error().code(), p.string() + ": " + j.error().message());
  return j;
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

}  // namespace cipherchart::chart
