// The storage server's audit log as an append-only Merkle tree with the hashing of RFC 9162
// (Certificate Transparency v2), section 2.1: inclusion and consistency proofs, their
// verification, Ed25519-signed tree heads, and the check of a whole stored log (store.h's
// AuditRow / TreeHeadRow) for tampering. Formats: docs/formats.md, "Audit log entries and
// signed tree heads".
//
// Errors: kInvalidArgument for arguments outside the domain (an index or tree size the tree
// does not have, a first size above the second); kIntegrity when a proof, a signature or a
// stored log does not verify; kInternal only if OpenSSL fails.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "cipherchart/common/error.h"
#include "cipherchart/envelope/signature.h"
#include "cipherchart/server/store.h"

namespace cipherchart::server {

inline constexpr std::size_t kMerkleHashSize = 32;
using Hash = std::array<std::uint8_t, kMerkleHashSize>;

// RFC 9162 section 2.1.1: the hash of a leaf is SHA-256(0x00 || entry), of an interior node
// SHA-256(0x01 || left || right). The prefixes keep leaves and nodes apart (no second
// preimage from presenting a node as a leaf).
Result<Hash> LeafHash(std::span<const std::uint8_t> entry);
Result<Hash> NodeHash(const Hash& left, const Hash& right);
// MTH({}) of section 2.1.1: SHA-256 of the empty string.
Result<Hash> EmptyTreeHash();

// An append-only Merkle tree over leaf hashes, in memory.
//
// Representation: `levels_[k]` holds, in order, the hash of every *complete* subtree of 2^k
// leaves that starts at a multiple of 2^k, i.e. levels_[k][i] = MTH(D[i*2^k : (i+1)*2^k]).
// levels_[0] is the leaf hashes, and levels_[k].size() == size() >> k. These are exactly the
// left subtrees of RFC 9162's recursive split (k = the largest power of two below n), so
// every tree hash the RFC asks for is either stored or combines stored ones:
//   - Append adds one leaf hash and, while the level it extends has an even length, the hash
//     of the new complete parent: amortised one NodeHash per leaf (2n - popcount(n) nodes in
//     all, about 64 bytes of memory per leaf).
//   - MTH(D[0:n]) for any n <= size() (Root, RootAt) combines the complete subtrees of n's
//     binary expansion from the right: popcount(n) - 1 hashes.
//   - A proof (PATH, PROOF) descends the RFC recursion once; every sibling except at most one
//     incomplete right subtree is a stored hash, so a proof costs O(log n) hashes.
class MerkleTree {
 public:
  MerkleTree() = default;

  // Appends a leaf (its LeafHash). Fails only if OpenSSL does; the tree is unchanged then.
  Result<void> Append(const Hash& leaf_hash);
  std::uint64_t size() const { return levels_.empty() ? 0 : levels_[0].size(); }

  // MTH of all leaves; for the empty tree SHA-256 of the empty string.
  Result<Hash> Root() const { return RootAt(size()); }
  // MTH(D[0:n]); kInvalidArgument if n > size().
  Result<Hash> RootAt(std::uint64_t n) const;
  // RFC 9162 section 2.1.3.1: PATH(index, D[0:tree_size]), leaf-side first. kInvalidArgument
  // unless index < tree_size <= size().
  Result<std::vector<Hash>> InclusionProof(std::uint64_t index, std::uint64_t tree_size) const;
  // RFC 9162 section 2.1.4.1: PROOF(m, D[0:n]). kInvalidArgument unless m <= n <= size().
  // The proof is empty for m == n (SUBPROOF(m, D[m], true) = {}) and for m == 0 (the empty
  // tree is a prefix of every tree; the RFC defines no proof for it, see VerifyConsistency).
  Result<std::vector<Hash>> ConsistencyProof(std::uint64_t m, std::uint64_t n) const;
  // The leaf hash at `index` (kInvalidArgument past the end).
  Result<Hash> LeafAt(std::uint64_t index) const;

 private:
  // MTH(D[begin:end]) for a range of the RFC recursion: begin is a multiple of the largest
  // power of two below end - begin (always the case below), 0 < end - begin.
  Result<Hash> RangeHash(std::uint64_t begin, std::uint64_t end) const;
  Result<void> Path(std::uint64_t index, std::uint64_t begin, std::uint64_t end,
                    std::vector<Hash>& out) const;
  Result<void> SubProof(std::uint64_t m, std::uint64_t begin, std::uint64_t end, bool complete,
                        std::vector<Hash>& out) const;

