#include "cipherchart/pairing/selftest.h"

#include "cipherchart/pairing/pairing.h"

namespace cipherchart::pairing {
namespace {

// e(G1, G2), coefficients c0.c0.c0 ... c1.c2.c1. Source: shared/data/kat/bls12_381/
// pairing_generators.json (computed identically by blst, mcl and @noble/curves).
constexpr const char* kPairingOfGenerators[12] = {
    "1250ebd871fc0a92a7b2d83168d0d727272d441befa15c503dd8e90ce98db3e7b6d194f60839c508a84305aaca1789b6",
    "089a1c5b46e5110b86750ec6a532348868a84045483c92b7af5af689452eafabf1a8943e50439f1d59882a98eaa0170f",
    "1368bb445c7c2d209703f239689ce34c0378a68e72a6b3b216da0e22a5031b54ddff57309396b38c881c4c849ec23e87",
    "193502b86edb8857c273fa075a50512937e0794e1e65a7617c90d8bd66065b1fffe51d7a579973b1315021ec3c19934f",
    "01b2f522473d171391125ba84dc4007cfbf2f8da752f7c74185203fcca589ac719c34dffbbaad8431dad1c1fb597aaa5",
    "018107154f25a764bd3c79937a45b84546da634b8f6be14a8061e55cceba478b23f7dacaa35c8ca78beae9624045b4b6",
    "19f26337d205fb469cd6bd15c3d5a04dc88784fbb3d0b2dbdea54d43b2b73f2cbb12d58386a8703e0f948226e47ee89d",
    "06fba23eb7c5af0d9f80940ca771b6ffd5857baaf222eb95a7d2809d61bfe02e1bfd1b68ff02f0b8102ae1c2d5d5ab1a",
    "11b8b424cd48bf38fcef68083b0b0ec5c81a93b330ee1a677d0d15ff7b984e8978ef48881e32fac91b93b47333e2ba57",
    "03350f55a7aefcd3c31b4fcb6ce5771cc6a0e9786ab5973320c806ad360829107ba810c5a09ffdd9be2291a0c25a99a2",
    "04c581234d086a9902249b64728ffd21a189e87935a954051c7cdba7b3872629a4fafc05066245cb9108f0242d0fe3ef",
    "0f41e58663bf08cf068672cbd01a7ec73baca4d72ca93544deff686bfd6df543d48eaa24afe47e1efde449383b676631",
};

bool PairingOfGeneratorsMatches() {
  const Gt e = Pairing(G1::Generator(), G2::Generator());
  const auto bytes = e.ToBytes();
  for (int i = 0; i < 12; ++i) {
    const auto want = Fp::FromHex(kPairingOfGenerators[i]).ToBytes();
    for (int j = 0; j < 48; ++j) {
      if (bytes[48 * i + j] != want[j]) return false;
    }
  }
  return true;
}

bool BilinearOnRandomScalars() {
  auto a = Fr::Random();
  auto b = Fr::Random();
  if (!a || !b) return false;
  const Gt lhs = Pairing(G1::Generator().Mul(*a), G2::Generator().Mul(*b));
  const Gt rhs = Pairing(G1::Generator(), G2::Generator()).Pow(*a * *b);
  return lhs == rhs && !lhs.IsIdentity();
}

bool GeneratorEncodingsRoundTrip() {
  auto g1 = G1Decompress(G1Compress(G1::Generator()));
  auto g2 = G2Decompress(G2Compress(G2::Generator()));
  return g1 && g2 && *g1 == G1::Generator() && *g2 == G2::Generator() && G1::Generator().IsInSubgroup() &&
         G2::Generator().IsInSubgroup();
}

}  // namespace

SelfTestReport RunSelfTest() {
  SelfTestReport report;
  auto add = [&](const char* name, bool ok) {
    report.checks.push_back({name, ok});
    report.ok = report.ok && ok;
  };
  add("pairing e(G1, G2) known answer", PairingOfGeneratorsMatches());
  add("bilinearity on random scalars", BilinearOnRandomScalars());
  add("generator encodings round trip", GeneratorEncodingsRoundTrip());
  return report;
}

}  // namespace cipherchart::pairing
