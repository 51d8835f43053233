// cipherchart patient | personal: the patient (enrol with the one-time code, view everything
// with passphrase + device key, share a personal view, read the access log) and family and
// friends (read what the patient shares). docs/user-guide.md.
#include <cctype>
#include <cstdlib>
#include <filesystem>

#include "apps/cipherchart/flows_common.h"
#include "cipherchart/abe/keystore.h"
#include "cipherchart/abe/maabe_serialize.h"
#include "cipherchart/abe/record.h"
#include "cipherchart/fhir/fhir.h"
#include "cipherchart/fhir/policy_file.h"
#include "cipherchart/server/merkle.h"
#include "src/envelope/wire.h"

namespace cipherchart::app {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kPatientUsage =
    "usage: cipherchart patient <command> [options]\n"
    "\n"
    "  enrol PATIENT_ID (--code-file FILE | --code CODE)\n"
    "                 (or CIPHERCHART_ENROLMENT_CODE; --code is visible to other local users)\n"
    "                 take ownership of the record with the one-time code; makes the keystore,\n"
    "                 opened by the passphrase plus the device key file (the second factor,\n"
    "                 HOME/device.key or --device-key FILE)\n"
    "  view [--json]  the whole record\n"
    "  attachment ATTACHMENT_ID --out FILE\n"
    "                 download and decrypt one attachment (a.<hex>, from a DocumentReference's url)\n"
    "  share USER --sections S1,S2   give a family member or friend (a 'personal' account) keys of\n"
    "                 the personal domain and send them the personal view of those sections\n"
    "                 (default: the policy file's [personal] sections)\n"
    "  unshare USER   stop sharing: no later view is made for them\n"
    "  resend         send every member a fresh personal view\n"
    "  log            the access log of the record, every entry's inclusion proof verified\n"
    "\n"
    "common options: --home DIR, --server HOST:PORT, --ca-file PEM, --trust-file TOML,\n"
    "  --passphrase-file FILE (or CIPHERCHART_PASSPHRASE), --device-key FILE, --json, --help\n"
    "exit codes: 0 ok, 1 failed, 2 usage, 3 refused, 4 tampered record or log, 5 wrong passphrase\n"
    "  or second factor\n";

constexpr const char* kPersonalUsage =
    "usage: cipherchart personal <command> [options]\n"
    "\n"
    "  register --name NAME   make an identity (a patient-role account without a record)\n"
    "  fetch-keys             install the keys a patient shared\n"
    "  view [--json]          the personal views patients sent, decrypted\n"
    "\n"
    "common options as for 'cipherchart patient' (no device key).\n";

using envelope::internal::AsBytes;

Result<std::vector<std::uint8_t>> TakeBlob(std::span<const std::uint8_t>& in) {
  if (in.size() < 4) return Fail(ErrorCode::kInvalidEncoding, "owner-authority: truncated");
  const std::size_t n =
      (std::size_t{in[0]} << 24) | (std::size_t{in[1]} << 16) | (std::size_t{in[2]} << 8) | in[3];
  if (n > in.size() - 4)
    return Fail(ErrorCode::kInvalidEncoding, "owner-authority: blob longer than the record");
  std::vector<std::uint8_t> out(in.begin() + 4, in.begin() + 4 + static_cast<std::ptrdiff_t>(n));
  in = in.subspan(4 + n);
  return out;
}

// The one-time code from --code-file, --code (visible in `ps` and shell history) or
// CIPHERCHART_ENROLMENT_CODE, as printed: Crockford base32 in groups, read
// case-insensitively with its look-alikes (O = 0, I and L = 1) and spaces ignored.
Result<std::string> EnrolmentCode(const Args& a) {
  std::string raw;
  if (!a.Get("code-file").empty()) {
    auto bytes = cli::ReadFileBytes(a.Get("code-file"));
    if (!bytes) return std::unexpected(bytes.error());
    raw.assign(bytes->begin(), bytes->end());
    std::fill(bytes->begin(), bytes->end(), 0);
  } else if (!a.Get("code").empty()) {
    raw = a.Get("code");
  } else if (const char* env = std::getenv("CIPHERCHART_ENROLMENT_CODE"); env != nullptr) {
    raw = env;
  }
  std::string code;
  for (char c : raw) {
    if (std::isspace(static_cast<unsigned char>(c)) != 0) continue;
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (c == 'O') c = '0';
    if (c == 'I' || c == 'L') c = '1';
    code.push_back(c);
  }
  std::fill(raw.begin(), raw.end(), '\0');
  if (code.empty())
    return Fail(ErrorCode::kInvalidArgument,
                "enrol needs the one-time code: --code-file FILE, CIPHERCHART_ENROLMENT_CODE or --code CODE");
  return code;
}

int Enrol(Args& a, const cli::Settings& s) {
  if (a.positional.size() != 2) return Die(a, kUsage, "enrol needs PATIENT_ID and the one-time code");
  auto code_text = EnrolmentCode(a);
  if (!code_text) return Die(a, kUsage, code_text.error().message());
  const std::string pid = a.positional[1];
  if (cli::WalletExists(s)) return Die(a, kFailed, s.home.string() + " already holds an identity");
  if (auto r = cli::CreateDeviceKey(s); !r) return DieWith(a, r.error());
  auto pass = cli::WalletPassphrase(s, true, true);
  if (!pass) return DieWith(a, pass.error());
  cli::Wallet w;
  auto acc = RegisterAccount(s, "patient", "", json::object(), w);
  if (!acc) return DieWith(a, acc.error());
  auto sess = cli::Session::Login(s, acc->user_id, w.id());
  if (!sess) return DieWith(a, sess.error());
  auto proof = cli::EnrolmentProof(*code_text);
  if (!proof) return DieWith(a, proof.error());
  auto r = sess->Json("POST", "/v1/patients/" + pid + "/enrol", {{"code", *proof}});
  if (!r) return DieWith(a, r.error());
  // A used or wrong code is a refusal (exit 3), not a failure.
  if (r->status == 409 || r->status == 403) return Die(a, kRefused, "enrolment: " + r->Describe());
  if (!r->ok()) return DieWith(a, ApiError("enrolment", *r));
  // The personal-domain authority the registering doctor sealed under the code.
  auto rec = sess->Get("/v1/patients/" + pid + "/records/" + std::string(cli::kOwnerAuthorityRecord));
  if (!rec) return DieWith(a, rec.error());
  if (!rec->ok()) return DieWith(a, ApiError("the sealed personal authority", *rec));
  std::span<const std::uint8_t> in = AsBytes(rec->raw);
  auto fame_blob = TakeBlob(in);
  auto ma_blob = TakeBlob(in);
  if (!fame_blob || !ma_blob) return Die(a, kTampered, "the sealed personal authority is malformed");
  const SecretBytes code(AsBytes(*code_text));
  std::fill(code_text->begin(), code_text->end(), '\0');
  auto ma = abe::OpenMultiAuthorityMasterKey(*ma_blob, code);
  if (!ma)
    return Die(a, kTampered,
               "the sealed personal authority does not open with this code: " + ma.error().message());
  const std::string ns = cli::PatientNamespace(pid);
  if (ma->pk.authority_namespace != ns)
    return Die(a, kTampered, "the sealed personal authority is for another record");
  // The sealed key must be the one every encryptor uses: the published owner-directory entry.
  auto roots = cli::LoadTrustedRoots(s);
  if (!roots) return DieWith(a, roots.error());
  std::vector<std::string> warnings;
  auto dir = cli::LoadDirectory(*sess, *roots, pid, warnings);
  if (!dir) return DieWith(a, dir.error());
  const auto published = dir->entries().find(ns);
  auto sealed_pk = abe::maabe::Serialize(ma->pk);
  if (published == dir->entries().end() || !sealed_pk)
    return Die(a, kTampered, "the record's personal authority is not in the directory");
  auto published_pk = abe::maabe::Serialize(published->second.public_key);
  if (!published_pk || *published_pk != *sealed_pk)
    return Die(a, kTampered, "the sealed personal authority does not match the published one");
  auto owner = abe::maabe::KeyGen(*ma, acc->user_id, {ns + ".owner"});
  if (!owner) return DieWith(a, owner.error());
  w.keys.gid = acc->user_id;
  if (auto k = abe::maabe::AddKeys(w.keys, *owner); !k) return DieWith(a, k.error());
  w.personal_authority = ma->msk;
  acc->patient_id = pid;
  if (auto x = cli::SaveWallet(s, w, *pass); !x) return DieWith(a, x.error());
  if (auto x = cli::SaveAccount(s, *acc); !x) return DieWith(a, x.error());
  if (auto x = cli::SaveSettings(s); !x) return DieWith(a, x.error());
  // The sealed copy has served its purpose: delete it, so that whoever sees the code later (it
  // was on paper, in a shell history) finds nothing to open. Its author may have kept the keys:
  // docs/threat-model.md.
  auto del =
      sess->Json("DELETE", "/v1/patients/" + pid + "/records/" + std::string(cli::kOwnerAuthorityRecord));
  if (!del || !del->ok())
    std::fprintf(stderr, "warning: the sealed personal authority could not be deleted from the server: %s\n",
                 del ? del->Describe().c_str() : del.error().message().c_str());
  Emit(a,
       "enrolled as the owner of " + pid + " (account " + acc->user_id + ")\nsecond factor: " + s.device_key +
           " (keep it on this device; the passphrase alone does not open the keystore)\n",
       {{"patient_id", pid}, {"user_id", acc->user_id}, {"device_key", s.device_key}});
  return kOk;
}

fs::path SharesFile(const cli::Settings& s) { return s.home / "shares.json"; }

json LoadShares(const cli::Settings& s) {
  auto b = cli::ReadFileBytes(SharesFile(s));
  if (!b) return json::object();
  auto j = json::parse(b->begin(), b->end(), nullptr, false);
  return j.is_object() ? j : json::object();
}

Result<void> SaveShares(const cli::Settings& s, const json& j) {
  const std::string t = j.dump(2);
  return cli::WriteFilePrivate(SharesFile(s), AsBytes(t));
}

// Sends each member a personal view: the shared sections' resources, sealed under the policy
// "patient_<id>.member:<user id>" of the patient's own authority and signed by the patient.
Result<json> SendViews(const cli::Settings& s, const Loaded& l, const json& shares) {
  json sent = json::array();
  if (shares.empty()) return sent;
  const std::string pid = l.account.patient_id;
  auto sess = LoginAs(s, l);
  if (!sess) return std::unexpected(sess.error());
  std::vector<std::string> warnings;
  auto dir = cli::LoadDirectory(*sess, {}, pid, warnings);
  if (!dir) return std::unexpected(dir.error());
  // One read of every shared section, then one view per member.
  cli::ReadOptions o;
  for (const auto& [uid, sections] : shares.items())
    for (const auto& sec : sections) o.sections.insert(sec.get<std::string>());
  auto entries = cli::ReadChart(s, l.account.user_id, l.wallet.id(), pid, l.wallet.keys, o);
  if (!entries) return std::unexpected(entries.error());
  for (const auto& [uid, sections] : shares.items()) {
    std::set<std::string> wanted;
    for (const auto& sec : sections) wanted.insert(sec.get<std::string>());
    json resources = json::array();
    for (const auto& e : *entries)
      if (e.state == cli::ChartEntry::State::kOpened && wanted.count(e.section) != 0)
        for (const auto& r : e.payload["resources"]) resources.push_back(r);
    auto policy = abe::ParsePolicy(cli::PatientNamespace(pid) + ".member:" + uid);
    if (!policy) return std::unexpected(policy.error());
    const std::string payload =
        json{{"patient_id", pid}, {"sections", sections}, {"resources", resources}}.dump();
    // The version is the send time, so a member keeps the newest view of each patient.
    auto sealed = abe::SealRecordSection(*dir, cli::NowSeconds(), **policy, "personal-view",
                                         cli::NowSeconds(), AsBytes(payload), l.wallet.id());
    if (!sealed) return std::unexpected(sealed.error());
    auto r = sess->PutBytes("POST", "/v1/users/" + uid + "/keys", *sealed);
    if (!r) return std::unexpected(r.error());
    if (!r->ok()) return std::unexpected(ApiError("sending the personal view to " + uid, *r));
    sent.push_back({{"user_id", uid}, {"resources", resources.size()}});
  }
  return sent;
}

int Share(Args& a, const cli::Settings& s, bool resend_only) {
  auto l = LoadIdentity(s);
  if (!l) return DieWith(a, l.error());
  if (!l->wallet.personal_authority) return Die(a, kFailed, "this home is not an enrolled patient");
  json shares = LoadShares(s);
  if (!resend_only) {
    if (a.positional.size() != 2) return Die(a, kUsage, "share needs the USER id of a personal account");
    const std::string uid = a.positional[1];
    std::vector<std::string> sections;
    if (!a.Get("sections").empty()) {
      std::string list = a.Get("sections");
      for (std::size_t at = 0; at <= list.size();) {
        const auto comma = std::min(list.find(',', at), list.size());
        const std::string sec = list.substr(at, comma - at);
        if (auto p = fhir::ParseSection(sec); !p) return Die(a, kUsage, p.error().message());
        sections.push_back(sec);
        at = comma + 1;
      }
    } else {
      auto pf = s.policy_file.empty() ? Result<fhir::PolicyFile>(fhir::DefaultPolicyFile())
                                      : fhir::LoadPolicyFile(s.policy_file);
      if (!pf) return DieWith(a, pf.error());
      for (auto sec : pf->personal_sections) sections.emplace_back(fhir::SectionName(sec));
    }
    auto sess = LoginAs(s, *l);
    if (!sess) return DieWith(a, sess.error());
    auto member = cli::LookUpAccount(*sess, uid);
    if (!member) return DieWith(a, member.error());
    if (member->role != "patient") return Die(a, kRefused, uid + " is not a personal (patient-role) account");
    const auto& personal = l->wallet.personal_authority;
    if (!personal.has_value()) return Die(a, kFailed, "this home is not an enrolled patient");
    auto ma = abe::maabe::FromMasterKey(*personal);
    if (!ma) return DieWith(a, ma.error());
    auto keys = abe::maabe::KeyGen(*ma, uid, {ma->pk.authority_namespace + ".member:" + uid});
    if (!keys) return DieWith(a, keys.error());
    // Signed by the patient, the personal domain's authority.
    if (auto sent = SendAttributeKeys(*sess, *member, *keys, l->wallet.id()); !sent)
      return DieWith(a, sent.error());
    shares[uid] = sections;
    if (auto x = SaveShares(s, shares); !x) return DieWith(a, x.error());
  }
  auto sent = SendViews(s, *l, shares);
  if (!sent) return DieWith(a, sent.error());
  std::string human;
  for (const auto& x : *sent)
    human += "personal view sent to " + x["user_id"].get<std::string>() + " (" +
             std::to_string(x["resources"].get<std::size_t>()) + " resources)\n";
  Emit(a, human.empty() ? "nobody to send to\n" : human, {{"sent", *sent}});
  return kOk;
}

int Unshare(Args& a, const cli::Settings& s) {
  if (a.positional.size() != 2) return Die(a, kUsage, "unshare needs the USER id");
  json shares = LoadShares(s);
  const std::string uid = a.positional[1];
  if (!shares.contains(uid)) return Die(a, kFailed, uid + " is not shared with");
  shares.erase(uid);
  if (auto x = SaveShares(s, shares); !x) return DieWith(a, x.error());
  Emit(a,
       "stopped sharing with " + uid +
           ": no later view is made for them (views already delivered stay readable by them)\n",
       {{"user_id", uid}, {"shared", false}});
  return kOk;
}

int Log(Args& a, const cli::Settings& s) {
  auto l = LoadIdentity(s);
  if (!l) return DieWith(a, l.error());
  auto sess = LoginAs(s, *l);
  if (!sess) return DieWith(a, sess.error());
  const std::string pid = l->account.patient_id;
  auto server = sess->Get("/v1/server");
  auto head = sess->Get("/v1/audit/head");
  auto entries = sess->Get("/v1/patients/" + pid + "/audit");
  if (!server || !head || !entries) return Die(a, kFailed, "cannot read the audit log");
  if (!entries->ok()) return DieWith(a, ApiError("audit log", *entries));
  auto key = FromHex(server->body.value("audit_key", ""));
  auto root = FromHex(head->body.value("root", ""));
  auto sig = FromHex(head->body.value("signature", ""));
  if (!key || key->size() != 32 || !root || root->size() != 32 || !sig || sig->size() != 64)
    return Die(a, kTampered, "the signed tree head is malformed");
  server::SignedTreeHead sth;
  sth.tree_size = head->body.value("tree_size", 0ULL);
  sth.timestamp_ms = head->body.value("timestamp", 0LL);
  std::copy(root->begin(), root->end(), sth.root.begin());
  std::copy(sig->begin(), sig->end(), sth.signature.begin());
  envelope::Ed25519PublicKey audit_key{};
  std::copy(key->begin(), key->end(), audit_key.begin());
  if (auto v = server::VerifyTreeHead(audit_key, sth); !v)
    return Die(a, kTampered, "the audit log's signed tree head does not verify: " + v.error().message());
  // What the last run saw (HOME/audit-state.json): the audit key is pinned on first use, and
  // the new head must extend the last one (RFC 9162 consistency proof), so a server that
  // rewrites, truncates or forks its log between two runs is caught.
  const fs::path state_path = s.home / "audit-state.json";
  std::string consistency = "first run: audit key pinned";
  if (fs::exists(state_path)) {
    auto bytes = cli::ReadFileBytes(state_path.string());
    if (!bytes) return DieWith(a, bytes.error());
    const json st = json::parse(bytes->begin(), bytes->end(), nullptr, false);
    const bool well_formed = st.is_object() && st.contains("root") && st["root"].is_string() &&
                             st.contains("audit_key") && st["audit_key"].is_string() &&
                             st.contains("tree_size") && st["tree_size"].is_number_unsigned();
    auto old_root = well_formed ? FromHex(st["root"].get<std::string>()) : std::nullopt;
    if (!old_root || old_root->size() != 32)
      return Die(a, kFailed, state_path.string() + " is malformed; remove it to pin the current log again");
    const auto m = st["tree_size"].get<std::uint64_t>();
    if (st.value("audit_key", "") != ToHex(audit_key))
      return Die(a, kTampered,
                 "the server's audit key changed since the last run (pinned " + st.value("audit_key", "") +
                     "): the log cannot be trusted");
    if (sth.tree_size < m)
      return Die(a, kTampered,
                 "the audit log shrank from " + std::to_string(m) + " to " + std::to_string(sth.tree_size) +
                     " entries since the last run");
    server::Hash root_m{};
    std::copy(old_root->begin(), old_root->end(), root_m.begin());
    std::vector<server::Hash> proof;
    if (m != 0 && m != sth.tree_size) {
      auto c = sess->Get("/v1/audit/consistency?first=" + std::to_string(m) +
                         "&second=" + std::to_string(sth.tree_size));
      if (!c || !c->ok()) return Die(a, kTampered, "no consistency proof from the last head to this one");
      for (const auto& h : c->body["proof"]) {
        auto b = h.is_string() ? FromHex(h.get<std::string>()) : std::nullopt;
        if (!b || b->size() != 32) return Die(a, kTampered, "malformed consistency proof");
        server::Hash x{};
        std::copy(b->begin(), b->end(), x.begin());
        proof.push_back(x);
      }
    }
    if (auto v = server::VerifyConsistency(m, sth.tree_size, root_m, sth.root, proof); !v)
      return Die(a, kTampered,
                 "the audit log of " + std::to_string(sth.tree_size) +
                     " entries does not extend the one of " + std::to_string(m) +
                     " seen last time: " + v.error().message());
    consistency =
        "extends the log of " + std::to_string(m) + " entries seen last time (consistency proof verified)";
  }
  const std::string state_text =
      json{{"audit_key", ToHex(audit_key)}, {"tree_size", sth.tree_size}, {"root", ToHex(sth.root)}}.dump(2);
  if (auto w = cli::WriteFilePrivate(state_path.string(), AsBytes(state_text)); !w)
    return DieWith(a, w.error());
  json out = json::array();
  std::string human;
  std::size_t verified = 0, pending = 0;
  for (const auto& e : entries->body["entries"]) {
    const std::uint64_t index = e.value("index", 0ULL);
    const std::string text = e.value("entry", "");
    if (index >= sth.tree_size) {  // newer than the head we verified against: next time
      ++pending;
      continue;
    }
    auto proof = sess->Get("/v1/audit/inclusion?index=" + std::to_string(index) +
                           "&tree_size=" + std::to_string(sth.tree_size));
    if (!proof || !proof->ok())
      return Die(a, kTampered, "no inclusion proof for entry " + std::to_string(index));
    std::vector<server::Hash> path;
    for (const auto& h : proof->body["path"]) {
      auto b = FromHex(h.get<std::string>());
      if (!b || b->size() != 32) return Die(a, kTampered, "malformed inclusion proof");
      server::Hash x{};
      std::copy(b->begin(), b->end(), x.begin());
      path.push_back(x);
    }
    auto leaf = server::LeafHash(AsBytes(text));
    if (!leaf) return DieWith(a, leaf.error());
    if (auto v = server::VerifyInclusion(*leaf, index, sth.tree_size, path, sth.root); !v)
      return Die(a, kTampered, "audit entry " + std::to_string(index) + " is not in the signed log");
    ++verified;
    const json entry = json::parse(text, nullptr, false);
    out.push_back({{"index", index}, {"entry", entry}, {"verified", true}});
    if (entry.is_object()) {
      const std::string when = cli::UtcText(entry.value("time_ms", 0LL) / 1000, "%Y-%m-%d %H:%M:%S");
      human += when + "  " + entry.value("actor", "") + "  " + entry.value("action", "") + "  " +
               entry.value("target", "") + "  " + entry.value("outcome", "") + "\n";
    }
  }
  human += std::to_string(verified) + " entries, each proven included in the signed log of " +
           std::to_string(sth.tree_size) + " entries; the log " + consistency + "\n";
  if (pending != 0)
    human += std::to_string(pending) + " newer entries are not in a signed head yet (verified next time)\n";
  Emit(a, human,
       {{"entries", out},
        {"verified", verified},
        {"pending", pending},
        {"tree_size", sth.tree_size},
        {"consistency", consistency}});
  return kOk;
}

int PersonalRegister(Args& a, const cli::Settings& s) {
  if (a.Get("name").empty()) return Die(a, kUsage, "register needs --name");
  if (cli::WalletExists(s)) return Die(a, kFailed, s.home.string() + " already holds an identity");
  auto pass = cli::WalletPassphrase(s, false, true);
  if (!pass) return DieWith(a, pass.error());
  cli::Wallet w;
  auto acc = RegisterAccount(s, "patient", "", {{"name", a.Get("name")}}, w);
  if (!acc) return DieWith(a, acc.error());
  acc->role = "personal";
  if (auto x = cli::SaveWallet(s, w, *pass); !x) return DieWith(a, x.error());
  if (auto x = cli::SaveAccount(s, *acc); !x) return DieWith(a, x.error());
  if (auto x = cli::SaveSettings(s); !x) return DieWith(a, x.error());
  Emit(a, "registered as " + acc->user_id + " (give this id to the patient who shares with you)\n",
       {{"user_id", acc->user_id}});
  return kOk;
}

int PersonalView(Args& a, const cli::Settings& s) {
  auto l = LoadIdentity(s);
  if (!l) return DieWith(a, l.error());
  auto sess = LoginAs(s, *l);
  if (!sess) return DieWith(a, sess.error());
  auto list = sess->Get("/v1/keys");
  if (!list || !list->ok()) return Die(a, kFailed, "cannot read the mailbox");
  abe::ReaderKeys rk;
  rk.multi_authority.push_back(l->wallet.keys);
  std::map<std::string, std::pair<std::uint64_t, json>> latest;  // patient -> newest view
  std::size_t tampered = 0, denied = 0;
  for (const auto& p : list->body["packages"]) {
    auto body = sess->Get("/v1/keys/" + p.value("package_id", ""));
    if (!body || !body->ok() || !std::string_view(body->raw).starts_with("CCEN")) continue;
    auto sender = cli::LookUpAccount(*sess, p.value("sender_id", ""));
    if (!sender || sender->role != "patient") continue;
    auto header = envelope::ParseEnvelopeHeader(AsBytes(body->raw));
    if (!header) {
      ++tampered;
      continue;
    }
    auto opened = abe::OpenRecordSection(rk, AsBytes(body->raw), sender->identity_key, "personal-view",
                                         header->record_version);
    if (!opened) {
      if (opened.error().code() == ErrorCode::kIntegrity ||
          opened.error().code() == ErrorCode::kSignerMismatch)
        ++tampered;
      else
        ++denied;
      continue;
    }
    auto view = json::parse(opened->payload.begin(), opened->payload.end(), nullptr, false);
    if (!view.is_object()) continue;
    const std::string pid = view.value("patient_id", "");
    if (pid.empty() ||
        cli::PatientNamespace(pid) != opened->header.policy.substr(0, opened->header.policy.find('.')))
      continue;  // a view must be under the policy of the record it claims to be
    auto& slot = latest[pid];
    if (header->record_version >= slot.first) slot = {header->record_version, view};
  }
  std::string human;
  json views = json::array();
  for (const auto& [pid, v] : latest) {
    human += "personal view of " + pid + " (sections:";
    for (const auto& sec : v.second["sections"]) human += " " + sec.get<std::string>();
    human += ")\n";
    for (const auto& r : v.second["resources"])
      human += "  " + fhir::ResourceDate(r).substr(0, 10) + "  " + fhir::Summary(r) + "\n";
    views.push_back(v.second);
  }
  if (human.empty()) human = "no personal view readable with your keys\n";
  Emit(a, human, {{"views", views}, {"not_accessible", denied}, {"tampered", tampered}});
  if (tampered != 0) return kTampered;
  return latest.empty() ? kRefused : kOk;
}

}  // namespace

