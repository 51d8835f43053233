// Entry kinds of `cipherchart doctor add` and the checks of their resources.
#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

#include "cipherchart/fhir/fhir.h"
#include "src/fhir/json_util.h"

namespace cipherchart::fhir {

namespace {

using internal::Json;
using internal::Member;

constexpr std::array kKinds = {EntryKind::kPrescription, EntryKind::kReport, EntryKind::kEcg,
                               EntryKind::kImaging, EntryKind::kSurgery};

// R4 status value sets.
constexpr std::string_view kMedicationRequestStatus[] = {
    "active", "on-hold", "cancelled", "completed", "stopped", "entered-in-error", "draft", "unknown"};
constexpr std::string_view kMedicationRequestIntent[] = {"proposal",       "plan",         "order",
                                                         "original-order", "reflex-order", "filler-order",
                                                         "instance-order", "option"};
constexpr std::string_view kObservationStatus[] = {
    "registered", "preliminary", "final", "amended", "corrected", "cancelled", "entered-in-error", "unknown"};
constexpr std::string_view kDiagnosticReportStatus[] = {
    "registered", "partial",   "preliminary",      "final",  "amended", "corrected",
    "appended",   "cancelled", "entered-in-error", "unknown"};
constexpr std::string_view kImagingStudyStatus[] = {"registered", "available", "cancelled",
                                                    "entered-in-error", "unknown"};
constexpr std::string_view kProcedureStatus[] = {"preparation", "in-progress", "not-done",         "on-hold",
                                                 "stopped",     "completed",   "entered-in-error", "unknown"};

// The checks below build messages "<kind>: <path>: <problem>"; `prefix` is "<kind>: ".
using Check = Result<void>;

Check Bad(std::initializer_list<std::string_view> parts) {
  return Fail(ErrorCode::kInvalidArgument, internal::Cat(parts));
}

Check RequireType(const std::string& prefix, const Json& resource, std::string_view type) {
  if (!resource.is_object()) return Bad({prefix, "not a JSON object"});
  const Json* rt = Member(resource, "resourceType");
  if (rt == nullptr || !rt->is_string()) return Bad({prefix, "resource has no resourceType"});
  if (rt->get_ref<const std::string&>() != type) return Bad({prefix, "resourceType must be ", type});
  return {};
}

Check RequireCode(const std::string& prefix, const Json& resource, std::string_view field,
                  std::span<const std::string_view> allowed) {
  const Json* v = Member(resource, field);
  if (v == nullptr) return Bad({prefix, "'", field, "' is required"});
  if (!v->is_string()) return Bad({prefix, "'", field, "' must be a string"});
  for (std::string_view a : allowed) {
    if (a == v->get_ref<const std::string&>()) return {};
  }
  std::string list;
  for (std::string_view a : allowed) {
    if (!list.empty()) list += ", ";
    list += a;
  }
  return Bad({prefix, "'", field, "' must be one of ", list});
}

Check CheckConcept(const std::string& prefix, const Json* cc, const std::string& path) {
  if (cc == nullptr) return Bad({prefix, "'", path, "' is required"});
  if (!cc->is_object()) return Bad({prefix, "'", path, "' must be a CodeableConcept object"});
  const Json* text = Member(*cc, "text");
  if (text != nullptr && text->is_string() && !text->get_ref<const std::string&>().empty()) return {};
  const Json* coding = Member(*cc, "coding");
  if (coding != nullptr && !coding->is_array()) return Bad({prefix, "'", path, ".coding' must be an array"});
  if (coding != nullptr) {
    for (const Json& c : *coding) {
      const Json* code = Member(c, "code");
      if (code != nullptr && code->is_string() && !code->get_ref<const std::string&>().empty()) return {};
    }
  }
  return Bad({prefix, "'", path, "' needs a non-empty text or a coding with a code"});
}

Check CheckReference(const std::string& prefix, const Json* ref, const std::string& path) {
  if (ref == nullptr) return Bad({prefix, "'", path, "' is required"});
  if (!ref->is_object()) return Bad({prefix, "'", path, "' must be a Reference object"});
  const Json* r = Member(*ref, "reference");
  if (r == nullptr || !r->is_string() || r->get_ref<const std::string&>().empty())
    return Bad({prefix, "'", path, ".reference' must be a non-empty string"});
  return {};
}

bool IsPositiveInteger(const Json& v) {
  if (v.is_number_unsigned()) return v.get<std::uint64_t>() >= 1;
  if (v.is_number_integer()) return v.get<std::int64_t>() >= 1;
  return false;
}

bool IsDecimalToken(std::string_view t) {
  if (t == "E" || t == "L" || t == "U") return true;
  std::size_t i = 0;
  if (i < t.size() && (t[i] == '-' || t[i] == '+')) ++i;
  std::size_t digits = 0;
  auto digit_run = [&] {
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') {
      ++i;
      ++digits;
    }
  };
  digit_run();
  if (i < t.size() && t[i] == '.') {
    ++i;
    digit_run();
  }
  if (digits == 0) return false;
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    if (i < t.size() && (t[i] == '-' || t[i] == '+')) ++i;
    const std::size_t start = i;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i;
    if (i == start) return false;
  }
  return i == t.size();
}

