// cipherchart authority|admin: attribute authorities (issue keys to approved users) and the
// server admin (approves authority admins). docs/user-guide.md, "Authorities".
#include <filesystem>

#include "apps/cipherchart/flows_common.h"
#include "cipherchart/abe/authority_directory.h"
#include "cipherchart/abe/keystore.h"
#include "cipherchart/abe/maabe_serialize.h"
#include "cipherchart/abe/policy.h"

namespace cipherchart::app {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kAuthorityUsage =
    "usage: cipherchart authority <command> [options]\n"
    "\n"
    "  init --namespace NS --organisation ORG [--name NAME]\n"
    "                 make the authority's keys (sealed with the passphrase) and register its admin\n"
    "                 account; prints the root key that encryptors put in their trust file. In a\n"
    "                 home made by 'sub-authority --out', registers the admin of that sub-authority\n"
    "  publish        put the authority's signed key statement in the server's directory (after approval)\n"
    "  pending        list registrations waiting for this authority's decision\n"
    "  approve USER   approve a practitioner of this organisation\n"
    "  reject USER --reason TEXT\n"
    "  issue USER [--attr NAME[:VALUE]]...\n"
    "                 issue attribute keys to an approved user, encrypted to their delivery key and\n"
    "                 posted to their mailbox; without --attr they come from the registration:\n"
    "                 NS.staff, NS.role:ROLE, NS.department:DEPT, NS.licence:active (practice term)\n"
    "  sub-authority --namespace NS.SUB --out DIR\n"
    "                 create a sub-authority certified by this one, sealed into DIR (its admin\n"
    "                 then runs 'init --home DIR --namespace NS.SUB' and 'publish')\n"
    "  root-key       print this authority's trust anchor (namespace and Ed25519 key)\n"
    "\n"
    "common options: --home DIR (CIPHERCHART_HOME), --server HOST:PORT, --ca-file PEM,\n"
    "  --trust-file TOML, --passphrase-file FILE (or CIPHERCHART_PASSPHRASE), --json, --help\n"
    "exit codes: 0 ok, 1 failed, 2 usage, 3 refused by the server, 5 wrong passphrase\n";

constexpr const char* kAdminUsage =
    "usage: cipherchart admin <command> [options]\n"
    "\n"
    "  keygen          make a server admin's identity (prints the keys for 'server add-admin')\n"
    "  adopt USER_ID   record the user id 'server add-admin' printed\n"
    "  pending | approve USER | reject USER --reason TEXT\n"
    "                  decide authority admins' registrations\n"
    "\n"
    "common options as for 'cipherchart authority'.\n";

struct Ctx {
  Args a;
  cli::Settings s;
};

fs::path AuthorityDir(const cli::Settings& s) { return s.home / "authority"; }

// pending / approve / reject: the server decides which registrations this account may see.
int Registrations(Ctx& c, const std::string& verb) {
  auto l = LoadIdentity(c.s);
  if (!l) return DieWith(c.a, l.error());
  auto sess = LoginAs(c.s, *l);
  if (!sess) return DieWith(c.a, sess.error());
  if (verb == "pending") {
    auto r = sess->Get("/v1/registrations?state=pending");
    if (!r) return DieWith(c.a, r.error());
    if (!r->ok()) return DieWith(c.a, ApiError("registrations", *r));
    std::string human;
    for (const auto& reg : r->body["registrations"]) {
      const auto& d = reg.contains("details") ? reg["details"] : json::object();
      human += reg.value("user_id", "") + "  " + reg.value("role", "") + "  " + d.value("name", "") +
               "  licence " + d.value("licence", "-") + "  " + d.value("practice_start", "") + ".." +
               d.value("practice_end", "") + "\n";
    }
    if (human.empty()) human = "no pending registrations\n";
    Emit(c.a, human, r->body);
    return kOk;
  }
  if (c.a.positional.size() != 2) return Die(c.a, kUsage, verb + " needs a USER id");
  const std::string uid = c.a.positional[1];
  json body = json::object();
  if (verb == "reject") {
    if (c.a.Get("reason").empty()) return Die(c.a, kUsage, "reject needs --reason");
    body["reason"] = c.a.Get("reason");
  }
  auto r = sess->Json("POST", "/v1/registrations/" + uid + "/" + verb, body);
  if (!r) return DieWith(c.a, r.error());
  if (!r->ok()) return DieWith(c.a, ApiError(verb, *r));
  Emit(c.a, uid + ": " + (verb == "approve" ? "approved" : "rejected") + "\n",
       {{"user_id", uid}, {"state", verb == "approve" ? "approved" : "rejected"}});
  return kOk;
}

struct AuthorityKeys {
  abe::Authority authority;  // chain + signing key (FAME part unused by the multi-authority flows)
  abe::maabe::AuthorityKeyPair ma;
};

Result<AuthorityKeys> OpenAuthority(const cli::Settings& s) {
  auto pass = cli::WalletPassphrase(s, false);
  if (!pass) return std::unexpected(pass.error());
  auto auth = abe::OpenAuthorityFile(AuthorityDir(s) / "authority.sealed", *pass);
  if (!auth) return std::unexpected(auth.error());
  auto ma = abe::OpenMultiAuthorityMasterKeyFile(AuthorityDir(s) / "maabe.sealed", *pass);
  if (!ma) return std::unexpected(ma.error());
  return AuthorityKeys{std::move(*auth), std::move(*ma)};
}

int Init(Ctx& c) {
  const std::string ns = c.a.Get("namespace"), org = c.a.Get("organisation", c.a.Get("namespace"));
  if (ns.empty()) return Die(c.a, kUsage, "init needs --namespace");
  if (auto v = abe::ValidateNamespace(ns); !v) return DieWith(c.a, v.error());
  // A home that holds sealed authority keys but no identity yet is a sub-authority handed over
  // by its parent (`authority sub-authority --out`): init registers its admin and keeps those
  // keys, whose chain leads to the parent's root.
  const bool handed_over = fs::exists(AuthorityDir(c.s) / "authority.sealed");
  if (handed_over && cli::WalletExists(c.s))
    return Die(c.a, kFailed, "an authority already exists in " + c.s.home.string());
  auto pass = cli::WalletPassphrase(c.s, false, !handed_over);
  if (!pass) return DieWith(c.a, pass.error());
  const std::uint64_t now = cli::NowSeconds();
  std::optional<abe::Authority> auth;
  std::optional<abe::maabe::AuthorityKeyPair> ma;
  if (handed_over) {
    auto k = OpenAuthority(c.s);
    if (!k) return DieWith(c.a, k.error());
    if (k->authority.authority_namespace() != ns)
      return Die(c.a, kUsage,
                 c.s.home.string() + " holds the sub-authority " + k->authority.authority_namespace() +
                     ", not " + ns);
    auth.emplace(std::move(k->authority));
    ma.emplace(std::move(k->ma));
  } else {
    auto root = abe::Authority::CreateRoot(ns, now - 300, now + 5ULL * 365 * 86400);
    if (!root) return DieWith(c.a, root.error());
    auto setup = abe::maabe::AuthoritySetup(ns);
    if (!setup) return DieWith(c.a, setup.error());
    auth.emplace(std::move(*root));
    ma.emplace(std::move(*setup));
  }
  cli::Wallet w;
  auto acc = RegisterAccount(c.s, "authority-admin", org, {{"name", c.a.Get("name", "admin of " + org)}}, w);
  if (!acc) return DieWith(c.a, acc.error());
  std::error_code ec;
  fs::create_directories(AuthorityDir(c.s), ec);
  if (!handed_over) {
    if (auto r = abe::SealAuthorityToFile(AuthorityDir(c.s) / "authority.sealed", *auth, *pass); !r)
      return DieWith(c.a, r.error());
    if (auto r = abe::SealMultiAuthorityMasterKeyToFile(AuthorityDir(c.s) / "maabe.sealed", ma->msk, *pass);
        !r)
      return DieWith(c.a, r.error());
  }
  if (auto r = cli::SaveWallet(c.s, w, *pass); !r) return DieWith(c.a, r.error());
  if (auto r = cli::SaveAccount(c.s, *acc); !r) return DieWith(c.a, r.error());
  if (auto r = cli::SaveSettings(c.s); !r) return DieWith(c.a, r.error());
  // The trust anchor is the chain's root: the parent's for a sub-authority.
  const std::string root = ToHex(auth->chain().front().signing_key);
  Emit(c.a,
       "authority " + ns + " created; admin account " + acc->user_id +
           " is pending until a server admin approves it\n"
           "trust anchor (for encryptors' trust files): " +
           ns + " = \"" + root + "\"\n",
       {{"namespace", ns}, {"user_id", acc->user_id}, {"root_key", root}, {"organisation", org}});
  return kOk;
}

int RootKey(Ctx& c) {
  auto k = OpenAuthority(c.s);
  if (!k) return DieWith(c.a, k.error());
  const auto& root = k->authority.chain().front();
  const std::string hex = ToHex(root.signing_key);
  Emit(c.a, root.authority_namespace + " = \"" + hex + "\"\n",
       {{"namespace", root.authority_namespace}, {"root_key", hex}});
  return kOk;
}

int Publish(Ctx& c) {
  auto k = OpenAuthority(c.s);
  if (!k) return DieWith(c.a, k.error());
  auto l = LoadIdentity(c.s);
  if (!l) return DieWith(c.a, l.error());
  const std::uint64_t now = cli::NowSeconds();
  auto st = abe::SignKeyStatement(k->ma.pk, k->authority.signing_key(), now - 300, now + 365ULL * 86400);
  if (!st) return DieWith(c.a, st.error());
  std::vector<abe::DirectoryEntry> entries = {{k->authority.chain(), *st}};
  auto bytes = abe::EncodeDirectory(entries);
  if (!bytes) return DieWith(c.a, bytes.error());
  auto sess = LoginAs(c.s, *l);
  if (!sess) return DieWith(c.a, sess.error());
  const std::string ns = k->ma.pk.authority_namespace;
  auto r = sess->PutBytes("PUT", "/v1/directory/" + ns, *bytes);
  if (!r) return DieWith(c.a, r.error());
  if (!r->ok()) return DieWith(c.a, ApiError("publish", *r));
  Emit(c.a, "published the key statement of " + ns + " to the server's directory\n", {{"namespace", ns}});
  return kOk;
}

// NS.licence:active when today lies in the practice term (ISO dates compare as text).
std::set<std::string> AttributesFromRegistration(const std::string& ns, const json& reg) {
  std::set<std::string> out;
  const json d = reg.contains("details") ? reg["details"] : json::object();
  out.insert(ns + ".staff");
  if (d.contains("role") && d["role"].is_string()) out.insert(ns + ".role:" + d["role"].get<std::string>());
  if (d.contains("department") && d["department"].is_string())
    out.insert(ns + ".department:" + d["department"].get<std::string>());
  const std::string today = cli::UtcText(static_cast<std::int64_t>(cli::NowSeconds()), "%Y-%m-%d");
  if (d.value("practice_start", "9999") <= today && today <= d.value("practice_end", ""))
    out.insert(ns + ".licence:active");
  return out;
}

int Issue(Ctx& c) {
  if (c.a.positional.size() != 2) return Die(c.a, kUsage, "issue needs a USER id");
  const std::string uid = c.a.positional[1];
  auto k = OpenAuthority(c.s);
  if (!k) return DieWith(c.a, k.error());
  auto l = LoadIdentity(c.s);
  if (!l) return DieWith(c.a, l.error());
  auto sess = LoginAs(c.s, *l);
  if (!sess) return DieWith(c.a, sess.error());
  auto acc = cli::LookUpAccount(*sess, uid);
  if (!acc) return DieWith(c.a, acc.error());
  if (acc->state != "approved")
    return Die(c.a, kRefused, uid + " is not approved (" + acc->state + "): no keys");
  const std::string ns = k->ma.pk.authority_namespace;
  std::set<std::string> attrs;
  for (const auto& raw : c.a.All("attr")) {
    std::string full = raw;
    if (!raw.starts_with(ns + ".")) full = std::string(ns).append(".").append(raw);
    auto canon = abe::CanonicalAttribute(full);
    if (!canon) return DieWith(c.a, canon.error());
    attrs.insert(*canon);
  }
  if (attrs.empty()) {
    auto r = sess->Get("/v1/registrations?state=approved");
    if (!r) return DieWith(c.a, r.error());
    if (!r->ok()) return DieWith(c.a, ApiError("registrations", *r));
    for (const auto& reg : r->body["registrations"])
      if (reg.value("user_id", "") == uid) attrs = AttributesFromRegistration(ns, reg);
    if (attrs.empty())
      return Die(c.a, kRefused,
                 uid + " is not a registration this authority approved: give the attributes with --attr");
  }
  auto keys = abe::maabe::KeyGen(k->ma, uid, attrs);
  if (!keys) return DieWith(c.a, keys.error());
  // Signed by the authority's certified key, which recipients check against the directory.
  auto package_id = SendAttributeKeys(*sess, *acc, *keys, k->authority.signing_key());
  if (!package_id) return DieWith(c.a, package_id.error());
  std::string list;
  for (const auto& at : attrs) list += (list.empty() ? "" : ", ") + at;
  Emit(c.a, "issued to " + uid + ": " + list + "\n",
       {{"user_id", uid}, {"attributes", attrs}, {"package_id", *package_id}});
  return kOk;
}

int SubAuthority(Ctx& c) {
  const std::string ns = c.a.Get("namespace"), out = c.a.Get("out");
  if (ns.empty() || out.empty()) return Die(c.a, kUsage, "sub-authority needs --namespace and --out");
  auto k = OpenAuthority(c.s);
  if (!k) return DieWith(c.a, k.error());
  const std::uint64_t now = cli::NowSeconds();
  auto sub = k->authority.CreateSubAuthority(ns, now - 300, now + 2ULL * 365 * 86400);
  if (!sub) return DieWith(c.a, sub.error());
  auto ma = abe::maabe::AuthoritySetup(ns);
  if (!ma) return DieWith(c.a, ma.error());
  auto pass = cli::WalletPassphrase(c.s, false);
  if (!pass) return DieWith(c.a, pass.error());
  const fs::path dir = fs::path(out) / "authority";
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (auto r = abe::SealAuthorityToFile(dir / "authority.sealed", *sub, *pass); !r)
    return DieWith(c.a, r.error());
  if (auto r = abe::SealMultiAuthorityMasterKeyToFile(dir / "maabe.sealed", ma->msk, *pass); !r)
    return DieWith(c.a, r.error());
  Emit(c.a,
       "sub-authority " + ns + " certified by " + k->authority.authority_namespace() + ", sealed in " +
           dir.string() + " (same passphrase); its admin runs 'authority init --home " + out +
           " --namespace " + ns + "', is approved by a server admin, then runs 'authority publish'\n",
       {{"namespace", ns}, {"dir", dir.string()}});
  return kOk;
}

int AdminKeygen(Ctx& c) {
  auto pass = cli::WalletPassphrase(c.s, false, true);
  if (!pass) return DieWith(c.a, pass.error());
  cli::Wallet w;
  if (auto k = NewIdentity(w); !k) return DieWith(c.a, k.error());
  if (auto r = cli::SaveWallet(c.s, w, *pass); !r) return DieWith(c.a, r.error());
  if (auto r = cli::SaveSettings(c.s); !r) return DieWith(c.a, r.error());
  const std::string ik = ToHex(w.id().public_key()), dkh = ToHex(w.dk().public_key);
  Emit(c.a, "cipherchart server add-admin --identity-key " + ik + " --delivery-key " + dkh + "\n",
       {{"identity_key", ik}, {"delivery_key", dkh}});
  return kOk;
}

int AdminAdopt(Ctx& c) {
  if (c.a.positional.size() != 2) return Die(c.a, kUsage, "adopt needs the USER id");
  cli::Account acc{c.a.positional[1], "server-admin", "", ""};
  if (auto r = cli::SaveAccount(c.s, acc); !r) return DieWith(c.a, r.error());
  Emit(c.a, "this home is server admin " + acc.user_id + "\n", {{"user_id", acc.user_id}});
  return kOk;
}

}  // namespace

