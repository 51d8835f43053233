#include "cipherchart/server/merkle.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cipherchart/server/audit_entry.h"
#include "src/envelope/sha256.h"

namespace cipherchart::server {
namespace {

using Bytes = std::vector<std::uint8_t>;
using envelope::Ed25519SigningKey;

std::string Hex(std::span<const std::uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (const std::uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

Bytes FromHex(std::string_view hex) {
  Bytes out;
  auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<std::uint8_t>(nibble(hex[i]) * 16 + nibble(hex[i + 1])));
  }
  return out;
}

Hash HashFromHex(std::string_view hex) {
  const Bytes bytes = FromHex(hex);
  Hash h{};
  EXPECT_EQ(bytes.size(), h.size()) << hex;
  std::copy_n(bytes.begin(), std::min(bytes.size(), h.size()), h.begin());
  return h;
}

Hash Leaf(std::span<const std::uint8_t> entry) {
  auto h = LeafHash(entry);
  EXPECT_TRUE(h) << h.error().ToString();
  return h.value_or(Hash{});
}

// ---- an independent, naive transcription of RFC 9162 section 2.1 -------------------------
//
// SHA-256 through the envelope's Sha256Of (not merkle.cc's hashing), the prefixes written out,
// and the recursive definitions taken literally over the list of inputs, with no storage of
// subtrees: slow (a proof recomputes whole subtrees) but obviously the RFC's text.
namespace naive {

Hash Sha256(const Bytes& bytes) {
  auto d = envelope::internal::Sha256Of(bytes);
  EXPECT_TRUE(d);
  return d.value_or(Hash{});
}

// k: the largest power of two smaller than n (section 2.1.1), by counting, n > 1.
std::size_t K(std::size_t n) {
  std::size_t k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

// Section 2.1.1 over leaf inputs, computed from the leaf hashes HASH(0x00 || d(i)) that the
// caller passes (so that the naive trees of thousands of leaves do not rehash the inputs).
// MTH({}) = HASH(); MTH({d(0)}) = HASH(0x00 || d(0));
// MTH(D_n) = HASH(0x01 || MTH(D[0:k]) || MTH(D[k:n])).
Hash Mth(std::span<const Hash> leaves) {
  if (leaves.empty()) return Sha256({});
  if (leaves.size() == 1) return leaves[0];
  const std::size_t k = K(leaves.size());
  Bytes node = {0x01};
  const Hash left = Mth(leaves.subspan(0, k));
  const Hash right = Mth(leaves.subspan(k));
  node.insert(node.end(), left.begin(), left.end());
  node.insert(node.end(), right.begin(), right.end());
  return Sha256(node);
}

Hash LeafOf(const Bytes& entry) {
  Bytes in = {0x00};
  in.insert(in.end(), entry.begin(), entry.end());
  return Sha256(in);
}

// Section 2.1.3.1: PATH(m, D_n).
std::vector<Hash> Path(std::size_t m, std::span<const Hash> d) {
  const std::size_t n = d.size();
  if (n == 1) return {};
  const std::size_t k = K(n);
  std::vector<Hash> path;
  if (m < k) {
    path = Path(m, d.subspan(0, k));
    path.push_back(Mth(d.subspan(k)));
  } else {
    path = Path(m - k, d.subspan(k));
    path.push_back(Mth(d.subspan(0, k)));
  }
  return path;
}

// Section 2.1.4.1: SUBPROOF(m, D_n, b).
std::vector<Hash> SubProof(std::size_t m, std::span<const Hash> d, bool b) {
  const std::size_t n = d.size();
  if (m == n) {
    if (b) return {};
    return {Mth(d)};
  }
  const std::size_t k = K(n);
  std::vector<Hash> proof;
  if (m <= k) {
    proof = SubProof(m, d.subspan(0, k), b);
    proof.push_back(Mth(d.subspan(k)));
  } else {
    proof = SubProof(m - k, d.subspan(k), false);
    proof.push_back(Mth(d.subspan(0, k)));
  }
  return proof;
}

// PROOF(m, D_n) = SUBPROOF(m, D_n, true), 0 < m <= n.
std::vector<Hash> Proof(std::size_t m, std::span<const Hash> d) { return SubProof(m, d, true); }

}  // namespace naive

// Distinct entries of varying length for leaf i.
Bytes EntryFor(std::size_t i) {
  Bytes e(i % 7, static_cast<std::uint8_t>(i));
  e.push_back(static_cast<std::uint8_t>(i >> 8));
  e.push_back(static_cast<std::uint8_t>(i));
  return e;
}

struct Built {
  MerkleTree tree;
  std::vector<Hash> leaves;  // naive leaf hashes
};

Built Build(std::size_t n) {
  Built b;
  for (std::size_t i = 0; i < n; ++i) {
    const Bytes e = EntryFor(i);
    b.leaves.push_back(naive::LeafOf(e));
    EXPECT_TRUE(b.tree.Append(Leaf(e)));
  }
  return b;
}

// ---- known answers -------------------------------------------------------------------------
//
// Source of every constant below: google/certificate-transparency, cpp/merkletree/
// merkle_tree_test.cc (kInputs, kSHA256EmptyTreeHash, kSHA256Roots, kSHA256Paths,
// kSHA256Proofs; read at commit 0e901cacd1388fa16f78b184612f6cd16e5ceec1). The same values
// appear in certificate-transparency-go / transparency-dev merkle's testonly/constants.go.
// That file numbers leaves from 1; the indices here are 0-based.

constexpr std::string_view kCtInputs[8] = {
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f",
};
constexpr std::string_view kCtEmptyRoot = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr std::string_view kCtRoots[8] = {
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

struct KnownProof {
  std::uint64_t a;  // leaf index (inclusion) or first size (consistency)
  std::uint64_t tree_size;
  std::vector<std::string_view> hashes;
};

// kSHA256Paths (leaf 1-based there).
const std::vector<KnownProof> kCtPaths = {
    {0, 1, {}},
    {0,
     8,
     {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
    {5,
     8,
     {"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
    {2, 3, {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
    {1,
     5,
     {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
};

// kSHA256Proofs.
const std::vector<KnownProof> kCtConsistency = {
    {1, 1, {}},
    {1,
     8,
     {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
    {6,
     8,
     {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
    {2,
     5,
     {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
};

MerkleTree CtTree() {
  MerkleTree tree;
  for (const auto input : kCtInputs) EXPECT_TRUE(tree.Append(Leaf(FromHex(input))));
  return tree;
}

std::vector<Hash> Hashes(const std::vector<std::string_view>& hex) {
  std::vector<Hash> out;
  out.reserve(hex.size());
  for (const auto h : hex) out.push_back(HashFromHex(h));
  return out;
}

TEST(MerkleKnownAnswerTest, EmptyTreeAndHashPrefixes) {
  MerkleTree tree;
  EXPECT_EQ(tree.size(), 0u);
  auto root = tree.Root();
  ASSERT_TRUE(root);
  EXPECT_EQ(Hex(*root), kCtEmptyRoot);
  // RFC 9162 section 2.1.1 by hand: the leaf hash of the empty entry is SHA-256(0x00), which
  // is the CT tree of size 1.
  EXPECT_EQ(Hex(Leaf({})), kCtRoots[0]);
  auto node = NodeHash(Leaf({}), Leaf(FromHex("00")));
  ASSERT_TRUE(node);
  EXPECT_EQ(Hex(*node), kCtRoots[1]);
}

TEST(MerkleKnownAnswerTest, RootsOfSizes1To8) {
  MerkleTree tree;
  for (std::size_t i = 0; i < 8; ++i) {
    ASSERT_TRUE(tree.Append(Leaf(FromHex(kCtInputs[i]))));
    EXPECT_EQ(tree.size(), i + 1);
    auto root = tree.Root();
    ASSERT_TRUE(root);
    EXPECT_EQ(Hex(*root), kCtRoots[i]) << "size " << i + 1;
    // Every earlier size stays reachable.
    for (std::size_t j = 0; j <= i; ++j) {
      auto old = tree.RootAt(j + 1);
      ASSERT_TRUE(old);
      EXPECT_EQ(Hex(*old), kCtRoots[j]);
    }
    auto empty = tree.RootAt(0);
    ASSERT_TRUE(empty);
    EXPECT_EQ(Hex(*empty), kCtEmptyRoot);
  }
}

TEST(MerkleKnownAnswerTest, InclusionProofs) {
  const MerkleTree tree = CtTree();
  for (const auto& kat : kCtPaths) {
    SCOPED_TRACE("leaf " + std::to_string(kat.a) + " of " + std::to_string(kat.tree_size));
    auto proof = tree.InclusionProof(kat.a, kat.tree_size);
    ASSERT_TRUE(proof) << proof.error().ToString();
    EXPECT_EQ(*proof, Hashes(kat.hashes));
    const Hash root = HashFromHex(kCtRoots[kat.tree_size - 1]);
    EXPECT_TRUE(VerifyInclusion(Leaf(FromHex(kCtInputs[kat.a])), kat.a, kat.tree_size, *proof, root));
  }
}

TEST(MerkleKnownAnswerTest, ConsistencyProofs) {
  const MerkleTree tree = CtTree();
  for (const auto& kat : kCtConsistency) {
    SCOPED_TRACE("sizes " + std::to_string(kat.a) + " to " + std::to_string(kat.tree_size));
    auto proof = tree.ConsistencyProof(kat.a, kat.tree_size);
    ASSERT_TRUE(proof) << proof.error().ToString();
    EXPECT_EQ(*proof, Hashes(kat.hashes));
    EXPECT_TRUE(VerifyConsistency(kat.a, kat.tree_size, HashFromHex(kCtRoots[kat.a - 1]),
                                  HashFromHex(kCtRoots[kat.tree_size - 1]), *proof));
  }
}

// ---- against the naive transcription -------------------------------------------------------

TEST(MerkleNaiveTest, LeafHashMatches) {
  for (std::size_t i = 0; i < 300; ++i) EXPECT_EQ(Leaf(EntryFor(i)), naive::LeafOf(EntryFor(i)));
}

TEST(MerkleNaiveTest, EverySizeIndexAndPairUpTo130) {
  constexpr std::size_t kMax = 130;
  const Built b = Build(kMax);
  ASSERT_EQ(b.tree.size(), kMax);
  const std::span<const Hash> all(b.leaves);
  std::vector<Hash> roots;  // roots[n] = MTH(D[0:n])
  for (std::size_t n = 0; n <= kMax; ++n) {
    roots.push_back(naive::Mth(all.subspan(0, n)));
    auto root = b.tree.RootAt(n);
    ASSERT_TRUE(root);
    ASSERT_EQ(*root, roots[n]) << "size " << n;
  }
  for (std::size_t n = 1; n <= kMax; ++n) {
    const auto d = all.subspan(0, n);
    for (std::size_t i = 0; i < n; ++i) {
      auto proof = b.tree.InclusionProof(i, n);
      ASSERT_TRUE(proof);
      ASSERT_EQ(*proof, naive::Path(i, d)) << "leaf " << i << " of " << n;
      ASSERT_TRUE(VerifyInclusion(b.leaves[i], i, n, *proof, roots[n])) << "leaf " << i << " of " << n;
    }
    for (std::size_t m = 0; m <= n; ++m) {
      auto proof = b.tree.ConsistencyProof(m, n);
      ASSERT_TRUE(proof);
      const std::vector<Hash> expected = m == 0 ? std::vector<Hash>{} : naive::Proof(m, d);
      ASSERT_EQ(*proof, expected) << "sizes " << m << " to " << n;
      ASSERT_TRUE(VerifyConsistency(m, n, roots[m], roots[n], *proof)) << "sizes " << m << " to " << n;
    }
  }
}

TEST(MerkleNaiveTest, RandomHistoryOf5000Leaves) {
  std::mt19937_64 rng(20240601);
  MerkleTree tree;
  std::vector<Hash> leaves;
  std::vector<Hash> roots;  // roots[n] from the tree as it grew
  auto first = tree.Root();
  ASSERT_TRUE(first);
  roots.push_back(*first);
  for (std::size_t i = 0; i < 5000; ++i) {
    Bytes entry(rng() % 64);
    for (auto& byte : entry) byte = static_cast<std::uint8_t>(rng());
    leaves.push_back(naive::LeafOf(entry));
    ASSERT_TRUE(tree.Append(Leaf(entry)));
    auto root = tree.Root();
    ASSERT_TRUE(root);
    roots.push_back(*root);
    // Every new root extends the previous one.
    auto proof = tree.ConsistencyProof(i, i + 1);
    ASSERT_TRUE(proof);
    ASSERT_TRUE(VerifyConsistency(i, i + 1, roots[i], roots[i + 1], *proof)) << "size " << i;
  }
  const std::span<const Hash> all(leaves);
  // Roots computed while growing equal RootAt afterwards and, at sampled sizes, the naive MTH.
  for (std::size_t n = 0; n <= 5000; ++n) {
    auto root = tree.RootAt(n);
    ASSERT_TRUE(root);
    ASSERT_EQ(*root, roots[n]);
  }
  for (int round = 0; round < 40; ++round) {
    const std::size_t n = 1 + rng() % 5000;
    ASSERT_EQ(roots[n], naive::Mth(all.subspan(0, n))) << "size " << n;
  }
  for (int round = 0; round < 150; ++round) {
    const std::size_t n = 1 + rng() % 5000;
    const std::size_t i = rng() % n;
    const std::size_t m = 1 + rng() % n;
    auto path = tree.InclusionProof(i, n);
    ASSERT_TRUE(path);
    ASSERT_EQ(*path, naive::Path(i, all.subspan(0, n))) << "leaf " << i << " of " << n;
    ASSERT_TRUE(VerifyInclusion(leaves[i], i, n, *path, roots[n]));
    auto proof = tree.ConsistencyProof(m, n);
    ASSERT_TRUE(proof);
    ASSERT_EQ(*proof, naive::Proof(m, all.subspan(0, n))) << "sizes " << m << " to " << n;
    ASSERT_TRUE(VerifyConsistency(m, n, roots[m], roots[n], *proof));
  }
}

// ---- tampered proofs -----------------------------------------------------------------------

// All the ways a valid inclusion proof is changed below must fail.
void ExpectInclusionTamperingFails(const Hash& leaf, std::uint64_t index, std::uint64_t size,
                                   const std::vector<Hash>& proof, const Hash& root) {
  SCOPED_TRACE("leaf " + std::to_string(index) + " of " + std::to_string(size));
  ASSERT_TRUE(VerifyInclusion(leaf, index, size, proof, root));
  Hash other_leaf = leaf;
  other_leaf[7] ^= 0x10;
  EXPECT_FALSE(VerifyInclusion(other_leaf, index, size, proof, root));
  Hash other_root = root;
  other_root[31] ^= 0x01;
  EXPECT_FALSE(VerifyInclusion(leaf, index, size, proof, other_root));
  // Wrong index or size.
  for (const std::uint64_t i : {index - 1, index + 1, index ^ 2, index ^ 1}) {
    if (i != index) {
      EXPECT_FALSE(VerifyInclusion(leaf, i, size, proof, root)) << "index " << i;
    }
  }
  // (A size off by one can verify: the size is not bound by the root, only by the signed tree
  // head. Doubling or halving changes the number of levels.)
  for (const std::uint64_t s : {size * 2, size / 2}) {
    if (s != size) {
      EXPECT_FALSE(VerifyInclusion(leaf, index, s, proof, root)) << "size " << s;
    }
  }
  for (std::size_t j = 0; j < proof.size(); ++j) {
    // One hash flipped.
    std::vector<Hash> changed = proof;
    changed[j][j % 32] ^= 0x80;
    EXPECT_FALSE(VerifyInclusion(leaf, index, size, changed, root)) << "flipped " << j;
    // One hash dropped.
    changed = proof;
    changed.erase(changed.begin() + static_cast<std::ptrdiff_t>(j));
    EXPECT_FALSE(VerifyInclusion(leaf, index, size, changed, root)) << "dropped " << j;
  }
  // One hash added, at each position (a zero hash, the root, a copy of a neighbour).
  for (std::size_t j = 0; j <= proof.size(); ++j) {
    for (const Hash& extra : {Hash{}, root, proof.empty() ? leaf : proof[std::min(j, proof.size() - 1)]}) {
      std::vector<Hash> changed = proof;
      changed.insert(changed.begin() + static_cast<std::ptrdiff_t>(j), extra);
      EXPECT_FALSE(VerifyInclusion(leaf, index, size, changed, root)) << "added at " << j;
    }
  }
}

void ExpectConsistencyTamperingFails(std::uint64_t m, std::uint64_t n, const Hash& root_m, const Hash& root_n,
                                     const std::vector<Hash>& proof) {
  SCOPED_TRACE("sizes " + std::to_string(m) + " to " + std::to_string(n));
  ASSERT_TRUE(VerifyConsistency(m, n, root_m, root_n, proof));
  Hash other = root_m;
  other[0] ^= 1;
  EXPECT_FALSE(VerifyConsistency(m, n, other, root_n, proof));
  other = root_n;
  other[0] ^= 1;
  EXPECT_FALSE(VerifyConsistency(m, n, root_m, other, proof));
  if (root_m != root_n) {
    EXPECT_FALSE(VerifyConsistency(m, n, root_n, root_m, proof));
  }
  if (proof.empty()) return;  // m == n or m == 0: covered by the edge-case test
  for (const std::uint64_t s : {m - 1, m + 1, m ^ 2, m * 2, m / 2}) {
    if (s != m) {
      EXPECT_FALSE(VerifyConsistency(s, n, root_m, root_n, proof)) << "first size " << s;
    }
  }
  for (const std::uint64_t s : {n * 2, n / 2}) {
    if (s != n) {
      EXPECT_FALSE(VerifyConsistency(m, s, root_m, root_n, proof)) << "second size " << s;
    }
  }
  EXPECT_FALSE(VerifyConsistency(m, n, root_m, root_n, {}));
  for (std::size_t j = 0; j < proof.size(); ++j) {
    std::vector<Hash> changed = proof;
    changed[j][31 - j % 32] ^= 0x04;
    EXPECT_FALSE(VerifyConsistency(m, n, root_m, root_n, changed)) << "flipped " << j;
    changed = proof;
    changed.erase(changed.begin() + static_cast<std::ptrdiff_t>(j));
    EXPECT_FALSE(VerifyConsistency(m, n, root_m, root_n, changed)) << "dropped " << j;
  }
  for (std::size_t j = 0; j <= proof.size(); ++j) {
    for (const Hash& extra : {Hash{}, root_m, root_n, proof[std::min(j, proof.size() - 1)]}) {
      std::vector<Hash> changed = proof;
      changed.insert(changed.begin() + static_cast<std::ptrdiff_t>(j), extra);
      EXPECT_FALSE(VerifyConsistency(m, n, root_m, root_n, changed)) << "added at " << j;
    }
  }
}

TEST(MerkleTamperTest, EveryInclusionProofUpTo70) {
  const Built b = Build(70);
  for (std::uint64_t n = 1; n <= 70; ++n) {
    auto root = b.tree.RootAt(n);
    ASSERT_TRUE(root);
    for (std::uint64_t i = 0; i < n; ++i) {
      auto proof = b.tree.InclusionProof(i, n);
      ASSERT_TRUE(proof);
      ExpectInclusionTamperingFails(b.leaves[i], i, n, *proof, *root);
    }
  }
}

TEST(MerkleTamperTest, EveryConsistencyProofUpTo70) {
  const Built b = Build(70);
  for (std::uint64_t n = 1; n <= 70; ++n) {
    auto root_n = b.tree.RootAt(n);
    ASSERT_TRUE(root_n);
    for (std::uint64_t m = 1; m < n; ++m) {
      auto root_m = b.tree.RootAt(m);
      ASSERT_TRUE(root_m);
      auto proof = b.tree.ConsistencyProof(m, n);
      ASSERT_TRUE(proof);
      ExpectConsistencyTamperingFails(m, n, *root_m, *root_n, *proof);
    }
  }
}

TEST(MerkleTamperTest, KnownAnswerProofsTampered) {
  for (const auto& kat : kCtPaths) {
    ExpectInclusionTamperingFails(Leaf(FromHex(kCtInputs[kat.a])), kat.a, kat.tree_size, Hashes(kat.hashes),
                                  HashFromHex(kCtRoots[kat.tree_size - 1]));
  }
  for (const auto& kat : kCtConsistency) {
    ExpectConsistencyTamperingFails(kat.a, kat.tree_size, HashFromHex(kCtRoots[kat.a - 1]),
                                    HashFromHex(kCtRoots[kat.tree_size - 1]), Hashes(kat.hashes));
  }
}

// ---- edge cases and errors -----------------------------------------------------------------

TEST(MerkleEdgeTest, OutOfRangeArguments) {
  const Built b = Build(5);
  auto e = b.tree.RootAt(6);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(e.error().message(), "Merkle tree: no root at tree size 6: the tree has 5 leaves");

  auto p = b.tree.InclusionProof(5, 5);
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(p.error().message(),
            "Merkle tree: no inclusion proof for leaf index 5: it is not below the tree size 5");
  p = b.tree.InclusionProof(0, 6);
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().message(), "Merkle tree: no inclusion proof at tree size 6: the tree has 5 leaves");
  p = b.tree.InclusionProof(0, 0);
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code(), ErrorCode::kInvalidArgument);

  auto c = b.tree.ConsistencyProof(4, 3);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(c.error().message(),
            "Merkle tree: no consistency proof from tree size 4 to the smaller tree size 3");
  c = b.tree.ConsistencyProof(2, 6);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().message(), "Merkle tree: no consistency proof to tree size 6: the tree has 5 leaves");

  const MerkleTree empty;
  EXPECT_FALSE(empty.InclusionProof(0, 0));
  auto none = empty.ConsistencyProof(0, 0);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST(MerkleEdgeTest, VerifyInclusionImpossibleSizes) {
  const Hash h{};
  auto r = VerifyInclusion(h, 0, 0, {}, h);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  r = VerifyInclusion(h, 3, 3, {}, h);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(r.error().message(),
            "inclusion proof for leaf 3 in tree size 3: the leaf index is not below the tree size");
  // A one-leaf tree: the root is the leaf hash, the proof empty.
  const Hash leaf = Leaf(FromHex("00"));
  EXPECT_TRUE(VerifyInclusion(leaf, 0, 1, {}, leaf));
  r = VerifyInclusion(leaf, 0, 1, std::vector<Hash>{leaf}, leaf);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kIntegrity);
  EXPECT_EQ(r.error().message(),
            "inclusion proof for leaf 0 in tree size 1: the proof is too long (1 hashes)");
  r = VerifyInclusion(leaf, 0, 2, {}, leaf);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kIntegrity);
  EXPECT_EQ(r.error().message(),
            "inclusion proof for leaf 0 in tree size 2: the proof is too short (0 hashes)");
}

TEST(MerkleEdgeTest, ConsistencyEdgeCases) {
  const Built b = Build(9);
  auto empty_root = b.tree.RootAt(0);
  auto root4 = b.tree.RootAt(4);
  auto root9 = b.tree.RootAt(9);
  ASSERT_TRUE(empty_root && root4 && root9);
  // m == n: empty proof and equal roots.
  EXPECT_TRUE(VerifyConsistency(4, 4, *root4, *root4, {}));
  EXPECT_TRUE(VerifyConsistency(0, 0, *empty_root, *empty_root, {}));
  auto r = VerifyConsistency(4, 4, *root4, *root9, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kIntegrity);
  r = VerifyConsistency(4, 4, *root4, *root4, std::vector<Hash>{*root4});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kIntegrity);
  EXPECT_EQ(r.error().message(),
            "consistency proof from tree size 4 to 4: the proof must be empty, it has 1 hashes");
  // m == 0: empty proof, and the first root must be the empty tree's.
  EXPECT_TRUE(VerifyConsistency(0, 9, *empty_root, *root9, {}));
  r = VerifyConsistency(0, 9, *root4, *root9, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kIntegrity);
  EXPECT_FALSE(VerifyConsistency(0, 9, *empty_root, *root9, std::vector<Hash>{*root9}));
  // m > n is impossible.
  r = VerifyConsistency(9, 4, *root9, *root4, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(r.error().message(),
            "consistency proof from tree size 9 to 4: the first size is above the second");
  // 0 < m < n with an empty proof (RFC 9162 section 2.1.4.2 step 1).
  r = VerifyConsistency(4, 9, *root4, *root9, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "consistency proof from tree size 4 to 9: the proof is empty");
}

TEST(MerkleEdgeTest, AppendIsIncrementalAndCheap) {
  // 2^20 + 3 leaves: Append and Root must not recompute the tree (this would take minutes).
  MerkleTree tree;
  Hash leaf{};
  for (std::uint32_t i = 0; i < (1u << 20) + 3; ++i) {
    leaf[0] = static_cast<std::uint8_t>(i);
    leaf[1] = static_cast<std::uint8_t>(i >> 8);
    leaf[2] = static_cast<std::uint8_t>(i >> 16);
    ASSERT_TRUE(tree.Append(leaf));
  }
  auto root = tree.Root();
  ASSERT_TRUE(root);
  auto proof = tree.InclusionProof(123457, tree.size());
  ASSERT_TRUE(proof);
  EXPECT_EQ(proof->size(), 21u);
  Hash l{};
  l[0] = static_cast<std::uint8_t>(123457);
  l[1] = static_cast<std::uint8_t>(123457 >> 8);
  l[2] = static_cast<std::uint8_t>(123457 >> 16);
  EXPECT_TRUE(VerifyInclusion(l, 123457, tree.size(), *proof, *root));
  auto old = tree.RootAt(1000000);
  auto consistency = tree.ConsistencyProof(1000000, tree.size());
  ASSERT_TRUE(old && consistency);
  EXPECT_TRUE(VerifyConsistency(1000000, tree.size(), *old, *root, *consistency));
}

// ---- signed tree heads ---------------------------------------------------------------------

Ed25519SigningKey KeyFromByte(std::uint8_t b) {
  auto key = Ed25519SigningKey::FromSeed(SecretBytes(Bytes(32, b)));
  EXPECT_TRUE(key);
  return std::move(*key);
}

TEST(TreeHeadTest, MessageLayout) {
  Hash root{};
  for (std::size_t i = 0; i < root.size(); ++i) root[i] = static_cast<std::uint8_t>(0xa0 + i);
  const Bytes message = TreeHeadMessage(0x0102030405060708, 0x1112131415161718, root);
  ASSERT_EQ(message.size(), kTreeHeadMessageSize);
  EXPECT_EQ(message.size(), 72u);
  EXPECT_EQ(std::string(message.begin(), message.begin() + 24), "CIPHERCHART-AUDIT-STH-V1");
  EXPECT_EQ(Hex(std::span(message).subspan(24, 16)), "01020304050607081112131415161718");
  EXPECT_EQ(Hex(std::span(message).subspan(40)), Hex(root));
}

TEST(TreeHeadTest, SignVerifyAndTamper) {
  const auto key = KeyFromByte(7);
  const auto other = KeyFromByte(8);
  const Hash root = Leaf(FromHex("2021"));
  auto head = SignTreeHead(key, 42, 1700000000123, root);
  ASSERT_TRUE(head) << head.error().ToString();
  EXPECT_EQ(head->tree_size, 42u);
  EXPECT_EQ(head->timestamp_ms, 1700000000123);
  EXPECT_EQ(head->root, root);
  EXPECT_TRUE(VerifyTreeHead(key.public_key(), *head));
  // The signature is over TreeHeadMessage.
  EXPECT_TRUE(
      envelope::Ed25519Verify(key.public_key(), TreeHeadMessage(42, 1700000000123, root), head->signature));

  auto r = VerifyTreeHead(other.public_key(), *head);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kIntegrity);
  SignedTreeHead changed = *head;
  changed.tree_size = 43;
  EXPECT_FALSE(VerifyTreeHead(key.public_key(), changed));
  changed = *head;
  changed.timestamp_ms += 1;
  EXPECT_FALSE(VerifyTreeHead(key.public_key(), changed));
  changed = *head;
  changed.root[5] ^= 1;
  EXPECT_FALSE(VerifyTreeHead(key.public_key(), changed));
  changed = *head;
  changed.signature[63] ^= 0x40;
  EXPECT_FALSE(VerifyTreeHead(key.public_key(), changed));
}

TEST(TreeHeadTest, DomainAndRowConversion) {
  const auto key = KeyFromByte(9);
  const Hash root{};
  auto bad = SignTreeHead(key, 1, -1, root);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), ErrorCode::kInvalidArgument);
  bad = SignTreeHead(key, std::uint64_t{1} << 63, 0, root);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), ErrorCode::kInvalidArgument);

  auto head = SignTreeHead(key, 9, 5, root);
  ASSERT_TRUE(head);
  auto row = ToTreeHeadRow(*head);
  ASSERT_TRUE(row);
  EXPECT_EQ(row->tree_size, 9);
  EXPECT_EQ(row->timestamp, 5);
  EXPECT_EQ(row->root, head->root);
  EXPECT_EQ(row->signature, head->signature);
  auto back = FromTreeHeadRow(*row);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, *head);

  TreeHeadRow negative = *row;
  negative.tree_size = -1;
  EXPECT_FALSE(FromTreeHeadRow(negative));
  negative = *row;
  negative.timestamp = -5;
  EXPECT_FALSE(FromTreeHeadRow(negative));
  SignedTreeHead huge = *head;
  huge.tree_size = std::uint64_t{1} << 63;
  EXPECT_FALSE(ToTreeHeadRow(huge));
}

// ---- VerifyStoredLog -----------------------------------------------------------------------

const char* const kPatients[] = {"p-alice", "", "p-bob"};

AuditRow RowFor(std::int64_t seq) {
  AuditEntry e;
  e.time_ms = 1700000000000 + seq * 1000;
  e.actor = "u" + std::to_string(seq % 4);
  e.action = seq % 2 == 0 ? "record.fetch" : "record.append";
  e.patient_id = kPatients[seq % 3];
  e.target = "r" + std::to_string(seq) + "@1";
  e.outcome = seq % 5 == 4 ? "denied:403" : "ok";
  auto bytes = EncodeAuditEntry(e);
  EXPECT_TRUE(bytes);
  return AuditRow{seq, e.patient_id, *bytes};
}

struct StoredLog {
  std::vector<AuditRow> rows;
  std::vector<TreeHeadRow> heads;
};

// `count` rows and a head (signed by `key`) at each of `head_sizes`.
StoredLog MakeLog(std::int64_t count, const std::vector<std::uint64_t>& head_sizes,
                  const Ed25519SigningKey& key) {
  StoredLog log;
  MerkleTree tree;
  for (std::int64_t i = 0; i < count; ++i) {
    log.rows.push_back(RowFor(i));
    EXPECT_TRUE(tree.Append(Leaf(log.rows.back().entry)));
  }
  for (const std::uint64_t size : head_sizes) {
    auto root = tree.RootAt(size);
    EXPECT_TRUE(root);
    auto head = SignTreeHead(key, size, static_cast<std::int64_t>(1700000000000 + size), *root);
    EXPECT_TRUE(head);
    auto row = ToTreeHeadRow(*head);
    EXPECT_TRUE(row);
    log.heads.push_back(*row);
  }
  return log;
}

class StoredLogTest : public ::testing::Test {
 protected:
  StoredLogTest() : key_(KeyFromByte(42)), log_(MakeLog(20, {5, 12, 20}, key_)) {}

  // Fails with kIntegrity and a message containing `needle`.
  void ExpectFails(const StoredLog& log, const std::string& needle) {
    auto r = VerifyStoredLog(log.rows, log.heads, key_.public_key());
    ASSERT_FALSE(r) << "accepted; expected: " << needle;
    EXPECT_EQ(r.error().code(), ErrorCode::kIntegrity);
    EXPECT_NE(r.error().message().find(needle), std::string::npos) << r.error().message();
  }

  Ed25519SigningKey key_;
  StoredLog log_;
};

TEST_F(StoredLogTest, AcceptsHonestLog) {
  auto summary = CheckStoredLog(log_.rows, log_.heads, key_.public_key());
  ASSERT_TRUE(summary) << summary.error().ToString();
  EXPECT_EQ(summary->entries, 20u);
  EXPECT_EQ(summary->tree_heads, 3u);
  EXPECT_EQ(summary->signed_size, 20u);
  EXPECT_EQ(summary->unsigned_tail, 0u);
  EXPECT_TRUE(VerifyStoredLog(log_.rows, log_.heads, key_.public_key()));
  // Empty log; a head of the empty tree; heads in any order.
  EXPECT_TRUE(VerifyStoredLog({}, {}, key_.public_key()));
  const StoredLog with_zero = MakeLog(3, {0, 3}, key_);
  EXPECT_TRUE(VerifyStoredLog(with_zero.rows, with_zero.heads, key_.public_key()));
  StoredLog shuffled = log_;
  std::reverse(shuffled.heads.begin(), shuffled.heads.end());
  EXPECT_TRUE(VerifyStoredLog(shuffled.rows, shuffled.heads, key_.public_key()));
}

TEST_F(StoredLogTest, ReportsUnsignedTail) {
  const StoredLog log = MakeLog(20, {5, 12}, key_);
  auto summary = CheckStoredLog(log.rows, log.heads, key_.public_key());
  ASSERT_TRUE(summary) << summary.error().ToString();
  EXPECT_EQ(summary->signed_size, 12u);
  EXPECT_EQ(summary->unsigned_tail, 8u);
  const StoredLog unsigned_log = MakeLog(4, {}, key_);
  summary = CheckStoredLog(unsigned_log.rows, unsigned_log.heads, key_.public_key());
  ASSERT_TRUE(summary);
  EXPECT_EQ(summary->unsigned_tail, 4u);
}

TEST_F(StoredLogTest, DetectsModifiedEntry) {
  // Another canonical entry in place of seq 7: only the roots show it.
  StoredLog log = log_;
  AuditEntry e = *DecodeAuditEntry(log.rows[7].entry);
  e.outcome = "denied:404";
  log.rows[7].entry = *EncodeAuditEntry(e);
  ExpectFails(
      log, "tree head for size 12: the signed root differs from the root of the stored entries; seq 5 to 11");
  // A byte changed so that the entry is no longer canonical JSON.
  log = log_;
  log.rows[7].entry.push_back(' ');
  ExpectFails(log, "seq 7: the entry is not a canonical audit entry");
  // Modified in the unsigned tail: not detectable by roots, only by the canonical and
  // patient checks, so a canonical change is accepted (documented).
  log = MakeLog(20, {12}, key_);
  e = *DecodeAuditEntry(log.rows[15].entry);
  e.outcome = "ok";
  log.rows[15].entry = *EncodeAuditEntry(e);
  EXPECT_TRUE(VerifyStoredLog(log.rows, log.heads, key_.public_key()));
}

TEST_F(StoredLogTest, DetectsRemovedEntries) {
  StoredLog log = log_;
  log.rows.erase(log.rows.begin() + 9);
  ExpectFails(log, "audit log: position 9 holds seq 10: seq 9 is missing");
  // Removed and renumbered: the roots disagree from there on.
  for (std::size_t i = 9; i < log.rows.size(); ++i) log.rows[i].seq = static_cast<std::int64_t>(i);
  ExpectFails(log, "tree head for size 12: the signed root differs");
  // Removed at the end.
  log = log_;
  log.rows.pop_back();
  ExpectFails(log, "tree head for size 20 exceeds the 19 stored entries: seq 19 to 19 were removed");
  log = log_;
  log.rows.resize(10);
  ExpectFails(log, "tree head for size 12 exceeds the 10 stored entries: seq 10 to 11 were removed");
}

TEST_F(StoredLogTest, DetectsSwappedEntries) {
  // Contents swapped, seq column kept.
  StoredLog log = log_;
  std::swap(log.rows[2].entry, log.rows[3].entry);
  std::swap(log.rows[2].patient_id, log.rows[3].patient_id);
  ExpectFails(
      log, "tree head for size 5: the signed root differs from the root of the stored entries; seq 0 to 4");
  // Rows swapped with their seq.
  log = log_;
  std::swap(log.rows[13], log.rows[14]);
  ExpectFails(log,
              "audit log: position 13 holds seq 14: rows out of order, seq 13 comes later, at position 14");
  // A duplicated row.
  log = log_;
  log.rows.insert(log.rows.begin() + 4, log.rows[3]);
  ExpectFails(log, "position 4 holds seq 3 (expected seq 4): seq 3 is repeated or out of order");
}

TEST_F(StoredLogTest, DetectsEditedPatientColumn) {
  StoredLog log = log_;
  log.rows[6].patient_id = "p-someone-else";
  ExpectFails(log, "audit log: seq 6: the patient_id column differs from the entry's patient field");
  log = log_;
  log.rows[3].patient_id = "";  // hidden from the patient's listing
  ExpectFails(log, "audit log: seq 3: the patient_id column differs");
}

TEST_F(StoredLogTest, DetectsForgedTreeHead) {
  StoredLog log = log_;
  log.heads[1].signature[10] ^= 0x01;
  ExpectFails(log, "tree head for size 12: the signature does not verify under the server key");
  // A head signed by another key.
  const auto other = KeyFromByte(43);
  log = MakeLog(20, {5, 12, 20}, other);
  ExpectFails(log, "tree head for size 5: the signature does not verify");
  // The signed fields edited.
  log = log_;
  log.heads[2].timestamp += 1;
  ExpectFails(log, "tree head for size 20: the signature does not verify");
  log = log_;
  log.heads[0].root[0] ^= 1;
  ExpectFails(log, "tree head for size 5: the signature does not verify");
  log = log_;
  log.heads[0].tree_size = -3;
  ExpectFails(log, "tree head for size -3: tree head row: tree size -3 is negative");
}

TEST_F(StoredLogTest, DetectsHeadWithWrongRoot) {
  // Validly signed (by the server key) but over a root the entries do not have.
  StoredLog log = log_;
  Hash wrong = log.heads[1].root;
  wrong[4] ^= 0x20;
  auto head = SignTreeHead(key_, 12, 1, wrong);
  ASSERT_TRUE(head);
  log.heads[1] = *ToTreeHeadRow(*head);
  ExpectFails(
      log, "tree head for size 12: the signed root differs from the root of the stored entries; seq 5 to 11");
  auto empty = SignTreeHead(key_, 0, 1, wrong);
  ASSERT_TRUE(empty);
  log = log_;
  log.heads.insert(log.heads.begin(), *ToTreeHeadRow(*empty));
  ExpectFails(log, "tree head for size 0: the signed root is not the empty tree's");
}

TEST_F(StoredLogTest, DetectsBadSeq) {
  StoredLog log = log_;
  log.rows[0].seq = -1;
  ExpectFails(log, "position 0 holds seq -1 (expected seq 0): seq -1 is negative");
  log = log_;
  log.rows[5].seq = 50;
  ExpectFails(log, "position 5 holds seq 50: seq 5 is missing");
}

}  // namespace
}  // namespace cipherchart::server
