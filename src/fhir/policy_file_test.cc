// The section policy file: the shipped config/policies.toml equals the built-in default, every
// section's policy expands and grants what docs/data-model.md says, and errors are precise.
#include "cipherchart/fhir/policy_file.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "cipherchart/abe/policy.h"
#include "src/fhir/test_util.h"

namespace cipherchart::fhir {
namespace {

const std::map<std::string, std::string> kVars = {{"patient_ns", "patient_pkv72m9q"}, {"org", "hospital_a"}};

std::string Expand(Section s, const std::map<std::string, std::string>& vars = kVars) {
  auto r = ExpandPolicy(DefaultPolicyFile(), s, vars);
  EXPECT_TRUE(r.has_value()) << SectionName(s) << ": " << (r ? "" : r.error().ToString());
  return r ? *r : "";
}

bool Grants(const std::string& policy, const std::string& attributes) {
  auto p = abe::ParsePolicy(policy);
  auto a = abe::ParseAttributeSet(attributes);
  EXPECT_TRUE(p.has_value() && a.has_value()) << policy << " / " << attributes;
  return p && a && abe::Satisfies(**p, *a);
}

std::string ParseError(const std::string& toml) {
  auto r = ParsePolicyFile(toml);
  return r ? "(ok)" : r.error().message();
}

// A minimal valid file with `extra` appended.
std::string MinimalFile(const std::string& policies_extra = "", const std::string& extra = "") {
  std::string t = "[groups]\nhospitals = [\"hospital_a\", \"hospital_b\"]\n[policies]\n";
  for (Section s : AllSections()) {
    t += std::string(SectionName(s)) + " = \"{patient_ns}.owner\"\n";
  }
  return t + policies_extra + extra;
}

TEST(FhirPolicyFile, ShippedFileIsTheBuiltInDefault) {
  const std::string shipped = testing::ReadText(CIPHERCHART_POLICIES_TOML);
  ASSERT_FALSE(shipped.empty());
  EXPECT_EQ(shipped, DefaultPolicyText());
  auto loaded = LoadPolicyFile(CIPHERCHART_POLICIES_TOML);
  ASSERT_TRUE(loaded.has_value()) << loaded.error().ToString();
  EXPECT_EQ(*loaded, DefaultPolicyFile());
}

TEST(FhirPolicyFile, Defaults) {
  const PolicyFile f = DefaultPolicyFile();
  EXPECT_EQ(f.policy_templates.size(), AllSections().size());
  EXPECT_EQ(f.groups.at("hospitals"), (std::vector<std::string>{"hospital_a", "hospital_b"}));
  EXPECT_EQ(f.personal_sections, (std::vector<Section>{Section::kVitalSigns, Section::kPrescriptions}));
  for (Section s :
       {Section::kDemographics, Section::kAdministrative, Section::kAttachments, Section::kNotes}) {
    EXPECT_EQ(std::count(f.researcher_sections.begin(), f.researcher_sections.end(), s), 0) << SectionName(s);
  }
  EXPECT_EQ(f.researcher_sections.size(), 6u);

  EXPECT_EQ(Expand(Section::kVitalSigns),
            "(board.role:doctor AND board.licence:active AND (hospital_a.staff OR hospital_b.staff)) OR "
            "patient_pkv72m9q.owner");
  EXPECT_EQ(Expand(Section::kDemographics), "hospital_a.role:admin OR patient_pkv72m9q.owner");
  EXPECT_EQ(
      Expand(Section::kPrescriptions),
      "((board.role:doctor OR board.role:pharmacist) AND board.licence:active) OR patient_pkv72m9q.owner");
  auto researcher = ExpandTemplate(f, f.researcher_policy_template, kVars);
  ASSERT_TRUE(researcher.has_value()) << researcher.error().ToString();
  EXPECT_TRUE(Grants(*researcher, "board.role:researcher, board.licence:active, hospital_b.role:researcher"));
  EXPECT_FALSE(Grants(*researcher, "board.role:doctor, board.licence:active, hospital_b.staff"));

  const std::string owner = "patient_pkv72m9q.owner";
  const std::string doctor =
      "board.role:doctor, board.licence:active, hospital_b.staff, board.years_of_practice=3";
  const std::string pharmacist = "board.role:pharmacist, board.licence:active, hospital_a.staff";
  const std::string admin = "hospital_a.role:admin, hospital_a.staff";
  const std::string unlicensed = "board.role:doctor, hospital_a.staff";
  for (Section s : AllSections()) {
    SCOPED_TRACE(SectionName(s));
    const std::string p = Expand(s);
    EXPECT_TRUE(p.ends_with(" OR patient_pkv72m9q.owner")) << p;
    EXPECT_TRUE(Grants(p, owner));
    EXPECT_FALSE(Grants(p, "patient_other.owner"));
    EXPECT_FALSE(Grants(p, unlicensed));
    const bool admin_section = s == Section::kDemographics || s == Section::kAdministrative;
    EXPECT_EQ(Grants(p, admin), admin_section);
    EXPECT_EQ(Grants(p, doctor), !admin_section);
    EXPECT_EQ(Grants(p, pharmacist), s == Section::kPrescriptions);
  }
  // The author's hospital decides who administers: hospital_b's admin for a hospital_b record.
  EXPECT_TRUE(Grants(Expand(Section::kAdministrative, {{"patient_ns", "p1"}, {"org", "hospital_b"}}),
                     "hospital_b.role:admin"));
}

TEST(FhirPolicyFile, ExpansionErrors) {
  const PolicyFile f = DefaultPolicyFile();
  auto missing = ExpandPolicy(f, Section::kDemographics, {{"patient_ns", "p1"}});
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().message(), "policy for 'demographics': column 1: unknown variable 'org'");
  auto injected = ExpandPolicy(f, Section::kDemographics, {{"patient_ns", "p1 OR x"}, {"org", "hospital_a"}});
  ASSERT_FALSE(injected.has_value());
  EXPECT_EQ(
      injected.error().message(),
      "policy for 'demographics': column 21: variable 'patient_ns': value must be non-empty letters, digits, "
      "'_' or '-'");

