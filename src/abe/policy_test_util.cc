#include "src/abe/policy_test_util.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "cipherchart/pairing/field.h"

namespace cipherchart::abe::testing {
namespace {

std::vector<std::string> Canonicalise(const std::vector<std::string>& texts) {
  std::vector<std::string> out;
  for (const auto& t : texts) {
    auto c = CanonicalAttribute(t);
    if (!c) std::abort();  // a broken test universe
    out.push_back(*c);
  }
  return out;
}

std::size_t Uniform(std::mt19937_64& rng, std::size_t lo, std::size_t hi) {
  return std::uniform_int_distribution<std::size_t>(lo, hi)(rng);
}

std::unique_ptr<PolicyNode> RandomLeaf(std::mt19937_64& rng, const RandomPolicyOptions& options) {
  if (options.comparisons && Uniform(rng, 0, 9) < 3) {
    const auto& names = NumericUniverse();
    const auto op = static_cast<PolicyNode::Op>(Uniform(rng, 0, 4));
    std::uint64_t value = 0;
    do {
      value = RandomNumericValue(rng);
    } while ((op == PolicyNode::Op::kLt && value == 0) ||
             (op == PolicyNode::Op::kGt && value == kMaxNumericValue));
    const bool is_date = value <= 2932896 && Uniform(rng, 0, 3) == 0;
    return MakeComparisonNode(names[Uniform(rng, 0, names.size() - 1)], op, value, is_date);
  }
  const auto& attrs = AttributeUniverse();
  return MakeAttributeNode(attrs[Uniform(rng, 0, attrs.size() - 1)]);
}

std::unique_ptr<PolicyNode> RandomNode(std::mt19937_64& rng, const RandomPolicyOptions& options, int depth,
                                       int leaves) {
  std::bernoulli_distribution stop(options.leaf_bias);
  if (depth >= options.max_depth || leaves < 2 || (depth > 0 && stop(rng))) return RandomLeaf(rng, options);
  const int n =
      static_cast<int>(Uniform(rng, 1, static_cast<std::size_t>(std::min(options.max_children, leaves))));
  // Split the leaf budget among the children (each gets at least one).
  std::vector<int> budget(static_cast<std::size_t>(n), 1);
  for (int extra = leaves - n; extra > 0; --extra) budget[Uniform(rng, 0, budget.size() - 1)]++;
  std::vector<std::unique_ptr<PolicyNode>> children;
  children.reserve(budget.size());
  for (int i = 0; i < n; ++i)
    children.push_back(RandomNode(rng, options, depth + 1, budget[static_cast<std::size_t>(i)]));
  int k = 1;
  switch (Uniform(rng, 0, 2)) {
    case 0:
      k = 1;
      break;
    case 1:
      k = n;
      break;
    default:
      k = static_cast<int>(Uniform(rng, 1, static_cast<std::size_t>(n)));
  }
  return MakeThresholdNode(k, std::move(children));
}

}  // namespace

const std::vector<std::string>& AttributeUniverse() {
  static const std::vector<std::string> kUniverse = Canonicalise({
      "a",
      "b.x",
      "hospital_a.role:doctor",
      "hospital_a.role:nurse",
      "hospital_b.dept:cardiology",
      "\"hospital a\".role:\"head nurse\"",
      "h.\"or\":v",
      "icd.code:I21.4",
      "q.\"quote\\\"and\\\\back\":\"x y\"",
      "\"caf\xc3\xa9\".staff",
      "x-ray.tech:\"AND\"",
      "_u.v:007",
  });
  return kUniverse;
}

const std::vector<std::string>& NumericUniverse() {
  static const std::vector<std::string> kUniverse =
      Canonicalise({"board.years_practice", "board.licence_expiry", "\"lab a\".\"level\""});
  return kUniverse;
}

std::uint64_t RandomNumericValue(std::mt19937_64& rng) {
  static constexpr std::uint64_t kInteresting[] = {
      0, 1, 2, 3, 5, 6, 7, 8, 20000, 20001, 0x7fffffff, 0x80000000, kMaxNumericValue - 1, kMaxNumericValue};
  if (Uniform(rng, 0, 3) == 0) return Uniform(rng, 0, kMaxNumericValue);
  return kInteresting[Uniform(rng, 0, std::size(kInteresting) - 1)];
}

std::unique_ptr<PolicyNode> RandomPolicy(std::mt19937_64& rng, const RandomPolicyOptions& options) {
  const int leaves = static_cast<int>(Uniform(rng, 1, static_cast<std::size_t>(options.max_leaves)));
  return RandomNode(rng, options, 0, leaves);
}

AttributeSet RandomAttributeSet(std::mt19937_64& rng) {
  AttributeSet set;
  for (const auto& a : AttributeUniverse()) {
    if (Uniform(rng, 0, 1) == 1) set.attributes.insert(a);
  }
  for (const auto& n : NumericUniverse()) {
    if (Uniform(rng, 0, 4) != 0) set.numeric[n] = RandomNumericValue(rng);
  }
  return set;
}

bool IndependentlySatisfies(const PolicyNode& policy, const AttributeSet& set) {
  switch (policy.kind) {
    case PolicyNode::Kind::kAttribute:
      return set.attributes.count(policy.attribute) == 1;
    case PolicyNode::Kind::kComparison: {
      const auto it = set.numeric.find(policy.attribute);
      if (it == set.numeric.end() || it->second > kMaxNumericValue) return false;
      const std::uint64_t v = it->second, c = policy.value;
      switch (policy.op) {
        case PolicyNode::Op::kLt:
          return v < c;
        case PolicyNode::Op::kLe:
          return v <= c;
        case PolicyNode::Op::kGt:
          return v > c;
        case PolicyNode::Op::kGe:
          return v >= c;
        case PolicyNode::Op::kEq:
          return v == c;
      }
      std::abort();  // unreachable: every Op is handled
    }
    case PolicyNode::Kind::kThreshold: {
      int holding = 0;
      for (const auto& child : policy.children) holding += IndependentlySatisfies(*child, set) ? 1 : 0;
      return holding >= policy.threshold;
    }
  }
  std::abort();  // unreachable: every Kind is handled
}

std::size_t CountLeaves(const PolicyNode& policy) {
  if (policy.kind != PolicyNode::Kind::kThreshold) return 1;
  std::size_t n = 0;
  for (const auto& c : policy.children) n += CountLeaves(*c);
  return n;
}

bool CheckReconstruction(const LsssMatrix& m, const std::set<std::string>& set, const Reconstruction& rec) {
  using pairing::Fr;
  if (rec.rows.size() != rec.coefficients.size() || rec.rows.empty()) return false;
  std::vector<Fr> sum(m.columns, Fr::Zero());
  for (std::size_t n = 0; n < rec.rows.size(); ++n) {
    const std::size_t i = rec.rows[n];
    if (i >= m.rows.size() || !set.contains(m.rho[i])) return false;
    if (n > 0 && rec.rows[n - 1] >= i) return false;
    if (rec.coefficients[n].IsZero()) return false;
    for (std::size_t j = 0; j < m.columns; ++j) {
      const std::int64_t e = m.rows[i][j];
      const Fr entry = e >= 0 ? Fr::FromU64(static_cast<std::uint64_t>(e))
                              : -Fr::FromU64(std::uint64_t{0} - static_cast<std::uint64_t>(e));
      sum[j] += rec.coefficients[n] * entry;
    }
  }
  if (!sum[0].IsOne()) return false;
  return std::all_of(sum.begin() + 1, sum.end(), [](const Fr& v) { return v.IsZero(); });
}

}  // namespace cipherchart::abe::testing
