// What an operator does to a server's data directory while the server is stopped
// (docs/operations.md): create the first server admin, check the stored audit log.
#pragma once

#include <string>

#include "cipherchart/envelope/signature.h"
#include "cipherchart/server/merkle.h"
#include "src/server/config.h"

namespace cipherchart::server {

// Creates an approved server-admin account (the first admin cannot register through the API),
// making the data directory, the database schema and the audit key if they do not exist yet.
// Returns its user id. The creation is an audited write like any other.
Result<std::string> CreateServerAdmin(ServerConfig config, const envelope::Ed25519PublicKey& identity_key,
                                      const std::array<std::uint8_t, 32>& delivery_key);

// Recomputes the audit log's Merkle tree from the database and checks every stored signed tree
// head against the data directory's audit key (CheckStoredLog).
Result<StoredLogSummary> VerifyLogOnDisk(ServerConfig config);

}  // namespace cipherchart::server
