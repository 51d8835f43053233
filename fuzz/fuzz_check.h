// Helpers shared by the libFuzzer targets: an always-on check that prints what went wrong
// (with the offending input in hex) and calls abort(), which libFuzzer reports as a crash and
// saves as a reproducer.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

#include "cipherchart/common/error.h"
#include "cipherchart/common/secret.h"

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

// The bytes an encoder produced, whatever it returns (plain bytes, SecretBytes or a Result of
// either); false if it failed.
inline bool EncodedBytes(const std::vector<std::uint8_t>& v, std::vector<std::uint8_t>& out) {
  out = v;
  return true;
}
inline bool EncodedBytes(const SecretBytes& v, std::vector<std::uint8_t>& out) {
  out.assign(v.span().begin(), v.span().end());
  return true;
}
template <class T>
bool EncodedBytes(const Result<T>& r, std::vector<std::uint8_t>& out) {
  return r.has_value() && EncodedBytes(*r, out);
}

}  // namespace cipherchart::fuzz

// FUZZ_CANONICAL(input, accepted, parse, encode, extra): one decoder of a canonical format on
// `input`. A refusal must carry a message; an accepted object must pass `extra(object)` (its
// own checks) and re-encode to exactly `input`; `accepted` counts acceptances (so a target can
// check that no input parses as two object types).
#define FUZZ_CANONICAL(input, accepted, parse, encode, extra)                                  \
  do {                                                                                         \
    auto fuzz_obj_ = (parse)(input);                                                           \
    if (!fuzz_obj_) {                                                                          \
      FUZZ_CHECK(!fuzz_obj_.error().message().empty(), (input));                               \
      break;                                                                                   \
    }                                                                                          \
    ++(accepted);                                                                              \
    (extra)(*fuzz_obj_);                                                                       \
    std::vector<std::uint8_t> fuzz_again_;                                                     \
    FUZZ_CHECK(::cipherchart::fuzz::EncodedBytes((encode)(*fuzz_obj_), fuzz_again_), (input)); \
    FUZZ_CHECK(::cipherchart::fuzz::SameBytes(fuzz_again_, (input)), (input));                 \
  } while (0)

// FUZZ_CHECK(cond, input): abort with a message naming the condition if it is false.
#define FUZZ_CHECK(cond, input)                                                \
  do {                                                                         \
    if (!(cond)) ::cipherchart::fuzz::Die(__FILE__, __LINE__, #cond, (input)); \
  } while (0)