int PatientCommand(int argc, char** argv) {
  return RunRole("patient", kPatientUsage, argc, argv, {"code", "code-file", "sections", "section"},
                 {"outsourced"}, [](Args& a, const cli::Settings& s, const std::string& verb) {
                   if (verb == "enrol") return Enrol(a, s);
                   // Every other command acts on the record this home owns.
                   auto acc = cli::LoadAccount(s);
                   if (!acc) return DieWith(a, acc.error());
                   if (acc->patient_id.empty())
                     return Die(a, kRefused,
                                s.home.string() +
                                    " owns no patient record: enrol first (family and friends use "
                                    "'cipherchart personal')");
                   if (verb == "view") return ViewChart(a, s, acc->patient_id);
                   if (verb == "attachment") {
                     if (a.positional.size() != 2)
                       return Die(a, kUsage, "attachment needs ATTACHMENT_ID --out FILE");
                     return GetAttachment(a, s, acc->patient_id, a.positional[1]);
                   }
                   if (verb == "share") return Share(a, s, false);
                   if (verb == "resend") return Share(a, s, true);
                   if (verb == "unshare") return Unshare(a, s);
                   if (verb == "log") return Log(a, s);
                   return Die(a, kUsage, "unknown command '" + verb + "' (see --help)");
                 });
}

int PersonalCommand(int argc, char** argv) {
  return RunRole("personal", kPersonalUsage, argc, argv, {"name"}, {},
                 [](Args& a, const cli::Settings& s, const std::string& verb) {
                   if (verb == "register") return PersonalRegister(a, s);
                   if (verb == "fetch-keys") return FetchKeys(a, s, true);
                   if (verb == "view") return PersonalView(a, s);
                   return Die(a, kUsage, "unknown command '" + verb + "' (see --help)");
                 });
}

}  // namespace cipherchart::app
