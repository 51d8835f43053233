// cipherchart doctor: practitioners (doctors, pharmacists, researchers, nurses) register, fetch
// their attribute keys, register patients (FHIR import), view and append (docs/user-guide.md).
// Also the chart verbs the patient and personal commands share.
#include <chrono>
#include <filesystem>

#include "apps/cipherchart/common.h"
#include "cipherchart/chart/directory.h"
#include "cipherchart/chart/enrolment.h"
#include "cipherchart/chart/keys.h"
#include "cipherchart/chart/reader.h"
#include "cipherchart/chart/records.h"
#include "cipherchart/chart/writer.h"
#include "cipherchart/common/bytes.h"

namespace cipherchart::app {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

double Since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

struct Args {
  std::string name, licence, start, end, organisation, role = "doctor", department;
  std::string bundle, patient, file, attachment, pid, kind, id, out;
  std::vector<std::string> resources, sections;
  bool outsourced = false;
} a;

// A writer for `pid` on a signed-in session (warnings on stderr).
Result<std::unique_ptr<chart::ChartWriter>> Writer(const cli::Settings& s, const cli::Output& out,
                                                   cli::SignedIn& in, const std::string& pid) {
  auto policies = cli::Policies(s);
  auto roots = chart::LoadTrustedRoots(s.trust_file);
  if (!policies || !roots) return std::unexpected(!policies ? policies.error() : roots.error());
  std::vector<std::string> warnings;
  auto writer = chart::OpenWriter(*in.server, in.identity, *roots, std::move(*policies), pid, warnings);
  for (const auto& w : warnings) out.Warn(w);
  return writer;
}

chart::ProgressFn Bar(const cli::Output& out) {
  return [&out](std::size_t done, std::size_t total) { out.Progress("encrypting", done, total); };
}

int RegisterPatient(const cli::Settings& s, const cli::Output& out) {
  const auto t0 = Clock::now();
  if (a.bundle.empty() && a.patient.empty())
    return out.Die(cli::kUsage, "register-patient needs --fhir-bundle FILE or --patient FILE");
  auto resources = chart::ReadPatientResources(a.bundle, a.patient, a.resources);
  if (!resources) return out.Die(cli::kFailed, resources.error().message());
  auto in = cli::SignIn(s);
  if (!in) return out.Die(in.error());
  auto created = chart::CreatePatient(*in->server, in->identity.wallet.id(), chart::NowSeconds());
  if (!created) return out.Die(created.error());
  auto writer = Writer(s, out, *in, created->patient_id);
  if (!writer) return out.Die(writer.error());
  auto n = (*writer)->WriteResources(*resources, "import", chart::Batching::kBySection, Bar(out));
  if (!n) return out.Die(n.error());
  char t[32];
  std::snprintf(t, sizeof t, "%.2f", Since(t0));
  out.Emit("patient ID:      " + created->patient_id + "\nenrolment code:  " + created->enrolment_code +
               "  (give it to the patient, once)\n" + std::to_string(resources->size()) + " resources in " +
               std::to_string(*n) + " encrypted entries (" + t + " s)\n",
           {{"patient_id", created->patient_id},
            {"enrolment_code", created->enrolment_code},
            {"records", *n},
            {"resources", resources->size()},
            {"seconds", Since(t0)}});
  return cli::kOk;
}

int Add(const cli::Settings& s, const cli::Output& out) {
  auto kind = fhir::ParseEntryKind(a.kind);
  if (!kind) return out.Die(cli::kUsage, kind.error().message());
  const std::string kind_name(fhir::EntryKindName(*kind));
  auto res = chart::ReadJsonFile(a.file);
  if (!res) return out.Die(res.error());
  // A Bundle is a batch: every resource must fit KIND, and each becomes its own entry.
  const bool batch = res->value("resourceType", "") == "Bundle";
  if (batch && !a.attachment.empty())
    return out.Die(cli::kUsage, "--attachment goes with a single resource, not a Bundle");
  auto resources = batch ? fhir::BundleResources(*res) : Result<std::vector<json>>(std::vector<json>{*res});
  if (!resources) return out.Die(cli::kFailed, a.file + ": " + resources.error().message());
  if (resources->empty()) return out.Die(cli::kFailed, a.file + ": the Bundle has no resources");
  std::vector<fhir::Section> sections;
  for (std::size_t i = 0; i < resources->size(); ++i) {
    auto section = fhir::CheckEntry(*kind, (*resources)[i]);
    if (!section)
      return out.Die(cli::kFailed, a.file + ": " + (batch ? "entry " + std::to_string(i) + ": " : "") +
                                       section.error().message());
    sections.push_back(*section);
  }
  if (!a.attachment.empty() && !fs::is_regular_file(a.attachment))
    return out.Die(cli::kFailed, "the attachment " + a.attachment + " is not a readable file");
  auto in = cli::SignIn(s);
  if (!in) return out.Die(in.error());
  auto writer = Writer(s, out, *in, a.pid);
  if (!writer) return out.Die(writer.error());
  json attachment = nullptr;
  if (!a.attachment.empty()) {
    // The file first, in its own record; then the entry that points at it, so that no entry
    // ever names an attachment that is not there.
    auto ref = (*writer)->AddAttachment(a.attachment);
    if (!ref) return out.Die(ref.error());
    resources->push_back(chart::AttachmentReference(*ref, a.attachment, *res, kind_name));
    attachment = {{"record_id", ref->record_id}, {"size", ref->size}, {"sha1", ref->sha1_base64}};
  }
  auto n = (*writer)->WriteResources(*resources, kind_name,
                                     batch ? chart::Batching::kByResource : chart::Batching::kBySection,
                                     Bar(out), batch ? sections : std::vector<fhir::Section>{});
  if (!n) return out.Die(n.error());
  if (batch) {
    out.Emit("added " + std::to_string(resources->size()) + " " + kind_name + " resources to " + a.pid +
                 " (" + std::to_string(*n) + " entries)\n",
             {{"patient_id", a.pid}, {"resources", resources->size()}, {"entries", *n}});
    return cli::kOk;
  }
  const std::string section(fhir::SectionName(sections.front()));
  out.Emit(
      "added " + kind_name + " to " + a.pid + " (section " + section + ", " + std::to_string(*n) +
          " entries" +
          (attachment.is_null() ? ""
                                : ", attachment " + attachment["record_id"].get<std::string>() + " of " +
                                      std::to_string(attachment["size"].get<std::uint64_t>()) + " bytes") +
          ")\n",
      {{"patient_id", a.pid}, {"section", section}, {"entries", *n}, {"attachment", attachment}});
  return cli::kOk;
}

}  // namespace

