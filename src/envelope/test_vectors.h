// TEST ONLY. Reads the known-answer files in testdata/ (the format of BoringSSL's
// crypto/test/file_test.h, simplified): records of "Key = value" lines separated by blank
// lines; '#' starts a comment line. Values are kept as written; Hex() decodes hex ones.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace cipherchart::envelope::testing {

struct VectorRecord {
  int line = 0;  // first line of the record, for failure messages
  std::map<std::string, std::string> fields;

  // The field's value; fails the current test (and returns "") if it is missing.
  std::string Get(const std::string& key) const;
  std::vector<std::uint8_t> Hex(const std::string& key) const;
  std::uint64_t Number(const std::string& key) const;
};

// All records of testdata/<name>; fails the current test if the file cannot be read.
std::vector<VectorRecord> ReadVectors(const std::string& name);
// Writes records back in the same format (for regenerating vectors: see testdata/README.md).
void WriteVectors(const std::string& name, std::string_view preamble,
                  const std::vector<VectorRecord>& records, const std::vector<std::string>& key_order);

std::string ToHex(std::span<const std::uint8_t> bytes);
std::vector<std::uint8_t> FromHex(std::string_view hex);

// True when CIPHERCHART_REGENERATE_VECTORS=1: the vector tests rewrite testdata/ instead of
// comparing against it.
bool RegenerateVectors();

}  // namespace cipherchart::envelope::testing
