// Helpers shared by the libFuzzer targets: an always-on check that prints what went wrong
// (with the offending input in hex) and calls abort(), which libFuzzer reports as a crash and
// saves as a reproducer.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>

namespace cipherchart::fuzz {

inline void PrintHex(const char* label, std::span<const std::uint8_t> bytes) {
  std::fprintf(stderr, "%s (%zu bytes): ", label, bytes.size());
  for (auto b : bytes) std::fprintf(stderr, "%02x", b);
  std::fputc('\n', stderr);
}

[[noreturn]] inline void Die(const char* file, int line, const char* what,
                             std::span<const std::uint8_t> input) {
  std::fprintf(stderr, "%s:%d: fuzz check failed: %s\n", file, line, what);
  PrintHex("input", input);
  std::abort();
}

inline bool SameBytes(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size()) == 0);
}

}  // namespace cipherchart::fuzz

// FUZZ_CHECK(cond, input): abort with a message naming the condition if it is false.
#define FUZZ_CHECK(cond, input)                                                \
  do {                                                                         \
    if (!(cond)) ::cipherchart::fuzz::Die(__FILE__, __LINE__, #cond, (input)); \
  } while (0)
