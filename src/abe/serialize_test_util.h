// TEST ONLY. Helpers shared by the tests of the binary encodings (fame_serialize_test.cc,
// fame_kp_serialize_test.cc, authority_test.cc): hex, the byte-flip / truncation check and the
// "name hex" known-answer vector files, so that every format is checked the same way.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <map>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "cipherchart/common/error.h"

namespace cipherchart::abe::testing {

using Bytes = std::vector<std::uint8_t>;

inline Bytes ToVector(std::span<const std::uint8_t> s) { return {s.begin(), s.end()}; }

inline std::string Hex(std::span<const std::uint8_t> b) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (const std::uint8_t x : b) {
    out.push_back(kDigits[x >> 4]);
    out.push_back(kDigits[x & 15]);
  }
  return out;
}

// Lower-case hex, as Hex writes it.
inline Bytes FromHex(std::string_view hex) {
  Bytes out;
  auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<std::uint8_t>(nibble(hex[i]) * 16 + nibble(hex[i + 1])));
  return out;
}

// The BLS12-381 base field modulus p, big-endian: as a point's x coordinate it is non-canonical.
inline constexpr std::array<std::uint8_t, 48> kFieldModulusBytes = {
    0x1a, 0x01, 0x11, 0xea, 0x39, 0x7f, 0xe6, 0x9a, 0x4b, 0x1b, 0xa7, 0xb6, 0x43, 0x4b, 0xac, 0xd7,
    0x64, 0x77, 0x4b, 0x84, 0xf3, 0x85, 0x12, 0xbf, 0x67, 0x30, 0xd2, 0xa0, 0xf6, 0xb0, 0xf6, 0x24,
    0x1e, 0xab, 0xff, 0xfe, 0xb1, 0x53, 0xff, 0xff, 0xb9, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xaa, 0xab};

// For every single-byte change (XOR with each mask) parsing either fails with a message or
// yields an object that re-serialises to the changed bytes (so a different object from the
// original: the encodings are canonical); every truncation and one extra byte fail with
// kInvalidEncoding.
template <class Parse, class Reserialize>
void CheckMutations(const Bytes& good, Parse parse, Reserialize reserialize,
                    const std::vector<std::uint8_t>& masks, std::size_t max_accepted) {
  ASSERT_TRUE(parse(good).has_value());
  std::size_t accepted = 0;
  for (std::size_t i = 0; i < good.size(); ++i) {
    for (const std::uint8_t mask : masks) {
      Bytes bad = good;
      bad[i] ^= mask;
      auto r = parse(bad);
      if (r.has_value()) {
        ++accepted;
        EXPECT_EQ(reserialize(*r), bad) << "byte " << i << " mask " << int{mask};
      } else {
        EXPECT_FALSE(r.error().message().empty());
      }
    }
  }
  // Only a few flips may give another valid encoding: the sign bit (0x20) of a point (-P is as
  // valid as P), a character of a name or policy that stays valid, any scalar below r.
  EXPECT_LE(accepted, max_accepted);
  for (std::size_t n = 0; n < good.size(); ++n) {
    auto r = parse(Bytes(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n)));
    ASSERT_FALSE(r.has_value()) << "truncated to " << n;
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidEncoding) << n;
  }
  Bytes longer = good;
  longer.push_back(0);
  auto r = parse(longer);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidEncoding);
  EXPECT_NE(r.error().message().find("trailing"), std::string::npos) << r.error().message();
}

// Known-answer vector files: '#' comment lines, then one "name hex" line per vector.
// True if CIPHERCHART_REGENERATE_VECTORS=1 asks the KAT tests to rewrite their files.
inline bool RegenerateVectors() {
  const char* regen = std::getenv("CIPHERCHART_REGENERATE_VECTORS");
  return regen != nullptr && std::string(regen) == "1";
}

// The vectors stored at `path` (a failed expectation, and none, if it cannot be read).
inline std::map<std::string, std::string> ReadVectors(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << path;
  std::map<std::string, std::string> stored;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string name;
    std::string hex;
    fields >> name >> hex;
    stored[name] = hex;
  }
  return stored;
}

// The known-answer check of one vector file. With CIPHERCHART_REGENERATE_VECTORS=1 it rewrites
// `path` (`header`: '#' comment lines, each ending in '\n'; then one "name hex" line per vector)
// and returns true, and the caller skips the test; otherwise it expects the stored vectors to be
// exactly `generated` and returns false.
inline bool RegenerateOrCompareVectors(const std::string& path, std::string_view header,
                                       const std::map<std::string, std::string>& generated) {
  if (RegenerateVectors()) {
    std::ofstream out(path);
    out << header;
    for (const auto& [name, hex] : generated) out << name << ' ' << hex << '\n';
    return true;
  }
  const auto stored = ReadVectors(path);
  EXPECT_EQ(stored.size(), generated.size()) << path;
  for (const auto& [name, hex] : generated) {
    auto it = stored.find(name);
    EXPECT_TRUE(it != stored.end() && it->second == hex) << name << " differs: the format changed";
  }
  return false;
}

}  // namespace cipherchart::abe::testing
