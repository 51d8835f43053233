// Access policies: the language of docs/policy.md, its parser, and its compilation to a
// linear secret-sharing scheme (LSSS) for the ABE schemes.
//
// A policy such as
//   hospital_a.role:doctor AND (board.years_practice >= 5 OR 2 of (a.x, b.y, c.z))
// parses to an AST of attribute leaves, AND / OR / k-of-n gates and numeric comparisons.
// Numeric comparisons on integer attributes are compiled to "bag of bits" attributes
// (Bethencourt-Sahai-Waters 2007, section 4.3): an attribute value v of a key becomes one
// attribute per bit position ("name#3=1": bit 3 of v is 1; "name#3=0": it is 0), and a
// comparison becomes a small AND/OR tree over those bit attributes; dates are days since
// 1970-01-01. The width is kNumericBits.
//
// Compilation to an LSSS matrix follows Lewko-Waters, "Decentralizing Attribute-Based
// Encryption", Eurocrypt 2011, Appendix G, for AND/OR gates (entries in {-1, 0, 1}); a k-of-n
// gate with 1 < k < n inserts an n x (k-1) Vandermonde block (Shamir sharing inside the LSSS,
// as in Liu-Cao-Wong, "Efficient Generation of Linear Secret Sharing Scheme Matrices from
// Threshold Access Trees", ePrint 2010/374). One row per leaf; rows are labelled with
// attribute strings.
//
// Everything here works on public data (policies and attribute names): nothing is
// constant-time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "cipherchart/common/error.h"
#include "cipherchart/pairing/field.h"

namespace cipherchart::abe {

inline constexpr int kNumericBits = 32;  // numeric attribute values are 0 .. 2^32 - 1
inline constexpr std::uint64_t kMaxNumericValue = (std::uint64_t{1} << kNumericBits) - 1;

// Limits against abuse (docs/policy.md, "Limits"). A policy that ParsePolicy accepts is
// within all of them, so it always compiles.
inline constexpr std::size_t kMaxPolicyBytes = 64 * 1024;  // policy text and key syntax text
inline constexpr int kMaxPolicyDepth = 64;                 // gates on a root-to-leaf path; also '(' nesting
inline constexpr std::size_t kMaxPolicyLeaves = 1024;      // attribute and comparison leaves
inline constexpr std::size_t kMaxLsssRows = 4096;          // leaves after expanding comparisons to bits
// The largest |entry| of a threshold gate's Vandermonde block: ceil(n/2)^(k-1) must not exceed
// this, which bounds k for large n (e.g. at most 16 of 30, 11 of 100); see docs/policy.md.
inline constexpr std::int64_t kMaxLsssEntry = std::int64_t{1} << 62;

// The AST. Leaves are canonical attribute strings ("hospital_a.role:doctor") or comparisons.
struct PolicyNode {
  enum class Kind { kAttribute, kComparison, kThreshold };  // AND = n-of-n, OR = 1-of-n
  enum class Op { kLt, kLe, kGt, kGe, kEq };
  Kind kind = Kind::kAttribute;
  std::string attribute;    // kAttribute: the canonical attribute; kComparison: the canonical name
  Op op = Op::kEq;          // kComparison
  std::uint64_t value = 0;  // kComparison (dates as days since 1970-01-01)
  bool is_date = false;     // kComparison: the value was written (and is printed) as a date
  int threshold = 0;        // kThreshold: k
  std::vector<std::unique_ptr<PolicyNode>> children;  // kThreshold

