// Sections, bundles, the round-trip comparison, entry checks and summaries, on the Synthea
// bundles and the HL7 examples of ../shared/data/fhir.
#include "cipherchart/fhir/fhir.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "src/fhir/test_util.h"

namespace cipherchart::fhir {
namespace {

using nlohmann::json;
using testing::Example;
using testing::SyntheaBundles;

// The first resource of a type in the corpus satisfying `pred`.
template <class Pred>
json FindResource(const std::string& type, Pred pred) {
  for (const auto& b : SyntheaBundles()) {
    for (const json& e : b.bundle["entry"]) {
      const json& r = e["resource"];
      if (r["resourceType"] == type && pred(r)) return r;
    }
  }
  ADD_FAILURE() << "no " << type << " found";
  return json::object();
}

json FindResource(const std::string& type) {
  return FindResource(type, [](const json&) { return true; });
}

json FindObservation(const std::string& category) {
  return FindResource("Observation",
                      [&](const json& r) { return r["category"][0]["coding"][0]["code"] == category; });
}

std::string ErrorOf(const Result<std::vector<json>>& r) { return r ? "(ok)" : r.error().message(); }
std::string ErrorOf(const Result<Section>& r) { return r ? "(ok)" : r.error().message(); }

// ---- sections -------------------------------------------------------------------------------------

TEST(FhirSections, NamesRoundTrip) {
  std::set<std::string> names;
  ASSERT_EQ(AllSections().size(), 10u);
  for (Section s : AllSections()) {
    names.insert(std::string(SectionName(s)));
    auto parsed = ParseSection(SectionName(s));
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(*parsed, s);
  }
  EXPECT_EQ(names.size(), 10u);
  EXPECT_EQ(SectionName(Section::kVitalSigns), "vital-signs");
  EXPECT_EQ(SectionName(Section::kAdministrative), "administrative");
  auto bad = ParseSection("Vital-Signs");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.error().message().find("unknown section 'Vital-Signs'"), std::string::npos);
}

TEST(FhirSections, SyntheaResources) {
  EXPECT_EQ(SectionOf(FindResource("Patient")), Section::kDemographics);
  EXPECT_EQ(SectionOf(FindObservation("vital-signs")), Section::kVitalSigns);
  EXPECT_EQ(SectionOf(FindObservation("vital-sign")), Section::kVitalSigns);
  EXPECT_EQ(SectionOf(FindObservation("laboratory")), Section::kLaboratory);
  EXPECT_EQ(SectionOf(FindObservation("imaging")), Section::kImaging);
  EXPECT_EQ(SectionOf(FindObservation("procedure")), Section::kProcedures);
  EXPECT_EQ(SectionOf(FindObservation("survey")), Section::kEncounters);
  EXPECT_EQ(SectionOf(FindObservation("exam")), Section::kEncounters);
  EXPECT_EQ(SectionOf(FindResource("DiagnosticReport")), Section::kLaboratory);
  EXPECT_EQ(SectionOf(FindResource("MedicationRequest")), Section::kPrescriptions);
  EXPECT_EQ(SectionOf(FindResource("Immunization")), Section::kPrescriptions);
  EXPECT_EQ(SectionOf(FindResource("Procedure")), Section::kProcedures);
  EXPECT_EQ(SectionOf(FindResource("ImagingStudy")), Section::kImaging);
  for (const char* t : {"Encounter", "Condition", "CarePlan", "Goal", "AllergyIntolerance"})
    EXPECT_EQ(SectionOf(FindResource(t)), Section::kEncounters) << t;
  for (const char* t : {"Claim", "ExplanationOfBenefit", "Organization", "Practitioner"})
    EXPECT_EQ(SectionOf(FindResource(t)), Section::kAdministrative) << t;
}

TEST(FhirSections, ExamplesAndEdgeCases) {
  EXPECT_EQ(SectionOf(Example("Observation-blood-pressure.json")), Section::kVitalSigns);
  EXPECT_EQ(SectionOf(Example("Observation-vitals-panel.json")), Section::kVitalSigns);
  EXPECT_EQ(SectionOf(Example("Observation-ekg.json")), Section::kProcedures);
  EXPECT_EQ(SectionOf(Example("DiagnosticReport-f201.json")), Section::kImaging);
  EXPECT_EQ(SectionOf(Example("DiagnosticReport-ultrasound.json")), Section::kImaging);
  EXPECT_EQ(SectionOf(Example("ImagingStudy-example.json")), Section::kImaging);
  EXPECT_EQ(SectionOf(Example("DocumentReference-example.json")), Section::kNotes);
  EXPECT_EQ(SectionOf(Example("MedicationRequest-medrx0302.json")), Section::kPrescriptions);
  EXPECT_EQ(SectionOf(Example("Procedure-example.json")), Section::kProcedures);
  EXPECT_EQ(SectionOf(Example("RelatedPerson-peter.json")), Section::kDemographics);
  for (const char* f :
       {"Provenance-example.json", "Consent-consent-example-basic.json", "AuditEvent-example-login.json",
        "Organization-hl7.json", "PractitionerRole-example.json"})
    EXPECT_EQ(SectionOf(Example(f)), Section::kAdministrative) << f;

  // A note-type DiagnosticReport (LOINC consult note), presentedForm-only reports, documents.
  json note = {{"resourceType", "DiagnosticReport"},
               {"category", {{{"coding", {{{"system", "http://loinc.org"}, {"code", "LP29708-2"}}}}}}},
               {"code", {{"coding", {{{"system", "http://loinc.org"}, {"code", "11488-4"}}}}}}};
  EXPECT_EQ(SectionOf(note), Section::kNotes);
  note["code"]["coding"][0]["code"] = "93000";
  EXPECT_EQ(SectionOf(note), Section::kProcedures);  // cardiology
  EXPECT_EQ(
      SectionOf(json{{"resourceType", "DiagnosticReport"}, {"presentedForm", json::array({json::object()})}}),
      Section::kNotes);
  EXPECT_EQ(SectionOf(json{{"resourceType", "DiagnosticReport"}}), Section::kLaboratory);
  json photo = {{"resourceType", "DocumentReference"},
                {"content", {{{"attachment", {{"contentType", "image/jpeg"}}}}}}};
  EXPECT_EQ(SectionOf(photo), Section::kAttachments);
  photo["type"] = {{"coding", {{{"system", "http://loinc.org"}, {"code", "34117-2"}}}}};
  EXPECT_EQ(SectionOf(photo), Section::kNotes);
  EXPECT_EQ(SectionOf(json{{"resourceType", "Binary"}}), Section::kAttachments);
  EXPECT_EQ(SectionOf(json{{"resourceType", "Media"}}), Section::kImaging);
  EXPECT_EQ(SectionOf(json{{"resourceType", "Composition"}}), Section::kNotes);

  // Observations without a recognised category.
  json obs = {{"resourceType", "Observation"},
              {"code", {{"coding", {{{"system", "http://loinc.org"}, {"code", "8867-4"}}}}}}};
  EXPECT_EQ(SectionOf(obs), Section::kVitalSigns);
  obs["code"]["coding"][0]["code"] = "2339-0";
  EXPECT_EQ(SectionOf(obs), Section::kLaboratory);
  obs["valueSampledData"] = json::object();
  EXPECT_EQ(SectionOf(obs), Section::kProcedures);
  obs["category"] = {{{"coding", {{{"code", "social-history"}}}}}};
  EXPECT_EQ(SectionOf(obs), Section::kEncounters);

  // Anything else: administrative.
  EXPECT_EQ(SectionOf(json{{"resourceType", "SomethingNew"}}), Section::kAdministrative);
  EXPECT_EQ(SectionOf(json("Patient")), Section::kAdministrative);
  EXPECT_EQ(SectionOf(json::object()), Section::kAdministrative);
}

// ---- bundles --------------------------------------------------------------------------------------

TEST(FhirBundles, EverySyntheaBundleSplitsAndRoundTrips) {
  const auto& bundles = SyntheaBundles();
  ASSERT_EQ(bundles.size(), 42u) << "40 patients + hospital + practitioner bundles in "
                                 << testing::SharedDataDir();
  std::map<Section, std::size_t> totals;
  std::size_t resources_total = 0;
  for (const auto& [file, bundle] : bundles) {
    SCOPED_TRACE(file);
    auto resources = BundleResources(bundle);
    ASSERT_TRUE(resources.has_value()) << resources.error().ToString();
    auto split = SplitBundle(bundle);
    ASSERT_TRUE(split.has_value()) << split.error().ToString();
    // Every resource is in exactly one section: the counts add up and each is where SectionOf
    // puts it.
    EXPECT_EQ(split->ResourceCount(), resources->size());
    for (const auto& [section, list] : split->sections) {
      EXPECT_FALSE(list.empty());
      for (const json& r : list) EXPECT_EQ(SectionOf(r), section);
      totals[section] += list.size();
    }
    resources_total += resources->size();

    // Reassemble the sections in reverse order into a collection bundle and read it back.
    std::vector<json> all;
    for (auto it = split->sections.rbegin(); it != split->sections.rend(); ++it)
      all.insert(all.end(), it->second.begin(), it->second.end());
    const json collection = MakeCollectionBundle(all);
    EXPECT_EQ(collection["type"], "collection");
    auto back = BundleResources(collection);
    ASSERT_TRUE(back.has_value()) << back.error().ToString();
    std::string why;
    EXPECT_TRUE(SameResources(*resources, *back, &why)) << why;
    EXPECT_TRUE(why.empty());
    // Re-parsed from text (key order and number formatting irrelevant).
    auto reparsed = ParseJson(collection.dump(2));
    ASSERT_TRUE(reparsed.has_value());
    EXPECT_TRUE(SameResources(*resources, *BundleResources(*reparsed), &why)) << why;

    // A mutated resource is detected and named.
    std::vector<json> mutated = *back;
    json& victim = mutated[mutated.size() / 2];
    victim["meta"]["versionId"] = "mutated";
    EXPECT_FALSE(SameResources(*resources, mutated, &why));
    const std::string label =
        victim["resourceType"].get<std::string>() + "/" + victim["id"].get<std::string>();
    EXPECT_NE(why.find(label + ": differs at /meta/versionId"), std::string::npos) << why;
    // A missing resource too.
    mutated = *back;
    mutated.pop_back();
    EXPECT_FALSE(SameResources(*resources, mutated, &why));
    EXPECT_NE(why.find("only in the first set"), std::string::npos) << why;
  }
  EXPECT_GT(resources_total, 9000u);
  // The corpus populates these sections (notes and attachments are not in Synthea R4).
  for (Section s :
       {Section::kDemographics, Section::kVitalSigns, Section::kLaboratory, Section::kImaging,
        Section::kPrescriptions, Section::kProcedures, Section::kEncounters, Section::kAdministrative})
    EXPECT_GT(totals[s], 0u) << SectionName(s);
}

TEST(FhirBundles, SameResourcesIsAMultisetComparison) {
  const json a = {{"resourceType", "Observation"}, {"id", "a"}, {"valueQuantity", {{"value", 1}}}};
  const json b = {{"resourceType", "Observation"}, {"id", "b"}};
  std::string why;
  EXPECT_TRUE(SameResources({a, b}, {b, a}, &why));
  EXPECT_TRUE(SameResources({}, {}, &why));
  EXPECT_FALSE(SameResources({a, a}, {a, b}, &why));
  EXPECT_NE(why.find("Observation/a"), std::string::npos) << why;
  EXPECT_FALSE(SameResources({a}, {a, b}, &why));
  EXPECT_NE(why.find("Observation/b: only in the second set"), std::string::npos) << why;
  json a2 = a;
  a2["valueQuantity"]["value"] = 1.0;  // equal as numbers
  EXPECT_TRUE(SameResources({a}, {a2}, nullptr));
  a2["valueQuantity"]["value"] = 2;
  EXPECT_FALSE(SameResources({a}, {a2}, &why));
  EXPECT_EQ(why.substr(0, why.find(" (")), "Observation/a: differs at /valueQuantity/value");
}

TEST(FhirBundles, BadBundlesHavePreciseMessages) {
  EXPECT_EQ(ErrorOf(BundleResources(json::array())), "bundle: not a JSON object");
  EXPECT_EQ(ErrorOf(BundleResources(json{{"resourceType", "Patient"}})),
            "bundle: resourceType is not \"Bundle\"");
  EXPECT_EQ(ErrorOf(BundleResources(json{{"type", "collection"}})), "bundle: no resourceType");
  EXPECT_EQ(ErrorOf(BundleResources(json{{"resourceType", "Bundle"}})), "bundle: no 'type' string");
  EXPECT_EQ(ErrorOf(BundleResources(json{{"resourceType", "Bundle"}, {"type", "history"}})),
            "bundle: type must be transaction, batch, collection, searchset or document");
  json b = {{"resourceType", "Bundle"}, {"type", "transaction"}};
  auto empty = BundleResources(b);
  ASSERT_TRUE(empty.has_value());
  EXPECT_TRUE(empty->empty());
  b["entry"] = json::object();
  EXPECT_EQ(ErrorOf(BundleResources(b)), "bundle: 'entry' is not an array");

  const json good = {{"resource", {{"resourceType", "Patient"}, {"id", "p"}}}};
  auto with = [&](const json& bad_entry) {
    json x = {{"resourceType", "Bundle"}, {"type", "batch"}, {"entry", {good, good, bad_entry}}};
    return ErrorOf(BundleResources(x));
  };
  EXPECT_EQ(with(json(3)), "bundle entry 2: not an object");
  EXPECT_EQ(with(json{{"fullUrl", "urn:uuid:x"}}), "bundle entry 2: has no resource");
  EXPECT_EQ(with(json{{"resource", "Patient"}}), "bundle entry 2: resource is not an object");
  EXPECT_EQ(with(json{{"resource", {{"id", "x"}}}}), "bundle entry 2: resource has no resourceType");
  EXPECT_EQ(with(json{{"resource", {{"resourceType", "patient"}}}}),
            "bundle entry 2: resourceType is not a resource type name ([A-Z][A-Za-z]*)");
  EXPECT_EQ(with(json{{"resource", {{"resourceType", 7}}}}),
            "bundle entry 2: resourceType is not a resource type name ([A-Z][A-Za-z]*)");

  auto split =
      SplitBundle(json{{"resourceType", "Bundle"}, {"type", "document"}, {"entry", {good, json(1)}}});
  ASSERT_FALSE(split.has_value());
  EXPECT_EQ(split.error().message(), "bundle entry 1: not an object");
}

TEST(FhirBundles, CollectionBundleFullUrls) {
  const json bundle =
      MakeCollectionBundle({json{{"resourceType", "Patient"}, {"id", "018f428e-34f6-4707-8009-5ad742f901e7"}},
                            json{{"resourceType", "Patient"}, {"id", "example"}}});
  EXPECT_EQ(bundle["entry"][0]["fullUrl"], "urn:uuid:018f428e-34f6-4707-8009-5ad742f901e7");
  EXPECT_FALSE(bundle["entry"][1].contains("fullUrl"));
  EXPECT_EQ(bundle["entry"][1]["resource"]["id"], "example");
}

TEST(FhirJson, ParseErrorsGiveOffsetsOnly) {
  auto ok = ParseJson(R"({"a": [1, 2]})");
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ((*ok)["a"][1], 2);
  auto bad = ParseJson(R"({"name": "Secret Person",)");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), ErrorCode::kInvalidEncoding);
  EXPECT_EQ(bad.error().message().find("Secret"), std::string::npos);
  EXPECT_NE(bad.error().message().find("JSON: syntax error at byte"), std::string::npos);
  const std::string deep = std::string(kMaxJsonDepth + 1, '[') + std::string(kMaxJsonDepth + 1, ']');
  auto too_deep = ParseJson(deep);
  ASSERT_FALSE(too_deep.has_value());
  EXPECT_NE(too_deep.error().message().find("nesting deeper than"), std::string::npos);
  const std::string ok_deep = std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']');
  EXPECT_TRUE(ParseJson(ok_deep).has_value());
  // fuzz_fhir: a number beyond a double's range is an error, not an uncaught exception.
  auto overflow = ParseJson(R"({"valueQuantity": {"value": 33333333333333E3333333}})");
  ASSERT_FALSE(overflow.has_value());
  EXPECT_EQ(overflow.error().code(), ErrorCode::kInvalidEncoding);
  EXPECT_EQ(overflow.error().message(), "JSON: a number is too large");
}

