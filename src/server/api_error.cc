#include "src/server/api_error.h"

#include <nlohmann/json.hpp>

#include "cipherchart/protocol/api.h"
#include "src/server/service.h"

namespace cipherchart::server {

ApiError InternalError() { return ApiError{}; }

ApiError ToApiError(const Error& error) {
  switch (error.code()) {
    case ErrorCode::kConflict:
      return {409, "conflict", error.message()};
    case ErrorCode::kNotFound:
      return {404, "not_found", error.message()};
    case ErrorCode::kPermissionDenied:
      return {403, "forbidden", error.message()};
    default:
      return InternalError();
  }
}

HttpReply ErrorReply(int status, std::string_view code, std::string_view message) {
  namespace field = protocol::field;
  HttpReply r;
  r.status = status;
  const nlohmann::json body = {{field::kError, {{"code", code}, {field::kMessage, message}}}};
  r.body = body.dump();
  return r;
}

HttpReply ErrorReply(const ApiError& error) { return ErrorReply(error.status, error.code, error.message); }

HttpReply ErrorReply(const Error& error) { return ErrorReply(ToApiError(error)); }

}  // namespace cipherchart::server