int View(const cli::Settings& s, const cli::Output& out, const std::string& pid, bool outsourced,
         const std::vector<std::string>& sections, bool patient_view) {
  auto in = cli::SignIn(s);
  if (!in) return out.Die(in.error());
  chart::ReadOptions o;
  o.outsourced = outsourced;
  o.sections.insert(sections.begin(), sections.end());
  // The patient reads the originals; the researchers' de-identified copies only on request.
  if (patient_view && o.sections.count(std::string(chart::kResearchSection)) == 0)
    o.skip.insert(std::string(chart::kResearchSection));
  chart::ReadStats st;
  const auto t0 = Clock::now();
  auto entries = chart::ReadChart(*in->server, in->identity.wallet.keys, pid, o, &st);
  if (!entries) return out.Die(entries.error());
  const double secs = Since(t0);
  const auto v = chart::Present(*entries);
  std::string human;
  for (const auto& line : v.lines) human += line + "\n";
  char summary[256];
  std::snprintf(
      summary, sizeof summary,
      "%zu entries: %zu opened, %zu not accessible, %zu tampered (%.2f s; %zu section keys opened%s)\n",
      entries->size(), v.opened, v.not_accessible, v.tampered, secs, st.section_keys_opened,
      outsourced ? ", outsourced decryption" : "");
  out.Emit(
      human + summary,
      {{"patient_id", pid},
       {"resources", v.resources},
       {"entries", v.entries},
       {"opened", v.opened},
       {"not_accessible", v.not_accessible},
       {"tampered", v.tampered},
       {"seconds", secs},
       {"timing_ms",
        {{"list", st.list_ms}, {"fetch", st.fetch_ms}, {"abe", st.abe_ms}, {"transform", st.transform_ms}}}});
  if (v.tampered != 0)
    return out.Report(cli::kTampered,
                      std::to_string(v.tampered) + " record(s) failed the integrity check and are not shown");
  if (v.errors != 0) return cli::kFailed;
  return v.opened == 0 && v.not_accessible != 0 ? cli::kRefused : cli::kOk;
}