// ---- entries --------------------------------------------------------------------------------------

TEST(FhirEntries, KindNames) {
  for (EntryKind k : AllEntryKinds()) {
    auto parsed = ParseEntryKind(EntryKindName(k));
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(*parsed, k);
  }
  EXPECT_EQ(AllEntryKinds().size(), 5u);
  auto bad = ParseEntryKind("xray");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message(),
            "unknown entry kind 'xray' (kinds: prescription, report, ecg, imaging, surgery)");
}

TEST(FhirEntries, Prescription) {
  const json synthea = FindResource("MedicationRequest");
  auto ok = CheckEntry(EntryKind::kPrescription, synthea);
  ASSERT_TRUE(ok.has_value()) << ok.error().ToString();
  EXPECT_EQ(*ok, Section::kPrescriptions);
  // medicationReference to a contained Medication.
  auto example = CheckEntry(EntryKind::kPrescription, Example("MedicationRequest-medrx0302.json"));
  ASSERT_TRUE(example.has_value()) << example.error().ToString();

  json r = synthea;
  r.erase("subject");
  EXPECT_EQ(ErrorOf(CheckEntry(EntryKind::kPrescription, r)), "prescription: 'subject' is required");
  r = synthea;
  r["subject"] = {{"display", "someone"}};
  EXPECT_EQ(ErrorOf(CheckEntry(EntryKind::kPrescription, r)),
            "prescription: 'subject.reference' must be a non-empty string");
  r = synthea;
  r["status"] = "finished";
  EXPECT_EQ(ErrorOf(CheckEntry(EntryKind::kPrescription, r)),
            "prescription: 'status' must be one of active, on-hold, cancelled, completed, stopped, "
            "entered-in-error, draft, unknown");
  r = synthea;
  r.erase("intent");
  EXPECT_EQ(ErrorOf(CheckEntry(EntryKind::kPrescription, r)), "prescription: 'intent' is required");
  r = synthea;
  r["medicationReference"] = {{"reference", "Medication/x"}};
  EXPECT_EQ(ErrorOf(CheckEntry(EntryKind::kPrescription, r)),
            "prescription: only one of 'medicationCodeableConcept' and 'medicationReference' may be present");
  r.erase("medicationReference");
  r.erase("medicationCodeableConcept");
  EXPECT_EQ(ErrorOf(CheckEntry(EntryKind::kPrescription, r)),
            "prescription: 'medicationCodeableConcept' or 'medicationReference' is required");
  r["medicationCodeableConcept"] = {{"coding", json::array()}};
  EXPECT_EQ(ErrorOf(CheckEntry(EntryKind::kPrescription, r)),
            "prescription: 'medicationCodeableConcept' needs a non-empty text or a coding with a code");
  EXPECT_EQ(ErrorOf(CheckEntry(EntryKind::kPrescription, FindResource("Procedure"))),
            "prescription: resourceType must be MedicationRequest");
  EXPECT_EQ(ErrorOf(CheckEntry(EntryKind::kPrescription, json::array())), "prescription: not a JSON object");
}

