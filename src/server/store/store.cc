// OpenStore: the configuration's store URL to a backend.
#include "cipherchart/server/store.h"

#include <algorithm>
#include <string_view>

namespace cipherchart::server {

Result<std::unique_ptr<Store>> OpenStore(const std::string& url) {
  constexpr std::string_view kSqlite = "sqlite:";
  constexpr std::string_view kPostgres = "postgresql:";
  if (url.starts_with(kSqlite)) return OpenSqliteStore(url.substr(kSqlite.size()));
  if (url.starts_with(kPostgres)) {
    // "postgresql://host/db" is already a libpq connection URI; "postgresql:host=... dbname=..."
    // carries a key=value conninfo after the prefix.
    if (url.starts_with("postgresql://")) return OpenPostgresStore(url);
    return OpenPostgresStore(url.substr(kPostgres.size()));
  }
  // Only the scheme is quoted back: the rest may hold a password.
  const std::size_t colon = url.find(':');
  const std::string scheme =
      colon == std::string::npos ? "" : url.substr(0, std::min<std::size_t>(colon, 32));
  return Fail(ErrorCode::kInvalidArgument,
              (scheme.empty() ? std::string("the store URL has no scheme")
                              : "the store URL scheme \"" + scheme + ":\" is not supported") +
                  ": use \"sqlite:PATH\" or \"postgresql:CONNINFO\"");
}

}  // namespace cipherchart::server
