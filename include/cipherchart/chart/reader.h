// Reading a chart (docs/architecture.md, "Data flow: a chart read"): list the records, open
// each section key the reader's attributes allow (one ABE decryption each, optionally through a
// GHW11-style transform key), then fetch and open only those sections' entries, in parallel.
// Every entry comes back with a state: opened, not accessible, tampered, or an error.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "cipherchart/abe/maabe.h"
#include "cipherchart/chart/server_port.h"

namespace cipherchart::chart {

struct ChartEntry {
  std::string record_id;
  std::uint64_t version = 0;
  std::string section;
  std::string author_id, author_name;
  std::string created_at;  // ISO 8601, UTC
  enum class State { kOpened, kNoAccess, kTampered, kError } state = State::kError;
  nlohmann::json payload;  // {"kind", "resources": [...]} once opened
  std::string detail;      // why not opened
};
// "opened", "not accessible", "tampered", "error" (the --json "state" values).
std::string_view StateName(ChartEntry::State s);

struct ReadOptions {
  bool outsourced = false;         // decrypt section keys through a transform key (RW15 outsourcing)
  int connections = 4;             // parallel downloads
  std::set<std::string> sections;  // only these (empty: all)
  std::set<std::string> skip;      // never these (the patient's view skips "research")
};

struct ReadStats {
  std::size_t records = 0, section_keys_opened = 0, entries_opened = 0;
  double list_ms = 0, fetch_ms = 0, abe_ms = 0, transform_ms = 0;
};

// Reads `patient_id`'s chart through a logged-in `server` with the reader's attribute `keys`.
// Fails only when the chart cannot be listed or a connection fails; per-entry problems are
// entry states.
Result<std::vector<ChartEntry>> ReadChart(ServerPort& server, const abe::maabe::UserKey& keys,
                                          const std::string& patient_id, const ReadOptions& options,
                                          ReadStats* stats = nullptr);

// A read chart as a front end shows it: every opened resource, one listing row per entry (the
// --json "entries"), and the history as dated one-line summaries, oldest first.
struct ChartView {
  nlohmann::json resources = nlohmann::json::array();
  nlohmann::json entries = nlohmann::json::array();
  std::vector<std::string> lines;
  std::size_t opened = 0, not_accessible = 0, tampered = 0, errors = 0;
};
ChartView Present(const std::vector<ChartEntry>& entries);

// Downloads attachment `record_id` and opens it into `out_path`: the plaintext goes to
// "<out_path>.partial" and is renamed only once the envelope's final signature has verified, so
// a tampered or truncated attachment leaves no file (kIntegrity). A reader whose keys open no
// key of the attachment's section is refused (kPermissionDenied) before anything is downloaded.
// Returns the size written.
Result<std::uint64_t> FetchAttachment(ServerPort& server, const abe::maabe::UserKey& keys,
                                      const std::string& patient_id, const std::string& record_id,
                                      const std::filesystem::path& out_path);

}  // namespace cipherchart::chart
