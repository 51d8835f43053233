// FAME ciphertext-policy ABE as a key encapsulation mechanism.
//
// Agrawal & Chase, "FAME: Fast Attribute-based Message Encryption", CCS 2017 (ePrint
// 2017/807), section 3 (the CP-ABE scheme under the k-linear assumption with k = 2),
// instantiated on BLS12-381's asymmetric pairing: the paper's G is our G1 (keys and the
// per-row ciphertext components, hashed attributes), its H is our G2 (the ciphertext's C0 and
// the key's K0), so decryption needs 3 + 3 pairings whatever the policy size, computed as one
// multi-pairing with a single final exponentiation.
//
// KEM form: instead of masking a GT message with T1^s1 T2^s2 we use that value itself as the
// shared secret and derive a 32-byte key with HKDF-SHA-256; the ciphertext has no C' term.
// Security: the paper proves full (adaptive) CPA security in the random-oracle model; the
// record envelope adds the AEAD and the author's signature (docs/formats.md).
//
// Which values are secret: the master key (a1, a2, b1, b2, g^d1, g^d2, g^d3), user keys, the
// encapsulation randomness (s1, s2) and the derived key. All operations on them use the
// constant-time group operations. Policies, attribute names and ciphertexts are public.
#pragma once

#include <array>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "cipherchart/abe/policy.h"
#include "cipherchart/common/secret.h"
#include "cipherchart/pairing/pairing.h"

namespace cipherchart::abe::fame {

using pairing::Fr;
using pairing::G1;
using pairing::G2;
using pairing::Gt;

// Public parameters: [A]_2 = (h^a1, h^a2, h) and T_t = e(g, h)^(d_t a_t + d_3).
struct PublicKey {
  std::array<G2, 3> h_a;
  std::array<Gt, 2> t;
};

// The master secret. Wiped when destroyed.
class MasterKey {
 public:
  MasterKey() = default;
  MasterKey(const MasterKey&) = default;
  MasterKey& operator=(const MasterKey&) = default;
  ~MasterKey();

  std::array<Fr, 2> a;    // a1, a2
  std::array<Fr, 2> b;    // b1, b2
  std::array<G1, 3> g_d;  // g^d1, g^d2, g^d3
};

// Re-randomisation material of a delegable key (see Delegate): a key of the same shape for the
// same attributes, with its own randomness (r, sigma) and no master part (d = 0), which on its
// own opens nothing.
struct DelegationBasis {
  std::array<G2, 3> k0;
  std::map<std::string, std::array<G1, 3>> k;
  std::array<G1, 3> kp;
};

// A user's key for a set of attribute strings (the expanded set: numeric attributes appear as
// their bit attributes). Wiped when destroyed.
class SecretKey {
 public:
  SecretKey() = default;
  SecretKey(const SecretKey&) = default;
  SecretKey& operator=(const SecretKey&) = default;
  ~SecretKey();

