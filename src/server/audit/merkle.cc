// The audit log's Merkle tree (RFC 9162 section 2.1), signed tree heads and the stored-log
// check: see merkle.h and docs/formats.md.
#include "cipherchart/server/merkle.h"

#include <openssl/err.h>
#include <openssl/evp.h>

#include <algorithm>
#include <bit>
#include <initializer_list>
#include <limits>
#include <memory>
#include <numeric>
#include <string>
#include <utility>

#include "cipherchart/common/bytes.h"
#include "cipherchart/server/audit_entry.h"

namespace cipherchart::server {
namespace {

constexpr std::uint8_t kLeafPrefix = 0x00;
constexpr std::uint8_t kNodePrefix = 0x01;
constexpr std::uint64_t kMaxStoredSize = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());

struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

// SHA-256, fetched from the default provider once per process: EVP_MD_fetch takes a lock and
// searches the provider tables, which would dominate a hash of a few dozen bytes. Null only if
// the provider lacks the algorithm.
const EVP_MD* Sha256() {
  static const EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

// SHA-256 of the concatenation of `parts`. The context is this thread's, reused: a tree of n
// leaves takes about 2n hashes, and allocating an EVP_MD_CTX for each would dominate them.
// (envelope::Sha256Hasher allocates one per hash, hence this fast path over OpenSSL directly.)
Result<Hash> Sha256Parts(std::initializer_list<std::span<const std::uint8_t>> parts) {
  thread_local const std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  const EVP_MD* md = Sha256();
  bool ok = ctx && md != nullptr && EVP_DigestInit_ex(ctx.get(), md, nullptr) == 1;
  for (const auto part : parts) {
    ok = ok && (part.empty() || EVP_DigestUpdate(ctx.get(), part.data(), part.size()) == 1);
  }
  Hash out{};
  unsigned int len = 0;
  ok = ok && EVP_DigestFinal_ex(ctx.get(), out.data(), &len) == 1 && len == out.size();
  if (!ok) {
    ERR_clear_error();  // the failure is reported here; it must not confuse a later caller
    return Fail(ErrorCode::kInternal, "Merkle tree: SHA-256 failed in OpenSSL");
  }
  return out;
}

// The largest power of two strictly below n (n >= 2): RFC 9162's split point k, k < n <= 2k.
std::uint64_t SplitPoint(std::uint64_t n) { return std::bit_floor(n - 1); }

std::string Str(std::uint64_t v) { return std::to_string(v); }

}  // namespace

// ---- hashing (RFC 9162 section 2.1.1) ------------------------------------------------------

Result<Hash> LeafHash(std::span<const std::uint8_t> entry) {
  const std::uint8_t prefix = kLeafPrefix;
  return Sha256Parts({std::span(&prefix, 1), entry});
}

Result<Hash> NodeHash(const Hash& left, const Hash& right) {
  const std::uint8_t prefix = kNodePrefix;
  return Sha256Parts({std::span(&prefix, 1), left, right});
}

Result<Hash> EmptyTreeHash() { return Sha256Parts({}); }

// ---- MerkleTree ----------------------------------------------------------------------------

Result<void> MerkleTree::Append(const Hash& leaf_hash) {
  // The new complete subtrees, computed before anything is stored so that a failure leaves the
  // tree as it was. Leaf n (0-based) completes one subtree per trailing 1 bit of n: level
  // k + 1 gains a node when level k's new length is even.
  const std::uint64_t n = size();
  std::vector<Hash> parents;
  Hash carry = leaf_hash;
  for (std::size_t level = 0; ((n >> level) & 1) != 0; ++level) {
    auto parent = NodeHash(levels_[level].back(), carry);
    if (!parent) return std::unexpected(parent.error());
    carry = *parent;
    parents.push_back(carry);
  }
  if (levels_.empty()) levels_.emplace_back();
  levels_[0].push_back(leaf_hash);
  for (std::size_t i = 0; i < parents.size(); ++i) {
    if (levels_.size() == i + 1) levels_.emplace_back();
    levels_[i + 1].push_back(parents[i]);
  }
  return {};
}

Result<Hash> MerkleTree::RangeHash(std::uint64_t begin, std::uint64_t end) const {
  const std::uint64_t count = end - begin;
  if (std::has_single_bit(count)) {
    // A complete subtree; `begin` is a multiple of `count` (merkle.h).
    const int level = std::countr_zero(count);
    return levels_[level][begin >> level];
  }
  // RFC 9162 section 2.1.1: MTH(D[n]) = HASH(0x01 || MTH(D[0:k]) || MTH(D[k:n])); the left
  // half is complete and stored.
  const std::uint64_t k = SplitPoint(count);
  const int level = std::countr_zero(k);
  auto right = RangeHash(begin + k, end);
  if (!right) return right;
  return NodeHash(levels_[level][begin >> level], *right);
}

Result<Hash> MerkleTree::RootAt(std::uint64_t n) const {
  if (n > size()) {
    return Fail(ErrorCode::kInvalidArgument,
                "Merkle tree: no root at tree size " + Str(n) + ": the tree has " + Str(size()) + " leaves");
  }
  if (n == 0) return EmptyTreeHash();
  return RangeHash(0, n);
}

// RFC 9162 section 2.1.3.1, over D[begin:end] with an absolute leaf index:
//   PATH(m, D[n]) = PATH(m, D[0:k]) : MTH(D[k:n])      for m < k
//   PATH(m, D[n]) = PATH(m - k, D[k:n]) : MTH(D[0:k])  for m >= k
// and PATH(0, {d(0)}) = {}.
Result<void> MerkleTree::Path(std::uint64_t index, std::uint64_t begin, std::uint64_t end,
                              std::vector<Hash>& out) const {
  if (end - begin == 1) return {};
  const std::uint64_t split = begin + SplitPoint(end - begin);
  const bool left = index < split;
  if (auto ok = left ? Path(index, begin, split, out) : Path(index, split, end, out); !ok) return ok;
  auto sibling = left ? RangeHash(split, end) : RangeHash(begin, split);
  if (!sibling) return std::unexpected(sibling.error());
  out.push_back(*sibling);
  return {};
}

Result<std::vector<Hash>> MerkleTree::InclusionProof(std::uint64_t index, std::uint64_t tree_size) const {
  if (tree_size > size()) {
    return Fail(ErrorCode::kInvalidArgument, "Merkle tree: no inclusion proof at tree size " +
                                                 Str(tree_size) + ": the tree has " + Str(size()) +
                                                 " leaves");
  }
  if (index >= tree_size) {
    return Fail(ErrorCode::kInvalidArgument, "Merkle tree: no inclusion proof for leaf index " + Str(index) +
                                                 ": it is not below the tree size " + Str(tree_size));
  }
  std::vector<Hash> proof;
  if (auto ok = Path(index, 0, tree_size, proof); !ok) return std::unexpected(ok.error());
  return proof;
}

// RFC 9162 section 2.1.4.1, over D[begin:end] with an absolute first size m (begin < m <= end):
//   SUBPROOF(m, D[m], true) = {}
//   SUBPROOF(m, D[m], false) = {MTH(D[m])}
//   SUBPROOF(m, D[n], b) = SUBPROOF(m, D[0:k], b) : MTH(D[k:n])          for m <= k
//   SUBPROOF(m, D[n], b) = SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])  for m > k
Result<void> MerkleTree::SubProof(std::uint64_t m, std::uint64_t begin, std::uint64_t end, bool complete,
                                  std::vector<Hash>& out) const {
  if (m == end) {
    if (complete) return {};
    auto hash = RangeHash(begin, end);
    if (!hash) return std::unexpected(hash.error());
    out.push_back(*hash);
    return {};
  }
  const std::uint64_t split = begin + SplitPoint(end - begin);
  const bool left = m <= split;
  if (auto ok = left ? SubProof(m, begin, split, complete, out) : SubProof(m, split, end, false, out); !ok) {
    return ok;
  }
  auto sibling = left ? RangeHash(split, end) : RangeHash(begin, split);
  if (!sibling) return std::unexpected(sibling.error());
  out.push_back(*sibling);
  return {};
}

Result<Hash> MerkleTree::LeafAt(std::uint64_t index) const {
  if (index >= size())
    return Fail(ErrorCode::kInvalidArgument,
                "leaf " + std::to_string(index) + " is past the end of a tree of " + std::to_string(size()));
  return levels_[0][index];
}

Result<std::vector<Hash>> MerkleTree::ConsistencyProof(std::uint64_t m, std::uint64_t n) const {
  if (n > size()) {
    return Fail(ErrorCode::kInvalidArgument, "Merkle tree: no consistency proof to tree size " + Str(n) +
                                                 ": the tree has " + Str(size()) + " leaves");
  }
  if (m > n) {
    return Fail(ErrorCode::kInvalidArgument, "Merkle tree: no consistency proof from tree size " + Str(m) +
                                                 " to the smaller tree size " + Str(n));
  }
  std::vector<Hash> proof;
  if (m == 0 || m == n) return proof;
  // PROOF(m, D[n]) = SUBPROOF(m, D[n], true).
  if (auto ok = SubProof(m, 0, n, true, proof); !ok) return std::unexpected(ok.error());
  return proof;
}

// ---- verification (RFC 9162 sections 2.1.3.2 and 2.1.4.2) ----------------------------------

Result<void> VerifyInclusion(const Hash& leaf_hash, std::uint64_t index, std::uint64_t tree_size,
                             std::span<const Hash> proof, const Hash& root) {
  const std::string what = "inclusion proof for leaf " + Str(index) + " in tree size " + Str(tree_size);
  // Step 1.
  if (index >= tree_size) {
    return Fail(ErrorCode::kInvalidArgument, what + ": the leaf index is not below the tree size");
  }
  // Steps 2 and 3.
  std::uint64_t fn = index;
  std::uint64_t sn = tree_size - 1;
  Hash r = leaf_hash;
  // Step 4.
  for (const Hash& p : proof) {
    // 4a.
    if (sn == 0)
      return Fail(ErrorCode::kIntegrity, what + ": the proof is too long (" + Str(proof.size()) + " hashes)");
    // 4b.
    if ((fn & 1) != 0 || fn == sn) {
      auto h = NodeHash(p, r);
      if (!h) return std::unexpected(h.error());
      r = *h;
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      auto h = NodeHash(r, p);
      if (!h) return std::unexpected(h.error());
      r = *h;
    }
    // 4c.
    fn >>= 1;
    sn >>= 1;
  }
  // Step 5.
  if (sn != 0)
    return Fail(ErrorCode::kIntegrity, what + ": the proof is too short (" + Str(proof.size()) + " hashes)");
  if (r != root) return Fail(ErrorCode::kIntegrity, what + ": the proof does not lead to the root");
  return {};
}

Result<void> VerifyConsistency(std::uint64_t m, std::uint64_t n, const Hash& root_m, const Hash& root_n,
                               std::span<const Hash> proof) {
  const std::string what = "consistency proof from tree size " + Str(m) + " to " + Str(n);
  if (m > n) return Fail(ErrorCode::kInvalidArgument, what + ": the first size is above the second");
  if (m == n || m == 0) {
    if (!proof.empty()) {
      return Fail(ErrorCode::kIntegrity,
                  what + ": the proof must be empty, it has " + Str(proof.size()) + " hashes");
    }
    if (m == n) {
      if (root_m != root_n) return Fail(ErrorCode::kIntegrity, what + ": equal sizes with different roots");
      return {};
    }
    auto empty = EmptyTreeHash();
    if (!empty) return std::unexpected(empty.error());
    if (root_m != *empty)
      return Fail(ErrorCode::kIntegrity, what + ": the first root is not the empty tree's");
    return {};
  }
  // 0 < m < n from here. Step 1.
  if (proof.empty()) return Fail(ErrorCode::kIntegrity, what + ": the proof is empty");
  // Step 2: for a complete first tree, its root is the proof's implicit first element.
  std::vector<Hash> path;
  path.reserve(proof.size() + 1);
  if (std::has_single_bit(m)) path.push_back(root_m);
  path.insert(path.end(), proof.begin(), proof.end());
  // Step 3.
  std::uint64_t fn = m - 1;
  std::uint64_t sn = n - 1;
  // Step 4.
  while ((fn & 1) != 0) {
    fn >>= 1;
    sn >>= 1;
  }
  // Step 5.
  Hash fr = path[0];
  Hash sr = path[0];
  // Step 6.
  for (std::size_t i = 1; i < path.size(); ++i) {
    const Hash& c = path[i];
    // 6a.
    if (sn == 0)
      return Fail(ErrorCode::kIntegrity, what + ": the proof is too long (" + Str(proof.size()) + " hashes)");
    // 6b.
    if ((fn & 1) != 0 || fn == sn) {
      auto f = NodeHash(c, fr);
      if (!f) return std::unexpected(f.error());
      auto s = NodeHash(c, sr);
      if (!s) return std::unexpected(s.error());
      fr = *f;
      sr = *s;
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      auto s = NodeHash(sr, c);
      if (!s) return std::unexpected(s.error());
      sr = *s;
    }
    // 6c.
    fn >>= 1;
    sn >>= 1;
  }
  // Step 7.
  if (sn != 0)
    return Fail(ErrorCode::kIntegrity, what + ": the proof is too short (" + Str(proof.size()) + " hashes)");
  if (fr != root_m) return Fail(ErrorCode::kIntegrity, what + ": the proof does not lead to the first root");
  if (sr != root_n) return Fail(ErrorCode::kIntegrity, what + ": the proof does not lead to the second root");
  return {};
}

// ---- signed tree heads ---------------------------------------------------------------------

std::vector<std::uint8_t> TreeHeadMessage(std::uint64_t tree_size, std::int64_t timestamp_ms,
                                          const Hash& root) {
  std::vector<std::uint8_t> out(kTreeHeadLabel.begin(), kTreeHeadLabel.end());
  PutU64(out, tree_size);
  PutU64(out, static_cast<std::uint64_t>(timestamp_ms));
  PutBytes(out, root);
  return out;
}

namespace {

Result<void> CheckHeadDomain(std::string_view what, std::uint64_t tree_size, std::int64_t timestamp_ms) {
  if (tree_size > kMaxStoredSize) {
    return Fail(ErrorCode::kInvalidArgument, std::string(what) + ": tree size " + Str(tree_size) +
                                                 " is above the largest storable size 2^63 - 1");
  }
  if (timestamp_ms < 0) {
    return Fail(ErrorCode::kInvalidArgument,
                std::string(what) + ": timestamp " + std::to_string(timestamp_ms) + " is negative");
  }
  return {};
}

}  // namespace

Result<SignedTreeHead> SignTreeHead(const envelope::Ed25519SigningKey& key, std::uint64_t tree_size,
                                    std::int64_t timestamp_ms, const Hash& root) {
  if (auto ok = CheckHeadDomain("signing a tree head", tree_size, timestamp_ms); !ok)
    return std::unexpected(ok.error());
  auto signature = key.Sign(TreeHeadMessage(tree_size, timestamp_ms, root));
  if (!signature) return std::unexpected(signature.error());
  return SignedTreeHead{tree_size, timestamp_ms, root, *signature};
}

Result<void> VerifyTreeHead(const envelope::Ed25519PublicKey& public_key, const SignedTreeHead& head) {
  if (auto ok = CheckHeadDomain("tree head", head.tree_size, head.timestamp_ms); !ok) return ok;
  auto ok = envelope::Ed25519Verify(public_key, TreeHeadMessage(head.tree_size, head.timestamp_ms, head.root),
                                    head.signature);
  if (!ok) {
    return Fail(ok.error().code(), "tree head for size " + Str(head.tree_size) + ": " + ok.error().message());
  }
  return {};
}

Result<TreeHeadRow> ToTreeHeadRow(const SignedTreeHead& head) {
  if (auto ok = CheckHeadDomain("tree head row", head.tree_size, head.timestamp_ms); !ok) {
    return std::unexpected(ok.error());
  }
  return TreeHeadRow{static_cast<std::int64_t>(head.tree_size), head.timestamp_ms, head.root, head.signature};
}

Result<SignedTreeHead> FromTreeHeadRow(const TreeHeadRow& row) {
  if (row.tree_size < 0) {
    return Fail(ErrorCode::kInvalidArgument,
                "tree head row: tree size " + std::to_string(row.tree_size) + " is negative");
  }
  if (row.timestamp < 0) {
    return Fail(ErrorCode::kInvalidArgument,
                "tree head row: timestamp " + std::to_string(row.timestamp) + " is negative");
  }
  return SignedTreeHead{static_cast<std::uint64_t>(row.tree_size), row.timestamp, row.root, row.signature};
}

// ---- whole-log verification ----------------------------------------------------------------

namespace {

// The first row whose seq is not its position, described.
Result<void> CheckSequence(const std::vector<AuditRow>& rows) {
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const std::int64_t seq = rows[i].seq;
    const auto expected = static_cast<std::int64_t>(i);
    if (seq == expected) continue;
    const std::string at = "audit log: position " + Str(i) + " holds seq " + std::to_string(seq);
    if (seq < expected) {
      return Fail(ErrorCode::kIntegrity, at + " (expected seq " + Str(i) + "): seq " + std::to_string(seq) +
                                             (seq < 0 ? " is negative" : " is repeated or out of order"));
    }
    auto later = std::find_if(rows.begin() + static_cast<std::ptrdiff_t>(i) + 1, rows.end(),
                              [expected](const AuditRow& row) { return row.seq == expected; });
    if (later != rows.end()) {
      return Fail(ErrorCode::kIntegrity, at + ": rows out of order, seq " + Str(i) +
                                             " comes later, at position " +
                                             Str(static_cast<std::uint64_t>(later - rows.begin())));
    }
    return Fail(ErrorCode::kIntegrity, at + ": seq " + Str(i) + " is missing");
  }
  return {};
}

}  // namespace

