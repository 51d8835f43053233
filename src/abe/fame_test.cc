// FAME CP-ABE KEM: correctness against the independent policy evaluator, refusals, collusion.
#include "cipherchart/abe/fame.h"

#include <gtest/gtest.h>

#include <random>

#include "src/abe/fame_test_fixture.h"
#include "src/abe/policy_test_util.h"

namespace cipherchart::abe::fame {
namespace {

std::unique_ptr<PolicyNode> Policy(std::string_view text) {
  auto p = ParsePolicy(text);
  EXPECT_TRUE(p.has_value()) << text << ": " << (p ? "" : p.error().ToString());
  return p ? std::move(*p) : nullptr;
}

AttributeSet Attrs(std::string_view text) {
  auto a = ParseAttributeSet(text);
  EXPECT_TRUE(a.has_value()) << text;
  return a ? *a : AttributeSet{};
}

class FameTest : public testing::FameKeysFixture {};

TEST_F(FameTest, KeyWithTheAttributesRecoversTheKey) {
  auto policy = Policy("h.role:doctor AND h.dept:cardiology");
  auto enc = Encapsulate(keys_->pk, *policy);
  ASSERT_TRUE(enc.has_value()) << enc.error().ToString();
  EXPECT_EQ(enc->key.size(), 32u);
  auto sk = KeyGen(keys_->msk, Attrs("h.role:doctor, h.dept:cardiology, h.x:y").Expanded());
  ASSERT_TRUE(sk.has_value());
  auto key = Decapsulate(*sk, enc->ct);
  ASSERT_TRUE(key.has_value()) << key.error().ToString();
  EXPECT_TRUE(*key == enc->key);
}

TEST_F(FameTest, KeyWithoutTheAttributesIsRefused) {
  auto policy = Policy("h.role:doctor AND h.dept:cardiology");
  auto enc = Encapsulate(keys_->pk, *policy);
  ASSERT_TRUE(enc.has_value());
  auto sk = KeyGen(keys_->msk, Attrs("h.role:doctor, h.dept:oncology").Expanded());
  ASSERT_TRUE(sk.has_value());
  auto key = Decapsulate(*sk, enc->ct);
  ASSERT_FALSE(key.has_value());
  EXPECT_EQ(key.error().code(), ErrorCode::kInvalidArgument);
}

TEST_F(FameTest, ThresholdsAndNumericComparisons) {
  auto policy = Policy("2 of (a.x, a.y, a.z) AND board.years_practice >= 5");
  auto enc = Encapsulate(keys_->pk, *policy);
  ASSERT_TRUE(enc.has_value()) << enc.error().ToString();
  auto good = KeyGen(keys_->msk, Attrs("a.x, a.z, board.years_practice=12").Expanded());
  auto young = KeyGen(keys_->msk, Attrs("a.x, a.z, board.years_practice=4").Expanded());
  auto one = KeyGen(keys_->msk, Attrs("a.x, board.years_practice=30").Expanded());
  ASSERT_TRUE(good && young && one);
  auto k = Decapsulate(*good, enc->ct);
  ASSERT_TRUE(k.has_value());
  EXPECT_TRUE(*k == enc->key);
  EXPECT_FALSE(Decapsulate(*young, enc->ct).has_value());
  EXPECT_FALSE(Decapsulate(*one, enc->ct).has_value());
}

TEST_F(FameTest, TamperedCiphertextGivesADifferentKey) {
  auto policy = Policy("h.role:doctor OR h.role:nurse");
  auto enc = Encapsulate(keys_->pk, *policy);
  auto sk = KeyGen(keys_->msk, Attrs("h.role:nurse").Expanded());
  ASSERT_TRUE(enc && sk);
  Ciphertext bad = enc->ct;
  bad.c[1][0] += G1::Generator();
  auto key = Decapsulate(*sk, bad);
  ASSERT_TRUE(key.has_value());
  EXPECT_FALSE(*key == enc->key);
  bad = enc->ct;
  bad.c0[2] += G2::Generator();
  key = Decapsulate(*sk, bad);
  ASSERT_TRUE(key.has_value());
  EXPECT_FALSE(*key == enc->key);
}

// Random policies (depth <= 4, up to 30 leaves, thresholds and numeric comparisons on dates
// and integers) against random attribute sets: decapsulation succeeds, with the right key,
// exactly when the independent evaluator (a direct AST walk, no LSSS) says the set satisfies
// the policy. Each policy is encapsulated once and each attribute set of a pool gets one key;
// every pair is tried.
TEST_F(FameTest, DecryptsExactlyWhenThePolicyIsSatisfied) {
  constexpr int kPolicies = 150;
  constexpr int kSets = 25;
  std::mt19937_64 rng(0xFA3E);
  std::vector<AttributeSet> sets;
  std::vector<SecretKey> keys;
  for (int s = 0; s < kSets; ++s) {
    sets.push_back(abe::testing::RandomAttributeSet(rng));
    auto sk = KeyGen(keys_->msk, sets.back().Expanded());
    ASSERT_TRUE(sk.has_value()) << sk.error().ToString();
    keys.push_back(std::move(*sk));
  }
  abe::testing::RandomPolicyOptions options;
  options.max_depth = 4;
  options.max_leaves = 30;
  int successes = 0, refusals = 0;
  for (int p = 0; p < kPolicies; ++p) {
    auto policy = abe::testing::RandomPolicy(rng, options);
    const std::string text = PolicyToString(*policy);
    auto enc = Encapsulate(keys_->pk, *policy);
    ASSERT_TRUE(enc.has_value()) << text << ": " << enc.error().ToString();
    for (int s = 0; s < kSets; ++s) {
      const bool should = abe::testing::IndependentlySatisfies(*policy, sets[s]);
      auto key = Decapsulate(keys[s], enc->ct);
      ASSERT_EQ(key.has_value(), should) << text << " with {" << AttributeSetToString(sets[s]) << "}";
      if (should) {
        ASSERT_TRUE(*key == enc->key) << text << " with {" << AttributeSetToString(sets[s]) << "}";
        ++successes;
      } else {
        EXPECT_EQ(key.error().code(), ErrorCode::kInvalidArgument);
        ++refusals;
      }
    }
  }
  // The universe is chosen so that both outcomes are common.
  EXPECT_GT(successes, kPolicies * kSets / 10);
  EXPECT_GT(refusals, kPolicies * kSets / 10);
}

// Two users who each hold half of an AND policy cannot pool their key components: a key
// assembled from user 1's components for `a` and user 2's for `b` (with either user's K0 and
// K') does not decapsulate to the right key, because each key is randomised by its own r.
TEST_F(FameTest, CollusionOfTwoHalfKeysFails) {
  auto policy = Policy("h.a AND h.b");
  auto enc = Encapsulate(keys_->pk, *policy);
  auto u1 = KeyGen(keys_->msk, {"h.a"});
  auto u2 = KeyGen(keys_->msk, {"h.b"});
  ASSERT_TRUE(enc && u1 && u2);
  EXPECT_FALSE(Decapsulate(*u1, enc->ct).has_value());
  EXPECT_FALSE(Decapsulate(*u2, enc->ct).has_value());
  for (const SecretKey* base : {&*u1, &*u2}) {
    SecretKey merged = *base;
    merged.k["h.a"] = u1->k.at("h.a");
    merged.k["h.b"] = u2->k.at("h.b");
    auto key = Decapsulate(merged, enc->ct);
    ASSERT_TRUE(key.has_value());    // structurally a key for {a, b} ...
    EXPECT_FALSE(*key == enc->key);  // ... but the wrong one
    // Mixing the K' of one user with the K0 of the other does not help either.
    merged.kp = (base == &*u1 ? u2 : u1)->kp;
    key = Decapsulate(merged, enc->ct);
    ASSERT_TRUE(key.has_value());
    EXPECT_FALSE(*key == enc->key);
  }
}

TEST_F(FameTest, OutsourcedDecryptionGivesTheSameKey) {
  auto policy = Policy("(h.a AND h.b) OR 2 of (h.c, h.d, h.e)");
  auto enc = Encapsulate(keys_->pk, *policy);
  auto sk = KeyGen(keys_->msk, {"h.c", "h.e"});
  ASSERT_TRUE(enc && sk);
  auto tkp = MakeTransformKey(*sk);
  ASSERT_TRUE(tkp.has_value());
  auto partial = Transform(tkp->tk, enc->ct);
  ASSERT_TRUE(partial.has_value());
  auto key = DecryptTransformed(tkp->z, *partial);
  ASSERT_TRUE(key.has_value());
  EXPECT_TRUE(*key == enc->key);
  // The transformation key alone is not a decryption key: used directly it gives T^(1/z).
  auto direct = Decapsulate(tkp->tk.blinded, enc->ct);
  ASSERT_TRUE(direct.has_value());
  EXPECT_FALSE(*direct == enc->key);
  // A wrong retrieval secret gives a wrong key; a transformation key that does not satisfy
  // the policy is refused by the cloud.
  EXPECT_FALSE(*DecryptTransformed(tkp->z + Fr::One(), *partial) == enc->key);
  auto weak = KeyGen(keys_->msk, {"h.a"});
  ASSERT_TRUE(weak.has_value());
  auto weak_tk = MakeTransformKey(*weak);
  ASSERT_TRUE(weak_tk.has_value());
  EXPECT_FALSE(Transform(weak_tk->tk, enc->ct).has_value());
}

TEST(FameHashTest, AttributeAndColumnHashesAreDistinctAndDeterministic) {
  EXPECT_EQ(HashAttribute("h.a", 0, 0), HashAttribute("h.a", 0, 0));
  EXPECT_NE(HashAttribute("h.a", 0, 0), HashAttribute("h.a", 0, 1));
  EXPECT_NE(HashAttribute("h.a", 0, 0), HashAttribute("h.a", 1, 0));
  EXPECT_NE(HashAttribute("h.a", 0, 0), HashAttribute("h.b", 0, 0));
  EXPECT_NE(HashColumn(1, 0, 0), HashColumn(2, 0, 0));
  EXPECT_TRUE(HashAttribute("", 2, 1).IsInSubgroup());
}

}  // namespace
}  // namespace cipherchart::abe::fame
