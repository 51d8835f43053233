// Seed corpus for fuzz_fame_kp_decode, written by fuzz_make_seeds: real FAME KP-ABE objects
// (public and master key, secret keys, ciphertexts) made by the scheme's own algorithms with
// scalars from the test-only DeterministicRandom, so the corpus is the same on every run.
#pragma once

#include <filesystem>

namespace cipherchart::fuzz {

void WriteFameKpSeeds(const std::filesystem::path& root);

}  // namespace cipherchart::fuzz
