// The policy AST: construction, equality, validation, direct evaluation (Satisfies), key
// attribute expansion, and the bit-attribute expansion of numeric comparisons.
#include "cipherchart/abe/policy.h"

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "src/abe/policy_internal.h"

namespace cipherchart::abe {

using Kind = PolicyNode::Kind;
using Op = PolicyNode::Op;

bool operator==(const PolicyNode& a, const PolicyNode& b) {
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case Kind::kAttribute:
      return a.attribute == b.attribute;
    case Kind::kComparison:
      return a.attribute == b.attribute && a.op == b.op && a.value == b.value && a.is_date == b.is_date;
    case Kind::kThreshold:
      if (a.threshold != b.threshold || a.children.size() != b.children.size()) return false;
      for (std::size_t i = 0; i < a.children.size(); ++i) {
        const PolicyNode* x = a.children[i].get();
        const PolicyNode* y = b.children[i].get();
        if (x == nullptr || y == nullptr) {
          if (x != y) return false;
          continue;
        }
        if (!(*x == *y)) return false;
      }
      return true;
  }
  return false;
}

std::unique_ptr<PolicyNode> MakeAttributeNode(std::string canonical_attribute) {
  auto node = std::make_unique<PolicyNode>();
  node->kind = Kind::kAttribute;
  node->attribute = std::move(canonical_attribute);
  return node;
}

std::unique_ptr<PolicyNode> MakeComparisonNode(std::string canonical_name, Op op, std::uint64_t value,
                                               bool is_date) {
  auto node = std::make_unique<PolicyNode>();
  node->kind = Kind::kComparison;
  node->attribute = std::move(canonical_name);
  node->op = op;
  node->value = value;
  node->is_date = is_date;
  return node;
}

std::unique_ptr<PolicyNode> MakeThresholdNode(int k, std::vector<std::unique_ptr<PolicyNode>> children) {
  auto node = std::make_unique<PolicyNode>();
  node->kind = Kind::kThreshold;
  node->threshold = k;
  node->children = std::move(children);
  return node;
}

std::unique_ptr<PolicyNode> ClonePolicy(const PolicyNode& node) {
  auto copy = std::make_unique<PolicyNode>();
  copy->kind = node.kind;
  copy->attribute = node.attribute;
  copy->op = node.op;
  copy->value = node.value;
  copy->is_date = node.is_date;
  copy->threshold = node.threshold;
  copy->children.reserve(node.children.size());
  for (const auto& child : node.children) copy->children.push_back(child ? ClonePolicy(*child) : nullptr);
  return copy;
}

