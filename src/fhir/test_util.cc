#include "src/fhir/test_util.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cipherchart/fhir/fhir.h"

namespace cipherchart::fhir::testing {

std::string SharedDataDir() {
  if (const char* env = std::getenv("CIPHERCHART_SHARED_DATA")) return env;
#ifdef CIPHERCHART_SHARED_DATA
  return CIPHERCHART_SHARED_DATA;
#else
  return "../shared/data";
#endif
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << "cannot read " << path;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

nlohmann::json Example(const std::string& name) {
  const std::string text = ReadText(SharedDataDir() + "/fhir/examples/" + name);
  auto j = ParseJson(text);
  EXPECT_TRUE(j.has_value()) << name << ": " << (j ? "" : j.error().ToString());
  return j ? *j : nlohmann::json();
}

const std::vector<NamedBundle>& SyntheaBundles() {
  static const std::vector<NamedBundle> kBundles = [] {
    std::vector<NamedBundle> out;
    const std::filesystem::path dir = SharedDataDir() + "/fhir/synthea-r4";
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
      if (e.path().extension() != ".json") continue;
      auto j = ParseJson(ReadText(e.path().string()));
      EXPECT_TRUE(j.has_value()) << e.path() << ": " << (j ? "" : j.error().ToString());
      if (j) out.push_back({e.path().filename().string(), std::move(*j)});
    }
    std::sort(out.begin(), out.end(),
              [](const NamedBundle& a, const NamedBundle& b) { return a.file < b.file; });
    return out;
  }();
  return kBundles;
}

}  // namespace cipherchart::fhir::testing
