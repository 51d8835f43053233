// Hex text of public bytes (keys, digests, ids): one codec for the server, the CLI and tests.
// Not for secrets: the encoding branches on nibble values.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace cipherchart {

// Lowercase hex.
std::string ToHex(std::span<const std::uint8_t> bytes);
// Lowercase or uppercase hex of whole bytes; nullopt for an odd length or a non-hex digit.
std::optional<std::vector<std::uint8_t>> FromHex(std::string_view hex);

// Hex of exactly `N` bytes; nullopt otherwise.
template <std::size_t N>
std::optional<std::array<std::uint8_t, N>> FixedFromHex(std::string_view hex) {
  if (hex.size() != 2 * N) return std::nullopt;
  auto bytes = FromHex(hex);
  if (!bytes) return std::nullopt;
  std::array<std::uint8_t, N> out{};
  std::copy(bytes->begin(), bytes->end(), out.begin());
  return out;
}

}  // namespace cipherchart
