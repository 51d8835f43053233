// Record sections: the unit of access control of a patient record (docs/data-model.md,
// "Sections"). Included by fhir.h.
#pragma once

#include <nlohmann/json.hpp>
#include <span>
#include <string_view>

#include "cipherchart/common/error.h"

namespace cipherchart::fhir {

// The sections of a record, in display order. Each is encrypted under its own policy.
enum class Section {
  kDemographics,    // who the patient is: Patient, RelatedPerson, Person
  kVitalSigns,      // vital-sign observations
  kLaboratory,      // laboratory observations and reports, specimens
  kImaging,         // imaging studies, imaging observations and reports, media
  kPrescriptions,   // medications and immunizations
  kProcedures,      // procedures, procedure observations (ECG), device requests
  kNotes,           // clinical notes: note-type reports, DocumentReference, Composition
  kAttachments,     // binary content: Binary, image/video/audio/DICOM documents
  kEncounters,      // encounters, problems, allergies, care plans, goals, assessments
  kAdministrative,  // billing, insurance, provenance, audit, directory, anything unknown
};

// Stable lower-case names, used in policies.toml, the CLI and stored records:
// "demographics", "vital-signs", "laboratory", "imaging", "prescriptions", "procedures",
// "notes", "attachments", "encounters", "administrative".
std::string_view SectionName(Section section);

// The inverse of SectionName (exact match); kInvalidArgument listing the names otherwise.
Result<Section> ParseSection(std::string_view name);

// All sections in enum order.
std::span<const Section> AllSections();

// The one section a resource belongs to (docs/data-model.md has the full table). Decided by
// resourceType and, for Observation, DiagnosticReport and DocumentReference, by category, code
// and content:
//   Observation: category code vital-signs (also Synthea's "vital-sign") -> vital-signs,
//     laboratory -> laboratory, imaging -> imaging, procedure -> procedures, survey / exam /
//     social-history / therapy / activity -> encounters (first recognised category coding
//     wins); without a recognised category: a vital-sign LOINC code -> vital-signs, SampledData
//     -> procedures, otherwise laboratory.
//   DiagnosticReport: a clinical-note LOINC code (e.g. 34117-2, 11488-4, 18842-5) in category
//     or code -> notes; category LAB and the v2-0074 laboratory codes, or LOINC LP7839-6 ->
//     laboratory; RAD and the imaging codes, SNOMED 394914008 or LOINC LP29684-5 -> imaging;
//     EC / CTH / PF / ... or LOINC LP29708-2 (cardiology) -> procedures; otherwise with
//     imagingStudy or media -> imaging, with only presentedForm -> notes, else laboratory.
//   DocumentReference: a note LOINC type or category -> notes; content that is image/*,
//     video/*, audio/* or application/dicom -> attachments; otherwise notes.
// A value without a string resourceType (not a resource) and any resource type not in the
// table is administrative.
Section SectionOf(const nlohmann::json& resource);

}  // namespace cipherchart::fhir
