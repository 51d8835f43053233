#include "src/envelope/test_vectors.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace cipherchart::envelope::testing {
namespace {

std::string Path(const std::string& name) { return std::string(CIPHERCHART_ENVELOPE_TESTDATA) + "/" + name; }

std::string Trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string_view::npos) return "";
  const auto e = s.find_last_not_of(" \t\r");
  return std::string(s.substr(b, e - b + 1));
}

}  // namespace

std::string VectorRecord::Get(const std::string& key) const {
  auto it = fields.find(key);
  if (it == fields.end()) {
    ADD_FAILURE() << "vector at line " << line << " has no field " << key;
    return "";
  }
  return it->second;
}

std::vector<std::uint8_t> VectorRecord::Hex(const std::string& key) const { return FromHex(Get(key)); }

std::uint64_t VectorRecord::Number(const std::string& key) const { return std::stoull(Get(key)); }

std::vector<VectorRecord> ReadVectors(const std::string& name) {
  std::ifstream in(Path(name));
  if (!in) {
    ADD_FAILURE() << "cannot read " << Path(name);
    return {};
  }
  std::vector<VectorRecord> records;
  VectorRecord current;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    const std::string t = Trim(line);
    if (t.empty()) {
      if (!current.fields.empty()) records.push_back(std::move(current));
      current = {};
      continue;
    }
    if (t[0] == '#') continue;
    const auto eq = t.find('=');
    if (eq == std::string::npos) {
      ADD_FAILURE() << Path(name) << ":" << number << ": expected 'Key = value'";
      continue;
    }
    if (current.fields.empty()) current.line = number;
    current.fields[Trim(std::string_view(t).substr(0, eq))] = Trim(std::string_view(t).substr(eq + 1));
  }
  if (!current.fields.empty()) records.push_back(std::move(current));
  return records;
}

void WriteVectors(const std::string& name, std::string_view preamble,
                  const std::vector<VectorRecord>& records, const std::vector<std::string>& key_order) {
  std::ofstream out(Path(name));
  out << preamble;
  for (const auto& r : records) {
    out << "\n";
    for (const auto& key : key_order) {
      auto it = r.fields.find(key);
      if (it == r.fields.end()) continue;
      out << key << " =" << (it->second.empty() ? "" : " ") << it->second << "\n";
    }
  }
  ASSERT_TRUE(out.good()) << "cannot write " << Path(name);
}

std::string ToHex(std::span<const std::uint8_t> bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (std::uint8_t b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

std::vector<std::uint8_t> FromHex(std::string_view hex) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::vector<std::uint8_t> out;
  if (hex.size() % 2 != 0) {
    ADD_FAILURE() << "odd-length hex string";
    return out;
  }
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) {
      ADD_FAILURE() << "bad hex digit near position " << i;
      return {};
    }
    out.push_back(static_cast<std::uint8_t>(hi << 4 | lo));
  }
  return out;
}

bool RegenerateVectors() {
  const char* v = std::getenv("CIPHERCHART_REGENERATE_VECTORS");
  return v != nullptr && std::string_view(v) == "1";
}

}  // namespace cipherchart::envelope::testing
