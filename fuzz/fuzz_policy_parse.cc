// libFuzzer target: the policy language (ParsePolicy, PolicyToString, CompileToLsss,
// ReconstructionCoefficients) and the key syntax (ParseAttributeSet), on arbitrary text.
//
// Checks (any failure aborts):
//   - parse errors are kInvalidArgument messages starting "policy: ";
//   - an accepted policy validates, its canonical text re-parses to an equal AST whose canonical
//     text is the same, and it compiles: one row per leaf of the comparison-expanded policy,
//     columns <= rows, every row `columns` wide;
//   - with every row label the policy is satisfied and the coefficients combine the rows to
//     (1, 0, ..., 0) mod r; with no label it is not; with a pseudo-random half of the labels,
//     reconstruction exists exactly when the expanded policy is satisfied by them;
//   - an accepted attribute set prints to key syntax that re-parses to the same set.
#include <cstddef>
#include <cstdint>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cipherchart/abe/policy.h"
#include "fuzz_check.h"

namespace {

using namespace cipherchart::abe;
using cipherchart::ErrorCode;
using cipherchart::pairing::Fr;
using Bytes = std::span<const std::uint8_t>;

std::size_t CountLeaves(const PolicyNode& n) {
  if (n.kind != PolicyNode::Kind::kThreshold) return 1;
  std::size_t total = 0;
  for (const auto& c : n.children) total += CountLeaves(*c);
  return total;
}

bool SumIsTarget(const LsssMatrix& m, const Reconstruction& rec) {
  if (rec.rows.size() != rec.coefficients.size()) return false;
  std::vector<Fr> sum(m.columns, Fr::Zero());
  for (std::size_t n = 0; n < rec.rows.size(); ++n) {
    if (rec.rows[n] >= m.rows.size()) return false;
    for (std::size_t j = 0; j < m.columns; ++j) {
      const std::int64_t e = m.rows[rec.rows[n]][j];
      const Fr entry = e >= 0 ? Fr::FromU64(static_cast<std::uint64_t>(e))
                              : -Fr::FromU64(std::uint64_t{0} - static_cast<std::uint64_t>(e));
      sum[j] += rec.coefficients[n] * entry;
    }
  }
  if (m.columns == 0 || !sum[0].IsOne()) return false;
  for (std::size_t j = 1; j < m.columns; ++j) {
    if (!sum[j].IsZero()) return false;
  }
  return true;
}

// FNV-1a: a fixed pseudo-random choice of labels.
bool Pick(const std::string& label, std::uint64_t salt) {
  std::uint64_t h = 1469598103934665603u ^ salt;
  for (const char c : label) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211u;
  return ((h >> 29) & 1) != 0;
}

void CheckAttributeSet(std::string_view text, Bytes input) {
  auto set = ParseAttributeSet(text);
  if (!set) {
    FUZZ_CHECK(set.error().code() == ErrorCode::kInvalidArgument, input);
    return;
  }
  auto again = ParseAttributeSet(AttributeSetToString(*set));
  FUZZ_CHECK(again.has_value(), input);
  FUZZ_CHECK(*again == *set, input);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Bytes input(data, size);
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  CheckAttributeSet(text, input);

  auto policy = ParsePolicy(text);
  if (!policy) {
    FUZZ_CHECK(policy.error().code() == ErrorCode::kInvalidArgument, input);
    FUZZ_CHECK(policy.error().message().starts_with("policy: "), input);
    return 0;
  }
  FUZZ_CHECK(ValidatePolicy(**policy).has_value(), input);

  const std::string canonical = PolicyToString(**policy);
  auto reparsed = ParsePolicy(canonical);
  FUZZ_CHECK(reparsed.has_value(), input);
  FUZZ_CHECK(**reparsed == **policy, input);
  FUZZ_CHECK(PolicyToString(**reparsed) == canonical, input);

  auto matrix = CompileToLsss(**policy);
  FUZZ_CHECK(matrix.has_value(), input);
  auto expanded = ExpandComparisons(**policy);
  FUZZ_CHECK(expanded.has_value(), input);
  const LsssMatrix& m = *matrix;
  FUZZ_CHECK(m.rows.size() == CountLeaves(**expanded), input);
  FUZZ_CHECK(m.rows.size() <= kMaxLsssRows, input);
  FUZZ_CHECK(m.rho.size() == m.rows.size(), input);
  FUZZ_CHECK(m.columns >= 1 && m.columns <= m.rows.size(), input);
  for (const auto& row : m.rows) FUZZ_CHECK(row.size() == m.columns, input);

  // Reconstruction is quadratic-ish in the worst case: keep the fuzzer fast on huge policies.
  if (m.rows.size() > 1024) return 0;
  const std::set<std::string> all(m.rho.begin(), m.rho.end());
  const auto full = ReconstructionCoefficients(m, all);
  FUZZ_CHECK(full.has_value(), input);
  FUZZ_CHECK(SumIsTarget(m, *full), input);
  FUZZ_CHECK(!ReconstructionCoefficients(m, {}).has_value(), input);
  for (std::uint64_t salt = 0; salt < 2; ++salt) {
    AttributeSet some;
    for (const auto& label : all) {
      if (Pick(label, salt)) some.attributes.insert(label);
    }
    const auto rec = ReconstructionCoefficients(m, some.attributes);
    FUZZ_CHECK(rec.has_value() == Satisfies(**expanded, some), input);
    if (rec) FUZZ_CHECK(SumIsTarget(m, *rec), input);
  }
  return 0;
}