int Attachment(const cli::Settings& s, const cli::Output& out, const std::string& pid, const std::string& id,
               const std::string& path) {
  if (fs::exists(path)) return out.Die(cli::kFailed, path + " exists; not overwritten");
  auto in = cli::SignIn(s);
  if (!in) return out.Die(in.error());
  const auto t0 = Clock::now();
  auto n = chart::FetchAttachment(*in->server, in->identity.wallet.keys, pid, id, path);
  if (!n) return out.Die(n.error());
  char t[32];
  std::snprintf(t, sizeof t, "%.2f", Since(t0));
  out.Emit("wrote " + path + " (" + std::to_string(*n) + " bytes, signature verified, " + t + " s)\n",
           {{"patient_id", pid}, {"record_id", id}, {"path", path}, {"size", *n}, {"seconds", Since(t0)}});
  return cli::kOk;
}

int FetchKeys(const cli::Settings& s, const cli::Output& out, bool personal_domain) {
  auto in = cli::SignIn(s);
  if (!in) return out.Die(in.error());
  auto roots = chart::LoadTrustedRoots(s.trust_file);
  if (!roots) return out.Die(roots.error());
  auto got = chart::InstallKeys(*in->server, in->identity, *roots, personal_domain);
  if (!got) return out.Die(got.error());
  if (auto r = chart::Home(s.home).SaveWallet(in->identity.wallet, in->passphrase); !r)
    return out.Die(r.error());
  for (const auto& w : got->warnings) out.Warn(w);
  std::string human;
  for (const auto& attr : got->attributes) human += "  " + attr + "\n";
  out.Emit(got->attributes.empty() ? "no keys in the mailbox\n" : "installed attribute keys:\n" + human,
           {{"installed", got->attributes}, {"warnings", got->warnings}});
  return got->attributes.empty() ? cli::kRefused : cli::kOk;
}

