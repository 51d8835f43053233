// G1FixedBase (GLV + regular signed digits) and the batched affine FixedBaseSum, checked
// against the variable-time double-and-add on random and edge-case scalars.
#include "cipherchart/pairing/fixed_base.h"

#include <gtest/gtest.h>

#include "src/pairing/test_util.h"

namespace cipherchart::pairing {
namespace {

using testing::TestRng;

Fr FrFromLimbs(const std::array<u64, 4>& v) { return Fr::FromCanonical(v); }

// Scalars around the places where the split and the recoding change behaviour: 0, small
// values, x^2 = the split's modulus c (and its neighbours), 2^128, r - 1, and the odd/even
// parity of both halves.
std::vector<Fr> EdgeScalars() {
  const u128 c = u128(kBlsX) * kBlsX;
  std::vector<Fr> out = {Fr::Zero(),      Fr::One(),       Fr::FromU64(2), Fr::FromU64(3), Fr::FromU64(31),
                         Fr::FromU64(32), Fr::FromU64(33), -Fr::One(),     -Fr::FromU64(2)};
  for (u128 v : {c - 1, c, c + 1, c + 2, u128(1) << 127, ~u128(0)}) {
    out.push_back(FrFromLimbs({u64(v), u64(v >> 64), 0, 0}));
  }
  const Fr cf = FrFromLimbs({u64(c), u64(c >> 64), 0, 0});
  out.push_back(cf * cf - Fr::One());        // e0 = c - 1 and e1 = c - 1 (largest halves)
  out.push_back(cf * Fr::FromU64(2));        // e0 = 0, e1 = 2
  out.push_back(cf * cf - cf);               // e0 = 0, e1 = c - 1
  out.push_back(FrFromLimbs({0, 0, 1, 0}));  // 2^128
  return out;
}

TEST(G1FixedBaseTest, MulMatchesDoubleAndAdd) {
  TestRng rng(101);
  for (int b = 0; b < 3; ++b) {
    const G1 base = b == 0 ? G1::Generator() : rng.RandomG1();
    const G1FixedBase table(base);
    EXPECT_EQ(table.base(), base);
    for (const Fr& k : EdgeScalars()) EXPECT_EQ(table.Mul(k), base.MulVartime(k));
    for (int i = 0; i < 40; ++i) {
      const Fr k = rng.RandomFr();
      EXPECT_EQ(table.Mul(k), base.MulVartime(k));
    }
  }
}

TEST(G1FixedBaseTest, BatchMatchesSingleAndSumsIntoSlots) {
  TestRng rng(102);
  std::vector<G1FixedBase> tables;
  tables.reserve(5);
  for (int b = 0; b < 5; ++b) tables.emplace_back(rng.RandomG1());
  std::vector<G1FixedBaseTerm> terms;
  const auto edges = EdgeScalars();
  // Every edge scalar on every base, plus random ones, spread over 7 slots.
  for (std::size_t b = 0; b < tables.size(); ++b) {
    for (const Fr& k : edges) terms.push_back({&tables[b], k, terms.size() % 7});
    for (int i = 0; i < 20; ++i) terms.push_back({&tables[b], rng.RandomFr(), terms.size() % 7});
  }
  std::vector<G1> start(7), out(7), want(7);
  for (int s = 0; s < 7; ++s) start[s] = out[s] = want[s] = s % 2 ? rng.RandomG1() : G1::Identity();
  for (const auto& t : terms) want[t.slot] += t.base->base().MulVartime(t.scalar);
  FixedBaseSum(terms, out);
  for (int s = 0; s < 7; ++s) EXPECT_EQ(out[s], want[s]) << "slot " << s;
  EXPECT_TRUE(std::all_of(out.begin(), out.end(), [](const G1& p) { return p.IsOnCurve(); }));
}

TEST(G1FixedBaseTest, BatchHandlesExceptionalTerms) {
  // A zero scalar makes the affine running sum meet -(correction point): the term is redone
  // with the complete formulas. So do a batch of one, and equal terms side by side.
  TestRng rng(103);
  const G1FixedBase table(rng.RandomG1());
  const Fr k = rng.RandomFr();
  std::vector<G1FixedBaseTerm> terms = {
      {&table, Fr::Zero(), 0}, {&table, k, 1}, {&table, k, 1}, {&table, -k, 2}};
  std::vector<G1> out(3);
  FixedBaseSum(terms, out);
  EXPECT_TRUE(out[0].IsIdentity());
  EXPECT_EQ(out[1], table.base().MulVartime(k + k));
  EXPECT_EQ(out[2], -table.base().MulVartime(k));
  std::vector<G1> none(1);
  FixedBaseSum({}, none);
  EXPECT_TRUE(none[0].IsIdentity());
}

TEST(G1FixedBaseTest, ThreadCountDoesNotChangeTheResult) {
  // 400 terms over 5 slots, contiguous runs crossing the chunk boundaries of 2 and 3 threads.
  TestRng rng(104);
  std::vector<G1FixedBase> tables;
  tables.reserve(4);
  for (int b = 0; b < 4; ++b) tables.emplace_back(rng.RandomG1());
  std::vector<G1FixedBaseTerm> terms;
  terms.reserve(400);
  for (int i = 0; i < 400; ++i)
    terms.push_back({&tables[i % 4], rng.RandomFr(), static_cast<std::size_t>(i / 80)});
  std::vector<G1> want(5);
  for (const auto& t : terms) want[t.slot] += t.base->base().MulVartime(t.scalar);
  for (unsigned threads : {1u, 2u, 3u}) {
    SetBatchThreads(threads);
    EXPECT_EQ(BatchThreads(), threads);
    std::vector<G1> out(5);
    FixedBaseSum(terms, out);
    for (int s = 0; s < 5; ++s) EXPECT_EQ(out[s], want[s]) << threads << " threads, slot " << s;
  }
  SetBatchThreads(0);
}

}  // namespace
}  // namespace cipherchart::pairing
