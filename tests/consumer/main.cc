// Uses the installed library through cipherchart::core only: the pairing self-test, and a
// FAME CP-ABE round trip (which needs the abe and envelope libraries and their dependencies,
// OpenSSL and libargon2, to come through the exported targets).
#include <cstdio>

#include "cipherchart/abe/fame.h"
#include "cipherchart/pairing/selftest.h"

int main() {
  const auto report = cipherchart::pairing::RunSelfTest();
  namespace fame = cipherchart::abe::fame;
  bool abe_ok = false;
  auto keys = fame::Setup();
  auto policy = cipherchart::abe::ParsePolicy("h.role:doctor AND h.ward:3");
  if (keys && policy) {
    auto enc = fame::Encapsulate(keys->pk, **policy);
    auto sk = fame::KeyGen(keys->msk, {"h.role:doctor", "h.ward:3"});
    if (enc && sk) {
      auto key = fame::Decapsulate(*sk, enc->ct);
      abe_ok = key.has_value() && *key == enc->key;
    }
  }
  std::printf("consumer of installed cipherchart: self-test %s, FAME round trip %s\n",
              report.ok ? "passed" : "FAILED", abe_ok ? "passed" : "FAILED");
  return report.ok && abe_ok ? 0 : 1;
}