Result<StoredLogSummary> CheckStoredLog(const std::vector<AuditRow>& rows,
                                        const std::vector<TreeHeadRow>& heads,
                                        const envelope::Ed25519PublicKey& server_key) {
  if (auto ok = CheckSequence(rows); !ok) return std::unexpected(ok.error());

  // Each entry must be canonical and its patient_id column must repeat its patient field;
  // the leaf hashes are of the stored bytes (RFC 9162 section 2.1.1).
  MerkleTree tree;
  for (const AuditRow& row : rows) {
    const std::string at = "audit log: seq " + std::to_string(row.seq);
    auto entry = DecodeAuditEntry(row.entry);
    if (!entry) {
      return Fail(ErrorCode::kIntegrity,
                  at + ": the entry is not a canonical audit entry (" + entry.error().message() + ")");
    }
    if (entry->patient_id != row.patient_id) {
      return Fail(ErrorCode::kIntegrity,
                  at + ": the patient_id column differs from the entry's patient field");
    }
    auto leaf = LeafHash(row.entry);
    if (!leaf) return std::unexpected(leaf.error());
    if (auto ok = tree.Append(*leaf); !ok) return std::unexpected(ok.error());
  }
  const std::uint64_t n = tree.size();

  // Heads in increasing size (the store returns them so; the order does not matter for the
  // checks, only for naming the range a change is in).
  std::vector<std::size_t> order(heads.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  // std::sort with the index as tie-break is stable; std::stable_sort would pull in libstdc++'s
  // deprecated get_temporary_buffer, which clang-tidy reports as an error under -Werror.
  std::sort(order.begin(), order.end(), [&heads](std::size_t a, std::size_t b) {
    return heads[a].tree_size < heads[b].tree_size || (heads[a].tree_size == heads[b].tree_size && a < b);
  });
  std::uint64_t matched = 0;  // the largest size whose head matched so far
  for (const std::size_t i : order) {
    const TreeHeadRow& row = heads[i];
    const std::string at = "audit log: tree head for size " + std::to_string(row.tree_size);
    auto head = FromTreeHeadRow(row);
    if (!head) return Fail(ErrorCode::kIntegrity, at + ": " + head.error().message());
    if (auto ok = VerifyTreeHead(server_key, *head); !ok) {
      return Fail(ErrorCode::kIntegrity, at + ": the signature does not verify under the server key");
    }
    if (head->tree_size > n) {
      return Fail(ErrorCode::kIntegrity, at + " exceeds the " + Str(n) + " stored entries: seq " + Str(n) +
                                             " to " + Str(head->tree_size - 1) + " were removed");
    }
    auto root = tree.RootAt(head->tree_size);
    if (!root) return std::unexpected(root.error());
    if (*root != head->root && head->tree_size == 0) {
      return Fail(ErrorCode::kIntegrity, at + ": the signed root is not the empty tree's");
    }
    if (*root != head->root) {
      return Fail(ErrorCode::kIntegrity,
                  at + ": the signed root differs from the root of the stored entries; seq " + Str(matched) +
                      " to " + Str(head->tree_size - 1) + " were modified, inserted, removed or reordered");
    }
    matched = head->tree_size;
  }
  StoredLogSummary summary;
  summary.entries = n;
  summary.tree_heads = heads.size();
  summary.signed_size = matched;
  summary.unsigned_tail = n - matched;
  return summary;
}

Result<void> VerifyStoredLog(const std::vector<AuditRow>& rows, const std::vector<TreeHeadRow>& heads,
                             const envelope::Ed25519PublicKey& server_key) {
  auto summary = CheckStoredLog(rows, heads, server_key);
  if (!summary) return std::unexpected(summary.error());
  return {};
}

}  // namespace cipherchart::server