TEST(FhirEntries, Report) {
  auto dr = CheckEntry(EntryKind::kReport, FindResource("DiagnosticReport"));
  ASSERT_TRUE(dr.has_value()) << dr.error().ToString();
  EXPECT_EQ(*dr, Section::kLaboratory);
  auto rad = CheckEntry(EntryKind::kReport, Example("DiagnosticReport-f201.json"));
  ASSERT_TRUE(rad.has_value()) << rad.error().ToString();
  EXPECT_EQ(*rad, Section::kImaging);
  auto bp = CheckEntry(EntryKind::kReport, Example("Observation-blood-pressure.json"));  // components
  ASSERT_TRUE(bp.has_value()) << bp.error().ToString();
  EXPECT_EQ(*bp, Section::kVitalSigns);
  auto panel = CheckEntry(EntryKind::kReport, Example("Observation-vitals-panel.json"));  // hasMember
  ASSERT_TRUE(panel.has_value()) << panel.error().ToString();
  auto lab = CheckEntry(EntryKind::kReport, FindObservation("laboratory"));
  ASSERT_TRUE(lab.has_value());
  EXPECT_EQ(*lab, Section::kLaboratory);

  json o = FindObservation("laboratory");
  o["valueString"] = "also";
  EXPECT_EQ(ErrorOf(CheckEntry(EntryKind::kReport, o)), "report: at most one value[x] may be present");
  o.erase("valueString");
  o.erase("valueQuantity");
  EXPECT_EQ(ErrorOf(CheckEntry(EntryKind::kReport, o)),
            "report: a value[x], 'component' or 'hasMember' is required");
  o["component"] = json::array();
  EXPECT_EQ(ErrorOf(CheckEntry(EntryKind::kReport, o)), "report: 'component' must be a non-empty array");
  o["component"] = {{{"valueQuantity", {{"value", 1}}}}};
  EXPECT_EQ(ErrorOf(CheckEntry(EntryKind::kReport, o)), "report: 'component[0].code' is required");
  json d = FindResource("DiagnosticReport");
  d.erase("code");
  EXPECT_EQ(ErrorOf(CheckEntry(EntryKind::kReport, d)), "report: 'code' is required");
  d = FindResource("DiagnosticReport");
  d["status"] = 1;
  EXPECT_EQ(ErrorOf(CheckEntry(EntryKind::kReport, d)), "report: 'status' must be a string");
  EXPECT_EQ(ErrorOf(CheckEntry(EntryKind::kReport, FindResource("Procedure"))),
            "report: resourceType must be DiagnosticReport or Observation");
}