  PolicyFile g = f;
  g.groups["hospitals"] = {};
  auto empty = ExpandPolicy(g, Section::kVitalSigns, kVars);
  ASSERT_FALSE(empty.has_value());
  EXPECT_EQ(empty.error().message(), "policy for 'vital-signs': column 49: group 'hospitals' is empty");
  g.groups.erase("hospitals");
  auto unknown = ExpandPolicy(g, Section::kVitalSigns, kVars);
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().message(), "policy for 'vital-signs': column 49: unknown group 'hospitals'");
  g.policy_templates.erase(Section::kNotes);
  EXPECT_EQ(ExpandPolicy(g, Section::kNotes, kVars).error().message(),
            "policy for 'notes': the file has none");

  auto t = [&](const std::string& tpl) {
    auto r = ExpandTemplate(f, tpl, kVars);
    return r ? *r : r.error().message();
  };
  EXPECT_EQ(t("any(hospitals, role:{org})"), "hospital_a.role:hospital_a OR hospital_b.role:hospital_a");
  EXPECT_EQ(t("\"{org}\".x OR {org}.y"), "\"{org}\".x OR hospital_a.y");  // no substitution in quotes
  EXPECT_EQ(t("company.any OR many(x)"),
            "expanded policy: column 20: expected AND, OR or end of policy, found '('")
      << "'any' inside names is not the any() form";
  EXPECT_EQ(t("{org.x"), "column 1: '{' without '}'");
  EXPECT_EQ(t("a.b }"), "column 5: '}' without '{'");
  EXPECT_EQ(t("{1x}.y"), "column 1: a variable name is [A-Za-z_][A-Za-z0-9_]*");
  EXPECT_EQ(t("any(hospitals)"), "column 1: any(group, suffix) takes two arguments");
  EXPECT_EQ(t("any(hospitals, a, b)"), "column 1: any(group, suffix) takes two arguments");
  EXPECT_EQ(t("any(hospitals, )"), "column 1: any(): the suffix is empty");
  EXPECT_EQ(t("any(hospitals, a b)"),
            "column 17: any(): the suffix may hold only letters, digits, '_', '-', '.', ':' "
            "and {variables}");
  EXPECT_TRUE(t("{org}.role:admin AND").starts_with("expanded policy: column")) << t("{org}.role:admin AND");
}