int AuthorityCommand(int argc, char** argv) {
  return RunRole("authority", kAuthorityUsage, argc, argv,
                 {"namespace", "organisation", "name", "reason", "attr", "out"}, {},
                 [](Args& a, const cli::Settings& s, const std::string& verb) {
                   Ctx c{a, s};
                   if (verb == "init") return Init(c);
                   if (verb == "publish") return Publish(c);
                   if (verb == "pending" || verb == "approve" || verb == "reject")
                     return Registrations(c, verb);
                   if (verb == "issue") return Issue(c);
                   if (verb == "sub-authority") return SubAuthority(c);
                   if (verb == "root-key") return RootKey(c);
                   return Die(a, kUsage, "unknown command '" + verb + "' (see --help)");
                 });
}

int AdminCommand(int argc, char** argv) {
  return RunRole("admin", kAdminUsage, argc, argv, {"reason"}, {},
                 [](Args& a, const cli::Settings& s, const std::string& verb) {
                   Ctx c{a, s};
                   if (verb == "keygen") return AdminKeygen(c);
                   if (verb == "adopt") return AdminAdopt(c);
                   if (verb == "pending" || verb == "approve" || verb == "reject")
                     return Registrations(c, verb);
                   return Die(a, kUsage, "unknown command '" + verb + "' (see --help)");
                 });
}

}  // namespace cipherchart::app
