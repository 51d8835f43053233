// Seed corpus for the server fuzz target (fuzz_server_request), written by fuzz_make_seeds:
// HTTP/1.1 requests for every /v1 route, good and bad, naming the fixed accounts, sessions,
// patients and records of server_fuzz_state.h, plus a few structured-mode inputs.
#pragma once

#include <filesystem>

namespace cipherchart::fuzz {

void WriteServerSeeds(const std::filesystem::path& root);

}  // namespace cipherchart::fuzz
