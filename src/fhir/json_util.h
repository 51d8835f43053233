// Small read-only helpers over nlohmann::json shared by the FHIR sources (private).
#pragma once

#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace cipherchart::fhir::internal {

using Json = nlohmann::json;

// Concatenation for messages. (GCC 12 reports false -Wrestrict warnings inside libstdc++ for
// chains like "a" + std::string(b) + "c"; appending to one string avoids them.)
std::string Cat(std::initializer_list<std::string_view> parts);

// The member `key` of an object, or nullptr (also when `value` is not an object).
const Json* Member(const Json& value, std::string_view key);

// The member as a string, or "" when absent or not a string.
std::string_view StringMember(const Json& value, std::string_view key);

// The resourceType of a resource, or "" when it has none.
inline std::string_view ResourceType(const Json& resource) { return StringMember(resource, "resourceType"); }

// Calls f(const Json& coding) for each coding of a CodeableConcept, or of each CodeableConcept
// in an array of them; a bare Coding counts as one coding.
template <class F>
void ForEachCoding(const Json* ccs, F&& f) {
  if (ccs == nullptr) return;
  auto one = [&](const Json& cc) {
    if (!cc.is_object()) return;
    if (const Json* codings = Member(cc, "coding"); codings != nullptr && codings->is_array()) {
      for (const Json& c : *codings) {
        if (c.is_object()) f(c);
      }
    } else if (cc.contains("code")) {
      f(cc);
    }
  };
  if (ccs->is_array()) {
    for (const Json& c : *ccs) one(c);
  } else {
    one(*ccs);
  }
}

// The display text of a CodeableConcept: its text, else the first coding's display, else the
// first coding's code; "" if none.
std::string ConceptLabel(const Json* cc);

// Whether `s` is a FHIR date, dateTime or instant with at least year and month:
// YYYY-MM, YYYY-MM-DD, YYYY-MM-DDThh:mm[:ss[.fff]][Z|(+|-)hh:mm].
bool IsPartialOrFullDate(std::string_view s);

// Whether `s` is a UUID in its canonical 8-4-4-4-12 lower- or upper-case hex form.
bool IsUuid(std::string_view s);

// A JSON pointer path element escaped per RFC 6901 joined with '/'.
std::string JoinPointer(std::string_view base, std::string_view token);

}  // namespace cipherchart::fhir::internal
