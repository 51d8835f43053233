// HIPAA Safe Harbor de-identification (docs/data-model.md, "De-identification"). One recursive
// walk over the JSON: rules keyed by member name (and a few by the enclosing resource type),
// then a generic rule for every string (dates become years) and pruning of what became empty.
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "cipherchart/fhir/fhir.h"
#include "src/fhir/json_util.h"

namespace cipherchart::fhir {

struct Deidentifier::Mac {
  EVP_MAC* mac = nullptr;
  EVP_MAC_CTX* ctx = nullptr;  // initialised with the salt; duplicated for each HMAC
  Mac() = default;
  Mac(const Mac&) = delete;
  Mac& operator=(const Mac&) = delete;
  ~Mac() {
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
  }
};

namespace {

using internal::Json;
using internal::Member;
using internal::StringMember;

constexpr std::string_view kIdLabel = "cipherchart fhir id v1";
constexpr std::string_view kUidLabel = "cipherchart fhir uid v1";

// Members removed wherever they occur (identifiers, contact details, free text, device and
// lot numbers, location coordinates, network addresses, signatures).
constexpr std::string_view kRemovedKeys[] = {
    "identifier",
    "masterIdentifier",
    "accessionIdentifier",
    "requisition",
    "groupIdentifier",
    "telecom",
    "photo",
    "contact",
    "note",
    "comment",
    "comments",
    "patientInstruction",
    "conclusion",
    "udiCarrier",
    "serialNumber",
    "lotNumber",
    "distinctIdentifier",
    "multipleBirthBoolean",
    "multipleBirthInteger",
    "network",
    "altId",
    "position",
    "availabilityExceptions",
    "outcomeDesc",
    "alias",
    "div",
    "title",
    "signature",
    "query",
    "valueString",
    "valueMarkdown",
    "valueUri",
    "valueUrl",
    "valueUuid",
    "valueOid",
    "valueId",
    "valueIdentifier",
    "valueHumanName",
    "valueContactPoint",
    "valueBase64Binary",
    "contentString",
    "source",
    "summary",
};

// Extensions removed whatever they hold (by a substring of their url).
constexpr std::string_view kRemovedExtensions[] = {
    "patient-mothersMaidenName",
    "patient-birthPlace",
    "geolocation",
    "humanname-",
    "iso21090-ADXP",
    "iso21090-EN",
    "own-name",
    "own-prefix",
    "partner-name",
    "partner-prefix",
    "patient-adoptionInfo",
    "patient-disability",
    "patient-cadavericDonor",
};

// Extensions kept verbatim (coded, coarse, and needed for research).
constexpr std::string_view kKeptExtensions[] = {
    "http://hl7.org/fhir/us/core/StructureDefinition/us-core-race",
    "http://hl7.org/fhir/us/core/StructureDefinition/us-core-ethnicity",
    "http://hl7.org/fhir/us/core/StructureDefinition/us-core-birthsex",
};

// Members holding an Attachment.
constexpr std::string_view kAttachmentKeys[] = {"attachment", "presentedForm", "valueAttachment",
                                                "sourceAttachment", "content"};

// Address parts kept: Safe Harbor allows the state (and anything coarser).
constexpr std::string_view kAddressKeptKeys[] = {"use", "type", "state", "country"};

template <std::size_t N>
bool In(std::string_view s, const std::string_view (&set)[N]) {
  for (std::string_view x : set) {
    if (x == s) return true;
  }
  return false;
}

bool IsEmptyContainer(const Json& v) { return v.is_null() || ((v.is_object() || v.is_array()) && v.empty()); }

bool IsValueKey(std::string_view k) {
  return k.size() > 5 && k.starts_with("value") && k[5] >= 'A' && k[5] <= 'Z';
}

int YearOf(std::string_view date) {
  if (date.size() < 4) return -1;
  int y = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    if (date[i] < '0' || date[i] > '9') return -1;
    y = y * 10 + (date[i] - '0');
  }
  return y;
}

int CurrentYear() {
  const auto days = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
  return static_cast<int>(std::chrono::year_month_day(days).year());
}

// Big-endian bytes as a decimal number.
std::string Decimal(std::span<const std::uint8_t> bytes) {
  std::vector<std::uint8_t> n(bytes.begin(), bytes.end());
  std::string digits;
  bool zero = false;
  while (!zero) {
    unsigned remainder = 0;
    zero = true;
    for (std::uint8_t& b : n) {
      const unsigned cur = (remainder << 8) | b;
      b = static_cast<std::uint8_t>(cur / 10);
      remainder = cur % 10;
      if (b != 0) zero = false;
    }
    digits.insert(digits.begin(), static_cast<char>('0' + remainder));
  }
  return digits;
}

// HMAC-SHA256(salt, label || 0x00 || input) from a context keyed with the salt.
bool Hmac(const EVP_MAC_CTX* keyed, std::string_view label, std::string_view input,
          std::array<std::uint8_t, 32>& out) {
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_dup(keyed);
  if (ctx == nullptr) return false;
  static constexpr unsigned char kZero[1] = {0};
  std::size_t len = 0;
  const bool ok =
      EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(label.data()), label.size()) == 1 &&
      EVP_MAC_update(ctx, kZero, 1) == 1 &&
      EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1 &&
      EVP_MAC_final(ctx, out.data(), &len, out.size()) == 1 && len == out.size();
  EVP_MAC_CTX_free(ctx);
  return ok;
}