  std::vector<std::vector<Hash>> levels_;
};

// RFC 9162 section 2.1.3.2, step by step. Succeeds if `proof` proves that `leaf_hash` is leaf
// `index` of the tree of `tree_size` leaves whose root is `root`. kInvalidArgument if
// index >= tree_size; kIntegrity for a proof that does not verify (wrong length, wrong hash).
Result<void> VerifyInclusion(const Hash& leaf_hash, std::uint64_t index, std::uint64_t tree_size,
                             std::span<const Hash> proof, const Hash& root);

// RFC 9162 section 2.1.4.2, step by step, for 0 < m < n. The edge cases: m == n needs an empty
// proof and root_m == root_n (SUBPROOF(m, D[m], true) = {}, section 2.1.4.1); m == 0 needs an
// empty proof and root_m == MTH({}) (every tree extends the empty one; the RFC's algorithm
// assumes 0 < first). kInvalidArgument if m > n; kIntegrity for a proof that does not verify.
Result<void> VerifyConsistency(std::uint64_t m, std::uint64_t n, const Hash& root_m, const Hash& root_n,
                               std::span<const Hash> proof);

// ---- signed tree heads ---------------------------------------------------------------------

struct SignedTreeHead {
  std::uint64_t tree_size = 0;
  std::int64_t timestamp_ms = 0;  // unix milliseconds, >= 0
  Hash root{};
  envelope::Ed25519Signature signature{};

  bool operator==(const SignedTreeHead&) const = default;
};

inline constexpr std::string_view kTreeHeadLabel = "CIPHERCHART-AUDIT-STH-V1";
inline constexpr std::size_t kTreeHeadMessageSize = 24 + 8 + 8 + kMerkleHashSize;

// The signed message, 72 bytes: "CIPHERCHART-AUDIT-STH-V1" (24 ASCII bytes) || u64 tree_size ||
// u64 timestamp_ms || 32-byte root, integers big-endian. Fixed length, so no two
// (size, timestamp, root) triples share a message.
std::vector<std::uint8_t> TreeHeadMessage(std::uint64_t tree_size, std::int64_t timestamp_ms,
                                          const Hash& root);

// kInvalidArgument if timestamp_ms < 0 or tree_size > INT64_MAX (the store's column types).
Result<SignedTreeHead> SignTreeHead(const envelope::Ed25519SigningKey& key, std::uint64_t tree_size,
                                    std::int64_t timestamp_ms, const Hash& root);
// kIntegrity if the signature is not `public_key`'s on TreeHeadMessage(head); kInvalidArgument
// for a negative timestamp or a size above INT64_MAX (no valid head has one).
Result<void> VerifyTreeHead(const envelope::Ed25519PublicKey& public_key, const SignedTreeHead& head);

// Conversions to and from the stored row; kInvalidArgument for a size or timestamp outside
// the other type's domain (negative, or a size above INT64_MAX).
Result<TreeHeadRow> ToTreeHeadRow(const SignedTreeHead& head);
Result<SignedTreeHead> FromTreeHeadRow(const TreeHeadRow& row);

// ---- whole-log verification ----------------------------------------------------------------

struct StoredLogSummary {
  std::uint64_t entries = 0;        // rows checked
  std::uint64_t tree_heads = 0;     // heads checked (signature and root)
  std::uint64_t signed_size = 0;    // the largest head's tree size (0 without heads)
  std::uint64_t unsigned_tail = 0;  // entries - signed_size: appended after the latest head
};

// Checks a stored audit log (all rows, ReadAudit(0, size)) and all its tree heads
// (ReadTreeHeads) against the server's signing key. Fails with kIntegrity, naming the seq or
// tree size, if:
//   - the rows' seq are not 0, 1, ..., N-1 in order (the first missing, repeated or misplaced
//     seq is reported);
//   - a row's entry is not a canonical audit entry (audit_entry.h), or its patient_id column
//     differs from the entry's patient field (a row hidden from, or planted in, a patient's
//     listing);
//   - a head's signature does not verify, its size is negative, or its root differs from the
//     root recomputed from the entries at its size (the message gives the seq range the
//     change is in: after the largest head below it that still matches);
//   - a head's size exceeds N (entries were removed from the end).
// Entries after the latest head (or all entries if there is no head) are accepted as an
// unsigned tail: the server signs after each group commit, so a crash can leave one batch
// unsigned. They are covered only by the seq and patient checks; CheckStoredLog reports how
// many there are (callers decide whether a tail is acceptable). What this cannot detect: the
// removal of trailing entries together with every head that covers them, or a rewrite of the
// whole log re-signed with the server key; both are caught only against a tree head a client
// kept (VerifyConsistency).
Result<StoredLogSummary> CheckStoredLog(const std::vector<AuditRow>& rows,
                                        const std::vector<TreeHeadRow>& heads,
                                        const envelope::Ed25519PublicKey& server_key);
// CheckStoredLog without the summary.
Result<void> VerifyStoredLog(const std::vector<AuditRow>& rows, const std::vector<TreeHeadRow>& heads,
                             const envelope::Ed25519PublicKey& server_key);

}  // namespace cipherchart::server
