#include "cipherchart/chart/sharing.h"

#include <algorithm>

#include "cipherchart/abe/maabe.h"
#include "cipherchart/abe/record.h"
#include "cipherchart/chart/directory.h"
#include "cipherchart/chart/keys.h"
#include "cipherchart/chart/reader.h"
#include "cipherchart/chart/records.h"
#include "cipherchart/common/bytes.h"
#include "cipherchart/fhir/section.h"

namespace cipherchart::chart {

// Views are delivered through the mailbox as record envelopes bound to this record id; the
// version is the send time, so a member keeps the newest view of each patient.
constexpr std::string_view kPersonalViewRecord = "personal-view";

Shares LoadShares(const Home& home) {
  Shares out;
  auto b = ReadFileBytes(home.SharesPath());
  if (!b) return out;
  const auto j = nlohmann::json::parse(b->begin(), b->end(), nullptr, false);
  if (!j.is_object()) return out;
  for (const auto& [uid, sections] : j.items()) {
    if (!sections.is_array()) continue;
    auto& list = out[uid];
    for (const auto& s : sections)
      if (s.is_string()) list.push_back(s.get<std::string>());
  }
  return out;
}

Result<void> SaveShares(const Home& home, const Shares& shares) {
  const std::string text = nlohmann::json(shares).dump(2);
  return WriteFilePrivate(home.SharesPath(), AsBytes(text));
}

Result<std::vector<std::string>> ParseShareSections(const std::string& list,
                                                    const fhir::PolicyFile& policies) {
  std::vector<std::string> sections;
  if (list.empty()) {
    for (auto sec : policies.personal_sections) sections.emplace_back(fhir::SectionName(sec));
    return sections;
  }
  for (std::size_t at = 0; at <= list.size();) {
    const auto comma = std::min(list.find(',', at), list.size());
    const std::string sec = list.substr(at, comma - at);
    if (auto p = fhir::ParseSection(sec); !p) return std::unexpected(p.error());
    sections.push_back(sec);
    at = comma + 1;
  }
  return sections;
}

Result<void> GrantMember(ServerPort& server, const Identity& patient, const std::string& member_id) {
  const auto& personal = patient.wallet.personal_authority;
  if (!personal.has_value()) return Fail(ErrorCode::kInvalidArgument, "this home is not an enrolled patient");
  auto member = server.Account(member_id);
  if (!member) return std::unexpected(member.error());
  if (member->role != "patient")
    return Fail(ErrorCode::kPermissionDenied, member_id + " is not a personal (patient-role) account");
  auto ma = abe::maabe::FromMasterKey(*personal);
  if (!ma) return std::unexpected(ma.error());
  auto keys = abe::maabe::KeyGen(*ma, member_id, {ma->pk.authority_namespace + ".member:" + member_id});
  if (!keys) return std::unexpected(keys.error());
  // Signed by the patient, the personal domain's authority.
  auto sent = SendAttributeKeys(server, *member, *keys, patient.wallet.id());
  if (!sent) return std::unexpected(sent.error());
  return {};
}

Result<std::vector<SentView>> SendViews(ServerPort& server, const Identity& patient, const Shares& shares) {
  std::vector<SentView> sent;
  if (shares.empty()) return sent;
  const std::string& pid = patient.account.patient_id;
  std::vector<std::string> warnings;
  auto dir = LoadDirectory(server, {}, pid, warnings);
  if (!dir) return std::unexpected(dir.error());
  // One read of every shared section, then one view per member.
  ReadOptions o;
  for (const auto& [uid, sections] : shares) o.sections.insert(sections.begin(), sections.end());
  auto entries = ReadChart(server, patient.wallet.keys, pid, o);
  if (!entries) return std::unexpected(entries.error());
  for (const auto& [uid, sections] : shares) {
    const std::set<std::string> wanted(sections.begin(), sections.end());
    nlohmann::json resources = nlohmann::json::array();
    for (const auto& e : *entries)
      if (e.state == ChartEntry::State::kOpened && wanted.count(e.section) != 0)
        for (const auto& r : e.payload["resources"]) resources.push_back(r);
    auto policy = abe::ParsePolicy(PatientNamespace(pid) + ".member:" + uid);
    if (!policy) return std::unexpected(policy.error());
    const std::string payload =
        nlohmann::json{{"patient_id", pid}, {"sections", sections}, {"resources", resources}}.dump();
    const std::uint64_t now = NowSeconds();
    auto sealed = abe::SealRecordSection(*dir, now, **policy, std::string(kPersonalViewRecord), now,
                                         AsBytes(payload), patient.wallet.id());
    if (!sealed) return std::unexpected(sealed.error());
    if (auto r = server.PostPackage(uid, *sealed); !r) return std::unexpected(r.error());
    sent.push_back({uid, resources.size()});
  }
  return sent;
}

Result<PersonalViews> ReadPersonalViews(ServerPort& server, const Identity& member) {
  auto list = server.Packages();
  if (!list) return std::unexpected(list.error());
  abe::ReaderKeys rk;
  rk.multi_authority.push_back(member.wallet.keys);
  std::map<std::string, std::pair<std::uint64_t, nlohmann::json>> latest;  // patient -> newest view
  PersonalViews out;
  for (const auto& p : *list) {
    auto body = server.Package(p.package_id);
    if (!body || !AsText(*body).starts_with("CCEN")) continue;
    auto sender = server.Account(p.sender_id);
    if (!sender || sender->role != "patient") continue;
    auto header = envelope::ParseEnvelopeHeader(*body);
    if (!header) {
      ++out.tampered;
      continue;
    }
    auto opened = abe::OpenRecordSection(rk, *body, sender->identity_key, std::string(kPersonalViewRecord),
                                         header->record_version);
    if (!opened) {
      if (opened.error().code() == ErrorCode::kIntegrity ||
          opened.error().code() == ErrorCode::kSignerMismatch)
        ++out.tampered;
      else
        ++out.not_accessible;
      continue;
    }
    auto view = nlohmann::json::parse(opened->payload.begin(), opened->payload.end(), nullptr, false);
    // The sender is a patient account, not necessarily honest: a view of another shape is
    // refused here, so that no front end indexes a missing member.
    const bool well_formed = view.is_object() && view.contains("patient_id") &&
                             view["patient_id"].is_string() && view.contains("sections") &&
                             view["sections"].is_array() && view.contains("resources") &&
                             view["resources"].is_array() &&
                             std::all_of(view["sections"].begin(), view["sections"].end(),
                                         [](const nlohmann::json& s) { return s.is_string(); });
    if (!well_formed) {
      ++out.tampered;
      continue;
    }
    const std::string pid = view["patient_id"].get<std::string>();
    // A view must be under the policy of the record it claims to be.
    if (pid.empty() ||
        PatientNamespace(pid) != opened->header.policy.substr(0, opened->header.policy.find('.')))
      continue;
    auto& slot = latest[pid];
    if (header->record_version >= slot.first) slot = {header->record_version, view};
  }
  for (auto& [pid, v] : latest) out.views.push_back(std::move(v.second));
  return out;
}

}  // namespace cipherchart::chart