class Walker {
 public:
  Walker(const EVP_MAC_CTX* mac, int reference_year) : mac_(mac), reference_year_(reference_year) {}

  bool failed() const { return failed_; }

  void Resource(Json& r) {
    if (r.is_object())
      Object(r, "", 0);
    else
      Value(r, "", 0);
  }

  std::string Pseudonym(std::string_view id) {
    if (const auto it = ids_.find(std::string(id)); it != ids_.end()) return it->second;
    std::array<std::uint8_t, 32> h{};
    if (!Hmac(mac_, kIdLabel, id, h)) {
      failed_ = true;
      return {};
    }
    h[6] = static_cast<std::uint8_t>((h[6] & 0x0f) | 0x80);  // version 8 (RFC 9562, custom)
    h[8] = static_cast<std::uint8_t>((h[8] & 0x3f) | 0x80);  // RFC 9562 variant
    static constexpr char kHex[] = "0123456789abcdef";
    std::string s;
    for (std::size_t i = 0; i < 16; ++i) {
      if (i == 4 || i == 6 || i == 8 || i == 10) s += '-';
      s += kHex[h[i] >> 4];
      s += kHex[h[i] & 15];
    }
    ids_.emplace(std::string(id), s);
    return s;
  }

 private:
  // A DICOM UID pseudonym: an OID under 2.25 (UUID-derived OIDs, ITU-T X.667) from 16 HMAC bytes.
  std::string Uid(std::string_view uid) {
    std::array<std::uint8_t, 32> h{};
    if (!Hmac(mac_, kUidLabel, uid, h)) {
      failed_ = true;
      return {};
    }
    return internal::Cat({"2.25.", Decimal(std::span<const std::uint8_t>(h.data(), 16))});
  }

  std::string Reference(std::string_view ref) {
    if (ref.starts_with("urn:uuid:")) return internal::Cat({"urn:uuid:", Pseudonym(ref.substr(9))});
    if (ref.starts_with("urn:oid:")) return internal::Cat({"urn:oid:", Uid(ref.substr(8))});
    if (ref.starts_with("#"))
      return ref.size() == 1 ? std::string(ref) : internal::Cat({"#", Pseudonym(ref.substr(1))});
    // Conditional reference "Type?search": the search names identifiers; keep only the type.
    if (const std::size_t q = ref.find('?'); q != std::string_view::npos) {
      const std::string_view type = ref.substr(0, q);
      return internal::Cat({type, "/", Pseudonym(ref)});
    }
    // [base/]Type/id[/_history/v]: relative, without the server base or version.
    if (const std::size_t h = ref.find("/_history/"); h != std::string_view::npos) ref = ref.substr(0, h);
    const std::size_t slash = ref.rfind('/');
    if (slash == std::string_view::npos) return Pseudonym(ref);
    const std::string_view id = ref.substr(slash + 1);
    std::string_view type = ref.substr(0, slash);
    if (const std::size_t s2 = type.rfind('/'); s2 != std::string_view::npos) type = type.substr(s2 + 1);
    return internal::Cat({type, "/", Pseudonym(id)});
  }

  static void Address(Json& a) {
    if (!a.is_object()) {
      a = nullptr;
      return;
    }
    Json kept = Json::object();
    for (std::string_view k : kAddressKeptKeys) {
      if (const Json* v = Member(a, k); v != nullptr && v->is_string()) kept[std::string(k)] = *v;
    }
    a = std::move(kept);
  }