TEST(FhirEntries, Ecg) {
  const json ekg = Example("Observation-ekg.json");
  auto ok = CheckEntry(EntryKind::kEcg, ekg);
  ASSERT_TRUE(ok.has_value()) << ok.error().ToString();
  EXPECT_EQ(*ok, Section::kProcedures);

  // A small single-lead ECG written here: 5 samples at 4 ms.
  const json tiny_ecg = {
      {"resourceType", "Observation"},
      {"status", "final"},
      {"category", {{{"coding", {{{"code", "procedure"}}}}}}},
      {"code",
       {{"coding", {{{"system", "http://loinc.org"}, {"code", "11524-6"}, {"display", "EKG study"}}}}}},
      {"subject", {{"reference", "Patient/p"}}},
      {"valueSampledData",
       {{"origin", {{"value", 0}, {"unit", "mV"}}},
        {"period", 4},
        {"dimensions", 1},
        {"data", "0.1 0.4 1.2 E -0.3"}}}};
  auto s = CheckEntry(EntryKind::kEcg, tiny_ecg);
  ASSERT_TRUE(s.has_value()) << s.error().ToString();
  EXPECT_EQ(*s, Section::kProcedures);

  json bad = ekg;
  bad["component"][1]["valueSampledData"].erase("period");
  EXPECT_EQ(ErrorOf(CheckEntry(EntryKind::kEcg, bad)),
            "ecg: component[1].valueSampledData: 'period' is required");
  bad = ekg;
  bad["component"][1]["valueSampledData"]["period"] = 0;
  EXPECT_EQ(ErrorOf(CheckEntry(EntryKind::kEcg, bad)),
            "ecg: component[1].valueSampledData: 'period' must be a positive number");
  bad = tiny_ecg;
  bad["valueSampledData"]["dimensions"] = 2;
  EXPECT_EQ(ErrorOf(CheckEntry(EntryKind::kEcg, bad)),
            "ecg: valueSampledData: 'data' has 5 samples, not a multiple of dimensions (2)");
  bad = tiny_ecg;
  bad["valueSampledData"]["data"] = "1 2 x";
  EXPECT_EQ(ErrorOf(CheckEntry(EntryKind::kEcg, bad)),
            "ecg: valueSampledData: 'data' item 3 is not a decimal or E, L, U");
  bad = tiny_ecg;
  bad["valueSampledData"]["origin"] = {{"unit", "mV"}};
  EXPECT_EQ(ErrorOf(CheckEntry(EntryKind::kEcg, bad)),
            "ecg: valueSampledData: 'origin' must be a Quantity with a numeric value");
  bad = tiny_ecg;
  bad["valueSampledData"]["dimensions"] = 0;
  EXPECT_EQ(ErrorOf(CheckEntry(EntryKind::kEcg, bad)),
            "ecg: valueSampledData: 'dimensions' must be an integer >= 1");
  bad = tiny_ecg;
  bad["valueSampledData"].erase("data");
  EXPECT_EQ(ErrorOf(CheckEntry(EntryKind::kEcg, bad)), "ecg: valueSampledData: 'data' is required");
  EXPECT_EQ(ErrorOf(CheckEntry(EntryKind::kEcg, FindObservation("vital-signs"))),
            "ecg: 'valueSampledData' (or a component with one) is required");
  EXPECT_EQ(ErrorOf(CheckEntry(EntryKind::kEcg, FindResource("DiagnosticReport"))),
            "ecg: resourceType must be Observation");
}

