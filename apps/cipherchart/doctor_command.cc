// cipherchart doctor: practitioners (doctors, pharmacists, researchers, nurses) register, fetch
// their attribute keys, register patients (FHIR import), view and append. docs/user-guide.md.

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "apps/cipherchart/flows_common.h"
#include "cipherchart/abe/keystore.h"
#include "cipherchart/abe/maabe_serialize.h"
#include "cipherchart/common/random.h"
#include "cipherchart/envelope/passphrase_seal.h"
#include "cipherchart/fhir/deidentify.h"
#include "cipherchart/fhir/fhir.h"
#include "cipherchart/fhir/policy_file.h"
#include "src/envelope/sha256.h"
#include "src/envelope/wire.h"

namespace cipherchart::app {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

constexpr const char* kDoctorUsage =
    "usage: cipherchart doctor <command> [options]\n"
    "\n"
    "  register --name N --licence L --practice-start YYYY-MM-DD --practice-end YYYY-MM-DD\n"
    "           --organisation ORG [--role doctor|pharmacist|nurse|researcher] [--department D]\n"
    "                  make an identity and ask the organisation's authority for approval\n"
    "  status          the account's approval state\n"
    "  fetch-keys      install attribute keys from the mailbox (checked against the directory)\n"
    "  register-patient (--fhir-bundle FILE | --patient FILE [--resource FILE]...)\n"
    "                  enter a new patient: prints the pseudonymous patient ID and the one-time\n"
    "                  enrolment code for the patient\n"
    "  view PATIENT_ID [--outsourced] [--section S]...\n"
    "                  the patient's history; sections the keys cannot open are marked\n"
    "                  'not accessible'; --json prints the decrypted FHIR resources\n"
    "  add PATIENT_ID KIND --file RESOURCE.json [--attachment FILE]\n"
    "                  append a prescription | report | ecg | imaging | surgery, checked, encrypted\n"
    "                  under its section's policy and signed; a FHIR Bundle as --file is a batch:\n"
    "                  every resource must fit KIND and each becomes its own entry. --attachment\n"
    "                  streams a file of any size into its own record, pointed at by a\n"
    "                  DocumentReference (url cipherchart:attachment/a.<hex>)\n"
    "  attachment PATIENT_ID ATTACHMENT_ID --out FILE\n"
    "                  download and decrypt one attachment (written only once its signature\n"
    "                  verified)\n"
    "\n"
    "common options: --home DIR (CIPHERCHART_HOME), --server HOST:PORT, --ca-file PEM,\n"
    "  --trust-file TOML, --policy-file TOML, --passphrase-file FILE (or CIPHERCHART_PASSPHRASE),\n"
    "  --json, --help\n"
    "exit codes: 0 ok, 1 failed, 2 usage, 3 refused (not approved, no access), 4 a record failed\n"
    "  its integrity check, 5 wrong passphrase\n";

using envelope::internal::AsBytes;

Result<json> ReadJsonFile(const std::string& path) {
  auto bytes = cli::ReadFileBytes(path);
  if (!bytes) return std::unexpected(bytes.error());
  auto j = fhir::ParseJson(std::string_view(reinterpret_cast<const char*>(bytes->data()), bytes->size()));
  if (!j) return Fail(j.error().code(), path + ": " + j.error().message());
  return j;
}

Result<fhir::PolicyFile> Policies(const cli::Settings& s) {
  if (s.policy_file.empty()) return fhir::DefaultPolicyFile();
  return fhir::LoadPolicyFile(s.policy_file);
}

// Crockford base32, 20 characters (100 bits), in groups of five.
Result<std::string> NewEnrolmentCode() {
  static constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  std::array<std::uint8_t, 20> r{};
  if (auto ok = FillRandom(r); !ok) return std::unexpected(ok.error());
  std::string code;
  for (std::size_t i = 0; i < r.size(); ++i) {
    if (i != 0 && i % 5 == 0) code.push_back('-');
    code.push_back(kAlphabet[r[i] & 31]);
  }
  return code;
}

void PutBlob(std::vector<std::uint8_t>& out, std::span<const std::uint8_t> b) {
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(b.size() >> s));
  out.insert(out.end(), b.begin(), b.end());
}

