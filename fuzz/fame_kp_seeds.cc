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
#include "src/abe/fame_kp_internal.h"
#include "src/envelope/test_random.h"

namespace cipherchart::fuzz {
namespace {

namespace fs = std::filesystem;
using abe::fame_kp::Fr;

void WriteSeed(const fs::path& dir, int n, std::span<const std::uint8_t> bytes) {
  const fs::path file = dir / ("seed_" + std::to_string(n));
  std::ofstream out(file, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) {
    std::fprintf(stderr, "fuzz_make_seeds: cannot write %s\n", file.c_str());
    std::exit(1);
  }
}

template <class T>
T Must(Result<T> r, const char* what) {
  if (!r) {
    std::fprintf(stderr, "fuzz_make_seeds: %s: %s\n", what, r.error().ToString().c_str());
    std::exit(1);
  }
  return std::move(*r);
}

}  // namespace

void WriteFameKpSeeds(const fs::path& root) {
  using namespace abe::fame_kp;
  const fs::path dir = root / "fuzz_fame_kp_decode";
  fs::create_directories(dir);
  // TEST-ONLY randomness (see src/abe/fame_kp_internal.h): these keys protect nothing.
  auto rng = std::make_shared<envelope::testing::DeterministicRandom>("cipherchart fame-kp fuzz seeds");
  const internal::ScalarSource random = [rng]() -> Result<Fr> {
    std::array<std::uint8_t, 64> wide{};
    if (auto ok = rng->Fill(wide); !ok) return std::unexpected(ok.error());
    return Fr::FromBytesWide(wide);
  };
  int n = 0;
  auto keys = Must(internal::SetupWith(random), "setup");
  WriteSeed(dir, n++, Serialize(keys.pk));
  WriteSeed(dir, n++, Serialize(keys.msk).span());
  for (std::string_view text : {
           "a.x",
           "a.x AND b.y",
           "hospital_a.role:doctor AND (2 of (a.x, b.y, c.z) OR board.years >= 2147483648)",
           "\"hospital a\".role:\"head nurse\" OR board.licence_expiry > 2026-11-22",
       }) {
    auto policy = Must(abe::ParsePolicy(text), "policy");
    auto sk = Must(internal::KeyGenWith(keys.msk, *policy, random), "keygen");
    auto bytes = Must(Serialize(sk), "secret key");
    WriteSeed(dir, n++, bytes.span());
  }
  for (const std::set<std::string>& attributes : std::array<std::set<std::string>, 3>{
           std::set<std::string>{"a.x"},
           std::set<std::string>{"a.x", "b.y", "hospital_a.role:doctor"},
           std::set<std::string>{"\"caf\xc3\xa9\".staff", "board.years#31=1", "c.z"},
       }) {
    auto enc = Must(internal::EncapsulateWith(keys.pk, attributes, random), "encapsulate");
    WriteSeed(dir, n++, Must(Serialize(enc.ct), "ciphertext"));
  }
}

}  // namespace cipherchart::fuzz