namespace internal {

std::string_view OpText(Op op) {
  switch (op) {
    case Op::kLt:
      return "<";
    case Op::kLe:
      return "<=";
    case Op::kGt:
      return ">";
    case Op::kGe:
      return ">=";
    case Op::kEq:
      return "==";
  }
  return "?";
}

bool ComparisonNeverTrue(Op op, std::uint64_t value) {
  return (op == Op::kLt && value == 0) || (op == Op::kGt && value >= kMaxNumericValue);
}

namespace {

// x >= c and x <= c as bit trees, from the least significant bit that matters upwards
// (BSW07 section 4.3). With the higher bits of x equal to those of c, x >= c given bits i..0 is
//   c_i = 1:  x_i = 1 AND (x >= c given bits i-1..0)
//   c_i = 0:  x_i = 1 OR  (x >= c given bits i-1..0)
// and is true once only zero bits of c remain; x <= c is the same with the roles of 0 and 1
// swapped. So the lowest bit that matters is the lowest 1 of c (for >=) or the lowest 0 of c
// (for <=). A comparison that is true for every value (x >= 0, x <= 2^32 - 1) becomes
// "x#0=0 OR x#0=1": true exactly for keys that have the numeric attribute.
enum class Bound { kAtLeast, kAtMost };

std::uint64_t BitOf(std::uint64_t v, int bit) { return (v >> bit) & 1; }

std::unique_ptr<PolicyNode> BitLeaf(const std::string& name, int bit, bool set) {
  return MakeAttributeNode(BitAttribute(name, bit, set));
}

bool IsAnd(const PolicyNode& n) {
  return n.kind == Kind::kThreshold && n.children.size() >= 2 &&
         static_cast<std::size_t>(n.threshold) == n.children.size();
}
bool IsOr(const PolicyNode& n) {
  return n.kind == Kind::kThreshold && n.children.size() >= 2 && n.threshold == 1;
}

// `leaf AND node` or `leaf OR node`, merged into `node` when it is already that gate.
std::unique_ptr<PolicyNode> Prepend(bool is_and, std::unique_ptr<PolicyNode> leaf,
                                    std::unique_ptr<PolicyNode> node) {
  if (is_and ? IsAnd(*node) : IsOr(*node)) {
    node->children.insert(node->children.begin(), std::move(leaf));
    if (is_and) ++node->threshold;
    return node;
  }
  std::vector<std::unique_ptr<PolicyNode>> children;
  children.push_back(std::move(leaf));
  children.push_back(std::move(node));
  return MakeThresholdNode(is_and ? 2 : 1, std::move(children));
}

std::unique_ptr<PolicyNode> Present(const std::string& name) {
  std::vector<std::unique_ptr<PolicyNode>> children;
  children.push_back(BitLeaf(name, 0, false));
  children.push_back(BitLeaf(name, 0, true));
  return MakeThresholdNode(1, std::move(children));
}

std::unique_ptr<PolicyNode> BoundTree(const std::string& name, Bound bound, std::uint64_t c) {
  const bool at_least = bound == Bound::kAtLeast;
  // The bits of c that decide: its 1s for >=, its 0s for <=.
  const std::uint64_t deciding = at_least ? c : (~c & kMaxNumericValue);
  if (deciding == 0) return Present(name);
  const int low = std::countr_zero(deciding);
  std::unique_ptr<PolicyNode> node = BitLeaf(name, low, at_least);
  for (int i = low + 1; i < kNumericBits; ++i) {
    const bool is_and = BitOf(deciding, i) == 1;
    node = Prepend(is_and, BitLeaf(name, i, at_least), std::move(node));
  }
  return node;
}

}  // namespace

std::size_t ComparisonRows(Op op, std::uint64_t value) {
  if (value > kMaxNumericValue || ComparisonNeverTrue(op, value)) return 0;
  auto bound_rows = [](std::uint64_t deciding) -> std::size_t {
    if (deciding == 0) return 2;
    return static_cast<std::size_t>(kNumericBits - std::countr_zero(deciding));
  };
  switch (op) {
    case Op::kEq:
      return kNumericBits;
    case Op::kGe:
      return bound_rows(value);
    case Op::kGt:
      return bound_rows(value + 1);
    case Op::kLe:
      return bound_rows(~value & kMaxNumericValue);
    case Op::kLt:
      return bound_rows(~(value - 1) & kMaxNumericValue);
  }
  return 0;
}

std::unique_ptr<PolicyNode> ComparisonTree(const std::string& name, Op op, std::uint64_t value) {
  if (value > kMaxNumericValue || ComparisonNeverTrue(op, value)) return nullptr;
  switch (op) {
    case Op::kEq: {
      std::vector<std::unique_ptr<PolicyNode>> bits;
      for (int i = kNumericBits - 1; i >= 0; --i) bits.push_back(BitLeaf(name, i, BitOf(value, i) == 1));
      return MakeThresholdNode(kNumericBits, std::move(bits));
    }
    case Op::kGe:
      return BoundTree(name, Bound::kAtLeast, value);
    case Op::kGt:
      return BoundTree(name, Bound::kAtLeast, value + 1);
    case Op::kLe:
      return BoundTree(name, Bound::kAtMost, value);
    case Op::kLt:
      return BoundTree(name, Bound::kAtMost, value - 1);
  }
  return nullptr;
}

bool ThresholdFits(std::uint64_t k, std::uint64_t n) {
  if (k <= 1 || k >= n) return true;
  const auto h = static_cast<std::int64_t>((n + 1) / 2);  // largest |evaluation point|
  std::int64_t power = 1;
  for (std::uint64_t t = 1; t < k; ++t) {
    if (power > kMaxLsssEntry / h) return false;
    power *= h;
  }
  return true;
}

std::uint64_t MaxThresholdK(std::uint64_t n) {
  std::uint64_t k = 1;
  while (k + 1 < n && ThresholdFits(k + 1, n)) ++k;
  return k;
}

}  // namespace internal

std::string BitAttribute(std::string_view canonical_name, int bit, bool set) {
  std::string out(canonical_name);
  out += '#';
  out += std::to_string(bit);
  out += set ? "=1" : "=0";
  return out;
}

