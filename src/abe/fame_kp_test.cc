// FAME KP-ABE KEM: correctness against the independent policy evaluator, refusals, collusion.
#include "cipherchart/abe/fame_kp.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "src/abe/fame_kp_internal.h"
#include "src/abe/fame_test_fixture.h"
#include "src/abe/hashed_bases.h"
#include "src/abe/policy_test_util.h"

namespace cipherchart::abe::fame_kp {
namespace {

std::unique_ptr<PolicyNode> Policy(std::string_view text) {
  auto p = ParsePolicy(text);
  EXPECT_TRUE(p.has_value()) << text << ": " << (p ? "" : p.error().ToString());
  return p ? std::move(*p) : nullptr;
}

std::set<std::string> Attrs(std::string_view text) {
  auto a = ParseAttributeSet(text);
  EXPECT_TRUE(a.has_value()) << text;
  return a ? a->Expanded() : std::set<std::string>{};
}

class FameKpTest : public testing::FameKpKeysFixture {
 protected:
  // The key for `policy_text` and whether it opens an encapsulation for `attributes`, checked
  // against the encapsulated key.
  static bool Opens(std::string_view policy_text, std::string_view attributes) {
    auto policy = Policy(policy_text);
    auto sk = KeyGen(keys_->msk, *policy);
    auto enc = Encapsulate(keys_->pk, Attrs(attributes));
    EXPECT_TRUE(sk && enc);
    if (!sk || !enc) return false;
    auto key = Decapsulate(*sk, enc->ct);
    if (!key) {
      EXPECT_EQ(key.error().code(), ErrorCode::kInvalidArgument);
      return false;
    }
    EXPECT_TRUE(*key == enc->key) << policy_text << " with {" << attributes << "}";
    return *key == enc->key;
  }
};

TEST_F(FameKpTest, KeyWhosePolicyIsSatisfiedRecoversTheKey) {
  auto policy = Policy("h.role:doctor AND h.dept:cardiology");
  auto sk = KeyGen(keys_->msk, *policy);
  ASSERT_TRUE(sk.has_value()) << sk.error().ToString();
  EXPECT_EQ(sk->policy, "h.role:doctor AND h.dept:cardiology");
  EXPECT_EQ(sk->k.size(), 2u);
  EXPECT_EQ(sk->matrix.rows.size(), 2u);
  auto enc = Encapsulate(keys_->pk, Attrs("h.role:doctor, h.dept:cardiology, h.x:y"));
  ASSERT_TRUE(enc.has_value()) << enc.error().ToString();
  EXPECT_EQ(enc->key.size(), 32u);
  EXPECT_EQ(enc->ct.c.size(), 3u);
  auto key = Decapsulate(*sk, enc->ct);
  ASSERT_TRUE(key.has_value()) << key.error().ToString();
  EXPECT_TRUE(*key == enc->key);
  // Another key for the same policy opens it too (keys are randomised, the KEM key is not).
  auto sk2 = KeyGen(keys_->msk, *policy);
  ASSERT_TRUE(sk2.has_value());
  EXPECT_NE(sk2->k[0], sk->k[0]);
  auto key2 = Decapsulate(*sk2, enc->ct);
  ASSERT_TRUE(key2.has_value());
  EXPECT_TRUE(*key2 == enc->key);
}

TEST_F(FameKpTest, KeyWhosePolicyIsNotSatisfiedIsRefused) {
  auto sk = KeyGen(keys_->msk, *Policy("h.role:doctor AND h.dept:cardiology"));
  auto enc = Encapsulate(keys_->pk, Attrs("h.role:doctor, h.dept:oncology"));
  ASSERT_TRUE(sk && enc);
  auto key = Decapsulate(*sk, enc->ct);
  ASSERT_FALSE(key.has_value());
  EXPECT_EQ(key.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(key.error().message(), "the ciphertext's attributes do not satisfy the key's policy");
}

TEST_F(FameKpTest, ThresholdsNumericComparisonsAndRepeatedAttributes) {
  const std::string policy = "2 of (a.x, a.y, a.z) AND board.years_practice >= 5";
  EXPECT_TRUE(Opens(policy, "a.x, a.z, board.years_practice=12"));
  EXPECT_FALSE(Opens(policy, "a.x, a.z, board.years_practice=4"));
  EXPECT_FALSE(Opens(policy, "a.x, board.years_practice=30"));
  // An attribute labelling several rows (a.x twice; the bit attributes of x in both
  // comparisons): rows share the ciphertext component of their attribute.
  EXPECT_TRUE(Opens("(a.x AND b.y) OR (a.x AND c.z)", "a.x, c.z"));
  EXPECT_FALSE(Opens("(a.x AND b.y) OR (a.x AND c.z)", "b.y, c.z"));
  EXPECT_TRUE(Opens("h.x >= 5 AND h.x <= 10", "h.x=7"));
  EXPECT_FALSE(Opens("h.x >= 5 AND h.x <= 10", "h.x=11"));
  EXPECT_TRUE(Opens("board.expiry > 2026-11-22", "board.expiry=2027-01-01"));
  EXPECT_FALSE(Opens("board.expiry > 2026-11-22", "board.expiry=2026-11-22"));
  EXPECT_TRUE(Opens("1 of (a.x)", "a.x"));
}

TEST_F(FameKpTest, RefusesEmptyAttributeSetsAndInvalidPolicies) {
  auto enc = Encapsulate(keys_->pk, {});
  ASSERT_FALSE(enc.has_value());
  EXPECT_EQ(enc.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(enc.error().message().find("empty"), std::string::npos) << enc.error().message();

  auto bad = MakeThresholdNode(3, {});  // 3 of () fails validation
  auto sk = KeyGen(keys_->msk, *bad);
  ASSERT_FALSE(sk.has_value());
  EXPECT_EQ(sk.error().code(), ErrorCode::kInvalidArgument);

  // A key whose row components do not match its matrix is refused, not indexed out of range.
  auto good = KeyGen(keys_->msk, *Policy("a.x AND b.y"));
  ASSERT_TRUE(good.has_value());
  good->k.pop_back();
  auto ct = Encapsulate(keys_->pk, {"a.x", "b.y"});
  ASSERT_TRUE(ct.has_value());
  auto key = Decapsulate(*good, ct->ct);
  ASSERT_FALSE(key.has_value());
  EXPECT_NE(key.error().message().find("1 row components for a matrix of 2 rows"), std::string::npos)
      << key.error().message();
}

TEST_F(FameKpTest, TamperedCiphertextGivesADifferentKey) {
  auto sk = KeyGen(keys_->msk, *Policy("h.role:doctor OR h.role:nurse"));
  auto enc = Encapsulate(keys_->pk, {"h.role:nurse"});
  ASSERT_TRUE(sk && enc);
  Ciphertext bad = enc->ct;
  bad.c.at("h.role:nurse")[0] += G1::Generator();
  auto key = Decapsulate(*sk, bad);
  ASSERT_TRUE(key.has_value());
  EXPECT_FALSE(*key == enc->key);
  bad = enc->ct;
  bad.c0[2] += G2::Generator();
  key = Decapsulate(*sk, bad);
  ASSERT_TRUE(key.has_value());
  EXPECT_FALSE(*key == enc->key);
  // Relabelling a component to another attribute does not help either.
  bad = enc->ct;
  bad.c["h.role:doctor"] = bad.c.at("h.role:nurse");
  bad.c.erase("h.role:nurse");
  key = Decapsulate(*sk, bad);
  ASSERT_TRUE(key.has_value());
  EXPECT_FALSE(*key == enc->key);
}

TEST_F(FameKpTest, KeysOfAnotherAuthorityDoNotOpen) {
  auto other = fame_kp::Setup();
  ASSERT_TRUE(other.has_value());
  auto sk = KeyGen(other->msk, *Policy("a.x"));
  auto enc = Encapsulate(keys_->pk, {"a.x"});
  ASSERT_TRUE(sk && enc);
  auto key = Decapsulate(*sk, enc->ct);
  ASSERT_TRUE(key.has_value());
  EXPECT_FALSE(*key == enc->key);
}

// Random key policies (depth <= 4, up to 30 leaves, thresholds and numeric comparisons on
// dates and integers) against random attribute sets: decapsulation succeeds, with the right
// key, exactly when the independent evaluator (a direct AST walk, no LSSS) says the set
// satisfies the policy. Each attribute set is encapsulated once and each policy gets one key;
// every pair is tried.
TEST_F(FameKpTest, DecapsulatesExactlyWhenThePolicyIsSatisfied) {
  constexpr int kPolicies = 150;
  constexpr int kSets = 25;
  std::mt19937_64 rng(0x4B9AB5E);
  const auto start = std::chrono::steady_clock::now();

  std::vector<AttributeSet> sets;
  std::vector<Encapsulation> encs;
  for (int s = 0; s < kSets; ++s) {
    sets.push_back(abe::testing::RandomAttributeSet(rng));
    if (sets.back().attributes.empty() && sets.back().numeric.empty()) sets.back().attributes.insert("a");
    auto enc = Encapsulate(keys_->pk, sets.back().Expanded());
    ASSERT_TRUE(enc.has_value()) << enc.error().ToString();
    encs.push_back(std::move(*enc));
  }
  int successes = 0, refusals = 0;
  std::size_t rows = 0;
  abe::testing::RandomPolicyOptions options;
  options.max_depth = 4;
  options.max_leaves = 30;
  for (int p = 0; p < kPolicies; ++p) {
    auto policy = abe::testing::RandomPolicy(rng, options);
    const std::string text = PolicyToString(*policy);
    auto sk = KeyGen(keys_->msk, *policy);
    ASSERT_TRUE(sk.has_value()) << text << ": " << sk.error().ToString();
    rows += sk->k.size();
    for (int s = 0; s < kSets; ++s) {
      const bool should = abe::testing::IndependentlySatisfies(*policy, sets[s]);
      auto key = Decapsulate(*sk, encs[s].ct);
      ASSERT_EQ(key.has_value(), should) << text << " with {" << AttributeSetToString(sets[s]) << "}";
      if (should) {
        ASSERT_TRUE(*key == encs[s].key) << text << " with {" << AttributeSetToString(sets[s]) << "}";
        ++successes;
      } else {
        EXPECT_EQ(key.error().code(), ErrorCode::kInvalidArgument);
        ++refusals;
      }
    }
  }
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  std::printf("KP-ABE property test: %d cases (%d decapsulated, %d refused), %zu key rows, %lld ms\n",
              kPolicies * kSets, successes, refusals, rows, static_cast<long long>(ms));
  // The universe is chosen so that both outcomes are common.
  EXPECT_GT(successes, kPolicies * kSets / 10);
  EXPECT_GT(refusals, kPolicies * kSets / 10);
}

// Collusion. Two users hold keys for "h.a AND h.x" and "h.b AND h.y"; the ciphertext carries
// {h.a, h.b}, which satisfies neither policy. The scheme gives a key a G2 part sk_0 and one
// G1 triple per row; we assemble keys for every policy that {h.a, h.b} satisfies out of the
// two users' parts in every way: each row slot takes any of the four row triples (each user's
// row for its first attribute carries the master share), sk_0 comes from either user. None
// yields the encapsulated key: each key's rows are bound to its own r (in sk_0 and every
// row) and its own column randomness sigma', which only cancel within one key.
TEST_F(FameKpTest, CombiningComponentsOfTwoKeysFails) {
  auto u1 = KeyGen(keys_->msk, *Policy("h.a AND h.x"));
  auto u2 = KeyGen(keys_->msk, *Policy("h.b AND h.y"));
  auto enc = Encapsulate(keys_->pk, {"h.a", "h.b"});
  ASSERT_TRUE(u1 && u2 && enc);
  EXPECT_FALSE(Decapsulate(*u1, enc->ct).has_value());
  EXPECT_FALSE(Decapsulate(*u2, enc->ct).has_value());

  const std::vector<std::array<G1, 3>> rows = {u1->k[0], u1->k[1], u2->k[0], u2->k[1]};
  const std::vector<std::array<G2, 3>> k0s = {u1->k0, u2->k0};
  int tried = 0;
  for (const char* target : {"h.a", "h.b", "h.a OR h.b", "h.a AND h.b", "h.b AND h.a", "2 of (h.a, h.b, h.x)",
                             "h.a AND (h.b OR h.y)"}) {
    auto policy = Policy(target);
    auto matrix = CompileToLsss(*policy);
    ASSERT_TRUE(matrix.has_value());
    const std::size_t n = matrix->rows.size();
    std::vector<std::size_t> pick(n, 0);
    for (;;) {
      for (const auto& k0 : k0s) {
        SecretKey forged;
        forged.policy = PolicyToString(*policy);
        forged.matrix = *matrix;
        forged.k0 = k0;
        for (std::size_t i = 0; i < n; ++i) forged.k.push_back(rows[pick[i]]);
        auto key = Decapsulate(forged, enc->ct);
        ASSERT_TRUE(key.has_value()) << target;    // structurally a key the set satisfies ...
        EXPECT_FALSE(*key == enc->key) << target;  // ... but never the right one
        ++tried;
      }
      std::size_t i = 0;  // next assignment of row triples (odometer)
      while (i < n && ++pick[i] == rows.size()) pick[i++] = 0;
      if (i == n) break;
    }
  }
  EXPECT_EQ(tried, 2 * (4 + 4 + 16 + 16 + 16 + 64 + 64));

  // The harness can tell success: u1's own parts, assembled the same way for its own policy,
  // open a ciphertext for {h.a, h.x}.
  auto mine = Encapsulate(keys_->pk, {"h.a", "h.x"});
  ASSERT_TRUE(mine.has_value());
  SecretKey same;
  same.policy = u1->policy;
  same.matrix = u1->matrix;
  same.k0 = k0s[0];
  same.k = {rows[0], rows[1]};
  auto key = Decapsulate(same, mine->ct);
  ASSERT_TRUE(key.has_value());
  EXPECT_TRUE(*key == mine->key);
}

// White-box check of the key formula of fame_kp.h, one row at a time (decapsulation only
// checks rows in combination, where the sigma terms and the columns j >= 2 cancel anyway).
// With known s1, s2, the "ciphertext component" of column j is c_{0j,l} = prod_t H(0j l t)^(s_t);
// then for every row i
//   prod_l e(sk_{i,l}, ct_0,l) / prod_l e(ct_{rho(i),l} * prod_{j>=2} c_{0j,l}^(M_ij), sk_0,l)
//     = (T1^s1 T2^s2)^(M_i1)
// holds exactly when the row's sigma_i and sigma'_j parts lie in the direction
// (1/a1, 1/a2, -1) orthogonal to [As] and its hashed and master parts are as in the paper.
TEST_F(FameKpTest, EveryKeyRowHasThePapersForm) {
  auto sk = KeyGen(keys_->msk,
                   *Policy("(a.x AND b.y) OR 2 of (c.z, a.x, d.w) OR (b.y AND 3 of (a.x, c.z, d.w, e.v))"));
  ASSERT_TRUE(sk.has_value());
  const std::array<Fr, 2> s = {Fr::FromU64(1234567), Fr::FromU64(7654321)};
  std::size_t draws = 0;
  auto enc = internal::EncapsulateWith(keys_->pk, {"a.x", "b.y", "c.z", "d.w", "e.v"},
                                       [&]() -> Result<Fr> { return s.at(draws++); });
  ASSERT_TRUE(enc.has_value());
  ASSERT_EQ(draws, 2u);
  const Gt t = keys_->pk.t[0].Pow(s[0]) * keys_->pk.t[1].Pow(s[1]);
  ASSERT_GT(sk->matrix.columns, 3u);
  for (std::size_t i = 0; i < sk->k.size(); ++i) {
    const auto& m = sk->matrix.rows[i];
    std::vector<G1> ps;
    std::vector<G2> qs;
    for (int l = 0; l < 3; ++l) {
      G1 denominator = enc->ct.c.at(sk->matrix.rho[i])[l];
      for (std::size_t j = 1; j < sk->matrix.columns; ++j) {
        if (m[j] == 0) continue;
        G1 column = G1::Identity();
        for (int t_index = 0; t_index < 2; ++t_index)
          column +=
              detail::HashedBase(internal::ColumnHashInput(j + 1, l, t_index))->point.MulVartime(s[t_index]);
        const Fr entry = m[j] >= 0 ? Fr::FromU64(static_cast<std::uint64_t>(m[j]))
                                   : -Fr::FromU64(static_cast<std::uint64_t>(-m[j]));
        denominator += column.MulVartime(entry);
      }
      ps.push_back(sk->k[i][l]);
      qs.push_back(enc->ct.c0[l]);
      ps.push_back(-denominator);
      qs.push_back(sk->k0[l]);
    }
    const Gt expected =
        m[0] == 0 ? Gt::Identity() : t.PowVartime(Fr::FromU64(static_cast<std::uint64_t>(m[0])));
    EXPECT_EQ(pairing::PairingProduct(ps, qs), expected) << "row " << i << " (" << sk->matrix.rho[i] << ")";
  }
}

TEST(FameKpHashTest, HashInputsAreDistinctFromCpAbesAndPrefixFree) {
  using internal::AttributeHashInput;
  using internal::ColumnHashInput;
  EXPECT_NE(AttributeHashInput("h.a", 0, 0), detail::AttributeHashInput("h.a", 0, 0));
  EXPECT_NE(ColumnHashInput(2, 0, 0), detail::ColumnHashInput(2, 0, 0));
  EXPECT_EQ(AttributeHashInput("h.a", 1, 0),
            (std::vector<std::uint8_t>{'K', 0, 0, 0, 3, 'h', '.', 'a', 1, 0}));
  EXPECT_EQ(ColumnHashInput(258, 2, 1), (std::vector<std::uint8_t>{'L', 0, 0, 0, 4, 0, 0, 1, 2, 2, 1}));
  EXPECT_NE(detail::HashedBase(AttributeHashInput("h.a", 0, 0))->point,
            detail::HashedBase(detail::AttributeHashInput("h.a", 0, 0))->point);
  EXPECT_NE(detail::HashedBase(AttributeHashInput("h.a", 0, 0))->point,
            detail::HashedBase(AttributeHashInput("h.a", 0, 1))->point);
}

}  // namespace
}  // namespace cipherchart::abe::fame_kp