int Register(Args& a, const cli::Settings& s) {
  for (const char* k : {"name", "licence", "practice-start", "practice-end", "organisation"})
    if (a.Get(k).empty()) return Die(a, kUsage, std::string("register needs --") + k);
  auto pass = cli::WalletPassphrase(s, false, true);
  if (!pass) return DieWith(a, pass.error());
  json details = {{"name", a.Get("name")},
                  {"licence", a.Get("licence")},
                  {"practice_start", a.Get("practice-start")},
                  {"practice_end", a.Get("practice-end")},
                  {"role", a.Get("role", "doctor")}};
  if (!a.Get("department").empty()) details["department"] = a.Get("department");
  cli::Wallet w;
  auto acc = RegisterAccount(s, "practitioner", a.Get("organisation"), details, w);
  if (!acc) return DieWith(a, acc.error());
  if (auto r = cli::SaveWallet(s, w, *pass); !r) return DieWith(a, r.error());
  if (auto r = cli::SaveAccount(s, *acc); !r) return DieWith(a, r.error());
  if (auto r = cli::SaveSettings(s); !r) return DieWith(a, r.error());
  Emit(a,
       "registered as " + acc->user_id + " (pending until " + a.Get("organisation") +
           "'s authority approves)\n",
       {{"user_id", acc->user_id}, {"state", "pending"}});
  return kOk;
}

int Status(Args& a, const cli::Settings& s) {
  auto l = LoadIdentity(s);
  if (!l) return DieWith(a, l.error());
  auto sess = LoginAs(s, *l);
  if (!sess) return DieWith(a, sess.error());
  auto r = sess->Get("/v1/accounts/me");
  if (!r) return DieWith(a, r.error());
  if (!r->ok()) return DieWith(a, ApiError("account", *r));
  std::string attrs;
  json out = r->body;
  out["attributes"] = json::array();
  for (const auto& [ns, k] : l->wallet.keys.by_authority)
    for (const auto& [attr, v] : k.attributes) {
      attrs += "  " + attr + "\n";
      out["attributes"].push_back(attr);
    }
  Emit(a,
       l->account.user_id + ": " + r->body.value("state", "?") + "\nattribute keys:\n" +
           (attrs.empty() ? "  none\n" : attrs),
       out);
  return kOk;
}

}  // namespace