  // Structural equality (the fields each kind uses; children in order).
  friend bool operator==(const PolicyNode& a, const PolicyNode& b);
};

// Node constructors (no validation: see ValidatePolicy).
std::unique_ptr<PolicyNode> MakeAttributeNode(std::string canonical_attribute);
std::unique_ptr<PolicyNode> MakeComparisonNode(std::string canonical_name, PolicyNode::Op op,
                                               std::uint64_t value, bool is_date = false);
std::unique_ptr<PolicyNode> MakeThresholdNode(int k, std::vector<std::unique_ptr<PolicyNode>> children);
std::unique_ptr<PolicyNode> ClonePolicy(const PolicyNode& node);

// Parses a policy. Errors (kInvalidArgument) carry the 1-based column (in characters) and
// what was expected:
// "policy: column 17: expected an attribute, '(' or a threshold 'k of (...)', found ')'".
Result<std::unique_ptr<PolicyNode>> ParsePolicy(std::string_view text);

// Whether a (possibly hand-built) AST is one ParsePolicy could return: canonical attribute
// strings and names, comparisons that can be true, 1 <= k <= n, and the limits above.
// CompileToLsss checks this first.
Result<void> ValidatePolicy(const PolicyNode& policy);

// The canonical text of a policy (normalised spacing and keywords, nested gates
// parenthesised, names quoted only where needed), which re-parses to an equal AST. This is the
// text bound into ciphertexts.
std::string PolicyToString(const PolicyNode& node);

// The canonical form of one attribute ("\"hospital a\".role:\"head nurse\"", "a.x") or of a
// numeric attribute's name: what PolicyNode::attribute and AttributeSet hold. Surrounding
// whitespace is ignored; errors are like ParsePolicy's ("attribute: column 3: ...").
Result<std::string> CanonicalAttribute(std::string_view text);

// The bit attribute for bit `bit` (0 = least significant) of the numeric attribute
// `canonical_name` having value `set`: "board.years_practice#5=1".
std::string BitAttribute(std::string_view canonical_name, int bit, bool set);

// A key's attribute set, from the key syntax "role:doctor, dept:cardiology, years_practice=12"
// (names may be namespaced: "hospital_a.role:doctor"; numeric values with '=', which may be
// dates: "board.licence_expiry=2027-03-31"). Numeric attributes expand to their bit attributes.
struct AttributeSet {
  std::set<std::string> attributes;              // plain attributes (canonical strings)
  std::map<std::string, std::uint64_t> numeric;  // canonical name -> value (<= kMaxNumericValue)
  // The attribute strings an ABE key is issued for: the plain ones plus, for each numeric
  // attribute, kNumericBits bit attributes (BitAttribute(name, b, bit b of value)). A numeric
  // value above kMaxNumericValue is invalid and contributes nothing (Satisfies ignores it too).
  std::set<std::string> Expanded() const;

  friend bool operator==(const AttributeSet&, const AttributeSet&) = default;
};
Result<AttributeSet> ParseAttributeSet(std::string_view text);
// The canonical key syntax: plain attributes, then numeric ones, each in sorted order,
// separated by ", ". Re-parses to an equal set (for valid sets).
std::string AttributeSetToString(const AttributeSet& set);

// Whether the attributes satisfy the policy (a direct evaluation of the AST: the independent
// reference the ABE property tests compare decryption against). A comparison is true when the
// set has the numeric attribute and its value compares as written; a leaf of an expanded
// policy (bit attribute) is looked up in `attributes` like any plain attribute.
bool Satisfies(const PolicyNode& policy, const AttributeSet& attributes);

// The policy with every comparison replaced by its bit-attribute subtree (BSW07 section 4.3),
// which is what CompileToLsss compiles. Its bit-attribute leaves are not policy syntax:
// PolicyToString of the result does not re-parse. Fails like ValidatePolicy.
Result<std::unique_ptr<PolicyNode>> ExpandComparisons(const PolicyNode& policy);

// An LSSS matrix: row i is labelled rho[i]; a set S of attributes can reconstruct iff the rows
// labelled by attributes in S span (1, 0, ..., 0). Entries are small integers (Lewko-Waters
// matrices have entries in {-1, 0, 1} for AND/OR; thresholds use a Vandermonde block with
// |entries| <= kMaxLsssEntry). An attribute may label several rows.
struct LsssMatrix {
  std::vector<std::vector<std::int64_t>> rows;  // n rows x columns
  std::vector<std::string> rho;                 // attribute label of each row
  std::size_t columns = 0;
};

// Compiles a policy (comparisons expanded to bit attributes) to an LSSS matrix: one row per
// leaf of the expanded policy, in left-to-right order; columns <= rows. Fails (kInvalidArgument)
// if ValidatePolicy does.
Result<LsssMatrix> CompileToLsss(const PolicyNode& policy);

// Rows used and their reconstruction coefficients mod r (sum_i c_i M_i = (1, 0, ..., 0)) for
// an attribute set, or nullopt if the set does not satisfy the matrix. Gaussian elimination
// over Fr on the rows whose labels are in the set (sparse, eliminating the last column first,
// which keeps fill-in small on tree-shaped matrices; public data: variable-time is fine).
// `rows` is increasing and every coefficient is nonzero.
struct Reconstruction {
  std::vector<std::size_t> rows;
  std::vector<pairing::Fr> coefficients;
};
std::optional<Reconstruction> ReconstructionCoefficients(const LsssMatrix& m,
                                                         const std::set<std::string>& attributes);

}  // namespace cipherchart::abe
