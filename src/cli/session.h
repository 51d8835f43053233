// A logged-in connection to the storage server (docs/api.md): challenge-response login with the
// identity key, then JSON and octet-stream calls with the bearer token.
#pragma once
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "cipherchart/client/http_client.h"
#include "cipherchart/common/error.h"
#include "cipherchart/envelope/signature.h"
#include "src/cli/profile.h"

namespace cipherchart::cli {

struct ApiReply {
  int status = 0;
  nlohmann::json body;  // parsed JSON (null for octet-stream replies)
  std::string raw;
  std::map<std::string, std::string> headers;
  bool ok() const { return status >= 200 && status < 300; }
  // "403 forbidden: ..." from the server's error object.
  std::string Describe() const;
  // An error for a reply that is not 2xx: kPermissionDenied for the server's refusals (401,
  // 403, 404: access decisions), kInvalidArgument otherwise; "<what>: the server said <Describe>".
  Error ToError(const std::string& what) const;
};

class Session {
 public:
  // Connects without logging in (registration).
  static Result<Session> Connect(const Settings& s);
  // Connects and logs in as `user_id` with `identity`.
  static Result<Session> Login(const Settings& s, const std::string& user_id,
                               const envelope::Ed25519SigningKey& identity);

  Result<ApiReply> Json(std::string_view method, const std::string& target,
                        const nlohmann::json& body = nullptr);
  Result<ApiReply> PutBytes(std::string_view method, const std::string& target,
                            std::span<const std::uint8_t> bytes, const client::Headers& extra = {});
  Result<ApiReply> Get(const std::string& target);
  // Streaming bodies (constant memory): `size` bytes from `in`; a 2xx body into `out`.
  Result<ApiReply> Upload(const std::string& target, std::istream& in, std::uint64_t size,
                          const client::Headers& extra = {});
  Result<ApiReply> Download(const std::string& target, std::ostream& out);

  const std::string& user_id() const { return user_id_; }

 private:
  std::unique_ptr<client::HttpClient> http_;
  std::string token_;
  std::string user_id_;
  client::Headers AuthHeaders() const;
};

}  // namespace cipherchart::cli
