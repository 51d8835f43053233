// The pairing: published known answer, bilinearity, non-degeneracy, products.
#include "cipherchart/pairing/pairing.h"

#include <gtest/gtest.h>

#include <string_view>

#include "cipherchart/pairing/parallel.h"
#include "cipherchart/pairing/selftest.h"
#include "src/pairing/test_util.h"

namespace cipherchart::pairing {
namespace {

using testing::TestRng;

TEST(PairingTest, GeneratorsMatchPairingGeneratorsJson) {
  bool ok = false;
  const auto path = testing::SharedDataDir() + "/kat/bls12_381/pairing_generators.json";
  const auto raw = testing::ReadFile(path, &ok);
  ASSERT_TRUE(ok) << "cannot read " << path << " (the shared test data must be beside the project)";
  const std::string text(raw.begin(), raw.end());
  const auto start = text.find("\"e_g1_g2\"");
  ASSERT_NE(start, std::string::npos);
  // The 12 quoted 96-digit hex strings after "e_g1_g2".
  std::vector<std::string> coeffs;
  for (std::size_t pos = text.find('"', text.find('[', start));
       pos != std::string::npos && coeffs.size() < 12; pos = text.find('"', pos + 1)) {
    const std::size_t end = text.find('"', pos + 1);
    if (end == std::string::npos) break;
    coeffs.push_back(text.substr(pos + 1, end - pos - 1));
    pos = end;
  }
  ASSERT_EQ(coeffs.size(), 12u);
  const auto got = Pairing(G1::Generator(), G2::Generator()).ToBytes();
  std::string got_hex = testing::ToHex(got);
  for (int i = 0; i < 12; ++i) EXPECT_EQ(got_hex.substr(96 * i, 96), coeffs[i]) << "coefficient " << i;
  // The generators in the file are ours.
  auto field = [&](std::string_view key) {
    const std::size_t k = text.find(std::string("\"") + std::string(key) + "\": \"");
    if (k == std::string::npos) return std::string();
    const std::size_t begin = k + key.size() + 5;
    return text.substr(begin, text.find('"', begin) - begin);
  };
  EXPECT_EQ(testing::ToHex(G1Compress(G1::Generator())), field("g1_generator_compressed"));
  EXPECT_EQ(testing::ToHex(G2Compress(G2::Generator())), field("g2_generator_compressed"));
}

TEST(PairingTest, SelfTestPasses) {
  const auto report = RunSelfTest();
  for (const auto& c : report.checks) EXPECT_TRUE(c.ok) << c.name;
  EXPECT_TRUE(report.ok);
}

TEST(PairingTest, IsBilinear) {
  TestRng rng(30);
  const G1 p = rng.RandomG1();
  const G2 q = rng.RandomG2();
  const Gt e = Pairing(p, q);
  for (int i = 0; i < 5; ++i) {
    const Fr a = rng.RandomFr(), b = rng.RandomFr();
    EXPECT_EQ(Pairing(p.Mul(a), q.Mul(b)), e.Pow(a * b));
    EXPECT_EQ(Pairing(p.Mul(a), q), Pairing(p, q.Mul(a)));
  }
  const G1 p2 = rng.RandomG1();
  EXPECT_EQ(Pairing(p + p2, q), Pairing(p, q) * Pairing(p2, q));
}

TEST(PairingTest, IsNonDegenerateAndOfOrderR) {
  TestRng rng(31);
  const Gt e = Pairing(rng.RandomG1(), rng.RandomG2());
  EXPECT_FALSE(e.IsIdentity());
  EXPECT_TRUE(e.PowVartime(-Fr::One()) * e == Gt::Identity());  // e^r = e^(r-1) e = 1
  EXPECT_TRUE(Gt::IsInGroup(e.value()));
  EXPECT_TRUE(Pairing(G1::Identity(), G2::Generator()).IsIdentity());
  EXPECT_TRUE(Pairing(G1::Generator(), G2::Identity()).IsIdentity());
}

TEST(PairingTest, ProductEqualsProductOfPairings) {
  TestRng rng(32);
  for (std::size_t n : {1, 2, 4, 7}) {
    std::vector<G1> ps(n);
    std::vector<G2> qs(n);
    Gt want;
    for (std::size_t i = 0; i < n; ++i) {
      ps[i] = rng.RandomG1();
      qs[i] = rng.RandomG2();
      want *= Pairing(ps[i], qs[i]);
    }
    EXPECT_EQ(PairingProduct(ps, qs), want) << "n = " << n;
  }
  // e(P, Q) e(-P, Q) = 1, the shape of a verification equation.
  const G1 p = rng.RandomG1();
  const G2 q = rng.RandomG2();
  std::vector<G1> ps = {p, -p};
  std::vector<G2> qs = {q, q};
  EXPECT_TRUE(PairingProduct(ps, qs).IsIdentity());
}

TEST(PairingTest, ThreadedProductsMatchTheSerialOnes) {
  // Sizes on both sides of the split (8 pairs) and odd ones, with identity points on either
  // side; 1, 2 and 3 threads must give exactly the serial Miller value and the product of the
  // single pairings, prepared or not.
  TestRng rng(37);
  for (std::size_t n : {0, 1, 5, 8, 9, 13, 17}) {
    SCOPED_TRACE(::testing::Message() << "n = " << n);
    std::vector<G1> ps(n);
    std::vector<G2> qs(n);
    for (std::size_t i = 0; i < n; ++i) {
      ps[i] = i % 6 == 4 ? G1::Identity() : rng.RandomG1();
      qs[i] = i % 7 == 5 ? G2::Identity() : rng.RandomG2();
    }
    std::vector<G2Prepared> prepared;
    prepared.reserve(n);
    std::vector<const G2Prepared*> ptrs;
    Gt want;
    for (std::size_t i = 0; i < n; ++i) {
      prepared.emplace_back(qs[i]);
      ptrs.push_back(&prepared.back());
      want *= Pairing(ps[i], qs[i]);
    }
    SetBatchThreads(1);
    const Fp12 serial = MillerLoopProduct(ps, qs);
    EXPECT_EQ(MillerLoopProduct(ps, ptrs), serial);
    for (unsigned threads : {1u, 2u, 3u}) {
      SetBatchThreads(threads);
      EXPECT_EQ(MillerLoopProduct(ps, qs), serial) << threads << " threads";
      EXPECT_EQ(MillerLoopProduct(ps, ptrs), serial) << threads << " threads";
      EXPECT_EQ(PairingProduct(ps, qs), want) << threads << " threads";
      EXPECT_EQ(PairingProduct(ps, ptrs), want) << threads << " threads";
    }
    SetBatchThreads(0);
  }
}

TEST(PairingTest, PreparedG2GivesTheSamePairing) {
  TestRng rng(33);
  const G2 q = rng.RandomG2();
  const G2Prepared prepared(q);
  for (int i = 0; i < 3; ++i) {
    const G1 p = rng.RandomG1();
    EXPECT_EQ(Pairing(p, prepared), Pairing(p, q));
  }
}

TEST(PairingTest, GtPowAgreesWithVartimeAndEncodingRoundTrips) {
  TestRng rng(34);
  const Gt e = Pairing(rng.RandomG1(), rng.RandomG2());
  for (int i = 0; i < 10; ++i) {
    const Fr k = rng.RandomFr();
    EXPECT_EQ(e.Pow(k), e.PowVartime(k));
  }
  auto back = Gt::FromBytes(e.ToBytes());
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, e);
  // A random Fp12 element is not in GT.
  Fp12 junk = rng.RandomFp12();
  auto bytes = Gt::FromFp12Unchecked(junk).ToBytes();
  auto bad = Gt::FromBytes(bytes);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), ErrorCode::kNotInSubgroup);
  EXPECT_EQ(Gt::FromBytes(std::span(bytes).first(575)).error().code(), ErrorCode::kInvalidEncoding);
}

}  // namespace
}  // namespace cipherchart::pairing
