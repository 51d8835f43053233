// The storage server's /v1 API as both sides speak it (docs/api.md): route patterns, the paths
// a client builds from them, header names, the JSON field names that both sides read, and the
// login message. The server's route table and the client's HTTP adapter use these and nothing
// else: no "/v1/..." literal lives anywhere but here and in tests.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace cipherchart::protocol {

inline constexpr std::string_view kApiPrefix = "/v1";

// Route patterns: what the server matches, and the label of a route in /metrics and the
// request log ("{...}" segments are parameters; the label never carries client text).
namespace route {
inline constexpr std::string_view kHealth = "/healthz";
inline constexpr std::string_view kMetrics = "/metrics";
inline constexpr std::string_view kServer = "/v1/server";
inline constexpr std::string_view kAccounts = "/v1/accounts";
inline constexpr std::string_view kAccountMe = "/v1/accounts/me";
inline constexpr std::string_view kAccount = "/v1/accounts/{user_id}";
inline constexpr std::string_view kAuthChallenge = "/v1/auth/challenge";
inline constexpr std::string_view kAuthLogin = "/v1/auth/login";
inline constexpr std::string_view kAuthLogout = "/v1/auth/logout";
inline constexpr std::string_view kDirectory = "/v1/directory";
inline constexpr std::string_view kDirectoryEntry = "/v1/directory/{namespace}";
inline constexpr std::string_view kRegistrations = "/v1/registrations";
inline constexpr std::string_view kRegistrationApprove = "/v1/registrations/{user_id}/approve";
inline constexpr std::string_view kRegistrationReject = "/v1/registrations/{user_id}/reject";
inline constexpr std::string_view kUserKeys = "/v1/users/{user_id}/keys";
inline constexpr std::string_view kKeys = "/v1/keys";
inline constexpr std::string_view kKey = "/v1/keys/{package_id}";
inline constexpr std::string_view kAuditHead = "/v1/audit/head";
inline constexpr std::string_view kAuditInclusion = "/v1/audit/inclusion";
inline constexpr std::string_view kAuditConsistency = "/v1/audit/consistency";
inline constexpr std::string_view kAuditEntries = "/v1/audit/entries";
inline constexpr std::string_view kPatients = "/v1/patients";
inline constexpr std::string_view kPatientEnrol = "/v1/patients/{id}/enrol";
inline constexpr std::string_view kPatientAudit = "/v1/patients/{id}/audit";
inline constexpr std::string_view kRecords = "/v1/patients/{id}/records";
inline constexpr std::string_view kRecord = "/v1/patients/{id}/records/{rid}";
inline constexpr std::string_view kRecordVersion = "/v1/patients/{id}/records/{rid}/versions/{v}";
// Labels for requests that match no route or come before authorisation decides one.
inline constexpr std::string_view kUnmatched = "unmatched";
inline constexpr std::string_view kNotApproved = "not_approved";
}  // namespace route

// The path of `pattern` with its "{...}" parameters replaced, in order, by `args` (which the
// caller has checked against their grammar: ids.h). Extra or missing arguments are a bug:
// the function asserts.
std::string Path(std::string_view pattern, std::initializer_list<std::string_view> args = {});
// Path() with a query string: "?k1=v1&k2=v2" (values are numbers or grammar-checked ids).
std::string PathWithQuery(std::string_view pattern, std::initializer_list<std::string_view> args,
                          std::initializer_list<std::pair<std::string_view, std::string>> query);

// Splits a request target's path into its segments ("/v1/keys/k1" -> {"v1","keys","k1"}) and
// says whether `segments` match `pattern` (a "{...}" segment matches any one segment).
std::vector<std::string_view> Segments(std::string_view path);
bool Matches(std::string_view pattern, std::span<const std::string_view> segments);

