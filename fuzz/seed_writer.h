// Shared by the seed-corpus writers of fuzz_make_seeds (make_seeds.cc and the *_seeds.cc
// files): writing seed files and stopping with a message when building a seed object fails.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>
#include <utility>

#include "cipherchart/common/error.h"

namespace cipherchart::fuzz {

// Writes `bytes` to dir/seed_<n> (creating dir), or exits with a message.
inline void WriteSeedFile(const std::filesystem::path& dir, int n, std::span<const std::uint8_t> bytes) {
  std::filesystem::create_directories(dir);
  const std::filesystem::path file = dir / ("seed_" + std::to_string(n));
  std::ofstream out(file, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) {
    std::fprintf(stderr, "fuzz_make_seeds: cannot write %s\n", file.c_str());
    std::exit(1);
  }
}

// The seeds of one target: root/<target>/seed_0, seed_1, ...
class SeedWriter {
 public:
  SeedWriter(const std::filesystem::path& root, const char* target) : dir_(root / target) {
    std::filesystem::create_directories(dir_);
  }
  void Add(std::span<const std::uint8_t> bytes) { WriteSeedFile(dir_, n_++, bytes); }
  int count() const { return n_; }

 private:
  std::filesystem::path dir_;
  int n_ = 0;
};

// The value, or exit with "fuzz_make_seeds: <what>: <error>".
template <class T>
T Must(Result<T> r, const char* what) {
  if (!r) {
    std::fprintf(stderr, "fuzz_make_seeds: %s: %s\n", what, r.error().ToString().c_str());
    std::exit(1);
  }
  return std::move(*r);
}

}  // namespace cipherchart::fuzz