namespace {

struct Limits {
  std::size_t leaves = 0;
  std::size_t rows = 0;
};

std::unexpected<Error> Invalid(const std::string& message) {
  return Fail(ErrorCode::kInvalidArgument, "policy: " + message);
}

Result<void> CountLeaf(Limits& limits, std::size_t rows) {
  if (++limits.leaves > kMaxPolicyLeaves) {
    return Invalid("more than " + std::to_string(kMaxPolicyLeaves) + " leaves");
  }
  limits.rows += rows;
  if (limits.rows > kMaxLsssRows)
    return Invalid("expands to more than " + std::to_string(kMaxLsssRows) + " LSSS rows");
  return {};
}

Result<void> ValidateNode(const PolicyNode& node, int depth, Limits& limits) {
  switch (node.kind) {
    case Kind::kAttribute: {
      auto canonical = CanonicalAttribute(node.attribute);
      if (!canonical) return Invalid("attribute leaf: " + canonical.error().message());
      if (*canonical != node.attribute) {
        return Invalid("attribute leaf is not in canonical form (it would be " + *canonical + ")");
      }
      return CountLeaf(limits, 1);
    }
    case Kind::kComparison: {
      auto name = internal::ParseSingleAttribute(node.attribute);
      if (!name) return Invalid("comparison: " + name.error().message());
      if (name->has_value)
        return Invalid("comparison on " + node.attribute + ": a numeric name has no ':value'");
      if (name->canonical != node.attribute) {
        return Invalid("comparison name is not in canonical form (it would be " + name->canonical + ")");
      }
      if (node.value > kMaxNumericValue) {
        return Invalid("comparison value " + std::to_string(node.value) + " is out of range 0 .. " +
                       std::to_string(kMaxNumericValue));
      }
      if (node.is_date && node.value > internal::kMaxDateDays) {
        return Invalid("comparison date is after 9999-12-31");
      }
      if (internal::ComparisonNeverTrue(node.op, node.value)) {
        return Invalid("the comparison '" + node.attribute + " " + std::string(internal::OpText(node.op)) +
                       " " + std::to_string(node.value) + "' is never true");
      }
      return CountLeaf(limits, internal::ComparisonRows(node.op, node.value));
    }
    case Kind::kThreshold:
      break;
  }
  if (depth + 1 > kMaxPolicyDepth) {
    return Invalid("gates nested deeper than " + std::to_string(kMaxPolicyDepth) + " levels");
  }
  const std::size_t n = node.children.size();
  if (n == 0) return Invalid("a gate without children");
  if (node.threshold < 1 || static_cast<std::size_t>(node.threshold) > n) {
    return Invalid("threshold " + std::to_string(node.threshold) + " of " + std::to_string(n) +
                   ": the count must be 1 .. " + std::to_string(n));
  }
  if (!internal::ThresholdFits(static_cast<std::uint64_t>(node.threshold), n)) {
    return Invalid("threshold " + std::to_string(node.threshold) + " of " + std::to_string(n) +
                   " is too large to compile (Vandermonde entries above 2^62)");
  }
  for (const auto& child : node.children) {
    if (!child) return Invalid("a gate with a null child");
    if (auto ok = ValidateNode(*child, depth + 1, limits); !ok) return ok;
  }
  return {};
}

std::unique_ptr<PolicyNode> Expand(const PolicyNode& node) {
  switch (node.kind) {
    case Kind::kAttribute:
      return MakeAttributeNode(node.attribute);
    case Kind::kComparison:
      return internal::ComparisonTree(node.attribute, node.op, node.value);
    case Kind::kThreshold:
      break;
  }
  std::vector<std::unique_ptr<PolicyNode>> children;
  children.reserve(node.children.size());
  for (const auto& child : node.children) children.push_back(Expand(*child));
  return MakeThresholdNode(node.threshold, std::move(children));
}

}  // namespace

Result<void> ValidatePolicy(const PolicyNode& policy) {
  Limits limits;
  return ValidateNode(policy, 0, limits);
}

Result<std::unique_ptr<PolicyNode>> ExpandComparisons(const PolicyNode& policy) {
  if (auto ok = ValidatePolicy(policy); !ok) return std::unexpected(ok.error());
  return Expand(policy);
}

std::set<std::string> AttributeSet::Expanded() const {
  std::set<std::string> out = attributes;
  for (const auto& [name, value] : numeric) {
    if (value > kMaxNumericValue) continue;
    for (int bit = 0; bit < kNumericBits; ++bit)
      out.insert(BitAttribute(name, bit, ((value >> bit) & 1) != 0));
  }
  return out;
}

bool Satisfies(const PolicyNode& policy, const AttributeSet& attributes) {
  switch (policy.kind) {
    case Kind::kAttribute:
      return attributes.attributes.contains(policy.attribute);
    case Kind::kComparison: {
      const auto it = attributes.numeric.find(policy.attribute);
      if (it == attributes.numeric.end() || it->second > kMaxNumericValue) return false;
      const std::uint64_t x = it->second, c = policy.value;
      switch (policy.op) {
        case Op::kLt:
          return x < c;
        case Op::kLe:
          return x <= c;
        case Op::kGt:
          return x > c;
        case Op::kGe:
          return x >= c;
        case Op::kEq:
          return x == c;
      }
      return false;
    }
    case Kind::kThreshold:
      break;
  }
  int satisfied = 0;
  for (const auto& child : policy.children) {
    if (satisfied >= policy.threshold) break;
    if (child && Satisfies(*child, attributes)) ++satisfied;
  }
  return satisfied >= policy.threshold;
}

}  // namespace cipherchart::abe
