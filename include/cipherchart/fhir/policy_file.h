// The section policy file, config/policies.toml (docs/data-model.md, "Policy file"): for each
// section, the policy template its section key is encrypted under; the groups of authority
// namespaces templates may quantify over; which sections the personal (family) view and the
// de-identified researcher view contain. Included by fhir.h.
//
// Templates are policies (docs/policy.md) with two additions:
//   {name}                a variable, replaced by its value: {patient_ns} (the patient's
//                         namespace, "patient_pkv72m9q..."), {org} (the author's hospital,
//                         "hospital_a"), or any other name the caller supplies;
//   any(group, suffix)    "(ns1.suffix OR ns2.suffix OR ...)" over the namespaces of a group
//                         ([groups] hospitals = ["hospital_a", "hospital_b"]); the suffix is
//                         the rest of an attribute ("staff", "role:doctor") and may itself
//                         contain {variables}.
// Nothing is substituted inside quoted names or values. Variable values must consist of
// letters, digits, '_' and '-' (so a value cannot inject policy syntax), and the expansion must
// parse with abe::ParsePolicy.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "cipherchart/common/error.h"
#include "cipherchart/fhir/section.h"

namespace cipherchart::fhir {

struct PolicyFile {
  std::map<Section, std::string> policy_templates;         // [policies]: every section
  std::map<std::string, std::vector<std::string>> groups;  // [groups]: name -> namespaces
  std::vector<Section> personal_sections;                  // [personal] sections
  std::vector<Section> researcher_sections;                // [researcher] sections
  std::string researcher_policy_template;                  // [researcher] policy ("" = none)

  friend bool operator==(const PolicyFile&, const PolicyFile&) = default;
};

// Parses and checks a policy file (kInvalidArgument; TOML syntax errors kInvalidEncoding),
// prefixing messages with `source_name` and, where known, line and column
// ("policies.toml:14:1: [policies]: unknown section 'labs'"). Checked: only the tables
// [groups], [policies], [personal], [researcher] and only their documented keys (anything else
// is an error); [policies] has a string for every section; group names are
// [A-Za-z_][A-Za-z0-9_]* and their members are distinct bare namespace names; section lists hold
// known, distinct section names; every template expands and parses with all of its variables
// set to placeholder values.
Result<PolicyFile> ParsePolicyFile(std::string_view toml_text,
                                   std::string_view source_name = "policies.toml");

// Reads and parses a file (kInvalidArgument if it cannot be read).
Result<PolicyFile> LoadPolicyFile(const std::filesystem::path& path);

// The defaults: config/policies.toml as compiled in (DefaultPolicyText), parsed.
PolicyFile DefaultPolicyFile();
// The text of config/policies.toml at build time.
std::string_view DefaultPolicyText();

// Expands a template (syntax above) and checks it with abe::ParsePolicy; returns the canonical
// policy text (abe::PolicyToString), which is what gets bound into ciphertexts. Errors
// (kInvalidArgument) give the 1-based column in the template: "column 2: unknown variable
// 'org'", "column 15: group 'hospitals' is empty", "column 15: unknown group 'labs'",
// "variable 'org': value must be letters, digits, '_' or '-'", or the policy parser's message.
Result<std::string> ExpandTemplate(const PolicyFile& file, std::string_view policy_template,
                                   const std::map<std::string, std::string>& variables);

// ExpandTemplate of the section's template (kInvalidArgument if the file has none), with
// messages prefixed "policy for '<section>': ".
Result<std::string> ExpandPolicy(const PolicyFile& file, Section section,
                                 const std::map<std::string, std::string>& variables);

}  // namespace cipherchart::fhir
