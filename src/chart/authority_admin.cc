#include "cipherchart/chart/authority_admin.h"

#include <nlohmann/json.hpp>

#include "cipherchart/abe/authority_directory.h"
#include "cipherchart/abe/keystore.h"
#include "cipherchart/abe/policy.h"
#include "cipherchart/chart/enrolment.h"
#include "cipherchart/chart/keys.h"

namespace cipherchart::chart {
namespace {

std::filesystem::path FamePath(const Home& h) { return h.AuthorityDir() / "authority.sealed"; }
std::filesystem::path MaPath(const Home& h) { return h.AuthorityDir() / "maabe.sealed"; }

}  // namespace

Result<AuthorityKeys> CreateAuthorityKeys(const std::string& ns, std::uint64_t now) {
  if (auto v = abe::ValidateNamespace(ns); !v) return std::unexpected(v.error());
  auto root = abe::Authority::CreateRoot(ns, now - kClockSkewSeconds, now + kRootAuthorityValiditySeconds);
  if (!root) return std::unexpected(root.error());
  auto setup = abe::maabe::AuthoritySetup(ns);
  if (!setup) return std::unexpected(setup.error());
  return AuthorityKeys{std::move(*root), std::move(*setup)};
}

bool HasAuthorityKeys(const Home& home) { return std::filesystem::exists(FamePath(home)); }

Result<AuthorityKeys> OpenAuthorityKeys(const Home& home, const SecretBytes& passphrase) {
  auto auth = abe::OpenAuthorityFile(FamePath(home), passphrase);
  if (!auth) return std::unexpected(auth.error());
  auto ma = abe::OpenMultiAuthorityMasterKeyFile(MaPath(home), passphrase);
  if (!ma) return std::unexpected(ma.error());
  return AuthorityKeys{std::move(*auth), std::move(*ma)};
}

Result<void> SealAuthorityKeys(const Home& home, const AuthorityKeys& keys, const SecretBytes& passphrase) {
  std::error_code ec;
  std::filesystem::create_directories(home.AuthorityDir(), ec);
  if (auto r = abe::SealAuthorityToFile(FamePath(home), keys.authority, passphrase); !r) return r;
  return abe::SealMultiAuthorityMasterKeyToFile(MaPath(home), keys.ma.msk, passphrase);
}

Result<void> PublishAuthority(ServerPort& server, const AuthorityKeys& keys, std::uint64_t now) {
  auto st = abe::SignKeyStatement(keys.ma.pk, keys.authority.signing_key(), now - kClockSkewSeconds,
                                  now + kKeyStatementValiditySeconds);
  if (!st) return std::unexpected(st.error());
  std::vector<abe::DirectoryEntry> entries = {{keys.authority.chain(), *st}};
  auto bytes = abe::EncodeDirectory(entries);
  if (!bytes) return std::unexpected(bytes.error());
  return server.PublishDirectoryEntry(keys.ma.pk.authority_namespace, *bytes);
}

std::set<std::string> AttributesFromRegistration(const std::string& ns, const std::string& details_json,
                                                 const std::string& today) {
  std::set<std::string> out;
  nlohmann::json d = nlohmann::json::parse(details_json, nullptr, false);
  if (!d.is_object()) d = nlohmann::json::object();
  auto str = [&](const char* k) {
    const auto it = d.find(k);
    return it != d.end() && it->is_string() ? std::optional<std::string>(it->get<std::string>())
                                            : std::nullopt;
  };
  out.insert(ns + ".staff");
  if (auto role = str("role")) out.insert(ns + ".role:" + *role);
  if (auto dept = str("department")) out.insert(ns + ".department:" + *dept);
  // ISO dates compare as text; a missing start never starts, a missing end never ends the term.
  if (str("practice_start").value_or("9999") <= today && today <= str("practice_end").value_or(""))
    out.insert(ns + ".licence:active");
  return out;
}

Result<Issued> IssueKeys(ServerPort& server, const AuthorityKeys& keys, const std::string& uid,
                         const std::vector<std::string>& attributes, std::uint64_t now) {
  auto acc = server.Account(uid);
  if (!acc) return std::unexpected(acc.error());
  if (acc->state != "approved")
    return Fail(ErrorCode::kPermissionDenied, uid + " is not approved (" + acc->state + "): no keys");
  const std::string ns = keys.ma.pk.authority_namespace;
  const std::string prefix = ns + ".";
  Issued out;
  for (const auto& raw : attributes) {
    const std::string full = raw.starts_with(prefix) ? raw : prefix + raw;
    auto canon = abe::CanonicalAttribute(full);
    if (!canon) return std::unexpected(canon.error());
    out.attributes.insert(*canon);
  }
  if (out.attributes.empty()) {
    auto regs = server.Registrations("approved");
    if (!regs) return std::unexpected(regs.error());
    for (const auto& reg : *regs)
      if (reg.user_id == uid)
        out.attributes = AttributesFromRegistration(ns, reg.details_json,
                                                    UtcText(static_cast<std::int64_t>(now), "%Y-%m-%d"));
    if (out.attributes.empty())
      return Fail(ErrorCode::kPermissionDenied,
                  uid + " is not a registration this authority approved: give the attributes with --attr");
  }
  auto issued = abe::maabe::KeyGen(keys.ma, uid, out.attributes);
  if (!issued) return std::unexpected(issued.error());
  // Signed by the authority's certified key, which recipients check against the directory.
  auto package_id = SendAttributeKeys(server, *acc, *issued, keys.authority.signing_key());
  if (!package_id) return std::unexpected(package_id.error());
  out.package_id = *package_id;
  return out;
}

Result<void> CreateSubAuthority(const AuthorityKeys& parent, const std::string& ns, const Home& out_home,
                                const SecretBytes& passphrase, std::uint64_t now) {
  auto sub =
      parent.authority.CreateSubAuthority(ns, now - kClockSkewSeconds, now + kSubAuthorityValiditySeconds);
  if (!sub) return std::unexpected(sub.error());
  auto ma = abe::maabe::AuthoritySetup(ns);
  if (!ma) return std::unexpected(ma.error());
  return SealAuthorityKeys(out_home, AuthorityKeys{std::move(*sub), std::move(*ma)}, passphrase);
}

}  // namespace cipherchart::chart
