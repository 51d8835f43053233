// JSON parsing, bundle validation, splitting, reassembly and the round-trip comparison.
#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "cipherchart/fhir/fhir.h"
#include "src/fhir/json_util.h"

namespace cipherchart::fhir {

namespace {

using internal::Json;
using internal::Member;
using internal::StringMember;

struct TooDeep {};

bool IsResourceTypeName(std::string_view s) {
  if (s.empty() || s[0] < 'A' || s[0] > 'Z') return false;
  for (char c : s) {
    const bool letter = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
    if (!letter) return false;
  }
  return true;
}

std::string Where(std::size_t entry) { return "bundle entry " + std::to_string(entry) + ": "; }

// "Observation/abc" (or "Observation (no id)") for messages.
std::string Label(const Json& resource) {
  std::string type(internal::ResourceType(resource));
  if (type.empty()) type = "(no resourceType)";
  const std::string_view id = StringMember(resource, "id");
  return id.empty() ? type + " (no id)" : type + "/" + std::string(id);
}

std::string Key(const Json& resource) {
  return std::string(internal::ResourceType(resource)) + "/" + std::string(StringMember(resource, "id"));
}

// The first JSON pointer at which a and b differ ("" if they are equal).
std::string FirstDifference(const Json& a, const Json& b, const std::string& path) {
  if (a == b) return {};
  if (a.is_object() && b.is_object()) {
    for (const auto& [k, v] : a.items()) {
      const auto it = b.find(k);
      if (it == b.end()) return internal::JoinPointer(path, k) + " (only in the first)";
      std::string d = FirstDifference(v, *it, internal::JoinPointer(path, k));
      if (!d.empty()) return d;
    }
    for (const auto& [k, v] : b.items()) {
      if (!a.contains(k)) return internal::JoinPointer(path, k) + " (only in the second)";
    }
  } else if (a.is_array() && b.is_array()) {
    const std::size_t n = a.size() < b.size() ? a.size() : b.size();
    for (std::size_t i = 0; i < n; ++i) {
      std::string d = FirstDifference(a[i], b[i], internal::JoinPointer(path, std::to_string(i)));
      if (!d.empty()) return d;
    }
    return path + " (arrays of " + std::to_string(a.size()) + " and " + std::to_string(b.size()) +
           " elements)";
  }
  return path.empty() ? "/" : path;
}

}  // namespace

Result<Json> ParseJson(std::string_view text) {
  const Json::parser_callback_t limit = [](int depth, Json::parse_event_t event, Json&) {
    if ((event == Json::parse_event_t::object_start || event == Json::parse_event_t::array_start) &&
        depth >= kMaxJsonDepth)
      throw TooDeep{};
    return true;
  };
  try {
    return Json::parse(text, limit);
  } catch (const Json::parse_error& e) {
    return Fail(ErrorCode::kInvalidEncoding, "JSON: syntax error at byte " + std::to_string(e.byte));
  } catch (const TooDeep&) {
    return Fail(ErrorCode::kInvalidEncoding,
                "JSON: nesting deeper than " + std::to_string(kMaxJsonDepth) + " arrays or objects");
  } catch (const Json::out_of_range&) {
    // Found by fuzz_fhir: "1E400" overflows a double and nlohmann throws out_of_range, not
    // parse_error.
    return Fail(ErrorCode::kInvalidEncoding, "JSON: a number is too large");
  } catch (const Json::exception& e) {
    // e.what() can quote the input (health data): only the error number goes in the message.
    return Fail(ErrorCode::kInvalidEncoding, "JSON: rejected (parser error " + std::to_string(e.id) + ")");
  }
}

Result<std::vector<Json>> BundleResources(const Json& bundle) {
  if (!bundle.is_object()) return Fail(ErrorCode::kInvalidArgument, "bundle: not a JSON object");
  const Json* rt = Member(bundle, "resourceType");
  if (rt == nullptr || !rt->is_string()) return Fail(ErrorCode::kInvalidArgument, "bundle: no resourceType");
  if (*rt != "Bundle") return Fail(ErrorCode::kInvalidArgument, "bundle: resourceType is not \"Bundle\"");
  const Json* type = Member(bundle, "type");
  if (type == nullptr || !type->is_string())
    return Fail(ErrorCode::kInvalidArgument, "bundle: no 'type' string");
  const std::string_view t = type->get_ref<const std::string&>();
  if (t != "transaction" && t != "batch" && t != "collection" && t != "searchset" && t != "document") {
    return Fail(ErrorCode::kInvalidArgument,
                "bundle: type must be transaction, batch, collection, searchset or document");
  }
  std::vector<Json> out;
  const Json* entries = Member(bundle, "entry");
  if (entries == nullptr) return out;
  if (!entries->is_array()) return Fail(ErrorCode::kInvalidArgument, "bundle: 'entry' is not an array");
  out.reserve(entries->size());
  for (std::size_t i = 0; i < entries->size(); ++i) {
    const Json& entry = (*entries)[i];
    if (!entry.is_object()) return Fail(ErrorCode::kInvalidArgument, Where(i) + "not an object");
    const Json* resource = Member(entry, "resource");
    if (resource == nullptr) return Fail(ErrorCode::kInvalidArgument, Where(i) + "has no resource");
    if (!resource->is_object())
      return Fail(ErrorCode::kInvalidArgument, Where(i) + "resource is not an object");
    const Json* rtype = Member(*resource, "resourceType");
    if (rtype == nullptr) return Fail(ErrorCode::kInvalidArgument, Where(i) + "resource has no resourceType");
    if (!rtype->is_string() || !IsResourceTypeName(rtype->get_ref<const std::string&>())) {
      return Fail(ErrorCode::kInvalidArgument,
                  Where(i) + "resourceType is not a resource type name ([A-Z][A-Za-z]*)");
    }
    out.push_back(*resource);
  }
  return out;
}

std::size_t SplitResult::ResourceCount() const {
  std::size_t n = 0;
  for (const auto& [section, resources] : sections) n += resources.size();
  return n;
}

SplitResult SplitResources(std::vector<Json> resources) {
  SplitResult result;
  for (Json& r : resources) {
    const Section s = SectionOf(r);
    result.sections[s].push_back(std::move(r));
  }
  return result;
}

Result<SplitResult> SplitBundle(const Json& bundle) {
  auto resources = BundleResources(bundle);
  if (!resources) return std::unexpected(resources.error());
  return SplitResources(std::move(*resources));
}

Json MakeCollectionBundle(std::vector<Json> resources) {
  Json entries = Json::array();
  for (Json& r : resources) {
    Json entry = Json::object();
    const std::string_view id = StringMember(r, "id");
    if (internal::IsUuid(id)) entry["fullUrl"] = "urn:uuid:" + std::string(id);
    entry["resource"] = std::move(r);
    entries.push_back(std::move(entry));
  }
  Json bundle = Json::object();
  bundle["resourceType"] = "Bundle";
  bundle["type"] = "collection";
  bundle["entry"] = std::move(entries);
  return bundle;
}

bool SameResources(const std::vector<Json>& a, const std::vector<Json>& b, std::string* why) {
  // Group b by resourceType/id; match each resource of a with an equal, unused one of b.
  std::unordered_multimap<std::string, std::size_t> by_key;
  by_key.reserve(b.size());
  for (std::size_t j = 0; j < b.size(); ++j) by_key.emplace(Key(b[j]), j);
  std::vector<bool> used(b.size(), false);
  std::vector<std::size_t> unmatched_a;
  for (std::size_t i = 0; i < a.size(); ++i) {
    bool matched = false;
    const auto [lo, hi] = by_key.equal_range(Key(a[i]));
    for (auto it = lo; it != hi; ++it) {
      if (!used[it->second] && a[i] == b[it->second]) {
        used[it->second] = true;
        matched = true;
        break;
      }
    }
    if (!matched) unmatched_a.push_back(i);
  }
  std::vector<std::size_t> unmatched_b;
  for (std::size_t j = 0; j < b.size(); ++j) {
    if (!used[j]) unmatched_b.push_back(j);
  }
  if (unmatched_a.empty() && unmatched_b.empty()) return true;
  if (why == nullptr) return false;

  const std::string counts = " (" + std::to_string(unmatched_a.size()) + " of " + std::to_string(a.size()) +
                             " resource(s) unmatched in the first set, " +
                             std::to_string(unmatched_b.size()) + " of " + std::to_string(b.size()) +
                             " in the second)";
  if (!unmatched_a.empty()) {
    const Json& r = a[unmatched_a.front()];
    // A counterpart with the same type and id that is not equal: name the first differing path.
    for (std::size_t j : unmatched_b) {
      if (Key(b[j]) == Key(r)) {
        *why = Label(r) + ": differs at " + FirstDifference(r, b[j], "") + counts;
        return false;
      }
    }
    *why = Label(r) + ": only in the first set" + counts;
    return false;
  }
  *why = Label(b[unmatched_b.front()]) + ": only in the second set" + counts;
  return false;
}

}  // namespace cipherchart::fhir
