// Errors are values: every fallible library call returns cipherchart::Result<T>, which holds
// either a T or an Error (code + human-readable message). No library function throws for a
// failure the caller can cause (bad input, wrong key, tampered data); exceptions are left for
// programming errors and std::bad_alloc.
//
// Messages never contain secret material: they describe what was wrong with the *shape* of
// the input (offsets, lengths, which check failed), not its content.
#pragma once

#include <expected>
#include <string>
#include <string_view>

namespace cipherchart {

// One enum for the whole library; the message says the specifics.
enum class ErrorCode {
  kInvalidArgument,    // caller passed a value outside the documented domain
  kInvalidEncoding,    // bytes do not have the documented length/structure
  kNonCanonical,       // a field element encoding is >= the modulus
  kBadFlags,           // compression/infinity/sign flag bits are inconsistent
  kNotOnCurve,         // decoded coordinates do not satisfy the curve equation
  kNotInSubgroup,      // the point is on the curve but not in the prime-order subgroup
  kNoSquareRoot,       // an x-coordinate with no matching y (also: sqrt of a non-residue)
  kIntegrity,          // authentication tag or signature check failed
  kSignerMismatch,     // a valid signature, but by a different key than the caller expected
  kContextMismatch,    // authentic data bound to another context (record id, version) than expected
  kRandomnessFailure,  // the OS CSPRNG did not deliver
  kUnsupported,        // a valid request for something not implemented (yet)
  kPermissionDenied,   // the server or an access policy refused the caller
  kWrongCredentials,   // a sealed secret did not open: wrong passphrase or second factor
  kInternal,           // an invariant broke; a bug
  kConflict,           // a write that breaks a uniqueness or versioning rule (the thing exists)
  kNotFound,           // the named thing does not exist (or the caller may not know it does)
};

// Stable lower-case name of a code, for logs and JSON ("not_on_curve").
std::string_view ErrorCodeName(ErrorCode code);

class Error {
 public:
  Error(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "not_on_curve: G1 point is not on the curve y^2 = x^3 + 4"
  std::string ToString() const;

 private:
  ErrorCode code_;
  std::string message_;
};

template <class T>
using Result = std::expected<T, Error>;

// Shorthand for `return Fail(ErrorCode::kX, "...")` in functions returning Result<T>.
inline std::unexpected<Error> Fail(ErrorCode code, std::string message) {
  return std::unexpected<Error>(Error(code, std::move(message)));
}

}  // namespace cipherchart
