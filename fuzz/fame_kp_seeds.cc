#include "fame_kp_seeds.h"

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <string_view>

#include "cipherchart/abe/fame_kp_serialize.h"
#include "seed_writer.h"
#include "src/abe/fame_kp_internal.h"
#include "src/abe/seeded_scalars.h"

namespace cipherchart::fuzz {
namespace fs = std::filesystem;

void WriteFameKpSeeds(const fs::path& root) {
  using namespace abe::fame_kp;
  const fs::path dir = root / "fuzz_fame_kp_decode";
  fs::create_directories(dir);
  // TEST-ONLY randomness (see src/abe/fame_kp_internal.h): these keys protect nothing.
  const internal::ScalarSource random = abe::testing::SeededScalars("cipherchart fame-kp fuzz seeds");
  int n = 0;
  auto keys = Must(internal::SetupWith(random), "setup");
  WriteSeedFile(dir, n++, Serialize(keys.pk));
  WriteSeedFile(dir, n++, Serialize(keys.msk).span());
  for (std::string_view text : {
           "a.x",
           "a.x AND b.y",
           "hospital_a.role:doctor AND (2 of (a.x, b.y, c.z) OR board.years >= 2147483648)",
           "\"hospital a\".role:\"head nurse\" OR board.licence_expiry > 2026-11-22",
       }) {
    auto policy = Must(abe::ParsePolicy(text), "policy");
    auto sk = Must(internal::KeyGenWith(keys.msk, *policy, random), "keygen");
    auto bytes = Must(Serialize(sk), "secret key");
    WriteSeedFile(dir, n++, bytes.span());
  }
  for (const std::set<std::string>& attributes : std::array<std::set<std::string>, 3>{
           std::set<std::string>{"a.x"},
           std::set<std::string>{"a.x", "b.y", "hospital_a.role:doctor"},
           std::set<std::string>{"\"caf\xc3\xa9\".staff", "board.years#31=1", "c.z"},
       }) {
    auto enc = Must(internal::EncapsulateWith(keys.pk, attributes, random), "encapsulate");
    WriteSeedFile(dir, n++, Must(Serialize(enc.ct), "ciphertext"));
  }
}

}  // namespace cipherchart::fuzz