Check CheckSampledData(const std::string& prefix, const Json& sd, const std::string& path) {
  const std::string at = internal::Cat({prefix, path, ": "});
  if (!sd.is_object()) return Bad({at, "must be a SampledData object"});
  const Json* origin = Member(sd, "origin");
  if (origin == nullptr) return Bad({at, "'origin' is required"});
  const Json* origin_value = Member(*origin, "value");
  if (origin_value == nullptr || !origin_value->is_number())
    return Bad({at, "'origin' must be a Quantity with a numeric value"});
  const Json* period = Member(sd, "period");
  if (period == nullptr) return Bad({at, "'period' is required"});
  if (!period->is_number() || !(period->get<double>() > 0))
    return Bad({at, "'period' must be a positive number"});
  const Json* dimensions = Member(sd, "dimensions");
  if (dimensions == nullptr) return Bad({at, "'dimensions' is required"});
  if (!IsPositiveInteger(*dimensions)) return Bad({at, "'dimensions' must be an integer >= 1"});
  const Json* data = Member(sd, "data");
  if (data == nullptr) return Bad({at, "'data' is required"});
  if (!data->is_string()) return Bad({at, "'data' must be a string"});
  const std::string& text = data->get_ref<const std::string&>();
  std::size_t count = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && text[i] == ' ') ++i;
    const std::size_t start = i;
    while (i < text.size() && text[i] != ' ') ++i;
    if (i == start) break;
    ++count;
    if (!IsDecimalToken(std::string_view(text).substr(start, i - start)))
      return Bad({at, "'data' item ", std::to_string(count), " is not a decimal or E, L, U"});
  }
  if (count == 0) return Bad({at, "'data' has no samples"});
  const auto dims = dimensions->get<std::uint64_t>();
  if (count % dims != 0) {
    return Bad({at, "'data' has ", std::to_string(count), " samples, not a multiple of dimensions (",
                std::to_string(dims), ")"});
  }
  return {};
}

// The value[x] members of an Observation (or component).
std::size_t CountValues(const Json& o) {
  std::size_t n = 0;
  for (const auto& [k, v] : o.items()) {
    if (k.size() > 5 && k.starts_with("value") && k[5] >= 'A' && k[5] <= 'Z') ++n;
  }
  return n;
}

bool NonEmptyArray(const Json* v) { return v != nullptr && v->is_array() && !v->empty(); }

Check CheckPrescription(const std::string& prefix, const Json& r) {
  if (auto c = RequireType(prefix, r, "MedicationRequest"); !c) return c;
  if (auto c = RequireCode(prefix, r, "status", kMedicationRequestStatus); !c) return c;
  if (auto c = RequireCode(prefix, r, "intent", kMedicationRequestIntent); !c) return c;
  const Json* cc = Member(r, "medicationCodeableConcept");
  const Json* reference = Member(r, "medicationReference");
  if (cc != nullptr && reference != nullptr)
    return Bad({prefix, "only one of 'medicationCodeableConcept' and 'medicationReference' may be present"});
  if (cc == nullptr && reference == nullptr)
    return Bad({prefix, "'medicationCodeableConcept' or 'medicationReference' is required"});
  if (cc != nullptr) {
    if (auto c = CheckConcept(prefix, cc, "medicationCodeableConcept"); !c) return c;
  } else if (auto c = CheckReference(prefix, reference, "medicationReference"); !c) {
    return c;
  }
  return CheckReference(prefix, Member(r, "subject"), "subject");
}

Check CheckObservationResult(const std::string& prefix, const Json& r) {
  if (auto c = RequireCode(prefix, r, "status", kObservationStatus); !c) return c;
  if (auto c = CheckConcept(prefix, Member(r, "code"), "code"); !c) return c;
  const std::size_t values = CountValues(r);
  if (values > 1) return Bad({prefix, "at most one value[x] may be present"});
  const Json* component = Member(r, "component");
  const Json* members = Member(r, "hasMember");
  if (component != nullptr && !NonEmptyArray(component))
    return Bad({prefix, "'component' must be a non-empty array"});
  if (members != nullptr && !NonEmptyArray(members))
    return Bad({prefix, "'hasMember' must be a non-empty array"});
  if (values == 0 && component == nullptr && members == nullptr)
    return Bad({prefix, "a value[x], 'component' or 'hasMember' is required"});
  if (component != nullptr) {
    for (std::size_t i = 0; i < component->size(); ++i) {
      const std::string path = internal::Cat({"component[", std::to_string(i), "]"});
      const Json& comp = (*component)[i];
      if (!comp.is_object()) return Bad({prefix, "'", path, "' must be an object"});
      if (auto c = CheckConcept(prefix, Member(comp, "code"), internal::Cat({path, ".code"})); !c) return c;
      if (CountValues(comp) > 1) return Bad({prefix, "'", path, "' has more than one value[x]"});
    }
  }
  return {};
}

