// Sections and the resource -> section mapping (docs/data-model.md, "Sections").
#include <array>
#include <span>
#include <string>
#include <string_view>

#include "cipherchart/fhir/fhir.h"
#include "src/fhir/json_util.h"

namespace cipherchart::fhir {

namespace {

using internal::Json;
using internal::Member;
using internal::StringMember;

constexpr std::array kSections = {
    Section::kDemographics,  Section::kVitalSigns,     Section::kLaboratory, Section::kImaging,
    Section::kPrescriptions, Section::kProcedures,     Section::kNotes,      Section::kAttachments,
    Section::kEncounters,    Section::kAdministrative,
};

bool In(std::string_view code, std::span<const std::string_view> set) {
  for (std::string_view s : set) {
    if (s == code) return true;
  }
  return false;
}

// Resource types whose section does not depend on content. Observation, DiagnosticReport and
// DocumentReference are decided by content below; every type not listed is administrative.
struct TypeSection {
  std::string_view type;
  Section section;
};
constexpr TypeSection kTypeSections[] = {
    {"Patient", Section::kDemographics},
    {"RelatedPerson", Section::kDemographics},
    {"Person", Section::kDemographics},
    {"Specimen", Section::kLaboratory},
    {"MolecularSequence", Section::kLaboratory},
    {"ImagingStudy", Section::kImaging},
    {"Media", Section::kImaging},
    {"MedicationRequest", Section::kPrescriptions},
    {"Medication", Section::kPrescriptions},
    {"MedicationAdministration", Section::kPrescriptions},
    {"MedicationStatement", Section::kPrescriptions},
    {"MedicationDispense", Section::kPrescriptions},
    {"Immunization", Section::kPrescriptions},
    {"ImmunizationEvaluation", Section::kPrescriptions},
    {"ImmunizationRecommendation", Section::kPrescriptions},
    {"NutritionOrder", Section::kPrescriptions},
    {"VisionPrescription", Section::kPrescriptions},
    {"Procedure", Section::kProcedures},
    {"BodyStructure", Section::kProcedures},
    {"DeviceRequest", Section::kProcedures},
    {"DeviceUseStatement", Section::kProcedures},
    {"Composition", Section::kNotes},
    {"ClinicalImpression", Section::kNotes},
    {"Communication", Section::kNotes},
    {"CommunicationRequest", Section::kNotes},
    {"Binary", Section::kAttachments},
    {"DocumentManifest", Section::kAttachments},
    {"Encounter", Section::kEncounters},
    {"EpisodeOfCare", Section::kEncounters},
    {"Condition", Section::kEncounters},
    {"CarePlan", Section::kEncounters},
    {"CareTeam", Section::kEncounters},
    {"Goal", Section::kEncounters},
    {"AllergyIntolerance", Section::kEncounters},
    {"FamilyMemberHistory", Section::kEncounters},
    {"RiskAssessment", Section::kEncounters},
    {"ServiceRequest", Section::kEncounters},
    {"Appointment", Section::kEncounters},
    {"AppointmentResponse", Section::kEncounters},
    {"Flag", Section::kEncounters},
    {"AdverseEvent", Section::kEncounters},
    {"DetectedIssue", Section::kEncounters},
    {"QuestionnaireResponse", Section::kEncounters},
    {"RequestGroup", Section::kEncounters},
    {"Claim", Section::kAdministrative},
    {"ExplanationOfBenefit", Section::kAdministrative},
    {"Coverage", Section::kAdministrative},
    {"Provenance", Section::kAdministrative},
    {"Organization", Section::kAdministrative},
};

// Observation.category codes (http://terminology.hl7.org/CodeSystem/observation-category),
// matched on the code alone; "vital-sign" is a spelling found in Synthea output.
Section ObservationCategory(std::string_view code, bool* known) {
  *known = true;
  if (code == "vital-signs" || code == "vital-sign") return Section::kVitalSigns;
  if (code == "laboratory") return Section::kLaboratory;
  if (code == "imaging") return Section::kImaging;
  if (code == "procedure") return Section::kProcedures;
  if (code == "survey" || code == "exam" || code == "social-history" || code == "therapy" ||
      code == "activity")
    return Section::kEncounters;
  *known = false;
  return Section::kAdministrative;
}

// LOINC codes of the FHIR vital signs profiles (panels and members).
constexpr std::string_view kVitalSignLoinc[] = {
    "85353-1", "9279-1", "8867-4", "2708-6", "59408-5", "8310-5", "8302-2",  "9843-4", "29463-7", "39156-5",
    "85354-9", "8480-6", "8462-4", "8287-5", "8306-3",  "8478-0", "59576-9", "8289-1", "3141-9",
};

bool HasSampledData(const Json& resource) {
  if (resource.contains("valueSampledData")) return true;
  if (const Json* components = Member(resource, "component");
      components != nullptr && components->is_array()) {
    for (const Json& c : *components) {
      if (Member(c, "valueSampledData") != nullptr) return true;
    }
  }
  return false;
}

Section ObservationSection(const Json& resource) {
  Section found = Section::kAdministrative;
  bool known = false;
  internal::ForEachCoding(Member(resource, "category"), [&](const Json& coding) {
    if (known) return;
    found = ObservationCategory(StringMember(coding, "code"), &known);
  });
  if (known) return found;
  bool vital = false;
  internal::ForEachCoding(Member(resource, "code"), [&](const Json& coding) {
    if (StringMember(coding, "system") == "http://loinc.org" &&
        In(StringMember(coding, "code"), kVitalSignLoinc))
      vital = true;
  });
  if (vital) return Section::kVitalSigns;
  if (HasSampledData(resource)) return Section::kProcedures;
  return Section::kLaboratory;
}

// LOINC document type codes of clinical notes (the US Core clinical notes guidance and common
// note types).
constexpr std::string_view kNoteLoinc[] = {
    "34117-2", "11488-4", "18842-5", "11506-3", "28570-0", "34133-9", "57133-1",
    "34109-9", "51847-2", "34746-8", "11504-8", "68608-9", "18761-7", "34111-1",
};

// HL7 v2 table 0074 diagnostic service sections and the US Core LOINC report categories.
constexpr std::string_view kLabCategories[] = {
    "LAB", "BG",  "BLB", "CG",  "CH", "CP", "HM", "HLA", "IMM",
    "MB",  "MCB", "MYC", "PAT", "SP", "SR", "TX", "VR",  "LP7839-6",
};
constexpr std::string_view kImagingCategories[] = {
    "RAD", "RX", "CT", "NMR", "NMS", "RUS", "VUS", "OUS", "CUS", "XRC", "394914008", "LP29684-5", "18748-4",
};
constexpr std::string_view kProcedureCategories[] = {
    "EC", "EN", "CTH", "PF", "AU", "OT", "PT", "LP29708-2",
};

Section DiagnosticReportSection(const Json& resource) {
  bool note = false;
  auto check_note = [&](const Json& coding) {
    if (In(StringMember(coding, "code"), kNoteLoinc)) note = true;
  };
  internal::ForEachCoding(Member(resource, "category"), check_note);
  internal::ForEachCoding(Member(resource, "code"), check_note);
  if (note) return Section::kNotes;

  bool known = false;
  Section found = Section::kLaboratory;
  internal::ForEachCoding(Member(resource, "category"), [&](const Json& coding) {
    if (known) return;
    const std::string_view code = StringMember(coding, "code");
    if (In(code, kLabCategories)) {
      found = Section::kLaboratory;
      known = true;
    } else if (In(code, kImagingCategories)) {
      found = Section::kImaging;
      known = true;
    } else if (In(code, kProcedureCategories)) {
      found = Section::kProcedures;
      known = true;
    }
  });
  if (known) return found;
  if (resource.contains("imagingStudy") || resource.contains("media")) return Section::kImaging;
  if (resource.contains("presentedForm") && !resource.contains("result")) return Section::kNotes;
  return Section::kLaboratory;
}

Section DocumentReferenceSection(const Json& resource) {
  bool note = false;
  auto check_note = [&](const Json& coding) {
    if (In(StringMember(coding, "code"), kNoteLoinc)) note = true;
  };
  internal::ForEachCoding(Member(resource, "type"), check_note);
  internal::ForEachCoding(Member(resource, "category"), check_note);
  if (note) return Section::kNotes;
  if (const Json* content = Member(resource, "content"); content != nullptr && content->is_array()) {
    for (const Json& c : *content) {
      const Json* attachment = Member(c, "attachment");
      if (attachment == nullptr) continue;
      const std::string_view type = StringMember(*attachment, "contentType");
      if (type.starts_with("image/") || type.starts_with("video/") || type.starts_with("audio/") ||
          type.starts_with("application/dicom"))
        return Section::kAttachments;
    }
  }
  return Section::kNotes;
}

}  // namespace

std::string_view SectionName(Section section) {
  switch (section) {
    case Section::kDemographics:
      return "demographics";
    case Section::kVitalSigns:
      return "vital-signs";
    case Section::kLaboratory:
      return "laboratory";
    case Section::kImaging:
      return "imaging";
    case Section::kPrescriptions:
      return "prescriptions";
    case Section::kProcedures:
      return "procedures";
    case Section::kNotes:
      return "notes";
    case Section::kAttachments:
      return "attachments";
    case Section::kEncounters:
      return "encounters";
    case Section::kAdministrative:
      return "administrative";
  }
  return "administrative";
}

Result<Section> ParseSection(std::string_view name) {
  for (Section s : kSections) {
    if (SectionName(s) == name) return s;
  }
  std::string known;
  for (Section s : kSections) {
    if (!known.empty()) known += ", ";
    known += SectionName(s);
  }
  return Fail(ErrorCode::kInvalidArgument,
              "unknown section '" + std::string(name) + "' (sections: " + known + ")");
}

std::span<const Section> AllSections() { return kSections; }

Section SectionOf(const Json& resource) {
  const std::string_view type = internal::ResourceType(resource);
  if (type == "Observation") return ObservationSection(resource);
  if (type == "DiagnosticReport") return DiagnosticReportSection(resource);
  if (type == "DocumentReference") return DocumentReferenceSection(resource);
  for (const TypeSection& ts : kTypeSections) {
    if (ts.type == type) return ts.section;
  }
  return Section::kAdministrative;
}

}  // namespace cipherchart::fhir
