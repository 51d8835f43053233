#include "cipherchart/chart/keys.h"

#include "cipherchart/abe/maabe_serialize.h"
#include "cipherchart/chart/directory.h"
#include "cipherchart/chart/key_package.h"
#include "cipherchart/chart/records.h"
#include "cipherchart/common/bytes.h"

namespace cipherchart::chart {

Result<InstalledKeys> InstallKeys(ServerPort& server, Identity& identity,
                                  const std::vector<abe::TrustedRoot>& roots, bool personal_domain) {
  InstalledKeys out;
  auto dir = LoadDirectory(server, roots, "", out.warnings);
  if (!dir) return std::unexpected(dir.error());
  auto list = server.Packages();
  if (!list) return std::unexpected(list.error());
  const std::string& uid = identity.account.user_id;
  for (const auto& p : *list) {
    auto body = server.Package(p.package_id);
    if (!body) continue;
    if (!AsText(*body).starts_with("CCKP")) continue;  // personal views: sharing.h
    auto opened = OpenKeyPackage(*body, identity.wallet.dk());
    if (!opened) {
      out.warnings.push_back("package " + p.package_id + ": " + opened.error().message());
      continue;
    }
    if (opened->kind != PackageKind::kAttributeKeys) continue;
    auto keys = abe::maabe::ParseAuthorityKeys(opened->payload.span());
    if (!keys) {
      out.warnings.push_back("package " + p.package_id + ": " + keys.error().message());
      continue;
    }
    // The sender must be the authority the keys are for: its directory entry's signing key, or
    // for a patient's personal domain, the patient account that sent them.
    bool trusted = false;
    const auto& entries = dir->entries();
    if (auto it = entries.find(keys->authority_namespace); it != entries.end()) {
      trusted = it->second.signing_key == opened->sender;
      if (trusted) {
        if (auto v = abe::maabe::VerifyKeys(it->second.public_key, *keys); !v) {
          out.warnings.push_back("package " + p.package_id + ": keys do not verify: " + v.error().message());
          continue;
        }
      }
    } else if (personal_domain && keys->authority_namespace.starts_with("patient_")) {
      auto sender = server.Account(p.sender_id);
      trusted = sender && sender->role == "patient" && sender->identity_key == opened->sender;
    }
    if (!trusted) {
      out.warnings.push_back("package " + p.package_id + ": keys for " + keys->authority_namespace +
                             " not signed by that authority's verified key; ignored");
      continue;
    }
    if (keys->gid != uid) {
      out.warnings.push_back("package " + p.package_id + ": keys for another identity; ignored");
      continue;
    }
    identity.wallet.keys.gid = uid;
    identity.wallet.keys.by_authority.erase(keys->authority_namespace);  // a newer issue replaces
    if (auto r = abe::maabe::AddKeys(identity.wallet.keys, *keys); !r) return std::unexpected(r.error());
    for (const auto& [attr, v] : keys->attributes) out.attributes.push_back(attr);
  }
  return out;
}

Result<std::string> SendAttributeKeys(ServerPort& server, const AccountInfo& recipient,
                                      const abe::maabe::AuthorityKeys& keys,
                                      const envelope::Ed25519SigningKey& signer) {
  auto payload = abe::maabe::Serialize(keys);
  if (!payload) return std::unexpected(payload.error());
  auto pkg = SealKeyPackage(PackageKind::kAttributeKeys, *payload, recipient.delivery_key, signer);
  if (!pkg) return std::unexpected(pkg.error());
  return server.PostPackage(recipient.user_id, *pkg);
}

}  // namespace cipherchart::chart
