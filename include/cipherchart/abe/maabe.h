// Multi-authority ciphertext-policy ABE as a key encapsulation mechanism.
//
// Rouselakis & Waters, "Efficient Statically-Secure Large-Universe Multi-Authority
// Attribute-Based Encryption", FC 2015 (ePrint 2015/016), section 4 ("RW15"), moved to
// BLS12-381's asymmetric pairing e: G1 x G2 -> GT (docs/abe.md, "Multi-authority ABE", says why
// the move keeps the proof's structure):
//   - global parameters: g1 in G1, g2 in G2 and the random oracles H (identities) and F
//     (attributes), both into G2; all four come from RFC 9380 hash_to_curve with the fixed DSTs
//     below, so there is no global setup and no trusted party;
//   - an authority theta: master secret (alpha, y), public key (e(g1, g2)^alpha, g1^y);
//   - the key for attribute u of identity GID: K = g2^alpha H(GID)^y F(u)^t in G2 and
//     K' = g1^t in G1 (t fresh per attribute);
//   - a ciphertext row x (attribute u = rho(x) of authority theta = T(u)):
//     C1 = e(g1, g2)^(lambda_x) e(g1, g2)^(alpha t_x) in GT, C2 = g1^(-t_x) and
//     C3 = (g1^y)^(t_x) g1^(omega_x) in G1, C4 = F(u)^(t_x) in G2, where lambda and omega share
//     z and 0 over the policy's LSSS matrix;
//   - decryption with the keys of ONE identity: prod_x (C1 e(C2, K) e(C3, H(GID)) e(K', C4))^(c_x)
//     = e(g1, g2)^z; H(GID) binds every attribute key to the identity, which is what stops two
//     users from pooling keys.
//
// KEM form (as fame.h): e(g1, g2)^z is the shared value and the 32-byte key is HKDF-SHA-256 of
// it; there is no message term C0. The record envelope adds the AEAD and the signature.
//
// Which authority owns an attribute: T(u) is the authority whose namespace contains u (the
// longest, if nested namespaces are both authorities); namespaces work as in authority.h
// ("hospital_a.role:doctor" belongs to "hospital_a"). The ciphertext names each authority it
// used with the id (SHA-256) of its public key, and a key names the authority key it came from,
// so an authority that changes keys cannot be confused with its old self.
//
// Secret: authority master keys, user keys (every K and K'), transformation-key blinding
// scalars and the encapsulation randomness (z, the shares, t_x); all computed with
// constant-time group operations and wiped. Public: policies, attribute names, identities
// (GIDs are pseudonymous identifiers, not secrets), ciphertexts, public keys.
#pragma once

#include <map>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cipherchart/abe/policy.h"
#include "cipherchart/common/error.h"
#include "cipherchart/common/secret.h"
#include "cipherchart/envelope/envelope.h"
#include "cipherchart/pairing/pairing.h"

namespace cipherchart::abe::maabe {

using envelope::PublicParamsId;
using pairing::Fr;
using pairing::G1;
using pairing::G2;
using pairing::Gt;

// ---- Global parameters (no setup: derived from fixed strings) ----
// g1 = hash_to_curve_G1('G' || u32be(9) || "generator"), g2 likewise into G2, with the DSTs
// below; H(GID) = hash_to_curve_G2('I' || u32be(len) || GID); F(u) = hash_to_curve_G2('U' ||
// u32be(len) || u). The tag bytes keep the inputs prefix-free and distinct.
inline constexpr std::string_view kG1Dst =
    "CIPHERCHART-MAABE-RW15-V01-CS01-with-BLS12381G1_XMD:SHA-256_SSWU_RO_";
inline constexpr std::string_view kG2Dst =
    "CIPHERCHART-MAABE-RW15-V01-CS01-with-BLS12381G2_XMD:SHA-256_SSWU_RO_";

struct GlobalParams {
  G1 g1;
  G2 g2;
  Gt egg;  // e(g1, g2)
};
const GlobalParams& Global();
G2 HashIdentity(std::string_view gid);
G2 HashAttribute(std::string_view attribute);

// Bounds (checked by KeyGen and the decoders).
inline constexpr std::size_t kMaxGidBytes = 256;  // 1 ..= 256 bytes of UTF-8

// ---- Authorities ----
struct AuthorityPublicKey {
  std::string authority_namespace;
  Gt e_alpha;  // e(g1, g2)^alpha
  G1 g_y;      // g1^y
};

// Wiped when destroyed.
class AuthorityMasterKey {
 public:
  AuthorityMasterKey() = default;
  AuthorityMasterKey(const AuthorityMasterKey&) = default;
  AuthorityMasterKey& operator=(const AuthorityMasterKey&) = default;
  ~AuthorityMasterKey();