TEST(FhirPolicyFile, FileErrors) {
  EXPECT_EQ(ParseError(MinimalFile()), "(ok)");
  EXPECT_EQ(ParseError(MinimalFile("", "[extra]\nx = 1\n")),
            "policies.toml:14:2: unknown key 'extra' (tables: groups, policies, personal, researcher)");
  EXPECT_EQ(
      ParseError(MinimalFile("labs = \"a.b\"\n")),
      "policies.toml:14:1: [policies]: unknown section 'labs' (sections: demographics, vital-signs, "
      "laboratory, imaging, prescriptions, procedures, notes, attachments, encounters, administrative)");
  EXPECT_EQ(ParseError(MinimalFile("", "[personal]\nsections = [\"notes\", \"notes\"]\nsize = 2\n")),
            "policies.toml:15:22: [personal] sections: 'notes' is listed twice");
  EXPECT_EQ(ParseError(MinimalFile("", "[personal]\nsize = 2\n")),
            "policies.toml:15:1: unknown key 'size' in [personal]");
  EXPECT_EQ(ParseError(MinimalFile("", "[researcher]\nsections = [\"x-rays\"]\n")),
            "policies.toml:15:13: [researcher] sections: unknown section 'x-rays' (sections: demographics, "
            "vital-signs, laboratory, imaging, prescriptions, procedures, notes, attachments, encounters, "
            "administrative)");
  EXPECT_EQ(ParseError(MinimalFile("", "[researcher]\npolicy = \"any(labs, staff)\"\n")),
            "policies.toml: [researcher] policy: column 1: unknown group 'labs'");
  EXPECT_EQ(ParseError("[groups]\n[policies]\nnotes = \"{patient_ns}.owner\"\n"),
            "policies.toml: [policies] has no policy for 'demographics'");
  EXPECT_EQ(ParseError("[groups]\n"), "policies.toml: no [policies] table");
  EXPECT_EQ(ParseError("policies = 3\n"), "policies.toml:1:1: 'policies' must be a table ([policies])");
  EXPECT_EQ(ParseError("[groups]\n\"bad name\" = [\"a\"]\n"),
            "policies.toml:2:1: [groups] bad name: a group name is [A-Za-z_][A-Za-z0-9_]*");
  EXPECT_EQ(ParseError("[groups]\nh = [\"a b\"]\n"),
            "policies.toml:2:6: [groups] h: members must be namespaces (letters, digits, '_', '-')");
  EXPECT_EQ(ParseError("[groups]\nh = [\"a\", \"a\"]\n"),
            "policies.toml:2:11: [groups] h: 'a' is listed twice");

  // Templates are checked at load time (placeholder variables).
  std::string broken = MinimalFile();
  broken.replace(broken.find("notes = \"{patient_ns}.owner\""), 28, "notes = \"{patient_ns}.owner OR\"");
  EXPECT_TRUE(ParseError(broken).starts_with("policies.toml: [policies] notes: expanded policy: column"))
      << ParseError(broken);
  broken = MinimalFile();
  broken.replace(broken.find("notes = \"{patient_ns}.owner\""), 28, "notes = \"any(nobody, staff)\"");
  EXPECT_EQ(ParseError(broken), "policies.toml: [policies] notes: column 1: unknown group 'nobody'");

  // TOML syntax errors give the position.
  auto syntax = ParsePolicyFile("[policies\n", "my.toml");
  ASSERT_FALSE(syntax.has_value());
  EXPECT_EQ(syntax.error().code(), ErrorCode::kInvalidEncoding);
  EXPECT_TRUE(syntax.error().message().starts_with("my.toml:1:")) << syntax.error().message();

  auto nofile = LoadPolicyFile("/nonexistent/policies.toml");
  ASSERT_FALSE(nofile.has_value());
  EXPECT_EQ(nofile.error().message(), "cannot read the policy file /nonexistent/policies.toml");
}

}  // namespace
}  // namespace cipherchart::fhir
