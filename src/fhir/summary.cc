// One-line summaries and dates of resources for the history view.
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "cipherchart/fhir/fhir.h"
#include "src/fhir/json_util.h"

namespace cipherchart::fhir {

namespace {

using internal::ConceptLabel;
using internal::Json;
using internal::Member;
using internal::StringMember;

constexpr std::size_t kMaxSummary = 160;

std::string FormatNumber(const Json& v) {
  if (v.is_number_unsigned()) return std::to_string(v.get<std::uint64_t>());
  if (v.is_number_integer()) return std::to_string(v.get<std::int64_t>());
  if (!v.is_number()) return {};
  const double d = v.get<double>();
  if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 1e15) {
    return std::to_string(static_cast<long long>(d));
  }
  char buf[64];
  const double a = std::fabs(d);
  if (a >= 1e7 || (a > 0 && a < 1e-3)) {
    std::snprintf(buf, sizeof buf, "%.3g", d);
    return buf;
  }
  std::snprintf(buf, sizeof buf, a >= 10 ? "%.1f" : a >= 1 ? "%.2f" : "%.3f", d);
  std::string s = buf;
  while (s.size() > 1 && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

std::string QuantityText(const Json& q, bool with_unit = true) {
  const Json* value = Member(q, "value");
  if (value == nullptr) return {};
  std::string out(StringMember(q, "comparator"));
  out += FormatNumber(*value);
  if (!with_unit) return out;
  std::string_view unit = StringMember(q, "unit");
  if (unit.empty()) unit = StringMember(q, "code");
  if (!unit.empty()) {
    out += ' ';
    out += unit;
  }
  return out;
}

std::string QuantityUnit(const Json& q) {
  const std::string_view unit = StringMember(q, "unit");
  return std::string(unit.empty() ? StringMember(q, "code") : unit);
}

// The value[x] of an Observation or component as text ("" if none).
std::string ValueText(const Json& o) {
  if (const Json* q = Member(o, "valueQuantity")) return QuantityText(*q);
  if (const Json* c = Member(o, "valueCodeableConcept")) return ConceptLabel(c);
  if (const Json* s = Member(o, "valueString"); s != nullptr && s->is_string()) return s->get<std::string>();
  if (const Json* b = Member(o, "valueBoolean"); b != nullptr && b->is_boolean())
    return b->get<bool>() ? "yes" : "no";
  if (const Json* i = Member(o, "valueInteger")) return FormatNumber(*i);
  if (const Json* r = Member(o, "valueRange")) {
    const Json* low = Member(*r, "low");
    const Json* high = Member(*r, "high");
    return (low != nullptr ? QuantityText(*low) : std::string()) + " - " +
           (high != nullptr ? QuantityText(*high) : std::string());
  }
  if (const Json* r = Member(o, "valueRatio")) {
    const Json* n = Member(*r, "numerator");
    const Json* d = Member(*r, "denominator");
    return (n != nullptr ? QuantityText(*n) : std::string()) + " / " +
           (d != nullptr ? QuantityText(*d) : std::string());
  }
  if (Member(o, "valueSampledData") != nullptr) return "sampled data";
  if (const std::string_view dt = StringMember(o, "valueDateTime"); !dt.empty()) return std::string(dt);
  if (const std::string_view t = StringMember(o, "valueTime"); !t.empty()) return std::string(t);
  return {};
}

// The LOINC code of a component ("" if none is coded with http://loinc.org).
std::string_view LoincCode(const Json& component) {
  std::string_view code;
  internal::ForEachCoding(Member(component, "code"), [&](const Json& coding) {
    if (code.empty() && StringMember(coding, "system") == "http://loinc.org")
      code = StringMember(coding, "code");
  });
  return code;
}

// Components in the order a clinician reads them: a blood pressure is "systolic/diastolic"
// (LOINC 8480-6, then 8462-4) whatever order the resource lists them in (Synthea puts
// diastolic first); every other component keeps its place after those two.
std::vector<const Json*> DisplayOrder(const Json& components) {
  constexpr std::string_view kSystolic = "8480-6", kDiastolic = "8462-4";
  std::vector<const Json*> first, rest;
  const Json* systolic = nullptr;
  const Json* diastolic = nullptr;
  for (const Json& c : components) {
    const std::string_view code = LoincCode(c);
    if (code == kSystolic && systolic == nullptr)
      systolic = &c;
    else if (code == kDiastolic && diastolic == nullptr)
      diastolic = &c;
    else
      rest.push_back(&c);
  }
  if (systolic != nullptr) first.push_back(systolic);
  if (diastolic != nullptr) first.push_back(diastolic);
  first.insert(first.end(), rest.begin(), rest.end());
  return first;
}

std::string ComponentsText(const Json& components) {
  if (!components.is_array() || components.empty()) return {};
  // All quantities in one unit: "120/80 mm[Hg]".
  bool same_unit = true;
  std::string unit;
  std::size_t sampled = 0;
  for (const Json& c : components) {
    if (Member(c, "valueSampledData") != nullptr) ++sampled;
    const Json* q = Member(c, "valueQuantity");
    if (q == nullptr || Member(*q, "value") == nullptr) {
      same_unit = false;
      continue;
    }
    const std::string u = QuantityUnit(*q);
    if (&c == &components.front())
      unit = u;
    else if (u != unit)
      same_unit = false;
  }
  if (sampled == components.size()) return std::to_string(sampled) + " channel(s) of sampled data";
  if (same_unit) {
    std::string out;
    for (const Json* c : DisplayOrder(components)) {
      if (!out.empty()) out += '/';
      out += QuantityText(*Member(*c, "valueQuantity"), false);
    }
    if (!unit.empty()) out += " " + unit;
    return out;
  }
  std::string out;
  for (const Json& c : components) {
    const std::string value = ValueText(c);
    if (value.empty()) continue;
    if (!out.empty()) out += "; ";
    out += ConceptLabel(Member(c, "code")) + " " + value;
  }
  return out;
}

std::string HumanNameText(const Json* names) {
  if (names == nullptr || !names->is_array() || names->empty()) return {};
  const Json& n = names->front();
  if (const std::string_view text = StringMember(n, "text"); !text.empty()) return std::string(text);
  std::string out;
  if (const Json* given = Member(n, "given"); given != nullptr && given->is_array()) {
    for (const Json& g : *given) {
      if (!g.is_string()) continue;
      if (!out.empty()) out += ' ';
      out += g.get<std::string>();
    }
  }
  if (const std::string_view family = StringMember(n, "family"); !family.empty()) {
    if (!out.empty()) out += ' ';
    out += family;
  }
  return out;
}

std::string FirstConcept(const Json& r, std::string_view key) {
  const Json* v = Member(r, key);
  if (v != nullptr && v->is_array()) return v->empty() ? std::string() : ConceptLabel(&v->front());
  return ConceptLabel(v);
}

std::string MedicationText(const Json& r) {
  if (const Json* c = Member(r, "medicationCodeableConcept")) return ConceptLabel(c);
  if (const Json* ref = Member(r, "medicationReference")) {
    const std::string_view display = StringMember(*ref, "display");
    return std::string(display.empty() ? StringMember(*ref, "reference") : display);
  }
  return {};
}

std::string MoneyText(const Json* money) {
  if (money == nullptr) return {};
  const Json* value = Member(*money, "value");
  if (value == nullptr) return {};
  std::string out = FormatNumber(*value);
  if (const std::string_view cur = StringMember(*money, "currency"); !cur.empty())
    out += " " + std::string(cur);
  return out;
}

std::string StatusCode(const Json& r, std::string_view key) {
  const Json* v = Member(r, key);
  if (v == nullptr) return {};
  if (v->is_string()) return v->get<std::string>();
  std::string code;
  internal::ForEachCoding(v, [&](const Json& c) {
    if (code.empty()) code = StringMember(c, "code");
  });
  return code;
}

std::string Join(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& p : parts) {
    if (p.empty()) continue;
    if (!out.empty()) out += ' ';
    out += p;
  }
  return out;
}

// Control characters become spaces, runs of spaces collapse, and the text is cut (on a UTF-8
// boundary) to kMaxSummary bytes.
std::string OneLine(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    const char d = (u < 0x20 || u == 0x7f) ? ' ' : c;
    if (d == ' ' && (out.empty() || out.back() == ' ')) continue;
    out += d;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  if (out.size() > kMaxSummary) {
    std::size_t cut = kMaxSummary - 3;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out.resize(cut);
    out += "...";
  }
  return out;
}

std::string WithStatus(std::string text, const std::string& status) {
  if (!status.empty()) text += " (" + status + ")";
  return text;
}

std::string Describe(const Json& r, std::string_view type) {
  if (type == "Patient" || type == "RelatedPerson" || type == "Person" || type == "Practitioner") {
    std::vector<std::string> facts;
    if (const std::string_view g = StringMember(r, "gender"); !g.empty()) facts.emplace_back(g);
    if (const std::string_view b = StringMember(r, "birthDate"); !b.empty())
      facts.push_back("born " + std::string(b));
    std::string detail;
    for (const std::string& f : facts) detail += (detail.empty() ? "" : ", ") + f;
    std::string out = HumanNameText(Member(r, "name"));
    if (!detail.empty()) out += (out.empty() ? "(" : " (") + detail + ")";
    return out;
  }
  if (type == "Observation") {
    std::string value = ValueText(r);
    if (value.empty()) {
      if (const Json* comps = Member(r, "component")) value = ComponentsText(*comps);
    }
    return Join({ConceptLabel(Member(r, "code")), value});
  }
  if (type == "MedicationRequest" || type == "MedicationStatement" || type == "MedicationAdministration" ||
      type == "MedicationDispense") {
    return WithStatus(MedicationText(r), StatusCode(r, "status"));
  }
  if (type == "Immunization")
    return WithStatus(ConceptLabel(Member(r, "vaccineCode")), StatusCode(r, "status"));
  if (type == "Condition" || type == "AllergyIntolerance") {
    return WithStatus(ConceptLabel(Member(r, "code")), StatusCode(r, "clinicalStatus"));
  }
  if (type == "Encounter") {
    std::string t = FirstConcept(r, "type");
    if (t.empty()) {
      if (const Json* cls = Member(r, "class")) t = StringMember(*cls, "code");
    }
    return t;
  }
  if (type == "CarePlan") return WithStatus(FirstConcept(r, "category"), StatusCode(r, "status"));
  if (type == "Goal")
    return WithStatus(ConceptLabel(Member(r, "description")), StatusCode(r, "lifecycleStatus"));
  if (type == "ImagingStudy") {
    std::string what(StringMember(r, "description"));
    std::size_t series = 0;
    if (const Json* s = Member(r, "series"); s != nullptr && s->is_array()) {
      series = s->size();
      if (what.empty() && !s->empty()) {
        const Json* modality = Member(s->front(), "modality");
        if (modality != nullptr) {
          what = StringMember(*modality, "display");
          if (what.empty()) what = StringMember(*modality, "code");
        }
        if (const Json* site = Member(s->front(), "bodySite"); site != nullptr && !what.empty()) {
          const std::string_view d = StringMember(*site, "display");
          if (!d.empty()) what += " of " + std::string(d);
        }
      }
    }
    if (series > 0)
      what += (what.empty() ? "" : " ") + std::string("(") + std::to_string(series) + " series)";
    return what;
  }
  if (type == "DocumentReference") {
    std::string t = ConceptLabel(Member(r, "type"));
    if (t.empty()) t = StringMember(r, "description");
    return t;
  }
  if (type == "Claim") return Join({ConceptLabel(Member(r, "type")), MoneyText(Member(r, "total"))});
  if (type == "ExplanationOfBenefit") {
    const Json* payment = Member(r, "payment");
    return Join(
        {ConceptLabel(Member(r, "type")), payment != nullptr ? MoneyText(Member(*payment, "amount")) : ""});
  }
  // Generic: the first cc among the usual fields, else a name.
  for (std::string_view key : {"code", "type", "category", "vaccineCode", "medicationCodeableConcept"}) {
    std::string label = FirstConcept(r, key);
    if (!label.empty()) return WithStatus(label, StatusCode(r, "status"));
  }
  if (const std::string_view name = StringMember(r, "name"); !name.empty()) return std::string(name);
  return HumanNameText(Member(r, "name"));
}

}  // namespace

std::string Summary(const Json& resource) {
  const std::string_view type = internal::ResourceType(resource);
  if (type.empty()) return "(not a FHIR resource)";
  return OneLine(Join({std::string(type), Describe(resource, type)}));
}

std::string ResourceDate(const Json& resource) {
  struct Field {
    bool period;  // a Period: use its start
    std::string_view key;
  };
  static constexpr Field kOrder[] = {
      {false, "effectiveDateTime"},
      {true, "effectivePeriod"},
      {false, "effectiveInstant"},
      {false, "occurrenceDateTime"},
      {true, "occurrencePeriod"},
      {false, "performedDateTime"},
      {true, "performedPeriod"},
      {false, "authoredOn"},
      {false, "onsetDateTime"},
      {true, "onsetPeriod"},
      {false, "started"},
      {false, "issued"},
      {false, "recordedDate"},
      {true, "period"},
      {true, "billablePeriod"},
      {false, "created"},
      {false, "date"},
      {false, "dateAsserted"},
      {false, "recorded"},
      {false, "birthDate"},
  };
  if (!resource.is_object()) return {};
  for (const Field& f : kOrder) {
    std::string_view v;
    if (!f.period) {
      v = StringMember(resource, f.key);
    } else if (const Json* p = Member(resource, f.key)) {
      v = StringMember(*p, "start");
    }
    if (!v.empty()) return std::string(v);
  }
  return {};
}

}  // namespace cipherchart::fhir
