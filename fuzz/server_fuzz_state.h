// The fixed state the server fuzz target (fuzz_server_request.cc) creates in its store before the
// first input, shared with fuzz_make_seeds (server_seeds.cc) so that the seed requests name
// accounts, sessions, patients, records and key packages that exist. Fuzzing only: the tokens are
// public and never valid on a real server (their sessions exist only in the fuzz store).
#pragma once

#include <cstdint>

namespace cipherchart::fuzz::server_state {

inline constexpr const char* kOrganisation = "hospital-a";

// Accounts (user ids as NewUserId makes them: "u" + 26 lowercase Crockford base32).
inline constexpr const char* kPatientUser = "ufz000000000000000000000001";         // approved
inline constexpr const char* kPractitionerUser = "ufz000000000000000000000002";    // approved
inline constexpr const char* kAuthorityAdminUser = "ufz000000000000000000000003";  // approved
inline constexpr const char* kServerAdminUser = "ufz000000000000000000000004";     // approved
inline constexpr const char* kPendingUser = "ufz000000000000000000000005";         // practitioner, pending
inline constexpr const char* kOtherPatientUser = "ufz000000000000000000000006";    // approved, no session

// Session tokens (base64url of 32 bytes, as /v1/auth/login returns them) of the first five
// accounts, in that order. The store holds only their SHA-256.
inline constexpr const char* kTokens[] = {
    "PatientFuzzSessionToken-------------------A", "PractitionerFuzzSession-------------------A",
    "AuthorityAdminFuzzSessi-------------------A", "ServerAdminFuzzSessionT-------------------A",
    "PendingPractitionerFuzz-------------------A",
};
inline constexpr const char* kPatientToken = kTokens[0];
inline constexpr const char* kPractitionerToken = kTokens[1];
inline constexpr const char* kAuthorityAdminToken = kTokens[2];
inline constexpr const char* kServerAdminToken = kTokens[3];
inline constexpr const char* kPendingToken = kTokens[4];

// Patients: one owned by kPatientUser (created by kPractitionerUser), one not yet enrolled
// whose one-time code is kEnrolmentCode.
inline constexpr const char* kOwnedPatient = "FZ00-0000-0000-0001-V";
inline constexpr const char* kFreePatient = "FZ00-0000-0000-0002-W";
inline constexpr const char* kEnrolmentCode = "fuzz-enrolment-code";

// Records of kOwnedPatient (version 1 each, by kPractitionerUser) and a key package from
// kAuthorityAdminUser to kPatientUser.
inline constexpr const char* kRecordIds[] = {"r1", "r2", "vitals.2024-01"};
inline constexpr const char* kRecordSection = "vital-signs";
inline constexpr const char* kRecordPolicy = "hospital-a.role:doctor";
inline constexpr const char* kPackageId = "kfz000000000000000000000001";

// Structured-mode inputs (fuzz_server_request.cc, StructuredRequest): byte 1 picks a method,
// byte 2 a path template ({1} and {2} are fuzzed parts; {P} kOwnedPatient, {Q} kFreePatient,
// {U} kPendingUser, {A} kPatientUser, {O} kOtherPatientUser, {K} kPackageId), byte 4 a content
// type (nullptr: no Content-Type header).
inline constexpr const char* kMethods[] = {"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"};
inline constexpr const char* kPaths[] = {
    "/healthz",
    "/metrics",
    "/v1/server",
    "/v1/accounts",
    "/v1/auth/challenge",
    "/v1/auth/login",
    "/v1/auth/logout",
    "/v1/accounts/me",
    "/v1/registrations",
    "/v1/registrations?state={1}",
    "/v1/registrations/{U}/approve",
    "/v1/registrations/{U}/reject",
    "/v1/registrations/{1}/{2}",
    "/v1/users/{A}/keys",
    "/v1/users/{O}/keys",
    "/v1/users/{1}/keys",
    "/v1/keys",
    "/v1/keys/{K}",
    "/v1/keys/{1}",
    "/v1/audit/head",
    "/v1/audit/inclusion?index={1}&tree_size={2}",
    "/v1/audit/consistency?first={1}&second={2}",
    "/v1/audit/entries?start={1}&end={2}",
    "/v1/audit/{1}",
    "/v1/patients",
    "/v1/patients/{P}/enrol",
    "/v1/patients/{Q}/enrol",
    "/v1/patients/{1}/enrol",
    "/v1/patients/{P}/records",
    "/v1/patients/{Q}/records",
    "/v1/patients/{1}/records",
    "/v1/patients/{P}/records/{1}",
    "/v1/patients/{P}/records/r1",
    "/v1/patients/{P}/records/{1}/versions/{2}",
    "/v1/patients/{P}/records/r2/versions/{2}",
    "/v1/patients/{1}/records/{2}",
    "/v1/patients/{P}/audit",
    "/v1/patients/{1}/audit",
    "/v1/{1}",
    "/{1}",
    "{1}",
};
inline constexpr const char* kContentTypes[] = {"application/json", "application/octet-stream", nullptr,
                                                "text/plain", "application/json; charset=utf-8"};

}  // namespace cipherchart::fuzz::server_state
