// The one mapping from errors to HTTP replies (docs/api.md, "Status codes"). A handler's refusal
// is an ApiError: the HTTP status, the JSON error code docs/api.md lists for it, and a message
// for the client. A library or store Error becomes one through ToApiError, which never lets an
// internal message out: a 500 always says "internal error", because the Error's own text can
// name statements, files or request data.
#pragma once

#include <expected>
#include <string>
#include <string_view>
#include <utility>

#include "cipherchart/common/error.h"

namespace cipherchart::server {

struct HttpReply;

struct ApiError {
  int status = 500;
  std::string code = "internal";           // docs/api.md: "bad_field", "not_found", "conflict", ...
  std::string message = "internal error";  // shown to the client; never a secret or internal detail
};

// A handler step that either yields a T or has already decided the error reply.
template <class T>
using ApiResult = std::expected<T, ApiError>;

// Shorthand for `return Reject(403, "forbidden", "...")` in functions returning ApiResult<T>.
inline std::unexpected<ApiError> Reject(int status, std::string code, std::string message) {
  return std::unexpected<ApiError>(ApiError{status, std::move(code), std::move(message)});
}

// 500 "internal": a server bug or a database failure (nothing half-written is visible).
ApiError InternalError();

// What the client sees of an Error:
//   kConflict          409 conflict   the Error's message (the stores name the rule, never a value)
//   kNotFound          404 not_found  the Error's message
//   kPermissionDenied  403 forbidden  the Error's message
//   anything else      500 internal   "internal error"; the Error's message stays on the server
// Handlers that expect a code in a particular place (a conflict that means "already
// registered") test for it first and say so in their own words.
ApiError ToApiError(const Error& error);
inline std::unexpected<ApiError> Reject(const Error& error) {
  return std::unexpected<ApiError>(ToApiError(error));
}

// The reply: `status` with the body {"error": {"code": ..., "message": ...}}.
HttpReply ErrorReply(const ApiError& error);
HttpReply ErrorReply(int status, std::string_view code, std::string_view message);
HttpReply ErrorReply(const Error& error);  // ErrorReply(ToApiError(error))

}  // namespace cipherchart::server
