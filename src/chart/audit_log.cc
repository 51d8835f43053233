#include "cipherchart/chart/audit_log.h"

#include <filesystem>

#include "cipherchart/common/bytes.h"
#include "cipherchart/common/hex.h"

namespace cipherchart::chart {

Result<std::optional<PinnedLog>> LoadPinnedLog(const Home& home) {
  const auto path = home.AuditStatePath();
  if (!std::filesystem::exists(path)) return std::optional<PinnedLog>();
  auto bytes = ReadFileBytes(path);
  if (!bytes) return std::unexpected(bytes.error());
  const auto st = nlohmann::json::parse(bytes->begin(), bytes->end(), nullptr, false);
  const bool well_formed = st.is_object() && st.contains("root") && st["root"].is_string() &&
                           st.contains("audit_key") && st["audit_key"].is_string() &&
                           st.contains("tree_size") && st["tree_size"].is_number_unsigned();
  auto root = well_formed ? FixedFromHex<32>(st["root"].get<std::string>()) : std::nullopt;
  auto key = well_formed ? FixedFromHex<32>(st["audit_key"].get<std::string>()) : std::nullopt;
  if (!root || !key)
    return Fail(ErrorCode::kInvalidEncoding,
                path.string() + " is malformed; remove it to pin the current log again");
  return std::optional<PinnedLog>(PinnedLog{*key, st["tree_size"].get<std::uint64_t>(), *root});
}

Result<void> SavePinnedLog(const Home& home, const PinnedLog& pin) {
  const std::string text = nlohmann::json{
      {"audit_key", ToHex(pin.audit_key)},
      {"tree_size", pin.tree_size},
      {"root",
       ToHex(pin.root)}}.dump(2);
  return WriteFilePrivate(home.AuditStatePath(), AsBytes(text));
}

std::string AuditLine(const nlohmann::json& e) {
  if (!e.is_object()) return {};
  auto text = [&](const char* k) {
    const auto it = e.find(k);
    return it != e.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  const auto t = e.find("time_ms");
  const std::int64_t ms = t != e.end() && t->is_number_integer() ? t->get<std::int64_t>() : 0;
  return UtcText(ms / 1000, "%Y-%m-%d %H:%M:%S") + "  " + text("actor") + "  " + text("action") + "  " +
         text("target") + "  " + text("outcome");
}

Result<VerifiedLog> VerifyPatientLog(ServerPort& server, const std::string& pid,
                                     const std::optional<PinnedLog>& pinned) {
  // A key or head that does not parse is what a forged log looks like, not an outage (exit 4).
  auto tampered = [](const Error& e) {
    if (e.code() != ErrorCode::kInvalidEncoding) return e;
    return Error(ErrorCode::kIntegrity, "the signed tree head is malformed: " + e.message());
  };
  auto key = server.AuditKey();
  if (!key) return std::unexpected(tampered(key.error()));
  auto head = server.Head();
  if (!head) return std::unexpected(tampered(head.error()));
  auto rows = server.PatientAudit(pid);
  if (!rows) return std::unexpected(rows.error());
  server::SignedTreeHead sth;
  sth.tree_size = head->tree_size;
  sth.timestamp_ms = head->timestamp_ms;
  sth.root = head->root;
  sth.signature = head->signature;
  if (auto v = server::VerifyTreeHead(*key, sth); !v)
    return Fail(ErrorCode::kIntegrity,
                "the audit log's signed tree head does not verify: " + v.error().message());
  VerifiedLog out;
  out.tree_size = sth.tree_size;
  out.consistency = "first run: audit key pinned";
  if (pinned) {
    const std::uint64_t m = pinned->tree_size;
    if (pinned->audit_key != *key)
      return Fail(ErrorCode::kIntegrity, "the server's audit key changed since the last run (pinned " +
                                             ToHex(pinned->audit_key) + "): the log cannot be trusted");
    if (sth.tree_size < m)
      return Fail(ErrorCode::kIntegrity, "the audit log shrank from " + std::to_string(m) + " to " +
                                             std::to_string(sth.tree_size) + " entries since the last run");
    std::vector<server::Hash> proof;
    if (m != 0 && m != sth.tree_size) {
      auto c = server.Consistency(m, sth.tree_size);
      if (!c) return Fail(ErrorCode::kIntegrity, "no consistency proof from the last head to this one");
      proof = std::move(*c);
    }
    if (auto v = server::VerifyConsistency(m, sth.tree_size, pinned->root, sth.root, proof); !v)
      return Fail(ErrorCode::kIntegrity, "the audit log of " + std::to_string(sth.tree_size) +
                                             " entries does not extend the one of " + std::to_string(m) +
                                             " seen last time: " + v.error().message());
    out.consistency =
        "extends the log of " + std::to_string(m) + " entries seen last time (consistency proof verified)";
  }
  out.pin = PinnedLog{*key, sth.tree_size, sth.root};
  for (const auto& row : *rows) {
    if (row.index >= sth.tree_size) {  // newer than the head we verified against: next time
      ++out.pending;
      continue;
    }
    auto proof = server.Inclusion(row.index, sth.tree_size);
    if (!proof)
      return Fail(ErrorCode::kIntegrity, "no inclusion proof for entry " + std::to_string(row.index));
    auto leaf = server::LeafHash(AsBytes(row.entry));
    if (!leaf) return std::unexpected(leaf.error());
    if (auto v = server::VerifyInclusion(*leaf, row.index, sth.tree_size, *proof, sth.root); !v)
      return Fail(ErrorCode::kIntegrity,
                  "audit entry " + std::to_string(row.index) + " is not in the signed log");
    out.entries.push_back({row.index, nlohmann::json::parse(row.entry, nullptr, false)});
    if (out.entries.back().entry.is_discarded()) out.entries.back().entry = nullptr;
  }
  return out;
}

}  // namespace cipherchart::chart