  static void AgeQuantity(Json& q) {
    const Json* value = Member(q, "value");
    if (value == nullptr || !value->is_number()) return;
    const std::string_view code = StringMember(q, "code");
    const std::string_view unit = StringMember(q, "unit");
    const bool years = code == "a" || unit == "a" || unit == "yr" || unit == "years" || unit == "year";
    if (years && value->get<double>() > 89) {
      q["value"] = 90;
      q["comparator"] = ">=";
    }
  }

  // A person 90 or older loses the birth date; everyone else keeps its year (generic rule).
  void Person(Json& r) {
    const std::string_view birth = StringMember(r, "birthDate");
    const int birth_year = YearOf(birth);
    if (birth_year < 0) return;
    int at = reference_year_;
    if (const int death = YearOf(StringMember(r, "deceasedDateTime")); death >= 0) at = death;
    if (at - birth_year < 90) return;
    r.erase("birthDate");
    r.erase("_birthDate");
    Json ext = Json::object();
    ext["url"] = std::string(kAgeOver89ExtensionUrl);
    ext["valueBoolean"] = true;
    if (!r.contains("extension") || !r["extension"].is_array()) r["extension"] = Json::array();
    r["extension"].push_back(std::move(ext));
  }

  // Filters an extension array; returns nothing, leaves kept extensions processed.
  void Extensions(Json& list, int depth) {
    if (!list.is_array()) {
      list = nullptr;
      return;
    }
    Json kept = Json::array();
    for (Json& e : list) {
      const std::string_view url = StringMember(e, "url");
      if (url == kAgeOver89ExtensionUrl || In(url, kKeptExtensions)) {
        kept.push_back(std::move(e));
        continue;
      }
      bool removed = false;
      for (std::string_view bad : kRemovedExtensions) {
        if (url.find(bad) != std::string_view::npos) removed = true;
      }
      if (removed) continue;
      Object(e, "extension", depth + 1);
      if (!e.is_object()) continue;
      bool has_content = false;
      for (const auto& [k, v] : e.items()) {
        if (IsValueKey(k) || k == "extension") has_content = true;
      }
      if (has_content) kept.push_back(std::move(e));
    }
    list = std::move(kept);
  }

  void Value(Json& v, std::string_view key, int depth) {
    if (depth > kMaxJsonDepth) {
      v = nullptr;
      return;
    }
    if (v.is_object()) {
      Object(v, key, depth);
    } else if (v.is_array()) {
      for (Json& e : v) Value(e, key, depth + 1);
      Json kept = Json::array();
      for (Json& e : v) {
        if (!IsEmptyContainer(e)) kept.push_back(std::move(e));
      }
      v = std::move(kept);
    } else if (v.is_string()) {
      const std::string& s = v.get_ref<const std::string&>();
      if (internal::IsPartialOrFullDate(s)) v = s.substr(0, 4);
    }
  }

  void Object(Json& o, std::string_view parent_key, int depth) {
    if (depth > kMaxJsonDepth) {
      o = nullptr;
      return;
    }
    const std::string_view type = internal::ResourceType(o);
    if (type == "Patient" || type == "RelatedPerson" || type == "Person") Person(o);
    const bool attachment = In(parent_key, kAttachmentKeys) || o.contains("contentType");
    const bool extension_like = o.contains("url") && parent_key == "extension";
    const bool coding_like = o.contains("code") || o.contains("system");

    std::vector<std::string> erase;
    for (auto it = o.begin(); it != o.end(); ++it) {
      const std::string& k = it.key();
      Json& v = it.value();
      // An attachment's content goes too (SampledData.data, the samples, is not one).
      const bool removed = In(k, kRemovedKeys) || (attachment && (k == "data" || k == "hash"));
      if (removed) {
        erase.push_back(k);
      } else if (k == "name") {
        if (parent_key != "deviceName") erase.push_back(k);
      } else if (k == "text") {
        // A Narrative, or free text: only the label of a coded concept stays.
        if (!v.is_string() || !o.contains("coding")) erase.push_back(k);
      } else if (k == "description") {
        if (v.is_string())
          erase.push_back(k);  // free text; Goal.description is a CodeableConcept and stays
        else
          Value(v, k, depth + 1);
      } else if (k == "display") {
        if (!coding_like) erase.push_back(k);  // a Reference's display names its target
      } else if (k == "url") {
        if (!extension_like || attachment) erase.push_back(k);
      } else if (k == "address" || k == "valueAddress") {
        if (v.is_array()) {
          for (Json& a : v) Address(a);
          Value(v, k, depth + 1);
        } else if (v.is_object()) {
          Address(v);
        } else {
          erase.push_back(k);  // Endpoint.address, a URL
        }
      } else if (k == "extension" || k == "modifierExtension") {
        Extensions(v, depth);
      } else if ((k == "reference" || k == "fullUrl") && v.is_string()) {
        v = Reference(v.get_ref<const std::string&>());
      } else if (k == "id" && !type.empty() && v.is_string()) {
        v = Pseudonym(v.get_ref<const std::string&>());
      } else if (k == "uid" && v.is_string()) {
        v = Uid(v.get_ref<const std::string&>());
      } else if (k.size() > 3 && k.ends_with("Age") && v.is_object()) {
        AgeQuantity(v);
        Value(v, k, depth + 1);
      } else {
        Value(v, k, depth + 1);
      }
    }
    for (const std::string& k : erase) o.erase(k);
    for (auto it = o.begin(); it != o.end();) {
      if (IsEmptyContainer(it.value()))
        it = o.erase(it);
      else
        ++it;
    }
  }

