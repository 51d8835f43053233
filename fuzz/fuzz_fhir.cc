// libFuzzer target: what the CLI reads from users' files (src/fhir): the section policy file
// (first byte 0) and FHIR JSON (any other first byte) through every function the CLI applies to
// it: ParseJson, BundleResources/SplitBundle, CheckEntry for every kind, SectionOf, Summary,
// ResourceDate and Deidentify. Checks (any failure aborts): no crash or exception; every
// refusal carries a message; a split bundle keeps every resource; de-identification keeps the
// resource type.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "cipherchart/fhir/fhir.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace cipherchart;
  const std::span<const std::uint8_t> input(data, size);
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  if (data[0] == 0) {
    auto file = fhir::ParsePolicyFile(text);
    if (!file) {
      FUZZ_CHECK(!file.error().message().empty(), input);
      return 0;
    }
    for (auto section : fhir::AllSections()) {
      auto p = fhir::ExpandPolicy(*file, section, {{"patient_ns", "patient_x"}, {"org", "hospital_a"}});
      if (!p) FUZZ_CHECK(!p.error().message().empty(), input);
    }
    return 0;
  }
  auto json = fhir::ParseJson(text);
  if (!json) {
    FUZZ_CHECK(!json.error().message().empty(), input);
    return 0;
  }
  auto resources = fhir::BundleResources(*json);
  if (!resources) {
    FUZZ_CHECK(!resources.error().message().empty(), input);
  } else {
    auto split = fhir::SplitBundle(*json);
    FUZZ_CHECK(split.has_value() && split->ResourceCount() == resources->size(), input);
  }
  (void)fhir::SectionOf(*json);
  (void)fhir::Summary(*json);
  (void)fhir::ResourceDate(*json);
  for (auto kind : fhir::AllEntryKinds()) {
    auto section = fhir::CheckEntry(kind, *json);
    if (!section) FUZZ_CHECK(!section.error().message().empty(), input);
  }
  static const std::uint8_t kSalt[32] = {1, 2, 3};
  auto deid = fhir::Deidentify(*json, kSalt);
  if (!deid) {
    FUZZ_CHECK(!deid.error().message().empty(), input);
  } else if (json->is_object() && json->contains("resourceType")) {
    FUZZ_CHECK(deid->is_object() && deid->value("resourceType", nlohmann::json()) == (*json)["resourceType"],
               input);
  }
  return 0;
}
