// Test helpers: the shared FHIR data (../shared/data/fhir, see shared/data/README.md).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace cipherchart::fhir::testing {

// CIPHERCHART_SHARED_DATA from the environment, else the compile definition.
std::string SharedDataDir();

// The whole file as text; fails the current test (and returns "") if it cannot be read.
std::string ReadText(const std::string& path);

// A file of fhir/examples (e.g. "Observation-ekg.json"), parsed.
nlohmann::json Example(const std::string& name);

struct NamedBundle {
  std::string file;  // file name without directory
  nlohmann::json bundle;
};

// The 42 Synthea transaction bundles of fhir/synthea-r4 (40 patients, plus the hospital and
// practitioner bundles), sorted by file name; parsed once per process.
const std::vector<NamedBundle>& SyntheaBundles();

}  // namespace cipherchart::fhir::testing