TEST(FhirEntries, ImagingAndSurgery) {
  for (const json& study : {FindResource("ImagingStudy"), Example("ImagingStudy-example.json")}) {
    auto ok = CheckEntry(EntryKind::kImaging, study);
    ASSERT_TRUE(ok.has_value()) << ok.error().ToString();
    EXPECT_EQ(*ok, Section::kImaging);
  }
  json study = FindResource("ImagingStudy");
  study.erase("series");  // optional
  EXPECT_TRUE(CheckEntry(EntryKind::kImaging, study).has_value());
  study["series"] = {{{"modality", {{"code", "CT"}}}}};
  EXPECT_EQ(ErrorOf(CheckEntry(EntryKind::kImaging, study)),
            "imaging: 'series[0].uid' must be a non-empty string");
  study["series"][0]["uid"] = "1.2.3";
  study["series"][0]["modality"] = {{"display", "CT"}};
  EXPECT_EQ(ErrorOf(CheckEntry(EntryKind::kImaging, study)),
            "imaging: 'series[0].modality' must be a Coding with a code");
  study.erase("subject");
  EXPECT_EQ(ErrorOf(CheckEntry(EntryKind::kImaging, study)), "imaging: 'subject' is required");
  study = FindResource("ImagingStudy");
  study["status"] = "final";
  EXPECT_EQ(ErrorOf(CheckEntry(EntryKind::kImaging, study)),
            "imaging: 'status' must be one of registered, available, cancelled, entered-in-error, unknown");

  for (const json& proc : {FindResource("Procedure"), Example("Procedure-example.json")}) {
    auto ok = CheckEntry(EntryKind::kSurgery, proc);
    ASSERT_TRUE(ok.has_value()) << ok.error().ToString();
    EXPECT_EQ(*ok, Section::kProcedures);
  }
  json proc = FindResource("Procedure");
  proc["code"] = {{"text", ""}};
  EXPECT_EQ(ErrorOf(CheckEntry(EntryKind::kSurgery, proc)),
            "surgery: 'code' needs a non-empty text or a coding with a code");
  proc["code"] = {{"text", "Appendectomy"}};
  EXPECT_TRUE(CheckEntry(EntryKind::kSurgery, proc).has_value());
  proc.erase("status");
  EXPECT_EQ(ErrorOf(CheckEntry(EntryKind::kSurgery, proc)), "surgery: 'status' is required");
}