void AddDoctor(CLI::App& app, Common& c) {
  CLI::App* role =
      app.add_subcommand("doctor", "practitioners: register, fetch keys, register patients, view, add");
  role->alias("practitioner");
  role->require_subcommand(1);
  auto* reg = Verb(*role, c, "register", "make an identity and ask the organisation's authority for approval",
                   [](auto& s, auto& out) {
                     auto pass = cli::WalletPassphrase(s, false, true);
                     if (!pass) return out.Die(pass.error());
                     json details = {{"name", a.name},
                                     {"licence", a.licence},
                                     {"practice_start", a.start},
                                     {"practice_end", a.end},
                                     {"role", a.role}};
                     if (!a.department.empty()) details["department"] = a.department;
                     auto server = chart::ConnectHttp(cli::AddressOf(s));
                     if (!server) return out.Die(server.error());
                     auto id =
                         chart::RegisterAccount(**server, "practitioner", a.organisation, details.dump());
                     if (!id) return out.Die(id.error());
                     if (auto r = cli::SaveIdentity(s, *id, *pass); !r) return out.Die(r.error());
                     out.Emit("registered as " + id->account.user_id + " (pending until " + a.organisation +
                                  "'s authority approves)\n",
                              {{"user_id", id->account.user_id}, {"state", "pending"}});
                     return int{cli::kOk};
                   });
  reg->add_option("--name", a.name, "full name")->required();
  reg->add_option("--licence", a.licence, "licence or certificate number")->required();
  reg->add_option("--practice-start", a.start, "YYYY-MM-DD")->required();
  reg->add_option("--practice-end", a.end, "YYYY-MM-DD")->required();
  reg->add_option("--organisation", a.organisation, "the organisation whose authority approves")->required();
  reg->add_option("--role", a.role, "doctor | pharmacist | nurse | researcher")->capture_default_str();
  reg->add_option("--department", a.department, "department");
  Verb(*role, c, "status", "the account's approval state and attribute keys", [](auto& s, auto& out) {
    auto in = cli::SignIn(s);
    if (!in) return out.Die(in.error());
    auto me = in->server->Me();
    if (!me) return out.Die(me.error());
    json attrs = json::array();
    std::string human;
    for (const auto& [ns, k] : in->identity.wallet.keys.by_authority)
      for (const auto& [attr, v] : k.attributes) attrs.push_back(attr), human += "  " + attr + "\n";
    const chart::AccountInfo& m = me->info;
    json j = AccountJson({m.user_id, m.role, m.state, m.organisation, me->details_json, m.identity_key,
                          m.delivery_key, me->decision_reason, me->decided_by, me->created_at});
    j["attributes"] = attrs;
    out.Emit(m.user_id + ": " + m.state + "\nattribute keys:\n" + (human.empty() ? "  none\n" : human), j);
    return int{cli::kOk};
  });
  Verb(*role, c, "fetch-keys", "install attribute keys from the mailbox (checked against the directory)",
       [](auto& s, auto& out) { return FetchKeys(s, out, false); });
  auto* rp = Verb(*role, c, "register-patient",
                  "enter a new patient: prints the pseudonymous ID and the one-time enrolment code",
                  RegisterPatient);
  rp->add_option("--fhir-bundle", a.bundle, "a FHIR R4 Bundle");
  rp->add_option("--patient", a.patient, "a FHIR Patient (instead of a bundle)");
  rp->add_option("--resource", a.resources, "more resources with --patient (repeatable)")
      ->allow_extra_args(false);
  auto* view = Verb(*role, c, "view", "the patient's history; --json prints the decrypted FHIR resources",
                    [](auto& s, auto& out) { return View(s, out, a.pid, a.outsourced, a.sections, false); });
  view->add_option("PATIENT_ID", a.pid, "the pseudonymous patient ID")->required();
  view->add_flag("--outsourced", a.outsourced, "decrypt section keys through a transform key");
  view->add_option("--section", a.sections, "only this section (repeatable)")->allow_extra_args(false);
  auto* add =
      Verb(*role, c, "add",
           "append a prescription | report | ecg | imaging | surgery (a Bundle: one entry each)", Add);
  add->add_option("PATIENT_ID", a.pid, "the pseudonymous patient ID")->required();
  add->add_option("KIND", a.kind, "prescription | report | ecg | imaging | surgery")->required();
  add->add_option("--file", a.file, "the FHIR resource or Bundle")->required();
  add->add_option("--attachment", a.attachment, "a file of any size, streamed into its own record");
  auto* att = Verb(*role, c, "attachment",
                   "download and decrypt one attachment (written once its signature verified)",
                   [](auto& s, auto& out) { return Attachment(s, out, a.pid, a.id, a.out); });
  att->add_option("PATIENT_ID", a.pid, "the pseudonymous patient ID")->required();
  att->add_option("ATTACHMENT_ID", a.id, "a.<hex>, from a DocumentReference's url")->required();
  att->add_option("--out", a.out, "where to write it")->required();
}

}  // namespace cipherchart::app
