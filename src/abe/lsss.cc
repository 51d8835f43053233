// Policy -> LSSS matrix, and reconstruction coefficients.
//
// Compilation (one row per leaf of the comparison-expanded policy, columns added per gate):
//   - the root carries the vector (1);
//   - OR (1-of-n): every child carries the gate's vector v;
//   - AND (n-of-n), Lewko-Waters, Eurocrypt 2011, Appendix G, as a chain of binary ANDs: with c
//     the current column count, child 1 gets v + e_c, child i (1 < i < n) gets
//     -e_{c+i-2} + e_{c+i-1}, child n gets -e_{c+n-2}; n - 1 new columns. The children's
//     vectors sum to v and no proper subset of them cancels the new columns, so the gate's
//     share is recovered exactly when all children are;
//   - k-of-n with 1 < k < n: Shamir sharing inside the LSSS (Liu-Cao-Wong, ePrint 2010/374,
//     the insertion of a threshold gate's Vandermonde block): child j gets
//     v + sum_{t=1}^{k-1} x_j^t e_{c+t-1} with distinct nonzero points x_j = 1, -1, 2, -2, ...;
//     k - 1 new columns. Any k children recover v (a k x k Vandermonde system); fewer cannot
//     (the polynomial prod (X - x_j) over the k - 1 given points kills their rows but not v's
//     constant term). The points alternate in sign to keep |entries| <= ceil(n/2)^(k-1).
// Every gate of n children adds at most n - 1 columns, so columns <= rows.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "cipherchart/abe/policy.h"
#include "src/abe/policy_internal.h"

namespace cipherchart::abe {
namespace {

using pairing::Fr;
using Kind = PolicyNode::Kind;

// A sparse vector, sorted by column.
template <class T>
using Sparse = std::vector<std::pair<std::size_t, T>>;

class Compiler {
 public:
  void Visit(const PolicyNode& node, const Sparse<std::int64_t>& v) {
    switch (node.kind) {
      case Kind::kAttribute:
        rows_.push_back(v);
        rho_.push_back(node.attribute);
        return;
      case Kind::kComparison: {
        const auto tree = internal::ComparisonTree(node.attribute, node.op, node.value);
        if (tree) Visit(*tree, v);  // never null for a validated policy
        return;
      }
      case Kind::kThreshold:
        VisitGate(node, v);
        return;
    }
  }

  LsssMatrix Finish() && {
    LsssMatrix m;
    m.columns = columns_;
    m.rows.reserve(rows_.size());
    for (const auto& sparse : rows_) {
      std::vector<std::int64_t> row(columns_, 0);
      for (const auto& [col, value] : sparse) row[col] = value;
      m.rows.push_back(std::move(row));
    }
    m.rho = std::move(rho_);
    return m;
  }

 private:
  void VisitGate(const PolicyNode& node, const Sparse<std::int64_t>& v) {
    const std::size_t n = node.children.size();
    const auto k = static_cast<std::size_t>(node.threshold);
    if (k == 1) {
      for (const auto& child : node.children) Visit(*child, v);
      return;
    }
    const std::size_t c = columns_;
    if (k == n) {
      columns_ += n - 1;
      for (std::size_t i = 0; i < n; ++i) {
        Sparse<std::int64_t> w;
        if (i == 0) {
          w = v;
        } else {
          w.emplace_back(c + i - 1, -1);
        }
        if (i + 1 < n) w.emplace_back(c + i, 1);
        Visit(*node.children[i], w);
      }
      return;
    }
    columns_ += k - 1;
    for (std::size_t j = 0; j < n; ++j) {
      Sparse<std::int64_t> w = v;
      const std::int64_t x = internal::VandermondePoint(j);
      std::int64_t power = 1;
      for (std::size_t t = 1; t < k; ++t) {
        power *= x;  // |power| <= kMaxLsssEntry: checked by ValidatePolicy (ThresholdFits)
        w.emplace_back(c + t - 1, power);
      }
      Visit(*node.children[j], w);
    }
  }

