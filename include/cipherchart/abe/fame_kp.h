// FAME key-policy ABE as a key encapsulation mechanism.
//
// Agrawal & Chase, "FAME: Fast Attribute-based Message Encryption", CCS 2017; the key-policy
// scheme is in the full version (ePrint 2017/807), Appendix B, under the k-linear assumption
// with k = 2. It mirrors the CP-ABE scheme of section 3 (fame.h): the ciphertext is labelled
// with a set of attributes and the key with a policy, compiled to an LSSS matrix (M, rho).
// Instantiated on BLS12-381's asymmetric pairing like fame.h: the paper's G is our G1 (the
// key's per-row components sk_{i,1..3}, the ciphertext's per-attribute components
// ct_{y,1..3}, the hashed bases H(...), g^d1, g^d2, g^d3), its H is our G2 ([A]_2 in the
// public key, sk_0 = [Br]_2, ct_0 = [As]_2), so decapsulation needs 3 + 3 pairings whatever the
// policy or attribute set size, computed as one multi-pairing with one final exponentiation.
//
// Key for (M, rho) with n2 columns, fresh r1, r2, sigma'_2..sigma'_n2 and one sigma_i per row:
//   sk_0     = [Br]_2 = h^(b1 r1), h^(b2 r2), h^(r1 + r2)
//   sk_{i,t} = prod_l H(rho(i) l t)^((Br)_l / a_t) * g^(sigma_i / a_t) * (g^(d_t))^(M_i1)
//              * prod_{j>=2} (prod_l H(0j l t)^((Br)_l / a_t) * g^(sigma'_j / a_t))^(M_ij)
//   sk_{i,3} = g^(-sigma_i) * (g^(d_3))^(M_i1) * prod_{j>=2} g^(-sigma'_j M_ij)
// i.e. the first column shares the master key [d]_1 and column j >= 2 a random element of the
// same form as a CP key's attribute component; both cancel out of any combination with
// sum_i gamma_i M_i = (1, 0, ..., 0). Ciphertext for a set S, fresh s1, s2:
//   ct_0 = [As]_2 = H1^(s1), H2^(s2), h^(s1 + s2),  ct_{y,l} = prod_t H(y l t)^(s_t) (y in S)
// KEM form as in fame.h: the shared value is T1^s1 T2^s2 (the paper's mask of the message),
// from which HKDF-SHA-256 (info "cipherchart fame-kp kem v1") derives a 32-byte key; there is
// no C' term.
//
// Security: the paper proves full (adaptive) CPA security in the random-oracle model under
// k-Lin (k = 2). As a KEM this is CPA only: a modified ciphertext decapsulates to an unrelated
// key, which the record envelope's AEAD and signature then reject (docs/formats.md).
//
// Which values are secret: the master key (a1, a2, b1, b2, g^d1, g^d2, g^d3), user keys (the
// group elements; their policy is not secret), the key generation randomness (r, sigma,
// sigma'), the encapsulation randomness (s1, s2), the shared value and the derived key. All
// multiplications by them use the constant-time group operations. Policies, attribute names
// and ciphertexts are public.
#pragma once

#include <array>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "cipherchart/abe/policy.h"
#include "cipherchart/common/secret.h"
#include "cipherchart/pairing/pairing.h"

namespace cipherchart::abe::fame_kp {

using pairing::Fr;
using pairing::G1;
using pairing::G2;
using pairing::Gt;

// Public parameters: [A]_2 = (h^a1, h^a2, h) and T_t = e(g, h)^(d_t a_t + d_3). The same form
// as FAME CP-ABE's, but a separate type (and encoding): one authority's keys are not meant to
// serve both schemes.
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

// A user's key for a policy: the policy (canonical text) with its LSSS matrix, sk_0 in G2 and
// three G1 elements per matrix row. The group elements are wiped when destroyed.
class SecretKey {
 public:
  SecretKey() = default;
  SecretKey(const SecretKey&) = default;
  SecretKey& operator=(const SecretKey&) = default;
  ~SecretKey();

  std::string policy;                // canonical text (PolicyToString)
  LsssMatrix matrix;                 // CompileToLsss of the policy; rows label the k entries
  std::array<G2, 3> k0;              // sk_0 = [B r]_2
  std::vector<std::array<G1, 3>> k;  // per matrix row i: sk_{i,1}, sk_{i,2}, sk_{i,3}
};

// A ciphertext: C0 in G2 and three G1 elements per attribute (the map's keys are the
// ciphertext's attribute strings, expanded: numeric attributes appear as their bit attributes).
struct Ciphertext {
  std::array<G2, 3> c0;                        // ct_0 = [A s]_2
  std::map<std::string, std::array<G1, 3>> c;  // per attribute y: ct_{y,1}, ct_{y,2}, ct_{y,3}
};

struct SetupResult {
  PublicKey pk;
  MasterKey msk;
};
Result<SetupResult> Setup();

// Key for `key_policy` (compiled with CompileToLsss; fails like it for an invalid policy).
Result<SecretKey> KeyGen(const MasterKey& msk, const PolicyNode& key_policy);

struct Encapsulation {
  Ciphertext ct;
  SecretBytes key;  // 32 bytes
};
// Encapsulates a fresh 32-byte key for the attribute strings `attributes` (use
// AttributeSet::Expanded()). kInvalidArgument for an empty set, which no key could open.
Result<Encapsulation> Encapsulate(const PublicKey& pk, const std::set<std::string>& attributes);

// Recovers the key; kInvalidArgument ("the ciphertext's attributes do not satisfy the key's
// policy") if the key cannot open the ciphertext. A ciphertext whose components were changed
// decapsulates to a different key (CPA KEM): the envelope's AEAD detects it.
Result<SecretBytes> Decapsulate(const SecretKey& sk, const Ciphertext& ct);

}  // namespace cipherchart::abe::fame_kp
