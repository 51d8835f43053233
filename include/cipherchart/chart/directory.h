// The verified authority directory an encryptor or a key recipient uses.
#pragma once

#include <string>
#include <vector>

#include "cipherchart/abe/authority_directory.h"
#include "cipherchart/chart/server_port.h"

namespace cipherchart::chart {

// Every server directory entry that verifies against `roots` (the others are skipped with a
// warning), plus, when `patient_id` is given, the patient's own authority from its
// owner-directory record (trusted for its namespace only, and only if a practitioner wrote it).
Result<abe::AuthorityDirectory> LoadDirectory(ServerPort& server, const std::vector<abe::TrustedRoot>& roots,
                                              const std::string& patient_id,
                                              std::vector<std::string>& warnings);

}  // namespace cipherchart::chart
