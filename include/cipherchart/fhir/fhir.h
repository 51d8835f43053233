// FHIR R4 records as CipherChart stores them (docs/data-model.md).
//
// A patient's record is split into sections; each section is encrypted under its own access
// policy (config/policies.toml, see policy_file.h), so a pharmacist can read prescriptions
// without seeing laboratory results. This header holds the FHIR side of that:
//
// - Section: the ten sections, their stable names, and SectionOf, which puts every FHIR
//   resource into exactly one section (every resource type maps somewhere, so a whole bundle
//   survives a split and reassembly);
// - bundles: validation (BundleResources), splitting (SplitBundle), reassembly
//   (MakeCollectionBundle) and the round-trip comparison (SameResources);
// - entries a doctor adds (`cipherchart doctor add <kind>`): EntryKind and CheckEntry, which
//   checks that a resource has what its kind needs;
// - one-line display for the history view: Summary and ResourceDate.
//
// De-identification (HIPAA Safe Harbor) is in deidentify.h and the policy file in
// policy_file.h; both are included here, so users include this header only.
//
// Everything works on parsed JSON (nlohmann::json). Nothing throws for bad input: fallible
// functions return Result, and the lookups (SectionOf, Summary, ResourceDate) accept any JSON
// value. Error messages name JSON paths and expectations, never field contents (which are
// health data).
#pragma once

#include <cstddef>
#include <map>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cipherchart/common/error.h"
#include "cipherchart/fhir/deidentify.h"
#include "cipherchart/fhir/policy_file.h"
#include "cipherchart/fhir/section.h"

namespace cipherchart::fhir {

// ---- JSON text ---------------------------------------------------------------------------------

// The deepest nesting of arrays and objects ParseJson accepts (FHIR resources nest about 8
// levels; the limit keeps recursive walkers off the stack limit).
inline constexpr int kMaxJsonDepth = 100;

// Parses JSON text without throwing: kInvalidEncoding with the byte offset for a syntax error
// ("JSON: syntax error at byte 1234") or for nesting deeper than kMaxJsonDepth. The message
// never quotes the text.
Result<nlohmann::json> ParseJson(std::string_view text);

// ---- bundles -----------------------------------------------------------------------------------

// The resources of a Bundle, in entry order. Checks (kInvalidArgument, first failure):
// the bundle is an object with resourceType "Bundle" and a string `type` that is one of
// transaction, batch, collection, searchset, document; `entry`, if present, is an array; each
// entry is an object with a `resource` object whose `resourceType` is a string of the form
// [A-Z][A-Za-z]*. Messages say where: "bundle entry 17: resource has no resourceType" (entry
// indices count from 0, as in the JSON array). A bundle without entries has no resources.
Result<std::vector<nlohmann::json>> BundleResources(const nlohmann::json& bundle);

// A bundle's resources by section (SectionOf), each section's resources in bundle order. Only
// sections with at least one resource have a key.
struct SplitResult {
  std::map<Section, std::vector<nlohmann::json>> sections;