  std::string authority_namespace;
  Fr alpha;
  Fr y;
  // g2^alpha, derived (by FromMasterKey and AuthoritySetup; not serialised) because every key
  // needs it; KeyGen computes it when it is left as the identity.
  G2 g2_alpha;
};

// What an authority holds: its master key, the public key it derives, and that key's id.
struct AuthorityKeyPair {
  AuthorityPublicKey pk;
  AuthorityMasterKey msk;
  PublicParamsId id{};  // AuthorityId(pk)
};

// Independent setup of the authority for `authority_namespace` (a namespace as in
// authority.h's ValidateNamespace). Needs nobody else: no global setup, no other authority.
Result<AuthorityKeyPair> AuthoritySetup(std::string_view authority_namespace);
// Rebuilds the pair from a stored master key.
Result<AuthorityKeyPair> FromMasterKey(const AuthorityMasterKey& msk);
// SHA-256 of Serialize(pk) (maabe_serialize.h): names the authority key in keys and ciphertexts.
Result<PublicParamsId> AuthorityId(const AuthorityPublicKey& pk);

// ---- User keys ----
struct AttributeKey {
  G2 k;   // g2^alpha H(GID)^y F(u)^t
  G1 kp;  // g1^t
};

// One authority's keys for one identity. Wiped when destroyed.
class AuthorityKeys {
 public:
  AuthorityKeys() = default;
  AuthorityKeys(const AuthorityKeys&) = default;
  AuthorityKeys& operator=(const AuthorityKeys& other);  // wipes the keys it replaces
  AuthorityKeys(AuthorityKeys&&) = default;
  AuthorityKeys& operator=(AuthorityKeys&& other) noexcept;  // wipes the keys it replaces
  ~AuthorityKeys();

