// cipherchart patient | personal: the patient (enrol with the one-time code, view everything
// with passphrase + device key, share a personal view, check the access log) and family and
// friends (read what a patient shares). docs/user-guide.md.
#include <cstdlib>

#include "apps/cipherchart/common.h"
#include "cipherchart/chart/audit_log.h"
#include "cipherchart/chart/enrolment.h"
#include "cipherchart/chart/sharing.h"
#include "cipherchart/common/bytes.h"
#include "cipherchart/fhir/fhir.h"
#include "cipherchart/protocol/ids.h"

namespace cipherchart::app {
namespace {

using nlohmann::json;

struct Args {
  std::string pid, code, code_file, user, sections, id, out, name;
  std::vector<std::string> sections_list;
  bool include_research = false, outsourced = false;
} a;

// The one-time code from --code-file, --code (visible in `ps` and shell history) or
// CIPHERCHART_ENROLMENT_CODE, read as typed (protocol::NormaliseEnrolmentCode).
Result<SecretBytes> EnrolmentCode() {
  std::string raw;
  if (!a.code_file.empty()) {
    auto bytes = chart::ReadFileBytes(a.code_file);
    if (!bytes) return std::unexpected(bytes.error());
    raw.assign(bytes->begin(), bytes->end());
    std::fill(bytes->begin(), bytes->end(), 0);
  } else if (!a.code.empty()) {
    raw = a.code;
  } else if (const char* env = std::getenv("CIPHERCHART_ENROLMENT_CODE"); env != nullptr) {
    raw = env;
  }
  std::string code = protocol::NormaliseEnrolmentCode(raw);
  std::fill(raw.begin(), raw.end(), '\0');
  if (code.empty())
    return Fail(ErrorCode::kInvalidArgument,
                "enrol needs the one-time code: --code-file FILE, CIPHERCHART_ENROLMENT_CODE or --code CODE");
  SecretBytes out(AsBytes(code));
  std::fill(code.begin(), code.end(), '\0');
  return out;
}

int Enrol(const cli::Settings& s, const cli::Output& out) {
  auto code = EnrolmentCode();
  if (!code) return out.Die(cli::kUsage, code.error().message());
  if (chart::Home(s.home).HasWallet())
    return out.Die(cli::kFailed, s.home.string() + " already holds an identity");
  if (auto r = chart::CreateDeviceKey(s.device_key); !r) return out.Die(r.error());
  auto pass = cli::WalletPassphrase(s, true, true);
  auto roots = chart::LoadTrustedRoots(s.trust_file);
  auto server = chart::ConnectHttp(cli::AddressOf(s));
  if (!pass || !roots || !server)
    return out.Die(!pass ? pass.error() : !roots ? roots.error() : server.error());
  auto id = chart::RegisterAccount(**server, "patient", "", "");
  if (!id) return out.Die(id.error());
  if (auto r = (*server)->Login(id->account.user_id, id->wallet.id()); !r) return out.Die(r.error());
  auto enrolled = chart::Enrol(**server, *id, a.pid, *code, *roots);
  // A used or wrong code is a refusal (exit 3), not a failure.
  if (!enrolled && enrolled.error().code() == ErrorCode::kConflict)
    return out.Die(cli::kRefused, enrolled.error().message());
  if (!enrolled) return out.Die(enrolled.error());
  if (auto r = cli::SaveIdentity(s, *id, *pass); !r) return out.Die(r.error());
  if (auto del = chart::DeleteSealedAuthority(**server, a.pid); !del)
    out.Warn("the sealed personal authority could not be deleted from the server: " + del.error().message());
  for (const auto& w : enrolled->warnings) out.Warn(w);
  out.Emit("enrolled as the owner of " + a.pid + " (account " + id->account.user_id + ")\nsecond factor: " +
               s.device_key + " (keep it on this device; the passphrase alone does not open the keystore)\n",
           {{"patient_id", a.pid}, {"user_id", id->account.user_id}, {"device_key", s.device_key}});
  return cli::kOk;
}

// share USER (grant a member key, then send views), or resend (views only).
int Share(const cli::Settings& s, const cli::Output& out, bool grant) {
  auto in = cli::SignIn(s);
  if (!in) return out.Die(in.error());
  if (!in->identity.wallet.personal_authority)
    return out.Die(cli::kFailed, "this home is not an enrolled patient");
  const chart::Home home(s.home);
  auto shares = chart::LoadShares(home);
  if (grant) {
    auto policies = cli::Policies(s);
    if (!policies) return out.Die(policies.error());
    auto sections = chart::ParseShareSections(a.sections, *policies);
    if (!sections) return out.Die(cli::kUsage, sections.error().message());
    if (auto r = chart::GrantMember(*in->server, in->identity, a.user); !r) return out.Die(r.error());
    shares[a.user] = *sections;
    if (auto r = chart::SaveShares(home, shares); !r) return out.Die(r.error());
  }
  auto sent = chart::SendViews(*in->server, in->identity, shares);
  if (!sent) return out.Die(sent.error());
  std::string human;
  json list = json::array();
  for (const auto& x : *sent) {
    human += "personal view sent to " + x.user_id + " (" + std::to_string(x.resources) + " resources)\n";
    list.push_back({{"user_id", x.user_id}, {"resources", x.resources}});
  }
  out.Emit(human.empty() ? "nobody to send to\n" : human, {{"sent", list}});
  return cli::kOk;
}

int Log(const cli::Settings& s, const cli::Output& out) {
  auto in = cli::SignIn(s);
  if (!in) return out.Die(in.error());
  const chart::Home home(s.home);
  auto pinned = chart::LoadPinnedLog(home);
  if (!pinned) return out.Die(cli::kFailed, pinned.error().message());
  auto log = chart::VerifyPatientLog(*in->server, in->identity.account.patient_id, *pinned);
  if (!log) return out.Die(log.error());
  if (auto r = chart::SavePinnedLog(home, log->pin); !r) return out.Die(r.error());
  json entries = json::array();
  std::string human;
  for (const auto& e : log->entries) {
    entries.push_back({{"index", e.index}, {"entry", e.entry}, {"verified", true}});
    if (e.entry.is_object()) human += chart::AuditLine(e.entry) + "\n";
  }
  human += std::to_string(log->entries.size()) + " entries, each proven included in the signed log of " +
           std::to_string(log->tree_size) + " entries; the log " + log->consistency + "\n";
  if (log->pending != 0)
    human +=
        std::to_string(log->pending) + " newer entries are not in a signed head yet (verified next time)\n";
  out.Emit(human, {{"entries", entries},
                   {"verified", log->entries.size()},
                   {"pending", log->pending},
                   {"tree_size", log->tree_size},
                   {"consistency", log->consistency}});
  return cli::kOk;
}

// Every patient verb but enrol acts on the record this home owns.
Body Owned(std::function<int(const cli::Settings&, const cli::Output&, const std::string&)> f) {
  return [f = std::move(f)](const cli::Settings& s, const cli::Output& out) {
    auto acc = chart::Home(s.home).LoadAccount();
    if (!acc) return out.Die(acc.error());
    if (acc->patient_id.empty())
      return out.Die(
          cli::kRefused,
          s.home.string() +
              " owns no patient record: enrol first (family and friends use 'cipherchart personal')");
    return f(s, out, acc->patient_id);
  };
}

}  // namespace

void AddPatient(CLI::App& app, Common& c) {
  CLI::App* role = app.add_subcommand("patient", "patients: enrol, view, share a personal view, access log");
  role->require_subcommand(1);
  auto* enrol =
      Verb(*role, c, "enrol",
           "take ownership of the record with the one-time code (makes HOME/device.key, the second factor)",
           Enrol);
  enrol->add_option("PATIENT_ID", a.pid, "the pseudonymous patient ID")->required();
  enrol->add_option("--code-file", a.code_file,
                    "a file holding the one-time code (or CIPHERCHART_ENROLMENT_CODE)");
  enrol->add_option("--code", a.code, "the one-time code (visible to other local users: prefer --code-file)");
  auto* view =
      Verb(*role, c, "view", "the whole record (originals; --include-research adds the de-identified copies)",
           Owned([](auto& s, auto& out, auto& pid) {
             return View(s, out, pid, a.outsourced, a.sections_list, !a.include_research);
           }));
  view->add_flag("--include-research", a.include_research, "also the researchers' de-identified copies");
  view->add_flag("--outsourced", a.outsourced, "decrypt section keys through a transform key");
  view->add_option("--section", a.sections_list, "only this section (repeatable)")->allow_extra_args(false);
  auto* att = Verb(*role, c, "attachment", "download and decrypt one attachment (a.<hex>)",
                   Owned([](auto& s, auto& out, auto& pid) { return Attachment(s, out, pid, a.id, a.out); }));
  att->add_option("ATTACHMENT_ID", a.id, "a.<hex>, from a DocumentReference's url")->required();
  att->add_option("--out", a.out, "where to write it")->required();
  auto* share =
      Verb(*role, c, "share", "give a family member or friend keys and a personal view of some sections",
           Owned([](auto& s, auto& out, auto&) { return Share(s, out, true); }));
  share->add_option("USER", a.user, "the user id of a 'personal' account")->required();
  share->add_option("--sections", a.sections, "S1,S2 (default: the policy file's [personal] sections)");
  auto* unshare = Verb(
      *role, c, "unshare", "stop sharing: no later view is made for them",
      Owned([](auto& s, auto& out, auto&) {
        const chart::Home home(s.home);
        auto shares = chart::LoadShares(home);
        if (shares.erase(a.user) == 0) return out.Die(cli::kFailed, a.user + " is not shared with");
        if (auto r = chart::SaveShares(home, shares); !r) return out.Die(r.error());
        out.Emit("stopped sharing with " + a.user +
                     ": no later view is made for them (views already delivered stay readable by them)\n",
                 {{"user_id", a.user}, {"shared", false}});
        return int{cli::kOk};
      }));
  unshare->add_option("USER", a.user, "the user id")->required();
  Verb(*role, c, "resend", "send every member a fresh personal view",
       Owned([](auto& s, auto& out, auto&) { return Share(s, out, false); }));
  Verb(*role, c, "log", "the record's access log, every entry's inclusion proof verified",
       Owned([](auto& s, auto& out, auto&) { return Log(s, out); }));
}

void AddPersonal(CLI::App& app, Common& c) {
  CLI::App* role = app.add_subcommand("personal", "family and friends: read what a patient shares");
  role->require_subcommand(1);
  auto* reg = Verb(*role, c, "register", "make an identity (give its id to the patient who shares with you)",
                   [](auto& s, auto& out) {
                     if (chart::Home(s.home).HasWallet())
                       return out.Die(cli::kFailed, s.home.string() + " already holds an identity");
                     auto pass = cli::WalletPassphrase(s, false, true);
                     if (!pass) return out.Die(pass.error());
                     auto server = chart::ConnectHttp(cli::AddressOf(s));
                     if (!server) return out.Die(server.error());
                     auto id = chart::RegisterAccount(**server, "patient", "", json{{"name", a.name}}.dump());
                     if (!id) return out.Die(id.error());
                     id->account.role = "personal";
                     if (auto r = cli::SaveIdentity(s, *id, *pass); !r) return out.Die(r.error());
                     out.Emit("registered as " + id->account.user_id +
                                  " (give this id to the patient who shares with you)\n",
                              {{"user_id", id->account.user_id}});
                     return int{cli::kOk};
                   });
  reg->add_option("--name", a.name, "your name")->required();
  Verb(*role, c, "fetch-keys", "install the keys a patient shared",
       [](auto& s, auto& out) { return FetchKeys(s, out, true); });
  Verb(*role, c, "view", "the personal views patients sent, decrypted",
       [](const cli::Settings& s, const cli::Output& out) {
         auto in = cli::SignIn(s);
         if (!in) return out.Die(in.error());
         auto got = chart::ReadPersonalViews(*in->server, in->identity);
         if (!got) return out.Die(got.error());
         std::string human;
         for (const auto& v : got->views) {
           human += "personal view of " + v.value("patient_id", std::string()) + " (sections:";
           for (const auto& sec : v["sections"]) human += " " + sec.get<std::string>();
           human += ")\n";
           for (const auto& r : v["resources"])
             human += "  " + fhir::ResourceDate(r).substr(0, 10) + "  " + fhir::Summary(r) + "\n";
         }
         out.Emit(
             human.empty() ? "no personal view readable with your keys\n" : human,
             {{"views", got->views}, {"not_accessible", got->not_accessible}, {"tampered", got->tampered}});
         if (got->tampered != 0) return int{cli::kTampered};
         return got->views.empty() ? int{cli::kRefused} : int{cli::kOk};
       });
}

}  // namespace cipherchart::app