// Installs every attribute-key package in the mailbox whose sender is the verified signing key
// of the authority the keys are for. Shared with `personal fetch-keys` through `extra_roots`.
int FetchKeys(Args& a, const cli::Settings& s, bool personal_domain) {
  auto l = LoadIdentity(s);
  if (!l) return DieWith(a, l.error());
  auto sess = LoginAs(s, *l);
  if (!sess) return DieWith(a, sess.error());
  auto roots = cli::LoadTrustedRoots(s);
  if (!roots) return DieWith(a, roots.error());
  std::vector<std::string> warnings;
  auto dir = cli::LoadDirectory(*sess, *roots, "", warnings);
  if (!dir) return DieWith(a, dir.error());
  auto list = sess->Get("/v1/keys");
  if (!list) return DieWith(a, list.error());
  if (!list->ok()) return DieWith(a, ApiError("mailbox", *list));
  json installed = json::array();
  std::string human;
  for (const auto& p : list->body["packages"]) {
    const std::string id = p.value("package_id", "");
    auto body = sess->Get("/v1/keys/" + id);
    if (!body || !body->ok()) continue;
    if (!std::string_view(body->raw).starts_with("CCKP")) continue;  // personal views: `personal view`
    auto opened = cli::OpenKeyPackage(AsBytes(body->raw), l->wallet.dk());
    if (!opened) {
      warnings.push_back("package " + id + ": " + opened.error().message());
      continue;
    }
    if (opened->kind != cli::PackageKind::kAttributeKeys) continue;
    auto keys = abe::maabe::ParseAuthorityKeys(opened->payload.span());
    if (!keys) {
      warnings.push_back("package " + id + ": " + keys.error().message());
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
          warnings.push_back("package " + id + ": keys do not verify: " + v.error().message());
          continue;
        }
      }
    } else if (personal_domain && keys->authority_namespace.starts_with("patient_")) {
      auto sender = cli::LookUpAccount(*sess, p.value("sender_id", ""));
      trusted = sender && sender->role == "patient" && sender->identity_key == opened->sender;
    }
    if (!trusted) {
      warnings.push_back("package " + id + ": keys for " + keys->authority_namespace +
                         " not signed by that authority's verified key; ignored");
      continue;
    }
    if (keys->gid != l->account.user_id) {
      warnings.push_back("package " + id + ": keys for another identity; ignored");
      continue;
    }
    l->wallet.keys.gid = l->account.user_id;
    l->wallet.keys.by_authority.erase(keys->authority_namespace);  // a newer issue replaces
    if (auto r = abe::maabe::AddKeys(l->wallet.keys, *keys); !r) return DieWith(a, r.error());
    for (const auto& [attr, v] : keys->attributes) {
      installed.push_back(attr);
      human += "  " + attr + "\n";
    }
  }
  if (auto r = cli::SaveWallet(s, l->wallet, l->passphrase); !r) return DieWith(a, r.error());
  for (const auto& w : warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
  Emit(a, installed.empty() ? "no keys in the mailbox\n" : "installed attribute keys:\n" + human,
       {{"installed", installed}, {"warnings", warnings}});
  return installed.empty() ? kRefused : kOk;
}