Check CheckReport(const std::string& prefix, const Json& r) {
  if (!r.is_object()) return Bad({prefix, "not a JSON object"});
  const std::string_view type = internal::ResourceType(r);
  if (type == "DiagnosticReport") {
    if (auto c = RequireCode(prefix, r, "status", kDiagnosticReportStatus); !c) return c;
    return CheckConcept(prefix, Member(r, "code"), "code");
  }
  if (type == "Observation") return CheckObservationResult(prefix, r);
  return Bad({prefix, "resourceType must be DiagnosticReport or Observation"});
}

Check CheckEcg(const std::string& prefix, const Json& r) {
  if (auto c = RequireType(prefix, r, "Observation"); !c) return c;
  if (auto c = CheckObservationResult(prefix, r); !c) return c;
  bool any = false;
  if (const Json* sd = Member(r, "valueSampledData"); sd != nullptr) {
    if (auto c = CheckSampledData(prefix, *sd, "valueSampledData"); !c) return c;
    any = true;
  }
  if (const Json* component = Member(r, "component"); component != nullptr) {
    for (std::size_t i = 0; i < component->size(); ++i) {
      if (const Json* sd = Member((*component)[i], "valueSampledData"); sd != nullptr) {
        const std::string path = internal::Cat({"component[", std::to_string(i), "].valueSampledData"});
        if (auto c = CheckSampledData(prefix, *sd, path); !c) return c;
        any = true;
      }
    }
  }
  if (!any) return Bad({prefix, "'valueSampledData' (or a component with one) is required"});
  return {};
}

Check CheckImaging(const std::string& prefix, const Json& r) {
  if (auto c = RequireType(prefix, r, "ImagingStudy"); !c) return c;
  if (auto c = RequireCode(prefix, r, "status", kImagingStudyStatus); !c) return c;
  if (auto c = CheckReference(prefix, Member(r, "subject"), "subject"); !c) return c;
  const Json* series = Member(r, "series");
  if (series == nullptr) return {};
  if (!NonEmptyArray(series)) return Bad({prefix, "'series' must be a non-empty array"});
  for (std::size_t i = 0; i < series->size(); ++i) {
    const std::string path = internal::Cat({"series[", std::to_string(i), "]"});
    const Json& s = (*series)[i];
    if (!s.is_object()) return Bad({prefix, "'", path, "' must be an object"});
    const Json* uid = Member(s, "uid");
    if (uid == nullptr || !uid->is_string() || uid->get_ref<const std::string&>().empty())
      return Bad({prefix, "'", path, ".uid' must be a non-empty string"});
    const Json* modality = Member(s, "modality");
    if (modality == nullptr || internal::StringMember(*modality, "code").empty())
      return Bad({prefix, "'", path, ".modality' must be a Coding with a code"});
  }
  return {};
}

Check CheckSurgery(const std::string& prefix, const Json& r) {
  if (auto c = RequireType(prefix, r, "Procedure"); !c) return c;
  if (auto c = RequireCode(prefix, r, "status", kProcedureStatus); !c) return c;
  if (auto c = CheckConcept(prefix, Member(r, "code"), "code"); !c) return c;
  return CheckReference(prefix, Member(r, "subject"), "subject");
}

}  // namespace

std::string_view EntryKindName(EntryKind kind) {
  switch (kind) {
    case EntryKind::kPrescription:
      return "prescription";
    case EntryKind::kReport:
      return "report";
    case EntryKind::kEcg:
      return "ecg";
    case EntryKind::kImaging:
      return "imaging";
    case EntryKind::kSurgery:
      return "surgery";
  }
  return "report";
}

Result<EntryKind> ParseEntryKind(std::string_view name) {
  for (EntryKind k : kKinds) {
    if (EntryKindName(k) == name) return k;
  }
  return Fail(ErrorCode::kInvalidArgument,
              internal::Cat(
                  {"unknown entry kind '", name, "' (kinds: prescription, report, ecg, imaging, surgery)"}));
}

std::span<const EntryKind> AllEntryKinds() { return kKinds; }

Result<Section> CheckEntry(EntryKind kind, const Json& resource) {
  const std::string prefix = internal::Cat({EntryKindName(kind), ": "});
  Check c;
  switch (kind) {
    case EntryKind::kPrescription:
      c = CheckPrescription(prefix, resource);
      break;
    case EntryKind::kReport:
      c = CheckReport(prefix, resource);
      break;
    case EntryKind::kEcg:
      c = CheckEcg(prefix, resource);
      break;
    case EntryKind::kImaging:
      c = CheckImaging(prefix, resource);
      break;
    case EntryKind::kSurgery:
      c = CheckSurgery(prefix, resource);
      break;
  }
  if (!c) return std::unexpected(c.error());
  return SectionOf(resource);
}

}  // namespace cipherchart::fhir
