// cipherchart authority | admin: attribute authorities and the server admin (docs/user-guide.md).
#include "apps/cipherchart/common.h"
#include "cipherchart/chart/authority_admin.h"
#include "cipherchart/common/hex.h"

namespace cipherchart::app {
namespace {

using chart::NowSeconds;
using nlohmann::json;

struct Args {
  std::string ns, organisation, name, reason, user, out;
  std::vector<std::string> attrs;
} a;

// pending / approve / reject, for authority admins (their practitioners) and server admins
// (authority admins): the server decides what each may see and decide.
void AddRegistrationVerbs(CLI::App* role, Common& c) {
  Verb(*role, c, "pending", "list registrations waiting for a decision", [](auto& s, auto& out) {
    auto in = cli::SignIn(s);
    if (!in) return out.Die(in.error());
    auto regs = in->server->Registrations("pending");
    if (!regs) return out.Die(regs.error());
    std::string human;
    json list = json::array();
    for (const auto& r : *regs) {
      const json d = json::parse(r.details_json, nullptr, false);
      auto get = [&](const char* k, const char* dflt) { return d.is_object() ? d.value(k, dflt) : dflt; };
      human += r.user_id + "  " + r.role + "  " + get("name", "") + "  licence " + get("licence", "-") +
               "  " + get("practice_start", "") + ".." + get("practice_end", "") + "\n";
      list.push_back(AccountJson(r));
    }
    out.Emit(human.empty() ? "no pending registrations\n" : human, {{"registrations", list}});
    return int{cli::kOk};
  });
  for (const bool approve : {true, false}) {
    auto* v = Verb(*role, c, approve ? "approve" : "reject",
                   approve ? "approve a registration" : "reject one", [approve](auto& s, auto& out) {
                     auto in = cli::SignIn(s);
                     if (!in) return out.Die(in.error());
                     if (auto r = in->server->Decide(a.user, approve, a.reason); !r)
                       return out.Die(r.error());
                     const char* state = approve ? "approved" : "rejected";
                     out.Emit(a.user + ": " + state + "\n", {{"user_id", a.user}, {"state", state}});
                     return int{cli::kOk};
                   });
    v->add_option("USER", a.user, "the user id")->required();
    if (!approve) v->add_option("--reason", a.reason, "why (shown to the applicant)")->required();
  }
}

}  // namespace

void AddAuthority(CLI::App& app, Common& c) {
  CLI::App* role =
      app.add_subcommand("authority", "an attribute authority: init, publish, approve, issue keys");
  role->require_subcommand(1);
  auto* init = Verb(
      *role, c, "init",
      "make the authority's keys (or adopt a handed-over sub-authority) and register its admin",
      [](auto& s, auto& out) {
        const chart::Home home(s.home);
        // A home with sealed authority keys but no identity is a sub-authority handed over by its
        // parent (`sub-authority --out`): init registers its admin and keeps those keys.
        const bool handed_over = chart::HasAuthorityKeys(home);
        if (handed_over && home.HasWallet())
          return out.Die(cli::kFailed, "an authority already exists in " + s.home.string());
        auto pass = cli::WalletPassphrase(s, false, !handed_over);
        if (!pass) return out.Die(pass.error());
        auto keys = handed_over ? chart::OpenAuthorityKeys(home, *pass)
                                : chart::CreateAuthorityKeys(a.ns, NowSeconds());
        if (!keys) return out.Die(keys.error());
        if (keys->authority.authority_namespace() != a.ns)
          return out.Die(cli::kUsage, s.home.string() + " holds the sub-authority " +
                                          keys->authority.authority_namespace() + ", not " + a.ns);
        const std::string org = a.organisation.empty() ? a.ns : a.organisation;
        auto server = chart::ConnectHttp(cli::AddressOf(s));
        if (!server) return out.Die(server.error());
        auto id = chart::RegisterAccount(**server, "authority-admin", org,
                                         json{{"name", a.name.empty() ? "admin of " + org : a.name}}.dump());
        if (!id) return out.Die(id.error());
        if (!handed_over)
          if (auto r = chart::SealAuthorityKeys(home, *keys, *pass); !r) return out.Die(r.error());
        if (auto r = cli::SaveIdentity(s, *id, *pass); !r) return out.Die(r.error());
        const std::string root =
            ToHex(keys->authority.chain().front().signing_key);  // the parent's for a sub-authority
        out.Emit(
            "authority " + a.ns + " created; admin account " + id->account.user_id +
                " is pending until a server admin approves it\ntrust anchor (for encryptors' trust files): " +
                a.ns + " = \"" + root + "\"\n",
            {{"namespace", a.ns},
             {"user_id", id->account.user_id},
             {"root_key", root},
             {"organisation", org}});
        return int{cli::kOk};
      });
  init->add_option("--namespace", a.ns, "the authority's namespace, e.g. hospital_a")->required();
  init->add_option("--organisation", a.organisation,
                   "the organisation it approves practitioners for (default: NS)");
  init->add_option("--name", a.name, "the admin's name");
  Verb(*role, c, "publish", "put the authority's signed key statement in the server's directory",
       [](auto& s, auto& out) {
         auto in = cli::SignIn(s);
         if (!in) return out.Die(in.error());
         auto keys = chart::OpenAuthorityKeys(chart::Home(s.home), in->passphrase);
         if (!keys) return out.Die(keys.error());
         if (auto r = chart::PublishAuthority(*in->server, *keys, NowSeconds()); !r)
           return out.Die(r.error());
         const std::string ns = keys->ma.pk.authority_namespace;
         out.Emit("published the key statement of " + ns + " to the server's directory\n",
                  {{"namespace", ns}});
         return int{cli::kOk};
       });
  AddRegistrationVerbs(role, c);
  auto* issue = Verb(
      *role, c, "issue", "issue attribute keys to an approved user (default: from the registration)",
      [](auto& s, auto& out) {
        auto in = cli::SignIn(s);
        if (!in) return out.Die(in.error());
        auto keys = chart::OpenAuthorityKeys(chart::Home(s.home), in->passphrase);
        if (!keys) return out.Die(keys.error());
        auto issued = chart::IssueKeys(*in->server, *keys, a.user, a.attrs, NowSeconds());
        if (!issued) return out.Die(issued.error());
        std::string list;
        for (const auto& at : issued->attributes) list += (list.empty() ? "" : ", ") + at;
        out.Emit(
            "issued to " + a.user + ": " + list + "\n",
            {{"user_id", a.user}, {"attributes", issued->attributes}, {"package_id", issued->package_id}});
        return int{cli::kOk};
      });
  issue->add_option("USER", a.user, "the user id")->required();
  issue->add_option("--attr", a.attrs, "NAME[:VALUE], repeatable (NS.staff, NS.role:ROLE, ... by default)")
      ->allow_extra_args(false);
  auto* sub = Verb(*role, c, "sub-authority", "certify a sub-authority NS.SUB, sealed into DIR for its admin",
                   [](auto& s, auto& out) {
                     auto pass = cli::WalletPassphrase(s, false);
                     if (!pass) return out.Die(pass.error());
                     auto keys = chart::OpenAuthorityKeys(chart::Home(s.home), *pass);
                     if (!keys) return out.Die(keys.error());
                     const chart::Home target(a.out);
                     if (auto r = chart::CreateSubAuthority(*keys, a.ns, target, *pass, NowSeconds()); !r)
                       return out.Die(r.error());
                     const std::string dir = target.AuthorityDir().string();
                     out.Emit("sub-authority " + a.ns + " certified by " +
                                  keys->authority.authority_namespace() + ", sealed in " + dir +
                                  " (same passphrase); its admin runs 'authority init --home " + a.out +
                                  " --namespace " + a.ns +
                                  "', is approved by a server admin, then runs 'authority publish'\n",
                              {{"namespace", a.ns}, {"dir", dir}});
                     return int{cli::kOk};
                   });
  sub->add_option("--namespace", a.ns, "NS.SUB")->required();
  sub->add_option("--out", a.out, "the sub-authority admin's home")->required();
  Verb(*role, c, "root-key", "print this authority's trust anchor", [](auto& s, auto& out) {
    auto pass = cli::WalletPassphrase(s, false);
    if (!pass) return out.Die(pass.error());
    auto keys = chart::OpenAuthorityKeys(chart::Home(s.home), *pass);
    if (!keys) return out.Die(keys.error());
    const auto& root = keys->authority.chain().front();
    const std::string hex = ToHex(root.signing_key);
    out.Emit(root.authority_namespace + " = \"" + hex + "\"\n",
             {{"namespace", root.authority_namespace}, {"root_key", hex}});
    return int{cli::kOk};
  });
}

void AddAdmin(CLI::App& app, Common& c) {
  CLI::App* role = app.add_subcommand("admin", "the server admin: approve authority admins");
  role->require_subcommand(1);
  Verb(*role, c, "keygen", "make a server admin's identity (prints the keys for 'server add-admin')",
       [](auto& s, auto& out) {
         auto pass = cli::WalletPassphrase(s, false, true);
         if (!pass) return out.Die(pass.error());
         auto w = chart::NewWallet();
         if (!w) return out.Die(w.error());
         if (auto r = chart::Home(s.home).SaveWallet(*w, *pass); !r) return out.Die(r.error());
         if (auto r = cli::SaveSettings(s); !r) return out.Die(r.error());
         const std::string ik = ToHex(w->id().public_key()), dk = ToHex(w->dk().public_key);
         out.Emit("cipherchart server add-admin --identity-key " + ik + " --delivery-key " + dk + "\n",
                  {{"identity_key", ik}, {"delivery_key", dk}});
         return int{cli::kOk};
       });
  auto* adopt =
      Verb(*role, c, "adopt", "record the user id 'server add-admin' printed", [](auto& s, auto& out) {
        if (auto r = chart::Home(s.home).SaveAccount({a.user, "server-admin", "", ""}); !r)
          return out.Die(r.error());
        out.Emit("this home is server admin " + a.user + "\n", {{"user_id", a.user}});
        return int{cli::kOk};
      });
  adopt->add_option("USER", a.user, "the user id")->required();
  AddRegistrationVerbs(role, c);
}

}  // namespace cipherchart::app
