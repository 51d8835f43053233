#include "maabe_seeds.h"

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "cipherchart/abe/authority_directory.h"
#include "cipherchart/abe/maabe_serialize.h"
#include "seed_writer.h"
#include "src/abe/maabe_internal.h"
#include "src/abe/seeded_scalars.h"
#include "src/envelope/test_random.h"

namespace cipherchart::fuzz {
namespace fs = std::filesystem;

void WriteMaabeSeeds(const fs::path& root) {
  using namespace abe::maabe;
  const fs::path dir = root / "fuzz_maabe_decode";
  fs::create_directories(dir);
  // TEST-ONLY randomness (see src/abe/maabe_internal.h): these keys protect nothing.
  const internal::ScalarSource random = abe::testing::SeededScalars("cipherchart maabe fuzz seeds");
  int n = 0;
  auto a = Must(internal::AuthoritySetupWith("hospital_a", random), "setup");
  auto b = Must(internal::AuthoritySetupWith("\"board x\"", random), "setup");
  WriteSeedFile(dir, n++, Must(Serialize(a.pk), "pk"));
  WriteSeedFile(dir, n++, Must(Serialize(b.msk), "msk").span());
  const std::string gid = "practitioner:\xc3\xa9-1";
  auto ka = Must(internal::KeyGenWith(a, gid, {"hospital_a.role:doctor", "hospital_a.years#0=1"}, random),
                 "keygen");
  auto kb = Must(internal::KeyGenWith(b, gid, {"\"board x\".licence"}, random), "keygen");
  WriteSeedFile(dir, n++, Must(Serialize(ka), "authority keys").span());
  UserKey user{gid, {}};
  if (!AddKeys(user, ka) || !AddKeys(user, kb)) std::exit(1);
  WriteSeedFile(dir, n++, Must(Serialize(user), "user key").span());
  auto tk = Must(internal::MakeTransformKeyWith(user, random), "transform key");
  WriteSeedFile(dir, n++, Must(Serialize(tk.tk), "transform key").span());
  const std::vector<AuthorityPublicKey> pks = {a.pk, b.pk};
  for (const char* text : {"hospital_a.x", "hospital_a.role:doctor AND \"board x\".licence",
                           "2 of (hospital_a.a, \"board x\".b, hospital_a.years >= 3)"}) {
    auto policy = Must(abe::ParsePolicy(text), "policy");
    auto enc = Must(internal::EncapsulateWith(pks, *policy, random), "encapsulate");
    WriteSeedFile(dir, n++, Must(Serialize(enc.ct), "ciphertext"));
    if (auto partial = Transform(tk.tk, enc.ct)) WriteSeedFile(dir, n++, Serialize(*partial));
  }
  // A key statement and a one-entry directory (a root authority signing its own statement).
  envelope::testing::DeterministicRandom cert_rng("cipherchart maabe fuzz seeds: authority");
  auto authority =
      Must(abe::Authority::CreateRoot("hospital_a", 1'700'000'000, 1'900'000'000, cert_rng), "root");
  auto statement =
      Must(abe::SignKeyStatement(a.pk, authority.signing_key(), 1'700'000'000, 1'900'000'000), "statement");
  WriteSeedFile(dir, n++, Must(abe::EncodeKeyStatement(statement), "statement"));
  const std::vector<abe::DirectoryEntry> entries = {{authority.chain(), statement}};
  WriteSeedFile(dir, n++, Must(abe::EncodeDirectory(entries), "directory"));
}

}  // namespace cipherchart::fuzz