// ---- display --------------------------------------------------------------------------------------

TEST(FhirDisplay, Summaries) {
  const json height =
      FindResource("Observation", [](const json& r) { return r["code"]["text"] == "Body Height"; });
  EXPECT_TRUE(Summary(height).starts_with("Observation Body Height ")) << Summary(height);
  EXPECT_TRUE(Summary(height).ends_with(" cm")) << Summary(height);
  json h = height;
  h["valueQuantity"]["value"] = 176.35499866729558;
  EXPECT_EQ(Summary(h), "Observation Body Height 176.4 cm");
  EXPECT_EQ(Summary(Example("Observation-blood-pressure.json")),
            "Observation Blood pressure systolic & diastolic 107/60 mmHg");
  // Systolic first whatever the component order: Synthea lists diastolic first, and
  // "87.1/105.5" would read as a systolic of 87 (issue: blood pressure the wrong way round).
  json bp = Example("Observation-blood-pressure.json");
  std::swap(bp["component"][0], bp["component"][1]);
  EXPECT_EQ(bp["component"][0]["code"]["coding"][0]["code"], "8462-4");
  EXPECT_EQ(Summary(bp), "Observation Blood pressure systolic & diastolic 107/60 mmHg");
  const json synthea_bp = FindResource("Observation", [](const json& r) {
    return r.contains("component") && r["component"].is_array() && r["component"].size() == 2 &&
           r.value(json::json_pointer("/component/0/code/coding/0/code"), std::string()) == "8462-4";
  });
  const double systolic = synthea_bp["component"][1]["valueQuantity"]["value"].get<double>();
  const double diastolic = synthea_bp["component"][0]["valueQuantity"]["value"].get<double>();
  const std::string shown = Summary(synthea_bp);
  const auto slash = shown.rfind('/');
  ASSERT_NE(slash, std::string::npos) << shown;
  const auto space = shown.rfind(' ', slash);
  EXPECT_NEAR(std::stod(shown.substr(space + 1, slash - space - 1)), systolic, 0.051) << shown;
  EXPECT_NEAR(std::stod(shown.substr(slash + 1)), diastolic, 0.051) << shown;
  EXPECT_EQ(Summary(Example("Observation-ekg.json")),
            "Observation MDC_ECG_ELEC_POTL 3 channel(s) of sampled data");

  const json med = FindResource("MedicationRequest", [](const json& r) {
    return r["medicationCodeableConcept"]["text"] == "Ibuprofen 200 MG Oral Tablet" &&
           r["status"] == "stopped";
  });
  EXPECT_EQ(Summary(med), "MedicationRequest Ibuprofen 200 MG Oral Tablet (stopped)");
  const json patient = FindResource("Patient", [](const json& r) { return r["birthDate"] == "1956-08-03"; });
  EXPECT_EQ(Summary(patient), "Patient Abdul Koepp (male, born 1956-08-03)");
  EXPECT_EQ(Summary(Example("Procedure-example.json")), "Procedure Appendectomy (completed)");
  EXPECT_EQ(Summary(Example("ImagingStudy-example.json")),
            "ImagingStudy CT of Upper Trunk Structure (1 series)");
  EXPECT_EQ(Summary(json{{"resourceType", "Condition"},
                         {"code", {{"text", "Asthma"}}},
                         {"clinicalStatus", {{"coding", {{{"code", "active"}}}}}}}),
            "Condition Asthma (active)");
  EXPECT_EQ(Summary(json{{"resourceType", "Claim"},
                         {"type", {{"coding", {{{"code", "institutional"}}}}}},
                         {"total", {{"value", 125}, {"currency", "USD"}}}}),
            "Claim institutional 125 USD");
  EXPECT_EQ(Summary(json{{"resourceType", "Basic"}, {"code", {{"text", "line1\nline2\t x"}}}}),
            "Basic line1 line2 x");
  EXPECT_EQ(Summary(json{{"resourceType", "Basic"}, {"code", {{"text", std::string(300, 'y')}}}}).size(),
            160u);
  EXPECT_EQ(Summary(json::array()), "(not a FHIR resource)");

  // Every resource of the corpus: "Type something", one line, bounded.
  for (const auto& b : SyntheaBundles()) {
    for (const json& e : b.bundle["entry"]) {
      const std::string s = Summary(e["resource"]);
      const std::string type = e["resource"]["resourceType"];
      EXPECT_TRUE(s.starts_with(type + " ")) << s;
      EXPECT_LE(s.size(), 160u);
      EXPECT_EQ(
          std::count_if(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; }), 0);
    }
  }
}

