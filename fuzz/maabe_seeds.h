// Seed corpus for fuzz_maabe_decode, written by fuzz_make_seeds: real multi-authority objects
// (public and master keys, authority keys, user keys, ciphertexts, transformation keys,
// partial decryptions, key statements, a directory) made by the scheme's own algorithms with
// scalars from the test-only DeterministicRandom, so the corpus is the same on every run (the
// Ed25519 signatures of the statements come from fixed seeds too).
#pragma once

#include <filesystem>

namespace cipherchart::fuzz {

void WriteMaabeSeeds(const std::filesystem::path& root);

}  // namespace cipherchart::fuzz
