// The patient's check of the access log (docs/threat-model.md, "Audit log"): the server's
// signed tree head verifies under its audit key, every entry of the patient's listing is
// proven included in it, and the head extends (RFC 9162 consistency proof) the one pinned by
// the previous check, with the audit key pinned on first use. A rewritten, shrunk or forked
// log, or a changed audit key, is kIntegrity.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cipherchart/chart/server_port.h"
#include "cipherchart/chart/wallet.h"
#include "cipherchart/server/merkle.h"

namespace cipherchart::chart {

// What the last check saw (HOME/audit-state.json).
struct PinnedLog {
  envelope::Ed25519PublicKey audit_key{};
  std::uint64_t tree_size = 0;
  server::Hash root{};
};
// None if the file does not exist; kInvalidEncoding (saying to remove it) if it is malformed.
Result<std::optional<PinnedLog>> LoadPinnedLog(const Home& home);
Result<void> SavePinnedLog(const Home& home, const PinnedLog& pin);

struct VerifiedEntry {
  std::uint64_t index = 0;
  nlohmann::json entry;  // the audit entry (parsed; null if not JSON)
};
struct VerifiedLog {
  std::vector<VerifiedEntry> entries;  // each proven included in the signed head
  std::size_t pending = 0;             // newer than the head: verified next time
  std::uint64_t tree_size = 0;
  std::string consistency;  // what was proven about the previous head, in words
  PinnedLog pin;            // to pin for the next check
};

// An audit entry as one line: "YYYY-MM-DD HH:MM:SS  actor  action  target  outcome" ("" for an
// entry that is not a JSON object).
std::string AuditLine(const nlohmann::json& entry);

Result<VerifiedLog> VerifyPatientLog(ServerPort& server, const std::string& patient_id,
                                     const std::optional<PinnedLog>& pinned);

}  // namespace cipherchart::chart