  std::size_t ResourceCount() const;
};

// BundleResources, then SplitResources.
Result<SplitResult> SplitBundle(const nlohmann::json& bundle);
// Splits resources that are already known to be valid (e.g. one section's entries).
SplitResult SplitResources(std::vector<nlohmann::json> resources);

// A Bundle of type "collection" holding `resources` in order. Each entry whose resource has an
// id in UUID form also gets fullUrl "urn:uuid:<id>", so that the "urn:uuid:" references of a
// Synthea-style transaction bundle still resolve inside the reassembled bundle.
nlohmann::json MakeCollectionBundle(std::vector<nlohmann::json> resources);

// Whether `a` and `b` hold the same resources as multisets: JSON value equality (object key
// order never matters; numbers compare by value), the order of resources ignored, duplicates
// counted. If not and `why` is not null, *why describes the first difference found, naming the
// resource by resourceType/id and, where a resource with the same type and id exists on the
// other side, the first differing JSON path:
//   "Observation/1f2e...: differs at /valueQuantity/value (1 resource(s) unmatched in each)".
bool SameResources(const std::vector<nlohmann::json>& a, const std::vector<nlohmann::json>& b,
                   std::string* why = nullptr);

// ---- entries added by doctors --------------------------------------------------------------------

// What `cipherchart doctor add <kind>` accepts.
enum class EntryKind {
  kPrescription,  // MedicationRequest
  kReport,        // DiagnosticReport, or an Observation with a result
  kEcg,           // Observation carrying the waveform as SampledData
  kImaging,       // ImagingStudy
  kSurgery,       // Procedure
};

// "prescription", "report", "ecg", "imaging", "surgery".
std::string_view EntryKindName(EntryKind kind);
// The inverse of EntryKindName (exact, lower case); kInvalidArgument listing the kinds otherwise.
Result<EntryKind> ParseEntryKind(std::string_view name);
std::span<const EntryKind> AllEntryKinds();

// Checks that `resource` is a valid entry of `kind` and returns its section (SectionOf).
// Requirements (kInvalidArgument naming the kind and the first failing field, e.g.
// "ecg: component[1].valueSampledData: 'period' must be a positive number"):
//   prescription: MedicationRequest; status and intent (strings from the R4 value sets);
//                 exactly one of medicationCodeableConcept (a CodeableConcept) and
//                 medicationReference (a Reference); subject (a Reference).
//   report:       DiagnosticReport with status and code; or Observation with status, code and a
//                 result: exactly one value[x], or a non-empty component or hasMember array.
//   ecg:          Observation with status, code, and valueSampledData or at least one component
//                 with valueSampledData. Every SampledData needs origin (a Quantity with a
//                 numeric value), period (> 0), dimensions (integer >= 1) and data (numbers or
//                 E/L/U separated by spaces, a multiple of dimensions in count).
//   imaging:      ImagingStudy with status and subject; series, if present, a non-empty array
//                 of objects each with uid (string) and modality (Coding).
//   surgery:      Procedure with status, code and subject.
// A CodeableConcept needs a non-empty text or a coding with a code; a Reference needs a
// non-empty string reference. Status values must be in the resource's R4 status value set.
Result<Section> CheckEntry(EntryKind kind, const nlohmann::json& resource);

// ---- display -------------------------------------------------------------------------------------

// One line (no control characters, at most 160 bytes, cut on a UTF-8 boundary) describing a
// resource for the history view: the resource type, the main concept (code.text, else the first
// coding's display, else its code; or the type's own field: medication, vaccine, ...), the value
// of observations (components with one unit as "a/b unit"), money for claims, and in
// parentheses the status (clinicalStatus for conditions and allergies) for everything but
// observations, people, encounters, imaging studies, documents and claims:
//   "Observation Body Height 176.4 cm", "Observation Blood pressure 107/60 mmHg",
//   "MedicationRequest Ibuprofen 200 MG Oral Tablet (stopped)", "Procedure Colonoscopy
//   (completed)", "ImagingStudy Digital Radiography of Knee (1 series)", "Patient Abdul Koepp (male, born
//   1956-08-03)".
// Anything that is not a resource gives "(not a FHIR resource)".
std::string Summary(const nlohmann::json& resource);

// The clinically relevant date of a resource as written in it (a FHIR date, dateTime or
// instant), or "" if it has none: the first present of effectiveDateTime, effectivePeriod.start,
// effectiveInstant, occurrenceDateTime, occurrencePeriod.start, performedDateTime,
// performedPeriod.start, authoredOn, onsetDateTime, onsetPeriod.start, started, issued,
// recordedDate, period.start, billablePeriod.start, created, date, dateAsserted, recorded,
// birthDate.
std::string ResourceDate(const nlohmann::json& resource);

}  // namespace cipherchart::fhir