  const EVP_MAC_CTX* mac_;
  int reference_year_;
  bool failed_ = false;
  std::unordered_map<std::string, std::string> ids_;
};

}  // namespace

Result<Deidentifier> Deidentifier::Create(std::span<const std::uint8_t> salt, DeidentifyOptions options) {
  if (salt.size() != kPseudonymSaltSize) {
    return Fail(ErrorCode::kInvalidArgument,
                internal::Cat({"de-identification: the salt must be ", std::to_string(kPseudonymSaltSize),
                               " bytes, not ", std::to_string(salt.size())}));
  }
  if (options.reference_year < 0 || options.reference_year > 9999)
    return Fail(ErrorCode::kInvalidArgument, "de-identification: reference_year must be 0 or 1..9999");
  if (options.reference_year == 0) options.reference_year = CurrentYear();
  auto mac = std::make_shared<Mac>();
  mac->mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (mac->mac != nullptr) mac->ctx = EVP_MAC_CTX_new(mac->mac);
  char digest[] = "SHA256";
  const std::array<OSSL_PARAM, 2> params = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_end(),
  };
  if (mac->ctx == nullptr || EVP_MAC_init(mac->ctx, salt.data(), salt.size(), params.data()) != 1)
    return Fail(ErrorCode::kInternal, "de-identification: OpenSSL HMAC-SHA256 setup failed");
  return Deidentifier(std::move(mac), options);
}

Result<Json> Deidentifier::Apply(const Json& resource) const {
  // Only resources: the walker's rules are keyed by resourceType (found by fuzz_fhir: an array
  // there was "de-identified" into something else).
  if (!resource.is_object() || !resource.contains("resourceType") || !resource["resourceType"].is_string())
    return Fail(ErrorCode::kInvalidArgument,
                "de-identification: not a FHIR resource (an object with a string resourceType)");
  Json copy = resource;
  Walker walker(mac_->ctx, options_.reference_year);
  walker.Resource(copy);
  if (walker.failed()) return Fail(ErrorCode::kInternal, "de-identification: OpenSSL HMAC-SHA256 failed");
  return copy;
}

Result<std::string> Deidentifier::PseudonymId(std::string_view id) const {
  Walker walker(mac_->ctx, options_.reference_year);
  std::string p = walker.Pseudonym(id);
  if (walker.failed()) return Fail(ErrorCode::kInternal, "de-identification: OpenSSL HMAC-SHA256 failed");
  return p;
}

Result<Json> Deidentify(const Json& resource, std::span<const std::uint8_t> salt, DeidentifyOptions options) {
  auto d = Deidentifier::Create(salt, options);
  if (!d) return std::unexpected(d.error());
  return d->Apply(resource);
}

Result<std::vector<Json>> DeidentifyAll(const std::vector<Json>& resources,
                                        std::span<const std::uint8_t> salt, DeidentifyOptions options) {
  auto d = Deidentifier::Create(salt, options);
  if (!d) return std::unexpected(d.error());
  std::vector<Json> out;
  out.reserve(resources.size());
  for (const Json& r : resources) {
    auto x = d->Apply(r);
    if (!x) return std::unexpected(x.error());
    out.push_back(std::move(*x));
  }
  return out;
}

}  // namespace cipherchart::fhir