  std::array<G2, 3> k0;                        // [B r]_2
  std::map<std::string, std::array<G1, 3>> k;  // per attribute: sk_{y,1}, sk_{y,2}, sk_{y,3}
  std::array<G1, 3> kp;                        // sk'_1, sk'_2, sk'_3
  // Empty for a standard key; two bases (same attributes as k) for a delegable one.
  std::vector<DelegationBasis> delegation;
};

// A ciphertext: the policy (canonical text) with its LSSS matrix, C0 in G2 and three G1
// elements per matrix row.
struct Ciphertext {
  std::string policy;  // canonical text (PolicyToString)
  LsssMatrix matrix;   // CompileToLsss of the policy; rows label the c entries
  std::array<G2, 3> c0;
  std::vector<std::array<G1, 3>> c;
};

struct SetupResult {
  PublicKey pk;
  MasterKey msk;
};
Result<SetupResult> Setup();

enum class KeyKind {
  kStandard,   // opens ciphertexts; cannot delegate
  kDelegable,  // also carries two delegation bases (3x the size and the key generation time)
};

// Key for the attribute strings `attributes` (use AttributeSet::Expanded()).
Result<SecretKey> KeyGen(const MasterKey& msk, const std::set<std::string>& attributes,
                         KeyKind kind = KeyKind::kStandard);

// ---- Delegation (our extension; FAME itself defines none) ----
// Delegate(parent, subset) derives, without the authority, a key for a subset of the parent's
// attributes. FAME keys are linear in their randomness: a key with randomness (r, sigma) plus
// delta times a d = 0 key with randomness (r', sigma') is a valid key with randomness
// (r + delta r', sigma + delta sigma'). A delegable key carries two such d = 0 keys (the
// delegation bases); the child is parent + delta1 basis1 + delta2 basis2 restricted to the
// subset, with delta1, delta2 fresh and uniform, so the child's randomness is uniform and
// independent of the parent's: the child is re-randomised, and distributed like a fresh
// KeyGen key for the subset (with overwhelming probability the two bases' r' are independent,
// so r + delta1 r'1 + delta2 r'2 covers all of Fr^2). The child gets its own bases (fresh
// random invertible combinations of the parent's), so it can delegate further.
// Linkability: whoever holds the parent key can tell that a child came from it (the difference
// lies in the span of the parent's bases); we claim no unlinkability towards a third party who
// sees both keys. Security: the bases are keys with d = 0, which open nothing; FAME's proof does
// not cover keys that carry them, so delegable keys rest on our argument in docs/abe.md
// ("Delegation"), and authorities issue them only when delegation is wanted.
// Fails with kInvalidArgument if the parent is not delegable or `subset` holds an attribute
// the parent lacks.
Result<SecretKey> Delegate(const SecretKey& parent, const std::set<std::string>& subset);

struct Encapsulation {
  Ciphertext ct;
  SecretBytes key;  // 32 bytes
};
// Encapsulates a fresh 32-byte key under `policy`.
Result<Encapsulation> Encapsulate(const PublicKey& pk, const PolicyNode& policy);

// Recovers the key; kInvalidArgument ("the key's attributes do not satisfy the policy") if
// the key cannot open the ciphertext. A ciphertext whose components were changed decapsulates
// to a different key (CPA KEM): the envelope's AEAD detects it.
Result<SecretBytes> Decapsulate(const SecretKey& sk, const Ciphertext& ct);

// ---- Outsourced decryption (Green, Hohenberger, Waters, "Outsourcing the Decryption of ABE
// Ciphertexts", USENIX Security 2011, section 3.1, applied to FAME) ----
// Every pairing of FAME's decapsulation takes exactly one key component, so raising the whole
// key to 1/z (z random, the retrieval secret) gives a transformation key with which anyone
// computes T^(1/z) from a ciphertext; the user finishes with one GT exponentiation by z. The
// transformation key alone yields only T^(1/z), which is useless without z (CPA-secure, as in
// GHW11's CPA construction); it is re-randomised, so it does not reveal the user key either.
struct TransformKey {
  SecretKey blinded;  // every component of the user key raised to 1/z
};
struct TransformKeyPair {
  TransformKeyPair() = default;
  TransformKeyPair(const TransformKeyPair&) = default;
  TransformKeyPair& operator=(const TransformKeyPair&) = default;
  ~TransformKeyPair();  // wipes z

  TransformKey tk;  // may be given to the cloud
  Fr z;             // the retrieval secret: stays with the user
};
Result<TransformKeyPair> MakeTransformKey(const SecretKey& sk);
// Run by the cloud: the constant-size partial decryption T^(1/z) (576 bytes as GT).
Result<Gt> Transform(const TransformKey& tk, const Ciphertext& ct);
// Run by the user: KDF((T^(1/z))^z), one constant-time GT exponentiation.
Result<SecretBytes> DecryptTransformed(const Fr& z, const Gt& partial);

// The hashed group elements of the scheme (exposed for tests and caching):
// H(y, l, t) for an attribute y, and H(0j, l, t) for matrix column j (1-based), l in 0..2,
// t in 0..1, each hash_to_curve into G1 with the DST below and an unambiguous encoding.
inline constexpr std::string_view kHashDst = "CIPHERCHART-FAME-V01-CS01-with-BLS12381G1_XMD:SHA-256_SSWU_RO_";
G1 HashAttribute(std::string_view attribute, int l, int t);
G1 HashColumn(std::size_t column, int l, int t);

}  // namespace cipherchart::abe::fame
