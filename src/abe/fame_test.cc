// FAME CP-ABE KEM: correctness against the independent policy evaluator, refusals, collusion.
#include "cipherchart/abe/fame.h"

#include <gtest/gtest.h>

#include <random>

#include "src/abe/fame_test_fixture.h"

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

// Random policies and attribute sets: decapsulation succeeds (with the right key) exactly
// when the independent evaluator says the set satisfies the policy.
TEST_F(FameTest, DecryptsExactlyWhenThePolicyIsSatisfied) {
  std::mt19937_64 rng(0xFA3E);
  const std::vector<std::string> names = {"h.a", "h.b", "h.c", "h.d", "h.e", "h.f"};
  auto random_policy = [&](auto&& self, int depth) -> std::string {
    if (depth == 0 || rng() % 3 == 0) {
      if (rng() % 4 == 0) {
        // "< 0" is refused by the parser as never true, so "<" takes 1..15.
        return rng() % 2 ? "h.n >= " + std::to_string(rng() % 16) : "h.n < " + std::to_string(1 + rng() % 15);
      }
      return names[rng() % names.size()];
    }
    const int n = 2 + static_cast<int>(rng() % 3);
    std::vector<std::string> kids;
    kids.reserve(n);
    for (int i = 0; i < n; ++i) kids.push_back(self(self, depth - 1));
    std::string out;
    const int kind = static_cast<int>(rng() % 3);
    if (kind == 2) {
      out = std::to_string(1 + rng() % n) + " of (";
      for (int i = 0; i < n; ++i) out += (i ? ", " : "") + kids[i];
      return out + ")";
    }
    for (int i = 0; i < n; ++i) out += (i ? (kind ? " AND " : " OR ") : "") + ("(" + kids[i] + ")");
    return out;
  };
  int successes = 0, refusals = 0;
  for (int round = 0; round < 40; ++round) {
    const std::string text = random_policy(random_policy, 3);
    auto policy = Policy(text);
    ASSERT_TRUE(policy) << text;
    auto enc = Encapsulate(keys_->pk, *policy);
    ASSERT_TRUE(enc.has_value()) << text << ": " << enc.error().ToString();
    for (int k = 0; k < 3; ++k) {
      std::string attrs = "h.n=" + std::to_string(rng() % 16);
      for (const auto& n : names) {
        if (rng() % 2) attrs += ", " + n;
      }
      const AttributeSet set = Attrs(attrs);
      auto sk = KeyGen(keys_->msk, set.Expanded());
      ASSERT_TRUE(sk.has_value());
      auto key = Decapsulate(*sk, enc->ct);
      const bool should = Satisfies(*policy, set);
      EXPECT_EQ(key.has_value(), should) << text << " with {" << attrs << "}";
      if (key && should) {
        EXPECT_TRUE(*key == enc->key) << text << " with {" << attrs << "}";
        ++successes;
      } else {
        ++refusals;
      }
    }
  }
  EXPECT_GT(successes, 10);
  EXPECT_GT(refusals, 10);
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
