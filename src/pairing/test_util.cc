#include "src/pairing/test_util.h"

#include <cstdlib>
#include <fstream>
#include <iterator>

namespace cipherchart::pairing::testing {

std::vector<std::uint8_t> TestRng::Bytes(std::size_t n) {
  std::vector<std::uint8_t> out(n);
  for (auto& b : out) b = static_cast<std::uint8_t>(gen_());
  return out;
}

Fp TestRng::RandomFp() { return Fp::FromBytesWide(Bytes(64)); }
Fr TestRng::RandomFr() { return Fr::FromBytesWide(Bytes(48)); }
Fp12 TestRng::RandomFp12() {
  Fp12 f;
  f.c0 = {RandomFp2(), RandomFp2(), RandomFp2()};
  f.c1 = {RandomFp2(), RandomFp2(), RandomFp2()};
  return f;
}

std::string ToHex(std::span<const std::uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  for (auto b : bytes) {
    s += kDigits[b >> 4];
    s += kDigits[b & 15];
  }
  return s;
}

std::vector<std::uint8_t> FromHex(std::string_view hex) {
  if (hex.starts_with("0x")) hex.remove_prefix(2);
  std::vector<std::uint8_t> out(hex.size() / 2);
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<std::uint8_t>(detail::HexValue(hex[2 * i]) << 4 | detail::HexValue(hex[2 * i + 1]));
  }
  return out;
}

std::string SharedDataDir() {
  if (const char* env = std::getenv("CIPHERCHART_SHARED_DATA")) return env;
#ifdef CIPHERCHART_SHARED_DATA
  return CIPHERCHART_SHARED_DATA;
#else
  return "../shared/data";
#endif
}

std::vector<std::uint8_t> ReadFile(const std::string& path, bool* ok) {
  std::ifstream in(path, std::ios::binary);
  *ok = static_cast<bool>(in);
  if (!in) return {};
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace cipherchart::pairing::testing
