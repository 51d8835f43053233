// HIPAA Safe Harbor de-identification: every Synthea bundle loses the patient's identifiers
// (checked by searching the serialised output), keeps its shape, and references still resolve;
// the individual rules on small hand-written resources.
#include "cipherchart/fhir/deidentify.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "cipherchart/fhir/fhir.h"
#include "src/fhir/test_util.h"

namespace cipherchart::fhir {
namespace {

using nlohmann::json;
using testing::Example;
using testing::SyntheaBundles;

std::array<std::uint8_t, kPseudonymSaltSize> Salt(std::uint8_t seed) {
  std::array<std::uint8_t, kPseudonymSaltSize> s{};
  for (std::size_t i = 0; i < s.size(); ++i) s[i] = static_cast<std::uint8_t>(seed * 31 + i);
  return s;
}

constexpr DeidentifyOptions kAt2019{.reference_year = 2019};

json Deid(const json& r, std::uint8_t seed = 1) {
  auto out = Deidentify(r, Salt(seed), kAt2019);
  EXPECT_TRUE(out.has_value()) << out.error().ToString();
  return out ? *out : json();
}

// Calls f on every string value (not keys) in j.
void ForEachString(const json& j, const std::function<void(const std::string&)>& f) {
  if (j.is_string()) {
    f(j.get_ref<const std::string&>());
  } else if (j.is_structured()) {
    for (const json& v : j) ForEachString(v, f);
  }
}

bool IsWordChar(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// Whether `needle` occurs in `text` as a whole word (not inside a longer word or number).
bool ContainsWord(const std::string& text, const std::string& needle) {
  for (std::size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    const bool left = at == 0 || !IsWordChar(text[at - 1]);
    const std::size_t end = at + needle.size();
    const bool right = end >= text.size() || !IsWordChar(text[end]);
    if (left && right) return true;
  }
  return false;
}

// YYYY-MM at the start of a string: a date more precise than a year.
bool HasMonth(const std::string& s) {
  auto digit = [&](std::size_t i) { return i < s.size() && s[i] >= '0' && s[i] <= '9'; };
  return digit(0) && digit(1) && digit(2) && digit(3) && s.size() > 6 && s[4] == '-' && digit(5) && digit(6);
}

TEST(FhirDeidentify, Arguments) {
  std::vector<std::uint8_t> short_salt(16);
  auto bad = Deidentifier::Create(short_salt);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message(), "de-identification: the salt must be 32 bytes, not 16");
  EXPECT_FALSE(Deidentifier::Create(Salt(1), {.reference_year = -1}).has_value());
  EXPECT_FALSE(Deidentifier::Create(Salt(1), {.reference_year = 10000}).has_value());
  EXPECT_TRUE(Deidentifier::Create(Salt(1)).has_value());
  // Only resources are de-identified (fuzz_fhir found an array resourceType turned into
  // something else): anything else is refused with a message.
  for (const char* text :
       {R"({"resourceType": [{"resource": {"resourceType": "Patient", "name": [{"family": "Doe"}]}}]})",
        R"({"name": [{"family": "Doe"}]})", R"([1, 2])", R"("Patient")"}) {
    auto r = Deidentify(nlohmann::json::parse(text), Salt(1));
    ASSERT_FALSE(r.has_value()) << text;
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(r.error().message().find("not a FHIR resource"), std::string::npos);
  }
}

TEST(FhirDeidentify, SyntheaBundlesLoseTheirIdentifiers) {
  const auto salt = Salt(7);
  std::size_t patients = 0;
  std::size_t over_89 = 0;
  for (const auto& [file, bundle] : SyntheaBundles()) {
    SCOPED_TRACE(file);
    auto resources = BundleResources(bundle);
    ASSERT_TRUE(resources.has_value());
    auto deid = DeidentifyAll(*resources, salt, kAt2019);
    ASSERT_TRUE(deid.has_value()) << deid.error().ToString();
    ASSERT_EQ(deid->size(), resources->size());

    // What must not survive: the patient's names, address, phone, identifiers, birth date, and
    // every original resource id.
    std::set<std::string> words;
    std::set<std::string> exact;
    for (const json& r : *resources) {
      exact.insert(r["id"].get<std::string>());
      if (r["resourceType"] != "Patient") continue;
      ++patients;
      for (const json& n : r["name"]) {
        words.insert(n["family"].get<std::string>());
        for (const json& g : n["given"]) words.insert(g.get<std::string>());
      }
      for (const json& a : r["address"]) {
        for (const json& l : a["line"]) exact.insert(l.get<std::string>());
        words.insert(a["city"].get<std::string>());
        words.insert(a["postalCode"].get<std::string>());
      }
      for (const json& t : r["telecom"]) exact.insert(t["value"].get<std::string>());
      for (const json& i : r["identifier"]) exact.insert(i["value"].get<std::string>());
      exact.insert(r["birthDate"].get<std::string>());
      for (const json& e : r["extension"]) {
        if (e.contains("valueString") && e["url"].get<std::string>().ends_with("mothersMaidenName"))
          exact.insert(e["valueString"].get<std::string>());
      }
    }
    std::string text;
    for (const json& r : *deid) text += r.dump() + "\n";
    for (const std::string& w : words) EXPECT_FALSE(ContainsWord(text, w)) << "'" << w << "' survived";
    for (const std::string& x : exact) EXPECT_EQ(text.find(x), std::string::npos) << "'" << x << "' survived";

    // Dates are years; the resources per type are unchanged.
    std::map<std::string, int> before;
    std::map<std::string, int> after;
    for (const json& r : *resources) ++before[r["resourceType"]];
    for (const json& r : *deid) ++after[r["resourceType"]];
    EXPECT_EQ(before, after);
    for (const json& r : *deid) {
      ForEachString(
          r, [&](const std::string& s) { EXPECT_FALSE(HasMonth(s)) << s << " in " << r["resourceType"]; });
      EXPECT_FALSE(r.contains("text"));
      EXPECT_FALSE(r.contains("identifier"));
    }

    // References that resolved inside the bundle still resolve (to the pseudonymous ids).
    auto resolved = [](const std::vector<json>& rs) {
      std::set<std::string> ids;
      for (const json& r : rs) ids.insert("urn:uuid:" + r["id"].get<std::string>());
      std::size_t hits = 0;
      std::function<void(const json&)> walk = [&](const json& j) {
        if (j.is_object()) {
          for (const auto& [k, v] : j.items()) {
            if (k == "reference" && v.is_string() && ids.contains(v.get<std::string>())) ++hits;
            walk(v);
          }
        } else if (j.is_array()) {
          for (const json& v : j) walk(v);
        }
      };
      for (const json& r : rs) walk(r);
      return hits;
    };
    EXPECT_EQ(resolved(*deid), resolved(*resources));

    // Patients: the over-89 rule (at 2019) and the kept coarse data.
    for (const json& r : *deid) {
      if (r["resourceType"] != "Patient") continue;
      const json& orig = *std::find_if(resources->begin(), resources->end(),
                                       [](const json& x) { return x["resourceType"] == "Patient"; });
      const int birth_year = std::stoi(orig["birthDate"].get<std::string>().substr(0, 4));
      int at = 2019;
      if (orig.contains("deceasedDateTime"))
        at = std::stoi(orig["deceasedDateTime"].get<std::string>().substr(0, 4));
      bool flagged = false;
      for (const json& e : r.value("extension", json::array()))
        flagged = flagged || e["url"] == kAgeOver89ExtensionUrl;
      if (at - birth_year >= 90) {
        ++over_89;
        EXPECT_FALSE(r.contains("birthDate"));
        EXPECT_TRUE(flagged);
      } else {
        EXPECT_EQ(r["birthDate"], orig["birthDate"].get<std::string>().substr(0, 4));
        EXPECT_FALSE(flagged);
      }
      EXPECT_EQ(r["gender"], orig["gender"]);
      EXPECT_EQ(r["address"][0]["state"], orig["address"][0]["state"]);
      EXPECT_EQ(r["address"][0].size(), 2u);  // state, country
      EXPECT_FALSE(r.contains("name"));
      EXPECT_FALSE(r.contains("telecom"));
      EXPECT_FALSE(r.contains("multipleBirthBoolean"));
      EXPECT_TRUE(r.contains("maritalStatus"));
    }
  }
  EXPECT_EQ(patients, 40u);
  EXPECT_GE(over_89, 1u);  // born in 1924 and alive in 2019
}

TEST(FhirDeidentify, PseudonymsAreStableAndSalted) {
  const json obs = {{"resourceType", "Observation"},
                    {"id", "018f428e-34f6-4707-8009-5ad742f901e7"},
                    {"subject", {{"reference", "urn:uuid:018f428e-34f6-4707-8009-5ad742f901e7"}}},
                    {"performer", {{{"reference", "Practitioner/example/_history/2"}}}},
                    {"specimen", {{"reference", "https://fhir.example.org/r4/Specimen/s1"}}},
                    {"device", {{"reference", "Device?identifier=http://x|123"}}},
                    {"hasMember", {{{"reference", "#local"}}}}};
  const json a = Deid(obs, 1);
  EXPECT_EQ(a, Deid(obs, 1));
  const json b = Deid(obs, 2);
  EXPECT_NE(a["id"], b["id"]);
  auto d = Deidentifier::Create(Salt(1), kAt2019);
  ASSERT_TRUE(d.has_value());
  const std::string p = *d->PseudonymId("018f428e-34f6-4707-8009-5ad742f901e7");
  // Appending (not "a" + b): GCC 12 reports a false -Wrestrict for the latter.
  auto cat = [](std::string a, const std::string& b) { return a.append(b); };
  EXPECT_EQ(a["id"], p);
  EXPECT_EQ(p.size(), 36u);
  EXPECT_EQ(p[14], '8');  // version 8 UUID
  EXPECT_EQ(a["subject"]["reference"], cat("urn:uuid:", p));
  EXPECT_EQ(a["performer"][0]["reference"], cat("Practitioner/", *d->PseudonymId("example")));
  EXPECT_EQ(a["specimen"]["reference"], cat("Specimen/", *d->PseudonymId("s1")));
  EXPECT_TRUE(a["device"]["reference"].get<std::string>().starts_with("Device/"));
  EXPECT_EQ(a["device"]["reference"].get<std::string>().find("123"), std::string::npos);
  EXPECT_EQ(a["hasMember"][0]["reference"], cat("#", *d->PseudonymId("local")));
}

TEST(FhirDeidentify, PatientExample) {
  const json p = Example("Patient-example.json");
  const json d = Deid(p);
  const std::string text = d.dump();
  for (const char* gone : {"Chalmers", "Peter", "Jim", "534 Erewhon St", "PleasantVille", "3999",
                           "(03) 5555 6473", "12345", "Bénédicte", "1974-12-25"})
    EXPECT_EQ(text.find(gone), std::string::npos) << gone;
  EXPECT_EQ(d["birthDate"], "1974");
  EXPECT_FALSE(d.contains("contact"));
  EXPECT_FALSE(d.contains("telecom"));
  EXPECT_FALSE(d.contains("identifier"));
  EXPECT_EQ(d["address"][0]["state"], "Vic");
  EXPECT_FALSE(d["address"][0].contains("line"));
  // The birthTime extension on birthDate keeps only the year.
  EXPECT_EQ(d["_birthDate"]["extension"][0]["valueDateTime"], "1974");
  EXPECT_FALSE(d["managingOrganization"].contains("display"));
}

TEST(FhirDeidentify, ExtensionsAttachmentsDevicesAges) {
  const json patient = {
      {"resourceType", "Patient"},
      {"id", "p"},
      {"birthDate", "1920-03-04"},
      {"photo", {{{"contentType", "image/jpeg"}, {"data", "AAAA"}}}},
      {"extension",
       {{{"url", "http://hl7.org/fhir/us/core/StructureDefinition/us-core-race"},
         {"extension", {{{"url", "text"}, {"valueString", "White"}}}}},
        {{"url", "http://hl7.org/fhir/StructureDefinition/patient-mothersMaidenName"},
         {"valueString", "Jacobs"}},
        {{"url", "http://hl7.org/fhir/StructureDefinition/patient-birthPlace"},
         {"valueAddress", {{"city", "Holyoke"}}}},
        {{"url", "http://example.org/free-text"}, {"valueString", "lives next to the bakery"}},
        {{"url", "http://synthetichealth.github.io/synthea/quality-adjusted-life-years"},
         {"valueDecimal", 63.5}}}}};
  const json d = Deid(patient);
  ASSERT_EQ(d["extension"].size(), 3u) << d.dump();
  EXPECT_EQ(d["extension"][0], patient["extension"][0]);  // race kept verbatim
  EXPECT_EQ(d["extension"][1], patient["extension"][4]);
  EXPECT_EQ(d["extension"][2], json({{"url", kAgeOver89ExtensionUrl}, {"valueBoolean", true}}));
  EXPECT_FALSE(d.contains("birthDate"));  // 99 in 2019
  EXPECT_FALSE(d.contains("photo"));

  const json doc = Deid(Example("DocumentReference-example.json"));
  const json& att = doc["content"][0]["attachment"];
  EXPECT_FALSE(att.contains("url"));
  EXPECT_FALSE(att.contains("hash"));
  EXPECT_FALSE(att.contains("title"));
  EXPECT_EQ(att["contentType"], "application/hl7-v3+xml");
  EXPECT_FALSE(doc.contains("masterIdentifier"));
  EXPECT_FALSE(doc.contains("description"));
  EXPECT_FALSE(doc.dump().contains("Chalmers"));

  const json device = {{"resourceType", "Device"},
                       {"id", "d"},
                       {"serialNumber", "AMID-342135-8464"},
                       {"lotNumber", "43453424"},
                       {"udiCarrier", {{{"deviceIdentifier", "09504000059118"}}}},
                       {"deviceName", {{{"name", "Pump 3000"}, {"type", "model-name"}}}}};
  const json dd = Deid(device);
  EXPECT_FALSE(dd.contains("serialNumber"));
  EXPECT_FALSE(dd.contains("lotNumber"));
  EXPECT_FALSE(dd.contains("udiCarrier"));
  EXPECT_EQ(dd["deviceName"][0]["name"], "Pump 3000");

  const json condition = {
      {"resourceType", "Condition"},
      {"id", "c"},
      {"onsetAge",
       {{"value", 93}, {"unit", "years"}, {"system", "http://unitsofmeasure.org"}, {"code", "a"}}},
      {"abatementAge", {{"value", 45}, {"code", "a"}}},
      {"note", {{{"text", "Seen by Dr Smith at home"}}}},
      {"code",
       {{"coding", {{{"system", "http://snomed.info/sct"}, {"code", "1"}, {"display", "Asthma"}}}},
        {"text", "Asthma"}}},
      {"evidence", {{{"code", {{{"text", "told by neighbour Mrs Jones"}}}}}}}};
  const json dc = Deid(condition);
  EXPECT_EQ(dc["onsetAge"]["value"], 90);
  EXPECT_EQ(dc["onsetAge"]["comparator"], ">=");
  EXPECT_EQ(dc["abatementAge"]["value"], 45);
  EXPECT_FALSE(dc.contains("note"));
  EXPECT_EQ(dc["code"], condition["code"]);  // coded concept and its label kept
  EXPECT_FALSE(dc.contains("evidence"));     // text-only concept: free text, removed

  // SampledData keeps its samples; DICOM UIDs become 2.25 OIDs; coding displays stay.
  const json ekg = Deid(Example("Observation-ekg.json"));
  EXPECT_EQ(ekg["component"][0]["valueSampledData"],
            Example("Observation-ekg.json")["component"][0]["valueSampledData"]);
  EXPECT_FALSE(ekg["subject"].contains("display"));
  const json study = Deid(Example("ImagingStudy-example.json"));
  const std::string uid = study["series"][0]["uid"];
  EXPECT_TRUE(uid.starts_with("2.25.")) << uid;
  EXPECT_EQ(uid.find("2.16.124.113543"), std::string::npos);
  EXPECT_EQ(study["series"][0]["bodySite"]["display"], "Upper Trunk Structure");
  EXPECT_EQ(study["started"], "2011");
}

}  // namespace
}  // namespace cipherchart::fhir
