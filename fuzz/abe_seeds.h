// Seed corpora for the ABE layer's fuzz targets (fuzz_fame_decode, fuzz_authority_cert,
// fuzz_keystore_payload), written by fuzz_make_seeds. Every object is built from fixed values
// (FAME's own algorithms draw from the OS), so the corpus is the same on every run.
#pragma once

#include <filesystem>

namespace cipherchart::fuzz {

void WriteAbeSeeds(const std::filesystem::path& root);

}  // namespace cipherchart::fuzz
