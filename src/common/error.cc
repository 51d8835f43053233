#include "cipherchart/common/error.h"

namespace cipherchart {

std::string_view ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return "invalid_argument";
    case ErrorCode::kInvalidEncoding:
      return "invalid_encoding";
    case ErrorCode::kNonCanonical:
      return "non_canonical";
    case ErrorCode::kBadFlags:
      return "bad_flags";
    case ErrorCode::kNotOnCurve:
      return "not_on_curve";
    case ErrorCode::kNotInSubgroup:
      return "not_in_subgroup";
    case ErrorCode::kNoSquareRoot:
      return "no_square_root";
    case ErrorCode::kIntegrity:
      return "integrity";
    case ErrorCode::kSignerMismatch:
      return "signer_mismatch";
    case ErrorCode::kContextMismatch:
      return "context_mismatch";
    case ErrorCode::kRandomnessFailure:
      return "randomness_failure";
    case ErrorCode::kUnsupported:
      return "unsupported";
    case ErrorCode::kPermissionDenied:
      return "permission_denied";
    case ErrorCode::kWrongCredentials:
      return "wrong_credentials";
    case ErrorCode::kInternal:
      return "internal";
    case ErrorCode::kConflict:
      return "conflict";
    case ErrorCode::kNotFound:
      return "not_found";
  }
  return "unknown";
}

std::string Error::ToString() const {
  std::string out(ErrorCodeName(code_));
  out += ": ";
  out += message_;
  return out;
}

}  // namespace cipherchart
