// LSSS compilation and reconstruction: exact matrices for small policies, structural
// properties, the property test (reconstruction exists exactly when the policy is satisfied,
// and the coefficients are right), comparison semantics through the bit attributes, and the
// worst cases the limits allow.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "cipherchart/abe/policy.h"
#include "src/abe/policy_test_util.h"

namespace cipherchart::abe {
namespace {

using Op = PolicyNode::Op;
using Matrix = std::vector<std::vector<std::int64_t>>;

LsssMatrix MustCompile(std::string_view text) {
  auto p = ParsePolicy(text);
  EXPECT_TRUE(p.has_value()) << text;
  if (!p) return {};
  auto m = CompileToLsss(**p);
  EXPECT_TRUE(m.has_value()) << text;
  return m ? *m : LsssMatrix{};
}

// "a<i>" (built without `literal + std::to_string`, on which GCC 12 gives a false -Wrestrict).
std::string Item(int i) {
  std::string s = "a";
  s += std::to_string(i);
  return s;
}

// "a0, a1, ..., a<n-1>"
std::string Items(int n) {
  std::string s;
  for (int i = 0; i < n; ++i) {
    if (i > 0) s += ", ";
    s += Item(i);
  }
  return s;
}

AttributeSet Set(std::string_view key) {
  auto s = ParseAttributeSet(key);
  EXPECT_TRUE(s.has_value()) << key;
  return s ? *s : AttributeSet{};
}

// Reconstruction coefficients that must exist (empty, with a test failure, if they do not).
Reconstruction MustReconstruct(const LsssMatrix& m, const std::set<std::string>& set) {
  auto rec = ReconstructionCoefficients(m, set);
  EXPECT_TRUE(rec.has_value());
  return std::move(rec).value_or(Reconstruction{});
}

// Reconstruction for a key (as the ABE schemes see it: expanded), checked when found.
bool Reconstructs(const LsssMatrix& m, const AttributeSet& key) {
  const auto expanded = key.Expanded();
  const auto rec = ReconstructionCoefficients(m, expanded);
  if (rec) {
    EXPECT_TRUE(testing::CheckReconstruction(m, expanded, *rec));
  }
  return rec.has_value();
}

TEST(Lsss, SmallMatrices) {
  struct Case {
    const char* policy;
    Matrix rows;
    std::vector<std::string> rho;
  };
  const Case cases[] = {
      {"a", {{1}}, {"a"}},
      {"a AND b", {{1, 1}, {0, -1}}, {"a", "b"}},
      {"a OR b", {{1}, {1}}, {"a", "b"}},
      {"a AND b AND c", {{1, 1, 0}, {0, -1, 1}, {0, 0, -1}}, {"a", "b", "c"}},
      {"(a OR b) AND c", {{1, 1}, {1, 1}, {0, -1}}, {"a", "b", "c"}},
      {"a AND (b OR c)", {{1, 1}, {0, -1}, {0, -1}}, {"a", "b", "c"}},
      {"a AND (b AND c)", {{1, 1, 0}, {0, -1, 1}, {0, 0, -1}}, {"a", "b", "c"}},
      {"2 of (a, b, c)", {{1, 1}, {1, -1}, {1, 2}}, {"a", "b", "c"}},
      {"3 of (a, b, c, d)", {{1, 1, 1}, {1, -1, 1}, {1, 2, 4}, {1, -2, 4}}, {"a", "b", "c", "d"}},
      {"1 of (a)", {{1}}, {"a"}},
      {"x >= 2147483648", {{1}}, {"x#31=1"}},
      {"x <= 2147483647", {{1}}, {"x#31=0"}},
      {"x >= 0", {{1}, {1}}, {"x#0=0", "x#0=1"}},
      {"x >= 3221225472", {{1, 1}, {0, -1}}, {"x#31=1", "x#30=1"}},  // 0b11 << 30
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.policy);
    const auto m = MustCompile(c.policy);
    EXPECT_EQ(m.rows, c.rows);
    EXPECT_EQ(m.rho, c.rho);
    EXPECT_EQ(m.columns, c.rows[0].size());
  }
  // x > 2^31 (>= 2^31 + 1): x#31=1 AND (x#30=1 OR ... OR x#1=1 OR x#0=1): 32 rows, 2 columns.
  const auto gt = MustCompile("x > 2147483648");
  EXPECT_EQ(gt.rows.size(), 32u);
  EXPECT_EQ(gt.columns, 2u);
  EXPECT_EQ(gt.rho.front(), "x#31=1");
  EXPECT_EQ(gt.rho.back(), "x#0=1");
  EXPECT_EQ(MustCompile("x > 2147483647").rows.size(), 1u);
  EXPECT_EQ(MustCompile("x == 5").rows.size(), static_cast<std::size_t>(kNumericBits));
  EXPECT_EQ(MustCompile("x == 5").columns, static_cast<std::size_t>(kNumericBits));
}

TEST(Lsss, StructureOfRandomPolicies) {
  std::mt19937_64 rng(1);
  for (int i = 0; i < 2000; ++i) {
    const auto policy = testing::RandomPolicy(rng);
    SCOPED_TRACE(PolicyToString(*policy));
    auto m = CompileToLsss(*policy);
    ASSERT_TRUE(m.has_value()) << m.error().message();
    auto expanded = ExpandComparisons(*policy);
    ASSERT_TRUE(expanded.has_value());
    EXPECT_EQ(m->rows.size(), testing::CountLeaves(**expanded));  // one row per (bit) leaf
    EXPECT_EQ(m->rho.size(), m->rows.size());
    EXPECT_LE(m->columns, m->rows.size());
    bool only_and_or = true;
    std::vector<const PolicyNode*> stack{policy.get()};
    while (!stack.empty()) {
      const PolicyNode* n = stack.back();
      stack.pop_back();
      if (n->kind == PolicyNode::Kind::kThreshold) {
        if (n->threshold != 1 && static_cast<std::size_t>(n->threshold) != n->children.size())
          only_and_or = false;
        for (const auto& c : n->children) stack.push_back(c.get());
      }
    }
    for (const auto& row : m->rows) {
      ASSERT_EQ(row.size(), m->columns);
      for (const auto e : row) {
        if (only_and_or) {
          EXPECT_TRUE(e >= -1 && e <= 1);
        }
        EXPECT_LE(e < 0 ? -e : e, kMaxLsssEntry);
      }
    }
  }
}

// The main property: for random policies (depth <= 4, up to 30 leaves, thresholds, numeric
// comparisons and dates) and random keys, reconstruction coefficients exist exactly when the
// direct evaluation says the key satisfies the policy, and they combine the rows to (1, 0, ...).
TEST(Lsss, ReconstructionMatchesSatisfies) {
  std::mt19937_64 rng(42);
  int satisfied = 0, total = 0;
  for (int i = 0; i < 3000; ++i) {
    const auto policy = testing::RandomPolicy(rng);
    SCOPED_TRACE(PolicyToString(*policy));
    auto m = CompileToLsss(*policy);
    ASSERT_TRUE(m.has_value()) << m.error().message();
    for (int j = 0; j < 6; ++j) {
      const AttributeSet key = testing::RandomAttributeSet(rng);
      SCOPED_TRACE(AttributeSetToString(key));
      const bool expected = Satisfies(*policy, key);
      ASSERT_EQ(Reconstructs(*m, key), expected);
      satisfied += expected;
      ++total;
    }
  }
  // The generator should give a useful mix.
  EXPECT_GT(satisfied, total / 5);
  EXPECT_LT(satisfied, total * 4 / 5);
}

// The same, with all thresholds between AND and OR and no comparisons (denser Vandermonde use).
TEST(Lsss, ReconstructionMatchesSatisfiesThresholds) {
  std::mt19937_64 rng(43);
  testing::RandomPolicyOptions options;
  options.comparisons = false;
  options.max_children = 7;
  options.max_depth = 3;
  for (int i = 0; i < 2000; ++i) {
    const auto policy = testing::RandomPolicy(rng, options);
    SCOPED_TRACE(PolicyToString(*policy));
    auto m = CompileToLsss(*policy);
    ASSERT_TRUE(m.has_value());
    for (int j = 0; j < 6; ++j) {
      const AttributeSet key = testing::RandomAttributeSet(rng);
      ASSERT_EQ(Reconstructs(*m, key), Satisfies(*policy, key)) << AttributeSetToString(key);
    }
  }
}

// Comparisons: the bit-attribute subtree and its LSSS agree with the direct comparison, for
// every operator, at the edges (0, 1, 2^31, 2^32 - 1, equal values, off by one) and at random.
TEST(Lsss, ComparisonSemantics) {
  std::mt19937_64 rng(5);
  std::vector<std::uint64_t> constants = {
      0,          1,         2, 3, 0x7fffffff, 0x80000000, 0x80000001, kMaxNumericValue - 1, kMaxNumericValue,
      0x55555555, 0xaaaaaaaa};
  for (int i = 0; i < 60; ++i) constants.push_back(rng() & kMaxNumericValue);
  for (int i = 0; i < 20; ++i) constants.push_back(rng() % 64);
  const Op ops[] = {Op::kLt, Op::kLe, Op::kGt, Op::kGe, Op::kEq};
  int checked = 0;
  for (const std::uint64_t c : constants) {
    for (const Op op : ops) {
      if ((op == Op::kLt && c == 0) || (op == Op::kGt && c == kMaxNumericValue)) continue;
      const auto policy = MakeComparisonNode("n", op, c);
      auto expanded = ExpandComparisons(*policy);
      ASSERT_TRUE(expanded.has_value());
      auto m = CompileToLsss(*policy);
      ASSERT_TRUE(m.has_value());
      std::vector<std::uint64_t> values = {
          0, 1, kMaxNumericValue, kMaxNumericValue - 1, c, rng() & kMaxNumericValue};
      if (c > 0) values.push_back(c - 1);
      if (c < kMaxNumericValue) values.push_back(c + 1);
      for (const std::uint64_t v : values) {
        SCOPED_TRACE("n " + std::to_string(static_cast<int>(op)) + " " + std::to_string(c) + " at " +
                     std::to_string(v));
        AttributeSet key;
        key.numeric["n"] = v;
        const bool direct = Satisfies(*policy, key);
        bool want = false;
        switch (op) {
          case Op::kLt:
            want = v < c;
            break;
          case Op::kLe:
            want = v <= c;
            break;
          case Op::kGt:
            want = v > c;
            break;
          case Op::kGe:
            want = v >= c;
            break;
          case Op::kEq:
            want = v == c;
            break;
        }
        ASSERT_EQ(direct, want);
        AttributeSet bits;
        bits.attributes = key.Expanded();
        ASSERT_EQ(Satisfies(**expanded, bits), want);
        ASSERT_EQ(Reconstructs(*m, key), want);
        ++checked;
      }
      // A key without the numeric attribute satisfies no comparison.
      ASSERT_FALSE(Reconstructs(*m, Set("n:5, m=7")));
    }
  }
  EXPECT_GT(checked, 3000);
}

TEST(Lsss, AttributesUsedTwice) {
  const auto m = MustCompile("2 of (a, a, b)");
  EXPECT_EQ(m.rho, (std::vector<std::string>{"a", "a", "b"}));
  EXPECT_TRUE(Reconstructs(m, Set("a")));  // a alone satisfies two items
  EXPECT_FALSE(Reconstructs(m, Set("b")));
  const auto n = MustCompile("a AND (a OR b) AND (b OR c)");
  EXPECT_TRUE(Reconstructs(n, Set("a, c")));
  EXPECT_FALSE(Reconstructs(n, Set("a")));
  EXPECT_FALSE(Reconstructs(n, Set("b, c")));
  const auto d = MustCompile("x >= 5 AND x <= 10 AND (x < 7 OR x > 7)");
  EXPECT_TRUE(Reconstructs(d, Set("x=5")));
  EXPECT_TRUE(Reconstructs(d, Set("x=10")));
  EXPECT_FALSE(Reconstructs(d, Set("x=7")));
  EXPECT_FALSE(Reconstructs(d, Set("x=11")));
}

TEST(Lsss, ReconstructionEdgeCases) {
  const auto m = MustCompile("a AND b");
  EXPECT_FALSE(ReconstructionCoefficients(m, {}).has_value());
  EXPECT_FALSE(ReconstructionCoefficients(m, {"a"}).has_value());
  EXPECT_FALSE(ReconstructionCoefficients(LsssMatrix{}, {"a"}).has_value());
  // Hostile shapes: short rows, missing labels, a huge column count, zero rows.
  LsssMatrix odd;
  odd.rows = {{1, 5}, {}, {0, 1}, {0, 0, 0}};
  odd.rho = {"a", "b", "c"};
  odd.columns = std::size_t{1} << 60;
  const auto rec = MustReconstruct(odd, {"a", "b", "c"});  // (1, 5) - 5 (0, 1)
  ASSERT_EQ(rec.rows, (std::vector<std::size_t>{0, 2}));
  EXPECT_TRUE(rec.coefficients[0].IsOne());
  EXPECT_EQ(rec.coefficients[1], -pairing::Fr::FromU64(5));
  // Rows that span e0 only through a multiple.
  LsssMatrix scaled;
  scaled.rows = {{2, 1}, {0, 3}};
  scaled.rho = {"a", "b"};
  scaled.columns = 2;
  EXPECT_TRUE(testing::CheckReconstruction(scaled, {"a", "b"}, MustReconstruct(scaled, {"a", "b"})));
}

TEST(Lsss, LargeThresholds) {
  const auto m = MustCompile("7 of (" + Items(1024) + ")");
  EXPECT_EQ(m.rows.size(), 1024u);
  EXPECT_EQ(m.columns, 7u);
  std::set<std::string> some;
  for (int i : {3, 100, 511, 512, 700, 1000}) some.insert(Item(i));
  EXPECT_FALSE(ReconstructionCoefficients(m, some).has_value());
  some.insert("a1023");
  EXPECT_TRUE(testing::CheckReconstruction(m, some, MustReconstruct(m, some)));

  const auto t = MustCompile("16 of (" + Items(30) + ")");
  std::set<std::string> have;
  for (int i = 29; i >= 14; --i) have.insert(Item(i));
  EXPECT_TRUE(testing::CheckReconstruction(t, have, MustReconstruct(t, have)));
  have.erase("a20");
  EXPECT_FALSE(ReconstructionCoefficients(t, have).has_value());
}

// The largest policies the limits allow compile and reconstruct in reasonable time.
TEST(Lsss, WorstCaseSizes) {
  std::string all_and = "x == 1", all_or = "x == 1";
  for (int i = 1; i < 128; ++i) {
    all_and += " AND x == 1";
    all_or += " OR x == " + std::to_string(i + 1);
  }
  const auto start = std::chrono::steady_clock::now();
  const auto a = MustCompile(all_and);
  EXPECT_EQ(a.rows.size(), kMaxLsssRows);
  EXPECT_EQ(a.columns, kMaxLsssRows);
  EXPECT_TRUE(Reconstructs(a, Set("x=1")));
  EXPECT_FALSE(Reconstructs(a, Set("x=3")));
  const auto o = MustCompile(all_or);
  EXPECT_EQ(o.rows.size(), kMaxLsssRows);
  EXPECT_TRUE(Reconstructs(o, Set("x=77")));
  EXPECT_FALSE(Reconstructs(o, Set("x=129")));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  RecordProperty("worst_case_seconds", std::to_string(seconds));
  EXPECT_LT(seconds, 30.0);
}

// CompileToLsss of a 100-leaf policy: well under a millisecond (a loose bound here, so that
// sanitizer builds pass; the benchmark measures it properly).
TEST(Lsss, CompileSpeed) {
  std::string policy;
  for (int g = 0; g < 20; ++g) {
    std::string gate;
    for (int i = 0; i < 5; ++i)
      gate += (i ? " OR hospital_" : "hospital_") + std::to_string(g) + ".role:r" + std::to_string(i);
    policy += (g ? " AND (" : "(") + gate + ")";
  }
  auto p = ParsePolicy(policy);
  ASSERT_TRUE(p.has_value());
  const int reps = 200;
  const auto start = std::chrono::steady_clock::now();
  std::size_t rows = 0;
  for (int i = 0; i < reps; ++i) rows += CompileToLsss(**p)->rows.size();
  const double per = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / reps;
  EXPECT_EQ(rows, 100u * reps);
  RecordProperty("compile_100_leaves_us", std::to_string(per * 1e6));
  EXPECT_LT(per, 5e-3);
}

}  // namespace
}  // namespace cipherchart::abe
