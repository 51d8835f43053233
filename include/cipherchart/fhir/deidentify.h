// De-identification of FHIR resources by the HIPAA Safe Harbor method (45 CFR 164.514(b)(2)),
// for the researcher view of a record. Included by fhir.h.
//
// Deidentify removes or generalises the 18 identifier kinds of 164.514(b)(2)(i) in any
// resource; docs/data-model.md ("De-identification") has the rule for each kind. In short:
// names, telecom, identifiers, contacts, photos, attachment data and URLs, narratives, notes and
// other free-text fields are removed; addresses keep only state and country; every date, dateTime
// and instant becomes its year, and a person 90 or older loses the birth year as well (flagged by
// the extension kAgeOver89ExtensionUrl); resource ids and references are replaced by pseudonyms
// (HMAC-SHA256 under a caller-supplied 32-byte salt), so references inside one de-identified set
// still resolve, while without the salt a pseudonym cannot be linked back to its id.
//
// Safe Harbor's second condition (no actual knowledge that the rest could identify the person)
// is the data holder's judgement, not something code can check: coded values (diagnoses, drug
// names, which are kept) can still be rare enough to single someone out.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cipherchart/common/error.h"

namespace cipherchart::fhir {

// The salt (HMAC key) of the pseudonyms: exactly this many bytes, from a CSPRNG, kept secret
// by whoever produces research extracts (reusing it links extracts of the same record).
inline constexpr std::size_t kPseudonymSaltSize = 32;

// Added to a Patient, RelatedPerson or Person whose age is 90 or more (its birthDate is then
// removed entirely): {"url": kAgeOver89ExtensionUrl, "valueBoolean": true}.
inline constexpr std::string_view kAgeOver89ExtensionUrl = "urn:cipherchart:fhir:age-90-or-older";

struct DeidentifyOptions {
  // The year at which a living person's age is computed for the "over 89" rule; 0 means the
  // current UTC year. A person with a deceasedDateTime is aged at the year of death. The age
  // is the difference of the years, which overestimates by at most one: the rule errs towards
  // removing the birth year.
  int reference_year = 0;
};

class Deidentifier {
 public:
  // Fails (kInvalidArgument) if salt.size() != kPseudonymSaltSize or options.reference_year is
  // neither 0 nor in 1..9999.
  static Result<Deidentifier> Create(std::span<const std::uint8_t> salt, DeidentifyOptions options = {});

  // The de-identified copy of `resource` (any JSON value; a Bundle is handled element by
  // element like any resource). Fails (kInternal) only if HMAC-SHA256 fails in OpenSSL.
  Result<nlohmann::json> Apply(const nlohmann::json& resource) const;

  // The pseudonym of a resource id: HMAC-SHA256(salt, "cipherchart fhir id v1" || 0x00 || id),
  // first 16 bytes, written as a version-8 UUID ("3f2a...-....-8...-....-............"), so
  // "urn:uuid:" references stay well-formed. The same id always gives the same pseudonym under
  // one salt.
  Result<std::string> PseudonymId(std::string_view id) const;

 private:
  struct Mac;  // OpenSSL HMAC-SHA256 state keyed with the salt (the salt is not kept elsewhere)
  Deidentifier(std::shared_ptr<const Mac> mac, DeidentifyOptions options)
      : mac_(std::move(mac)), options_(options) {}
  std::shared_ptr<const Mac> mac_;
  DeidentifyOptions options_;
};

// One-shot forms of Deidentifier::Create + Apply. Use DeidentifyAll (or one Deidentifier) for
// all resources of one extract so that the pseudonyms agree.
Result<nlohmann::json> Deidentify(const nlohmann::json& resource, std::span<const std::uint8_t> salt,
                                  DeidentifyOptions options = {});
Result<std::vector<nlohmann::json>> DeidentifyAll(const std::vector<nlohmann::json>& resources,
                                                  std::span<const std::uint8_t> salt,
                                                  DeidentifyOptions options = {});

}  // namespace cipherchart::fhir