TEST(FhirDisplay, Dates) {
  EXPECT_EQ(ResourceDate(Example("Procedure-example.json")), "2013-04-05");
  EXPECT_EQ(ResourceDate(Example("Observation-blood-pressure.json")), "2012-09-17");
  EXPECT_EQ(
      ResourceDate(FindResource("Patient", [](const json& r) { return r["birthDate"] == "1956-08-03"; })),
      "1956-08-03");
  EXPECT_EQ(ResourceDate(FindResource("Procedure")),
            FindResource("Procedure")["performedPeriod"]["start"].get<std::string>());
  EXPECT_EQ(ResourceDate(FindResource("MedicationRequest")),
            FindResource("MedicationRequest")["authoredOn"].get<std::string>());
  EXPECT_EQ(ResourceDate(FindResource("Encounter")),
            FindResource("Encounter")["period"]["start"].get<std::string>());
  EXPECT_EQ(ResourceDate(FindResource("Claim")),
            FindResource("Claim")["billablePeriod"]["start"].get<std::string>());
  EXPECT_EQ(ResourceDate(FindResource("Organization")), "");
  EXPECT_EQ(ResourceDate(json("x")), "");
  // Every clinical resource of the corpus has a date.
  for (const auto& b : SyntheaBundles()) {
    for (const json& e : b.bundle["entry"]) {
      const json& r = e["resource"];
      if (r["resourceType"] == "Organization" || r["resourceType"] == "Practitioner" ||
          r["resourceType"] == "Goal")
        continue;
      EXPECT_FALSE(ResourceDate(r).empty()) << r["resourceType"];
    }
  }
}

}  // namespace
}  // namespace cipherchart::fhir
