// Helpers shared by the pairing tests: a seeded RNG (reproducible failures), hex helpers and
// access to ../shared/data.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "cipherchart/pairing/curve.h"

namespace cipherchart::pairing::testing {

// Deterministic, test-only randomness. Seed printed by failing tests via SCOPED_TRACE.
class TestRng {
 public:
  explicit TestRng(std::uint64_t seed) : gen_(seed) {}
  std::uint64_t Next() { return gen_(); }
  std::vector<std::uint8_t> Bytes(std::size_t n);
  Fp RandomFp();
  Fr RandomFr();
  Fp2 RandomFp2() { return {RandomFp(), RandomFp()}; }
  Fp12 RandomFp12();
  G1 RandomG1() { return G1::Generator().MulVartime(RandomFr()); }
  G2 RandomG2() { return G2::Generator().MulVartime(RandomFr()); }

 private:
  std::mt19937_64 gen_;
};

std::string ToHex(std::span<const std::uint8_t> bytes);
std::vector<std::uint8_t> FromHex(std::string_view hex);

// Folder of the shared test data (env CIPHERCHART_SHARED_DATA, else the compile-time path).
std::string SharedDataDir();
// Whole file; empty with `ok = false` if it cannot be read.
std::vector<std::uint8_t> ReadFile(const std::string& path, bool* ok);

}  // namespace cipherchart::pairing::testing