// Request and reply headers.
namespace header {
inline constexpr std::string_view kSection = "X-CipherChart-Section";  // a record's section (metadata)
inline constexpr std::string_view kPolicy = "X-CipherChart-Policy";    // its policy text (metadata)
inline constexpr std::string_view kVersion = "X-CipherChart-Version";  // a fetched record's version
inline constexpr std::string_view kSha256 = "X-CipherChart-Sha256";    // its stored SHA-256 (hex)
inline constexpr std::string_view kAuthor = "X-CipherChart-Author";    // the account that wrote it
}  // namespace header

// JSON field names both sides read (docs/api.md has every object).
namespace field {
inline constexpr const char* kUserId = "user_id";
inline constexpr const char* kRole = "role";
inline constexpr const char* kState = "state";
inline constexpr const char* kOrganisation = "organisation";
inline constexpr const char* kName = "name";
inline constexpr const char* kDetails = "details";
inline constexpr const char* kIdentityKey = "identity_key";
inline constexpr const char* kDeliveryKey = "delivery_key";
inline constexpr const char* kChallenge = "challenge";
inline constexpr const char* kSignature = "signature";
inline constexpr const char* kToken = "token";
inline constexpr const char* kPackages = "packages";
inline constexpr const char* kPackageId = "package_id";
inline constexpr const char* kSenderId = "sender_id";
inline constexpr const char* kPatientId = "patient_id";
inline constexpr const char* kEnrolmentCodeSha256 = "enrolment_code_sha256";
inline constexpr const char* kCode = "code";
inline constexpr const char* kRecords = "records";
inline constexpr const char* kRecordId = "record_id";
inline constexpr const char* kVersion = "version";
inline constexpr const char* kSection = "section";
inline constexpr const char* kPolicy = "policy";
inline constexpr const char* kAuthorId = "author_id";
inline constexpr const char* kCreatedAt = "created_at";
inline constexpr const char* kTombstone = "tombstone";
inline constexpr const char* kAuditKey = "audit_key";
inline constexpr const char* kTreeSize = "tree_size";
inline constexpr const char* kTimestamp = "timestamp";
inline constexpr const char* kRoot = "root";
inline constexpr const char* kPath = "path";
inline constexpr const char* kProof = "proof";
inline constexpr const char* kEntries = "entries";
inline constexpr const char* kEntry = "entry";
inline constexpr const char* kIndex = "index";
inline constexpr const char* kError = "error";
inline constexpr const char* kMessage = "message";
}  // namespace field

// Account roles and approval states, as the API spells them. The numbers are stored (schema).
enum class Role : int { kPatient = 0, kPractitioner = 1, kAuthorityAdmin = 2, kServerAdmin = 3 };
enum class ApprovalState : int { kPending = 0, kApproved = 1, kRejected = 2 };
std::string_view RoleName(Role role);         // "patient", "practitioner", "authority-admin", "server-admin"
std::string_view StateName(ApprovalState s);  // "pending", "approved", "rejected"
std::optional<Role> ParseRole(std::string_view name);
std::optional<ApprovalState> ParseState(std::string_view name);

// Free text in headers and fields (sections, policies, organisations, reasons): valid UTF-8
// without control characters.
bool IsPrintableText(std::string_view text);
// The deepest nesting of arrays and objects in JSON text (strings skipped; the text need not be
// valid). Bodies deeper than kMaxJsonDepth are refused before parsing: nlohmann's parser is
// iterative, but copying or serialising a value recurses once per level.
inline constexpr std::size_t kMaxJsonDepth = 32;
std::size_t JsonNestingDepth(std::string_view text);

// Challenge-response login (docs/api.md, "Login"): the client signs, with its identity key,
//   "CIPHERCHART-LOGIN-V1" || nonce (32 bytes, from POST /v1/auth/challenge) || user id.
inline constexpr std::string_view kLoginLabel = "CIPHERCHART-LOGIN-V1";
std::vector<std::uint8_t> LoginMessage(std::span<const std::uint8_t> nonce, std::string_view user_id);

}  // namespace cipherchart::protocol
