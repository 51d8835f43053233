// libFuzzer target: the multi-authority ABE decoders (src/abe/maabe_serialize.cc) and the
// authority directory's key statements and directory files (src/abe/authority_directory.cc)
// on arbitrary bytes.
//
// Checks (any failure aborts):
//   - every Parse* either fails with a non-empty message or returns an object whose encoding is
//     byte-identical to the input (the formats are canonical);
//   - a parsed ciphertext has one row per matrix row and its authorities own exactly its rows;
//   - every attribute key of a parsed key is in its authority's namespace and for its GID;
//   - at most one parser accepts any input.
// Seeds: fuzz_make_seeds (maabe_seeds.cc) writes real objects of each type.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "cipherchart/abe/authority_directory.h"
#include "cipherchart/abe/maabe_serialize.h"
#include "fuzz_check.h"

namespace {

using namespace cipherchart::abe::maabe;
using Bytes = std::span<const std::uint8_t>;

const auto kEncode = [](const auto& object) { return Serialize(object); };
const auto kNoExtra = [](const auto&) {};

void CheckKeys(const AuthorityKeys& keys, const std::string& gid, Bytes input) {
  FUZZ_CHECK(keys.gid == gid, input);
  FUZZ_CHECK(!keys.attributes.empty(), input);
  for (const auto& [name, key] : keys.attributes)
    FUZZ_CHECK(cipherchart::abe::IsBelowNamespace(name, keys.authority_namespace), input);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Bytes input(data, size);
  int accepted = 0;
  FUZZ_CANONICAL(input, accepted, ParsePublicKey, kEncode, kNoExtra);
  FUZZ_CANONICAL(input, accepted, ParseMasterKey, kEncode,
                 [&](const AuthorityMasterKey& m) { FUZZ_CHECK(!m.alpha.IsZero() && !m.y.IsZero(), input); });
  FUZZ_CANONICAL(input, accepted, ParseAuthorityKeys, kEncode,
                 [&](const AuthorityKeys& k) { CheckKeys(k, k.gid, input); });
  FUZZ_CANONICAL(input, accepted, ParseUserKey, kEncode, [&](const UserKey& u) {
    FUZZ_CHECK(!u.by_authority.empty(), input);
    for (const auto& [ns, keys] : u.by_authority) {
      FUZZ_CHECK(ns == keys.authority_namespace, input);
      CheckKeys(keys, u.gid, input);
    }
  });
  FUZZ_CANONICAL(input, accepted, ParseTransformKey, kEncode, kNoExtra);
  FUZZ_CANONICAL(input, accepted, ParseCiphertext, kEncode, [&](const Ciphertext& ct) {
    FUZZ_CHECK(ct.rows.size() == ct.matrix.rows.size(), input);
    FUZZ_CHECK(RowAuthorities(ct).has_value(), input);
  });
  FUZZ_CANONICAL(
      input, accepted, ParsePartialDecryption, [](const PartialDecryption& pd) { return Serialize(pd); },
      kNoExtra);
  FUZZ_CANONICAL(input, accepted, cipherchart::abe::ParseKeyStatement, cipherchart::abe::EncodeKeyStatement,
                 kNoExtra);
  FUZZ_CANONICAL(
      input, accepted, cipherchart::abe::ParseDirectory,
      [](const std::vector<cipherchart::abe::DirectoryEntry>& e) {
        return cipherchart::abe::EncodeDirectory(e);
      },
      kNoExtra);
  FUZZ_CHECK(accepted <= 1, input);
  return 0;
}