  std::string gid;
  std::string authority_namespace;
  PublicParamsId authority_id{};
  std::map<std::string, AttributeKey> attributes;  // expanded attribute strings
};

// Keys for `gid` and the attribute strings `attributes` (use AttributeSet::Expanded()), every
// one in the authority's namespace; kInvalidArgument names what is wrong otherwise (empty or
// oversized GID, no attributes, an attribute outside the namespace, a key pair whose public key
// is not its master key's). The authority must have authenticated the requester as the owner of
// `gid` first: two people holding keys under one GID can pool them legitimately.
Result<AuthorityKeys> KeyGen(const AuthorityKeyPair& authority, std::string_view gid,
                             const std::set<std::string>& attributes);

// A user's keys from any number of authorities, all for one GID.
struct UserKey {
  std::string gid;
  std::map<std::string, AuthorityKeys> by_authority;  // authority namespace -> its keys
};
// Adds one authority's keys (a UserKey with an empty GID and no keys takes the keys' GID).
// Refuses (kInvalidArgument) keys for another GID ("keys issued to identity A cannot join a key
// of identity B"), malformed keys (invalid namespace, no attributes, an attribute outside the
// namespace, more than 4096), and a second, different key of an authority that is already
// present (its attributes are merged when the authority key is the same). After an authority
// changes its key, keep the keys for the old and the new one in two UserKeys (record.h's
// ReaderKeys takes several).
Result<void> AddKeys(UserKey& user, const AuthorityKeys& keys);

// Checks keys against the authority's public key: for every attribute u,
// e(g1, K) = e(g1,g2)^alpha e(g1^y, H(GID)) e(K', F(u)) (one 3-pair multi-pairing per
// attribute). Decryption does not need this (a wrong key just yields a wrong KEM key, which the
// envelope's AEAD rejects), but a user or a key-distribution service can use it to refuse
// corrupted or mislabelled keys before storing them: kIntegrity naming the first bad attribute,
// kInvalidArgument if the keys name another authority (namespace or key id) than `pk`.
Result<void> VerifyKeys(const AuthorityPublicKey& pk, const AuthorityKeys& keys);

// ---- Encapsulation ----
struct CiphertextAuthority {
  std::string authority_namespace;
  PublicParamsId id{};
  friend bool operator==(const CiphertextAuthority&, const CiphertextAuthority&) = default;
};
struct CiphertextRow {
  Gt c1;
  G1 c2;
  G1 c3;
  G2 c4;
};
struct Ciphertext {
  std::string policy;                            // canonical text
  LsssMatrix matrix;                             // CompileToLsss(policy)
  std::vector<CiphertextAuthority> authorities;  // the authorities the rows use, by namespace
  std::vector<CiphertextRow> rows;               // one per matrix row
};

struct Encapsulation {
  Ciphertext ct;
  SecretBytes key;  // 32 bytes
};

// Encapsulates a fresh key under `policy`, each attribute under the public key of the authority
// that owns it among `authorities` (normally the verified keys an AuthorityDirectory resolved).
// Fails (kInvalidArgument) if an attribute belongs to none of them ("policy attribute X belongs
// to no known authority"), or if two keys claim one namespace.
Result<Encapsulation> Encapsulate(std::span<const AuthorityPublicKey> authorities, const PolicyNode& policy);

// The authority (index into ct.authorities) that owns each matrix row; kInvalidArgument if a
// row has none or an authority owns no row (decoders refuse such ciphertexts).
Result<std::vector<std::size_t>> RowAuthorities(const Ciphertext& ct);

// Recovers the key with the keys of one identity. kInvalidArgument ("the key's attributes do
// not satisfy the policy") when the user's attributes (those of authorities whose key id
// matches the ciphertext's) do not satisfy it.
Result<SecretBytes> Decapsulate(const UserKey& user, const Ciphertext& ct);

// A user key with the Miller-loop lines of its G2 components (every K, and H(GID)) precomputed,
// for a reader who decrypts many ciphertexts: decryption then skips the G2 arithmetic of half
// its pairs (maabe/decrypt_and_prepared). About 20 KB per attribute; the lines are secret and
// wiped with the object. Build it again after adding keys.
class PreparedUserKey {
 public:
  explicit PreparedUserKey(const UserKey& user);
  const UserKey& key() const { return key_; }
  // The prepared K of `attribute` under authority `authority_namespace`, or null.
  const pairing::G2Prepared* Find(const std::string& authority_namespace, const std::string& attribute) const;
  const pairing::G2Prepared& h_gid() const { return h_gid_; }

 private:
  UserKey key_;
  pairing::G2Prepared h_gid_;
  std::map<std::pair<std::string, std::string>, pairing::G2Prepared> lines_;
};
// Decapsulate with a prepared key: same result and errors.
Result<SecretBytes> Decapsulate(const PreparedUserKey& user, const Ciphertext& ct);

// ---- Outsourced decryption (Green, Hohenberger, Waters, USENIX Security 2011, section 3.1,
// applied to RW15) ----
// Every pairing of decryption takes one key component (K, K' or H(GID)), so raising all of them
// to 1/b (b random, the retrieval secret) lets the cloud compute the pairing product to the power
// 1/b; the C1 product needs no key and is computed by the cloud in the clear. The user finishes
// with one GT exponentiation: e(g1, g2)^z = C1prod * (P^(1/b))^b.
struct TransformKey {
  UserKey blinded;  // every K and K' raised to 1/b
  G2 h_gid;         // H(GID)^(1/b)
};
struct TransformKeyPair {
  TransformKeyPair() = default;
  TransformKeyPair(const TransformKeyPair&) = default;
  TransformKeyPair& operator=(const TransformKeyPair&) = default;
  ~TransformKeyPair();  // wipes b

  TransformKey tk;  // may be given to the cloud
  Fr b;             // the retrieval secret: stays with the user
};
Result<TransformKeyPair> MakeTransformKey(const UserKey& user);

struct PartialDecryption {
  Gt c1_product;     // prod_x C1_x^(c_x)
  Gt blinded_pairs;  // the pairing product to the power 1/b
};
// Run by the cloud.
Result<PartialDecryption> Transform(const TransformKey& tk, const Ciphertext& ct);
// Run by the user: one constant-time GT exponentiation and the KDF. Not verifiable (as GHW11's
// CPA construction): a cloud that returns garbage makes the user derive a wrong key, which the
// envelope's AEAD then rejects.
Result<SecretBytes> DecryptTransformed(const Fr& b, const PartialDecryption& partial);

}  // namespace cipherchart::abe::maabe