  std::vector<Sparse<std::int64_t>> rows_;
  std::vector<std::string> rho_;
  std::size_t columns_ = 1;
};

// out = a * x - b * y, dropping zeros (both inputs sorted by index).
Sparse<Fr> Combine(const Fr& a, const Sparse<Fr>& x, const Fr& b, const Sparse<Fr>& y) {
  Sparse<Fr> out;
  out.reserve(x.size() + y.size());
  std::size_t i = 0, j = 0;
  while (i < x.size() || j < y.size()) {
    std::size_t index = 0;
    Fr value;
    if (j == y.size() || (i < x.size() && x[i].first < y[j].first)) {
      index = x[i].first;
      value = a * x[i].second;
      ++i;
    } else if (i == x.size() || y[j].first < x[i].first) {
      index = y[j].first;
      value = -(b * y[j].second);
      ++j;
    } else {
      index = x[i].first;
      value = a * x[i].second - b * y[j].second;
      ++i;
      ++j;
    }
    if (!value.IsZero()) out.emplace_back(index, value);
  }
  return out;
}

struct WorkRow {
  Sparse<Fr> vector;       // the current row (a combination of matrix rows)
  Sparse<Fr> combination;  // matrix row index -> coefficient
};

}  // namespace

Result<LsssMatrix> CompileToLsss(const PolicyNode& policy) {
  if (auto ok = ValidatePolicy(policy); !ok) return std::unexpected(ok.error());
  Compiler compiler;
  compiler.Visit(policy, {{0, 1}});
  return std::move(compiler).Finish();
}

// Gaussian elimination over Fr on the usable rows, with the columns eliminated from the last
// to the second (column 0 is the target's): after column j is done, every remaining row is
// zero in columns >= j, so the rows still to be reduced at column j are exactly those whose
// last nonzero entry is in column j (kept in bucket j). A pivot (the sparsest such row) is
// subtracted from the others, fraction-free (r <- p_j r - r_j p), and set aside. At the end
// (1, 0, ..., 0) is in the row span iff some remaining row is a nonzero multiple of it: a
// combination of set-aside pivots cannot be, since the pivot with the largest column used
// leaves that column nonzero.
std::optional<Reconstruction> ReconstructionCoefficients(const LsssMatrix& m,
                                                         const std::set<std::string>& attributes) {
  // Only columns some row has matter (and `columns` of a hostile matrix may be huge).
  const std::size_t n = std::min(m.rows.size(), m.rho.size());
  std::size_t columns = 0;
  for (std::size_t i = 0; i < n; ++i) columns = std::max(columns, std::min(m.rows[i].size(), m.columns));
  if (columns == 0) return std::nullopt;
  std::vector<WorkRow> work;
  std::vector<std::vector<std::size_t>> buckets(columns);
  const Fr one = Fr::One();
  for (std::size_t i = 0; i < n; ++i) {
    if (!attributes.contains(m.rho[i])) continue;
    WorkRow row;
    const auto& dense = m.rows[i];
    for (std::size_t col = 0; col < std::min(dense.size(), columns); ++col) {
      if (dense[col] != 0) row.vector.emplace_back(col, internal::FrFromInt64(dense[col]));
    }
    if (row.vector.empty()) continue;
    row.combination.emplace_back(i, one);
    buckets[row.vector.back().first].push_back(work.size());
    work.push_back(std::move(row));
  }

  for (std::size_t j = columns; j-- > 1;) {
    std::vector<std::size_t> bucket = std::move(buckets[j]);
    buckets[j].clear();
    if (bucket.empty()) continue;
    std::size_t pivot = bucket[0];
    for (const std::size_t r : bucket) {
      const auto& a = work[r];
      const auto& b = work[pivot];
      if (a.vector.size() < b.vector.size() ||
          (a.vector.size() == b.vector.size() && a.combination.size() < b.combination.size())) {
        pivot = r;
      }
    }
    const WorkRow& p = work[pivot];
    const Fr pj = p.vector.back().second;
    for (const std::size_t r : bucket) {
      if (r == pivot) continue;
      WorkRow& row = work[r];
      const Fr rj = row.vector.back().second;
      row.vector = Combine(pj, row.vector, rj, p.vector);
      row.combination = Combine(pj, row.combination, rj, p.combination);
      if (!row.vector.empty()) buckets[row.vector.back().first].push_back(r);
    }
  }

  // Any remaining row (v, 0, ..., 0) with v != 0 gives the answer; take the one using fewest rows.
  const WorkRow* best = nullptr;
  for (const std::size_t r : buckets[0]) {
    if (best == nullptr || work[r].combination.size() < best->combination.size()) best = &work[r];
  }
  if (best == nullptr || best->combination.empty()) return std::nullopt;
  const Fr scale = best->vector.front().second.Inverse();
  Reconstruction out;
  out.rows.reserve(best->combination.size());
  out.coefficients.reserve(best->combination.size());
  for (const auto& [row, coefficient] : best->combination) {
    out.rows.push_back(row);
    out.coefficients.push_back(coefficient * scale);
  }
  return out;
}

}  // namespace cipherchart::abe
