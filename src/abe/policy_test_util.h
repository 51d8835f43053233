// Helpers shared by the policy and LSSS tests (and usable by the ABE scheme tests): random
// policies and attribute sets over a small universe, so that random sets satisfy random
// policies about as often as not, and a check of reconstruction coefficients.
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "cipherchart/abe/policy.h"

namespace cipherchart::abe::testing {

struct RandomPolicyOptions {
  int max_depth = 4;        // gates on a root-to-leaf path
  int max_leaves = 30;      // attribute and comparison leaves
  int max_children = 5;     // per gate
  bool comparisons = true;  // numeric comparisons among the leaves
  double leaf_bias = 0.3;   // probability of stopping early at a leaf
};

// The plain attributes random policies and sets draw from (canonical strings, including
// namespaced, quoted, keyword-named and non-ASCII ones).
const std::vector<std::string>& AttributeUniverse();
// The numeric attribute names (canonical).
const std::vector<std::string>& NumericUniverse();

// A numeric value drawn mostly from a small set of interesting values (0, 1, 2^32 - 1, ...,
// values that differ by one) so comparisons hit their edges.
std::uint64_t RandomNumericValue(std::mt19937_64& rng);

std::unique_ptr<PolicyNode> RandomPolicy(std::mt19937_64& rng, const RandomPolicyOptions& options = {});
AttributeSet RandomAttributeSet(std::mt19937_64& rng);

// Whether `set` satisfies `policy`, by a direct recursive walk of the AST written for the ABE
// property tests as a reference independent of the library: it does not call Satisfies,
// ExpandComparisons, the bit attributes or the LSSS code. An attribute leaf holds iff the set
// has that plain attribute; a comparison iff the set has the numeric attribute with a value
// <= kMaxNumericValue that compares as written (dates are the day numbers both sides store);
// a k-of-n gate iff at least k children hold. Meant for policies as ParsePolicy and
// RandomPolicy make them (not for ExpandComparisons' bit-attribute leaves).
bool IndependentlySatisfies(const PolicyNode& policy, const AttributeSet& set);

// Number of leaves (attributes and comparisons) of a policy.
std::size_t CountLeaves(const PolicyNode& policy);

// Whether sum_i c_i M_{rows[i]} == (1, 0, ..., 0) mod r, all used rows have labels in `set`,
// rows are increasing and coefficients nonzero.
bool CheckReconstruction(const LsssMatrix& m, const std::set<std::string>& set, const Reconstruction& rec);

}  // namespace cipherchart::abe::testing
