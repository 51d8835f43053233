// The personal domain (docs/user-guide.md, "Family and friends"): a patient gives a family
// member or friend (a 'personal' account) a key of the patient's own authority
// ("patient_<id>.member:<user id>") and sends them personal views: the shared sections'
// resources, sealed under that member's policy and signed by the patient.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "cipherchart/chart/server_port.h"
#include "cipherchart/chart/wallet.h"
#include "cipherchart/fhir/policy_file.h"

namespace cipherchart::chart {

// Whom the patient shares with: member user id -> section names. Kept in the patient's home
// (shares.json); a missing or unreadable file is no shares.
using Shares = std::map<std::string, std::vector<std::string>>;
Shares LoadShares(const Home& home);
Result<void> SaveShares(const Home& home, const Shares& shares);

// "laboratory,vital-signs" -> checked section names; empty text means the policy file's
// [personal] sections. kInvalidArgument names an unknown section.
Result<std::vector<std::string>> ParseShareSections(const std::string& list,
                                                    const fhir::PolicyFile& policies);

// Gives `member_id` a member key of the enrolled patient's authority (kPermissionDenied unless
// the account is a personal, patient-role account; kInvalidArgument if `patient` is not an
// enrolled patient).
Result<void> GrantMember(ServerPort& server, const Identity& patient, const std::string& member_id);

struct SentView {
  std::string user_id;
  std::size_t resources = 0;
};
// Reads the shared sections once and sends every member a fresh view.
Result<std::vector<SentView>> SendViews(ServerPort& server, const Identity& patient, const Shares& shares);

// What a member reads: the newest view of each patient that shared with them.
struct PersonalViews {
  std::vector<nlohmann::json> views;  // {"patient_id", "sections", "resources"}
  std::size_t not_accessible = 0, tampered = 0;
};
Result<PersonalViews> ReadPersonalViews(ServerPort& server, const Identity& member);

}  // namespace cipherchart::chart
