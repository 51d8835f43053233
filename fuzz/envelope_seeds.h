// Seed corpora for the envelope layer's fuzz targets (fuzz_envelope_open, fuzz_stream_open,
// fuzz_passphrase_open), written by fuzz_make_seeds. Every seed is sealed with the test-only
// DeterministicRandom, so the corpus is the same on every run.
#pragma once

#include <filesystem>

namespace cipherchart::fuzz {

void WriteEnvelopeSeeds(const std::filesystem::path& root);

}  // namespace cipherchart::fuzz