namespace {

// The researchers' copy of what a write put in researcher sections: de-identified (Safe Harbor,
// with a fresh salt for the pseudonymous ids) in one entry of the research pseudo-section.
// Returns the number of entries written (0 or 1).
Result<std::size_t> WriteResearchCopy(cli::ChartWriter& writer, const std::vector<json>& research,
                                      const std::string& kind) {
  if (research.empty() || writer.policies().researcher_policy_template.empty()) return 0;
  auto salt = SecretBytes::Random(32);
  if (!salt) return std::unexpected(salt.error());
  auto deid = fhir::DeidentifyAll(research, salt->span());
  if (!deid) return std::unexpected(deid.error());
  auto id = writer.AddEntry(std::string(cli::kResearchSection), {{"kind", kind}, {"resources", *deid}});
  if (!id) return std::unexpected(id.error());
  return 1;
}

// Writes the resources of one import/add, section by section, plus de-identified copies for
// researchers. Returns the number of entries written.
Result<std::size_t> WriteResources(const Args& a, cli::ChartWriter& writer,
                                   const std::vector<json>& resources, const std::string& kind) {
  const fhir::PolicyFile& policies = writer.policies();
  auto split = fhir::SplitResources(resources);
  std::size_t entries = 0;
  std::vector<json> research;
  Progress bar(a, "encrypting", split.sections.size());
  for (auto& [section, list] : split.sections) {
    auto id = writer.AddEntry(std::string(fhir::SectionName(section)), {{"kind", kind}, {"resources", list}});
    if (!id) return std::unexpected(id.error());
    ++entries;
    if (std::find(policies.researcher_sections.begin(), policies.researcher_sections.end(), section) !=
        policies.researcher_sections.end())
      research.insert(research.end(), list.begin(), list.end());
    bar.Step();
  }
  bar.Done();
  auto copy = WriteResearchCopy(writer, research, kind);
  if (!copy) return std::unexpected(copy.error());
  entries += *copy;
  return entries;
}

// A writer for `patient_id`'s chart: the verified directory (trusted roots plus the patient's
// own authority) and the section policies.
Result<std::unique_ptr<cli::ChartWriter>> MakeChartWriter(const cli::Settings& s, cli::Session& session,
                                                          const Loaded& l, const std::string& patient_id) {
  auto policies = Policies(s);
  if (!policies) return std::unexpected(policies.error());
  auto roots = cli::LoadTrustedRoots(s);
  if (!roots) return std::unexpected(roots.error());
  std::vector<std::string> warnings;
  auto dir = cli::LoadDirectory(session, *roots, patient_id, warnings);
  if (!dir) return std::unexpected(dir.error());
  for (const auto& w : warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
  return std::make_unique<cli::ChartWriter>(session, patient_id, l.wallet.id(), std::move(*dir),
                                            std::move(*policies), l.account.organisation, &l.wallet.keys);
}

// Everything a write needs: the unlocked identity, a logged-in session and the chart writer,
// which refers to both (hence one heap object that does not move).
struct Writing {
  Loaded identity;
  cli::Session session;
  std::unique_ptr<cli::ChartWriter> writer;
};

Result<std::unique_ptr<Writing>> StartWriting(const cli::Settings& s, const std::string& patient_id) {
  auto l = LoadIdentity(s);
  if (!l) return std::unexpected(l.error());
  auto sess = LoginAs(s, *l);
  if (!sess) return std::unexpected(sess.error());
  auto w = std::make_unique<Writing>(Writing{std::move(*l), std::move(*sess), nullptr});
  auto writer = MakeChartWriter(s, w->session, w->identity, patient_id);
  if (!writer) return std::unexpected(writer.error());
  w->writer = std::move(*writer);
  return w;
}

int RegisterPatient(Args& a, const cli::Settings& s) {
  const auto t0 = Clock::now();
  std::vector<json> resources;
  if (!a.Get("fhir-bundle").empty()) {
    auto bundle = ReadJsonFile(a.Get("fhir-bundle"));
    if (!bundle) return DieWith(a, bundle.error());
    auto r = fhir::BundleResources(*bundle);
    if (!r) return Die(a, kFailed, a.Get("fhir-bundle") + ": " + r.error().message());
    resources = std::move(*r);
  } else if (!a.Get("patient").empty()) {
    auto p = ReadJsonFile(a.Get("patient"));
    if (!p) return DieWith(a, p.error());
    if (p->value("resourceType", "") != "Patient")
      return Die(a, kFailed, a.Get("patient") + ": not a FHIR Patient");
    resources.push_back(std::move(*p));
    for (const auto& f : a.All("resource")) {
      auto r = ReadJsonFile(f);
      if (!r) return DieWith(a, r.error());
      resources.push_back(std::move(*r));
    }
  } else {
    return Die(a, kUsage, "register-patient needs --fhir-bundle FILE or --patient FILE");
  }
  auto l = LoadIdentity(s);
  if (!l) return DieWith(a, l.error());
  auto sess = LoginAs(s, *l);
  if (!sess) return DieWith(a, sess.error());
  // 1. The pseudonym, bound to the hash of a one-time enrolment code.
  auto new_code = NewEnrolmentCode();
  if (!new_code) return DieWith(a, new_code.error());
  const std::string& code = *new_code;
  auto proof = cli::EnrolmentProof(code);
  if (!proof) return DieWith(a, proof.error());
  auto digest = envelope::internal::Sha256Of(AsBytes(*proof));
  if (!digest) return DieWith(a, digest.error());
  auto created = sess->Json("POST", "/v1/patients", {{"enrolment_code_sha256", ToHex(*digest)}});
  if (!created) return DieWith(a, created.error());
  if (created->status != 201) return DieWith(a, ApiError("creating the patient", *created));
  const std::string pid = created->body.value("patient_id", "");
  const std::string ns = cli::PatientNamespace(pid);
  // 2. The patient's personal-domain authority: public part for every encryptor, secrets sealed
  //    under the enrolment code for the patient (docs/threat-model.md: the registering client
  //    makes these keys and forgets them).
  const std::uint64_t now = cli::NowSeconds();
  auto root = abe::Authority::CreateRoot(ns, now - 300, now + 20ULL * 365 * 86400);
  if (!root) return DieWith(a, root.error());
  auto ma = abe::maabe::AuthoritySetup(ns);
  if (!ma) return DieWith(a, ma.error());
  auto st = abe::SignKeyStatement(ma->pk, root->signing_key(), now - 300, now + 20ULL * 365 * 86400);
  if (!st) return DieWith(a, st.error());
  std::vector<abe::DirectoryEntry> entry = {{root->chain(), *st}};
  auto dir_bytes = abe::EncodeDirectory(entry);
  if (!dir_bytes) return DieWith(a, dir_bytes.error());
  auto pub = cli::SealPublicRecord(cli::kOwnerDirectoryRecord, *dir_bytes, l->wallet.id());
  if (!pub) return DieWith(a, pub.error());
  const std::string base = "/v1/patients/" + pid + "/records/";
  auto put = sess->PutBytes("PUT", base + std::string(cli::kOwnerDirectoryRecord) + "/versions/1", *pub,
                            {{"X-CipherChart-Section", "owner"}, {"X-CipherChart-Policy", "public"}});
  if (!put || !put->ok())
    return Die(a, kFailed,
               "storing the patient's authority: " + (put ? put->Describe() : put.error().message()));
  SecretBytes code_secret(AsBytes(code));
  auto sealed_fame = abe::SealAuthority(*root, code_secret);
  auto sealed_ma = abe::SealMultiAuthorityMasterKey(ma->msk, code_secret);
  if (!sealed_fame || !sealed_ma) return Die(a, kFailed, "sealing the patient's authority failed");
  std::vector<std::uint8_t> owner;
  PutBlob(owner, *sealed_fame);
  PutBlob(owner, *sealed_ma);
  put = sess->PutBytes("PUT", base + std::string(cli::kOwnerAuthorityRecord) + "/versions/1", owner,
                       {{"X-CipherChart-Section", "owner"}, {"X-CipherChart-Policy", "enrolment-code"}});
  if (!put || !put->ok()) return Die(a, kFailed, "storing the patient's sealed authority failed");
  // 3. The record, section by section.
  auto writer = MakeChartWriter(s, *sess, *l, pid);
  if (!writer) return DieWith(a, writer.error());
  auto n = WriteResources(a, **writer, resources, "import");
  if (!n) return DieWith(a, n.error());
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  char t[32];
  std::snprintf(t, sizeof t, "%.2f", secs);
  Emit(a,
       "patient ID:      " + pid + "\nenrolment code:  " + code + "  (give it to the patient, once)\n" +
           std::to_string(resources.size()) + " resources in " + std::to_string(*n) + " encrypted entries (" +
           t + " s)\n",
       {{"patient_id", pid},
        {"enrolment_code", code},
        {"records", *n},
        {"resources", resources.size()},
        {"seconds", secs}});
  return kOk;
}

// FHIR's Attachment.contentType from the file name; DocumentReferences with image, video,
// audio or DICOM content are filed under attachments, others under notes (fhir::SectionOf).
std::string ContentTypeOf(const std::string& path) {
  std::string ext = fs::path(path).extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  static const std::map<std::string, std::string> kTypes = {
      {".dcm", "application/dicom"}, {".png", "image/png"},  {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},       {".tif", "image/tiff"}, {".tiff", "image/tiff"},
      {".pdf", "application/pdf"},   {".mp4", "video/mp4"},  {".wav", "audio/wav"},
      {".txt", "text/plain"}};
  auto it = kTypes.find(ext);
  return it != kTypes.end() ? it->second : "application/octet-stream";
}

// Writes each resource of a batch as its own entry (one history line each), plus one
// de-identified copy of the batch for researchers.
Result<std::size_t> WriteEach(const Args& a, cli::ChartWriter& writer, const std::vector<json>& resources,
                              const std::vector<fhir::Section>& sections, const std::string& kind) {
  const fhir::PolicyFile& policies = writer.policies();
  std::vector<json> research;
  Progress bar(a, "encrypting", resources.size());
  for (std::size_t i = 0; i < resources.size(); ++i) {
    auto id = writer.AddEntry(std::string(fhir::SectionName(sections[i])),
                              {{"kind", kind}, {"resources", json::array({resources[i]})}});
    if (!id) return std::unexpected(id.error());
    if (std::find(policies.researcher_sections.begin(), policies.researcher_sections.end(), sections[i]) !=
        policies.researcher_sections.end())
      research.push_back(resources[i]);
    bar.Step();
  }
  bar.Done();
  std::size_t entries = resources.size();
  auto copy = WriteResearchCopy(writer, research, kind);
  if (!copy) return std::unexpected(copy.error());
  entries += *copy;
  return entries;
}

int Add(Args& a, const cli::Settings& s) {
  if (a.positional.size() != 3 || a.Get("file").empty())
    return Die(a, kUsage, "add needs PATIENT_ID KIND --file RESOURCE.json");
  const std::string pid = a.positional[1];
  auto kind = fhir::ParseEntryKind(a.positional[2]);
  if (!kind) return Die(a, kUsage, kind.error().message());
  auto res = ReadJsonFile(a.Get("file"));
  if (!res) return DieWith(a, res.error());
  // A Bundle is a batch: every resource must fit KIND, and each becomes its own entry.
  if (res->value("resourceType", "") == "Bundle") {
    if (!a.Get("attachment").empty())
      return Die(a, kUsage, "--attachment goes with a single resource, not a Bundle");
    auto batch = fhir::BundleResources(*res);
    if (!batch) return Die(a, kFailed, a.Get("file") + ": " + batch.error().message());
    if (batch->empty()) return Die(a, kFailed, a.Get("file") + ": the Bundle has no resources");
    std::vector<fhir::Section> sections;
    sections.reserve(batch->size());
    for (std::size_t i = 0; i < batch->size(); ++i) {
      auto section = fhir::CheckEntry(*kind, (*batch)[i]);
      if (!section)
        return Die(a, kFailed,
                   a.Get("file") + ": entry " + std::to_string(i) + ": " + section.error().message());
      sections.push_back(*section);
    }
    auto w = StartWriting(s, pid);
    if (!w) return DieWith(a, w.error());
    auto n = WriteEach(a, *(*w)->writer, *batch, sections, std::string(fhir::EntryKindName(*kind)));
    if (!n) return DieWith(a, n.error());
    Emit(a,
         "added " + std::to_string(batch->size()) + " " + std::string(fhir::EntryKindName(*kind)) +
             " resources to " + pid + " (" + std::to_string(*n) + " entries)\n",
         {{"patient_id", pid}, {"resources", batch->size()}, {"entries", *n}});
    return kOk;
  }
  auto section = fhir::CheckEntry(*kind, *res);
  if (!section) return Die(a, kFailed, a.Get("file") + ": " + section.error().message());
  const std::string attachment = a.Get("attachment");
  if (!attachment.empty() && !fs::is_regular_file(attachment))
    return Die(a, kFailed, "the attachment " + attachment + " is not a readable file");
  auto w = StartWriting(s, pid);
  if (!w) return DieWith(a, w.error());
  cli::ChartWriter& writer = *(*w)->writer;
  std::vector<json> resources = {*res};
  json attachment_json = nullptr;
  if (!attachment.empty()) {
    // The file first, streamed into its own record (any size); then the entry that points at it,
    // so that no entry ever names an attachment that is not there.
    auto ref = writer.AddAttachment(attachment);
    if (!ref) return DieWith(a, ref.error());
    json docref = {
        {"resourceType", "DocumentReference"},
        {"id", ref->record_id.substr(2)},
        {"status", "current"},
        {"description", "attachment of a " + std::string(fhir::EntryKindName(*kind))},
        {"content", json::array({{{"attachment",
                                   {{"contentType", ContentTypeOf(attachment)},
                                    {"url", std::string(cli::kAttachmentUrlPrefix) + ref->record_id},
                                    {"size", ref->size},
                                    {"hash", ref->sha1_base64},
                                    {"title", fs::path(attachment).filename().string()}}}}})}};
    if (res->contains("subject")) docref["subject"] = (*res)["subject"];
    if (res->contains("id") && (*res)["id"].is_string())
      docref["context"] = {{"related", json::array({{{"reference", res->value("resourceType", "") + "/" +
                                                                       (*res)["id"].get<std::string>()}}})}};
    resources.push_back(std::move(docref));
    attachment_json = {{"record_id", ref->record_id}, {"size", ref->size}, {"sha1", ref->sha1_base64}};
  }
  auto n = WriteResources(a, writer, resources, std::string(fhir::EntryKindName(*kind)));
  if (!n) return DieWith(a, n.error());
  const std::size_t entries = *n;  // chart entries; the attachment record is reported on its own
  Emit(a,
       "added " + std::string(fhir::EntryKindName(*kind)) + " to " + pid + " (section " +
           std::string(fhir::SectionName(*section)) + ", " + std::to_string(entries) + " entries" +
           (attachment_json.is_null()
                ? std::string()
                : ", attachment " + attachment_json["record_id"].get<std::string>() + " of " +
                      std::to_string(attachment_json["size"].get<std::uint64_t>()) + " bytes") +
           ")\n",
       {{"patient_id", pid},
        {"section", fhir::SectionName(*section)},
        {"entries", entries},
        {"attachment", attachment_json}});
  return kOk;
}

}  // namespace

// `doctor view`, `patient view`: the history, or with --json the decrypted resources.
int ViewChart(Args& a, const cli::Settings& s, const std::string& pid) {
  auto l = LoadIdentity(s);
  if (!l) return DieWith(a, l.error());
  cli::ReadOptions o;
  o.outsourced = a.Flag("outsourced");
  for (const auto& sec : a.All("section")) o.sections.insert(sec);
  cli::ReadStats stats;
  const auto t0 = Clock::now();
  auto entries = cli::ReadChart(s, l->account.user_id, l->wallet.id(), pid, l->wallet.keys, o, &stats);
  if (!entries) return DieWith(a, entries.error());
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  std::size_t opened = 0, denied = 0, tampered = 0, errors = 0;
  json resources = json::array(), listing = json::array();
  std::vector<std::pair<std::string, std::string>> lines;  // date, line
  for (const auto& e : *entries) {
    json meta = {{"record_id", e.record_id},   {"section", e.section},
                 {"author_id", e.author_id},   {"author", e.author_name},
                 {"created_at", e.created_at}, {"state", cli::StateName(e.state)}};
    switch (e.state) {
      case cli::ChartEntry::State::kOpened: {
        ++opened;
        const auto& rs = e.payload["resources"];
        meta["resources"] = rs.size();
        for (const auto& r : rs) {
          resources.push_back(r);
          std::string date = fhir::ResourceDate(r);
          if (date.empty()) date = e.created_at.substr(0, 10);
          lines.emplace_back(
              date, date.substr(0, 10) + "  " + e.section + "  " + e.author_name + "  " + fhir::Summary(r));
        }
        break;
      }
      case cli::ChartEntry::State::kNoAccess:
        ++denied;
        lines.emplace_back(
            "", "----------  " + e.section + "  " + e.author_name + "  not accessible with your keys");
        break;
      case cli::ChartEntry::State::kTampered:
        ++tampered;
        meta["detail"] = e.detail;
        lines.emplace_back("", "!!!!!!!!!!  " + e.section + "  " + e.record_id + "  TAMPERED: " + e.detail);
        break;
      case cli::ChartEntry::State::kError:
        ++errors;
        meta["detail"] = e.detail;
        lines.emplace_back("", "??????????  " + e.section + "  " + e.record_id + "  error: " + e.detail);
        break;
    }
    listing.push_back(meta);
  }
  std::sort(lines.begin(), lines.end());
  std::string human;
  for (const auto& [d, line] : lines) human += line + "\n";
  char summary[256];
  std::snprintf(
      summary, sizeof summary,
      "%zu entries: %zu opened, %zu not accessible, %zu tampered (%.2f s; %zu section keys opened%s)\n",
      entries->size(), opened, denied, tampered, secs, stats.section_keys_opened,
      o.outsourced ? ", outsourced decryption" : "");
  human += summary;
  Emit(a, human,
       {{"patient_id", pid},
        {"resources", resources},
        {"entries", listing},
        {"opened", opened},
        {"not_accessible", denied},
        {"tampered", tampered},
        {"seconds", secs},
        {"timing_ms",
         {{"list", stats.list_ms},
          {"fetch", stats.fetch_ms},
          {"abe", stats.abe_ms},
          {"transform", stats.transform_ms}}}});
  if (tampered != 0) {
    std::fprintf(stderr, "cipherchart %s: %zu record(s) failed the integrity check and are not shown\n",
                 a.command.c_str(), tampered);
    return kTampered;
  }
  if (errors != 0) return kFailed;
  return opened == 0 && denied != 0 ? kRefused : kOk;
}

int GetAttachment(Args& a, const cli::Settings& s, const std::string& pid, const std::string& record_id) {
  const std::string out = a.Get("out");
  if (out.empty()) return Die(a, kUsage, "attachment needs --out FILE");
  if (fs::exists(out)) return Die(a, kFailed, out + " exists; not overwritten");
  auto l = LoadIdentity(s);
  if (!l) return DieWith(a, l.error());
  const auto t0 = Clock::now();
  auto n = cli::FetchAttachment(s, l->account.user_id, l->wallet.id(), pid, l->wallet.keys, record_id, out);
  if (!n) return DieWith(a, n.error());
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  char t[32];
  std::snprintf(t, sizeof t, "%.2f", secs);
  Emit(a, "wrote " + out + " (" + std::to_string(*n) + " bytes, signature verified, " + t + " s)\n",
       {{"patient_id", pid}, {"record_id", record_id}, {"path", out}, {"size", *n}, {"seconds", secs}});
  return kOk;
}

int DoctorCommand(int argc, char** argv) {
  return RunRole("doctor", kDoctorUsage, argc, argv,
                 {"name", "licence", "practice-start", "practice-end", "organisation", "role", "department",
                  "fhir-bundle", "patient", "resource", "file", "attachment", "section", "out"},
                 {"outsourced"}, [](Args& a, const cli::Settings& s, const std::string& verb) {
                   if (verb == "register") return Register(a, s);
                   if (verb == "status") return Status(a, s);
                   if (verb == "fetch-keys") return FetchKeys(a, s, false);
                   if (verb == "register-patient") return RegisterPatient(a, s);
                   if (verb == "view") {
                     if (a.positional.size() != 2) return Die(a, kUsage, "view needs PATIENT_ID");
                     return ViewChart(a, s, a.positional[1]);
                   }
                   if (verb == "add") return Add(a, s);
                   if (verb == "attachment") {
                     if (a.positional.size() != 3)
                       return Die(a, kUsage, "attachment needs PATIENT_ID ATTACHMENT_ID --out FILE");
                     return GetAttachment(a, s, a.positional[1], a.positional[2]);
                   }
                   return Die(a, kUsage, "unknown command '" + verb + "' (see --help)");
                 });
}

}  // namespace cipherchart::app
