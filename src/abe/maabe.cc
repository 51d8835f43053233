// Rouselakis-Waters multi-authority CP-ABE (maabe.h): RW15 section 4 on BLS12-381.
#include "cipherchart/abe/maabe.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "cipherchart/abe/authority.h"
#include "cipherchart/abe/fame_serialize.h"
#include "cipherchart/abe/maabe_serialize.h"
#include "cipherchart/envelope/hash.h"
#include "cipherchart/pairing/hash_to_curve.h"
#include "cipherchart/pairing/parallel.h"
#include "src/abe/hashed_bases.h"
#include "src/abe/maabe_internal.h"
#include "src/abe/policy_internal.h"
#include "src/abe/scheme_internal.h"
#include "src/abe/serialize_internal.h"

namespace cipherchart::abe::maabe {
namespace internal {

std::vector<std::uint8_t> HashInput(std::uint8_t tag, std::string_view text) {
  std::vector<std::uint8_t> msg;
  msg.reserve(text.size() + 5);
  msg.push_back(tag);
  const auto len = static_cast<std::uint32_t>(text.size());
  for (int s = 24; s >= 0; s -= 8) msg.push_back(static_cast<std::uint8_t>(len >> s));
  msg.insert(msg.end(), text.begin(), text.end());
  return msg;
}

}  // namespace internal

namespace {

using detail::BaseRef;
using detail::MulByPublic;
using detail::RandomNonZero;
using detail::Term;
using detail::Wipe;

constexpr std::string_view kKemInfo = "cipherchart maabe rw15 kem v1";
constexpr std::size_t kParallelKeyGenAttributes = 8;

// The global parameters' bases with their fixed-base tables.
struct GlobalTables {
  BaseRef g1;                      // G1 table
  pairing::FixedBaseTable<G2> g2;  // G2 table
  pairing::GtFixedBase egg;        // GT table
};
const GlobalTables& Tables() {
  static const GlobalTables t = [] {
    const auto& gp = Global();
    auto g1 = std::make_shared<detail::Base>();
    g1->point = gp.g1;
    g1->table = std::make_shared<const pairing::G1FixedBase>(gp.g1);
    return GlobalTables{BaseRef(g1), pairing::FixedBaseTable<G2>(gp.g2), pairing::GtFixedBase(gp.egg)};
  }();
  return t;
}

// An authority public key's bases with tables (g1^y in G1, e(g1, g2)^alpha in GT), built at the
// key's second encapsulation (about 1 ms and 200 KB) and kept for at most kMaxKeys keys.
struct AuthorityTables {
  BaseRef g_y;
  std::shared_ptr<const pairing::GtFixedBase> e_alpha;  // null until built
};
class AuthorityTableCache {
 public:
  static AuthorityTableCache& Instance() {
    static AuthorityTableCache cache;
    return cache;
  }
  AuthorityTables Get(const AuthorityPublicKey& pk, const PublicParamsId& id) {
    std::string key(id.begin(), id.end());
    {
      std::lock_guard lock(mu_);
      auto it = entries_.find(key);
      if (it != entries_.end() && it->second.tables.e_alpha) return it->second.tables;
      if (it != entries_.end() && ++it->second.uses < kTableAfterUses) return it->second.tables;
      if (it == entries_.end()) {
        if (entries_.size() >= kMaxKeys) entries_.clear();
        auto base = std::make_shared<detail::Base>();
        base->point = pk.g_y;
        entries_[key] = Slot{AuthorityTables{BaseRef(base), nullptr}, 1};
        return entries_[key].tables;
      }
    }
    auto base = std::make_shared<detail::Base>();
    base->point = pk.g_y;
    base->table = std::make_shared<const pairing::G1FixedBase>(pk.g_y);
    AuthorityTables built{BaseRef(base), std::make_shared<const pairing::GtFixedBase>(pk.e_alpha)};
    std::lock_guard lock(mu_);
    entries_[key] = Slot{built, kTableAfterUses};
    return built;
  }

 private:
  static constexpr std::size_t kMaxKeys = 64;
  static constexpr std::uint32_t kTableAfterUses = 2;
  struct Slot {
    AuthorityTables tables;
    std::uint32_t uses = 0;
  };
  std::mutex mu_;
  std::map<std::string, Slot> entries_;
};

detail::G2BaseRef AttributeBase(std::string_view attribute) {
  return detail::HashedG2Base(kG2Dst, internal::HashInput('U', attribute));
}

// The authority among `namespaces` that owns `label`: the longest namespace containing it.
template <class GetNamespace, class Range>
std::optional<std::size_t> Owner(std::string_view label, const Range& items, GetNamespace ns_of) {
  std::optional<std::size_t> best;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const std::string& ns = ns_of(items[i]);
    if (IsBelowNamespace(label, ns) && (!best || ns.size() > ns_of(items[*best]).size())) best = i;
  }
  return best;
}

Result<void> CheckGid(std::string_view gid) {
  if (gid.empty() || gid.size() > kMaxGidBytes || !detail::IsValidUtf8(gid)) {
    return Fail(ErrorCode::kInvalidArgument,
                "identity (GID): must be 1 ..= " + std::to_string(kMaxGidBytes) + " bytes of UTF-8");
  }
  return {};
}

}  // namespace

const GlobalParams& Global() {
  static const GlobalParams gp = [] {
    GlobalParams p;
    const auto msg = internal::HashInput('G', "generator");
    auto g1 = pairing::HashToG1(msg, pairing::AsBytes(kG1Dst));
    auto g2 = pairing::HashToG2(msg, pairing::AsBytes(kG2Dst));
    if (!g1 || !g2) std::abort();  // only for an empty DST or oversized output: impossible here
    p.g1 = *g1;
    p.g2 = *g2;
    p.egg = pairing::Pairing(p.g1, p.g2);
    return p;
  }();
  return gp;
}

G2 HashIdentity(std::string_view gid) {
  auto p = pairing::HashToG2(internal::HashInput('I', gid), pairing::AsBytes(kG2Dst));
  if (!p) std::abort();
  return *p;
}

G2 HashAttribute(std::string_view attribute) { return AttributeBase(attribute)->point; }

AuthorityMasterKey::~AuthorityMasterKey() {
  Wipe(alpha);
  Wipe(y);
  Wipe(g2_alpha);
}
AuthorityKeys::~AuthorityKeys() {
  for (auto& [name, key] : attributes) Wipe(key);
}
AuthorityKeys& AuthorityKeys::operator=(const AuthorityKeys& other) {
  if (this == &other) return *this;
  for (auto& [name, key] : attributes) Wipe(key);
  gid = other.gid;
  authority_namespace = other.authority_namespace;
  authority_id = other.authority_id;
  attributes = other.attributes;
  return *this;
}
AuthorityKeys& AuthorityKeys::operator=(AuthorityKeys&& other) noexcept {
  if (this == &other) return *this;
  for (auto& [name, key] : attributes) Wipe(key);
  gid = std::move(other.gid);
  authority_namespace = std::move(other.authority_namespace);
  authority_id = other.authority_id;
  attributes = std::move(other.attributes);
  return *this;
}
TransformKeyPair::~TransformKeyPair() { Wipe(b); }

Result<PublicParamsId> AuthorityId(const AuthorityPublicKey& pk) {
  auto bytes = Serialize(pk);
  if (!bytes) return std::unexpected(bytes.error());
  return envelope::Sha256Of(*bytes);
}

Result<AuthorityKeyPair> FromMasterKey(const AuthorityMasterKey& msk) {
  if (auto ok = ValidateNamespace(msk.authority_namespace); !ok) return std::unexpected(ok.error());
  if (msk.alpha.IsZero() || msk.y.IsZero())
    return Fail(ErrorCode::kInvalidArgument, "authority master key: alpha and y must be non-zero");
  AuthorityKeyPair out;
  out.msk = msk;
  out.msk.g2_alpha = Tables().g2.Mul(msk.alpha);
  out.pk.authority_namespace = msk.authority_namespace;
  out.pk.e_alpha = Tables().egg.Pow(msk.alpha);
  out.pk.g_y = Tables().g1->table->Mul(msk.y);
  auto id = AuthorityId(out.pk);
  if (!id) return std::unexpected(id.error());
  out.id = *id;
  return out;
}

namespace internal {

Result<AuthorityKeyPair> AuthoritySetupWith(std::string_view authority_namespace,
                                            const ScalarSource& random) {
  if (auto ok = ValidateNamespace(authority_namespace); !ok) return std::unexpected(ok.error());
  AuthorityMasterKey msk;
  msk.authority_namespace = std::string(authority_namespace);
  auto alpha = RandomNonZero(random);
  if (!alpha) return std::unexpected(alpha.error());
  msk.alpha = *alpha;
  Wipe(*alpha);
  auto y = RandomNonZero(random);
  if (!y) return std::unexpected(y.error());
  msk.y = *y;
  Wipe(*y);
  return FromMasterKey(msk);
}

Result<AuthorityKeys> KeyGenWith(const AuthorityKeyPair& authority, std::string_view gid,
                                 const std::set<std::string>& attributes, const ScalarSource& random) {
  if (auto ok = CheckGid(gid); !ok) return std::unexpected(ok.error());
  if (attributes.empty()) return Fail(ErrorCode::kInvalidArgument, "key generation: no attributes");
  if (attributes.size() > fame::kMaxSerializedAttributes) {
    return Fail(
        ErrorCode::kInvalidArgument,
        "key generation: more than " + std::to_string(fame::kMaxSerializedAttributes) + " attributes");
  }
  const std::string& ns = authority.pk.authority_namespace;
  // A hand-assembled pair whose parts disagree would issue keys that open nothing.
  G1 g_y = Tables().g1->table->Mul(authority.msk.y);
  const bool pair_matches = ns == authority.msk.authority_namespace && g_y == authority.pk.g_y;
  Wipe(g_y);
  auto id = AuthorityId(authority.pk);
  if (!id) return std::unexpected(id.error());
  if (!pair_matches || *id != authority.id) {
    return Fail(ErrorCode::kInvalidArgument,
                "key generation: the authority's public key, master key and key id do not belong together");
  }
  for (const auto& a : attributes) {
    if (!IsBelowNamespace(a, ns)) {
      std::string message = "key generation: attribute \"" + a;
      message += "\" is not in authority namespace \"" + ns + "\"";
      return Fail(ErrorCode::kInvalidArgument, message);
    }
    if (a.size() > fame::kMaxSerializedAttributeBytes || !detail::IsValidUtf8(a)) {
      return Fail(ErrorCode::kInvalidArgument, "key generation: attribute \"" + a + "\" is longer than " +
                                                   std::to_string(fame::kMaxSerializedAttributeBytes) +
                                                   " bytes or not UTF-8");
    }
  }
  std::vector<Fr> t(attributes.size());
  for (auto& ti : t) {
    auto r = RandomNonZero(random);
    if (!r) {
      SecureWipe(t.data(), t.size() * sizeof(Fr));
      return std::unexpected(r.error());
    }
    ti = *r;
    Wipe(*r);
  }
  // g2^alpha H(GID)^y is common to all of this identity's attributes from this authority.
  // Item 0 of the parallel loop computes H(GID)^y, item i >= 1 F(u_i)^(t_i): independent G2
  // multiplications (the expensive part), split over the worker threads.
  std::vector<std::pair<std::string, detail::G2BaseRef>> bases;
  bases.reserve(attributes.size());
  for (const auto& a : attributes) bases.emplace_back(a, AttributeBase(a));
  // A handful of multiplications is not worth the hand-off to the worker threads (measured:
  // maabe/keygen/10 was slower with it on the 2-core development machine).
  std::vector<G2> g2_products(attributes.size() + 1);
  auto compute = [&](std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i) {
      g2_products[i] = i == 0 ? HashIdentity(gid).Mul(authority.msk.y) : bases[i - 1].second->Mul(t[i - 1]);
    }
  };
  if (attributes.size() >= kParallelKeyGenAttributes) {
    pairing::ParallelChunks(g2_products.size(), compute);
  } else {
    compute(0, g2_products.size());
  }
  G2 g2_alpha =
      authority.msk.g2_alpha.IsIdentity() ? Tables().g2.Mul(authority.msk.alpha) : authority.msk.g2_alpha;
  G2 common = g2_alpha + g2_products[0];
  Wipe(g2_alpha);
  AuthorityKeys out;
  out.gid = std::string(gid);
  out.authority_namespace = ns;
  out.authority_id = authority.id;
  std::vector<G1> kp(attributes.size(), G1::Identity());
  std::vector<Term> terms;
  terms.reserve(attributes.size());
  for (std::size_t i = 0; i < bases.size(); ++i) {
    out.attributes[bases[i].first].k = common + g2_products[i + 1];
    terms.push_back({Tables().g1, t[i], i});
  }
  detail::AddProducts(terms, kp);
  std::size_t i = 0;
  for (auto& [name, key] : out.attributes) key.kp = kp[i++];
  SecureWipe(g2_products.data(), g2_products.size() * sizeof(G2));
  SecureWipe(kp.data(), kp.size() * sizeof(G1));
  SecureWipe(t.data(), t.size() * sizeof(Fr));
  Wipe(common);
  return out;
}

Result<Encapsulation> EncapsulateWith(std::span<const AuthorityPublicKey> authorities,
                                      const PolicyNode& policy, const ScalarSource& random) {
  for (std::size_t i = 0; i < authorities.size(); ++i) {
    if (auto ok = ValidateNamespace(authorities[i].authority_namespace); !ok)
      return std::unexpected(ok.error());
    for (std::size_t j = 0; j < i; ++j) {
      if (authorities[j].authority_namespace == authorities[i].authority_namespace) {
        return Fail(ErrorCode::kInvalidArgument, "encapsulation: two public keys for authority \"" +
                                                     authorities[i].authority_namespace + "\"");
      }
    }
  }
  auto matrix = CompileToLsss(policy);
  if (!matrix) return std::unexpected(matrix.error());
  const std::size_t rows = matrix->rows.size(), cols = matrix->columns;

  // Which authority owns each row; the ciphertext lists the used ones by namespace.
  std::vector<std::size_t> owner(rows);
  std::map<std::string, std::size_t> used;  // namespace -> index into `authorities`
  for (std::size_t x = 0; x < rows; ++x) {
    auto o = Owner(matrix->rho[x], authorities,
                   [](const AuthorityPublicKey& pk) -> const std::string& { return pk.authority_namespace; });
    if (!o) {
      return Fail(ErrorCode::kInvalidArgument,
                  "policy attribute \"" + matrix->rho[x] + "\" belongs to no known authority");
    }
    owner[x] = *o;
    used.emplace(authorities[*o].authority_namespace, *o);
  }
  Encapsulation out;
  std::vector<AuthorityTables> tables(authorities.size());
  for (const auto& [ns, index] : used) {
    auto id = AuthorityId(authorities[index]);
    if (!id) return std::unexpected(id.error());
    out.ct.authorities.push_back({ns, *id});
    tables[index] = AuthorityTableCache::Instance().Get(authorities[index], *id);
  }

  // Randomness, in this order: z, v_2..v_l, w_2..w_l, t_1..t_n.
  std::vector<Fr> v(cols), w(cols, Fr::Zero()), t(rows);
  auto wipe_all = [&] {
    SecureWipe(v.data(), v.size() * sizeof(Fr));
    SecureWipe(w.data(), w.size() * sizeof(Fr));
    SecureWipe(t.data(), t.size() * sizeof(Fr));
  };
  auto draw = [&](Fr& into) -> Result<void> {
    auto r = random();
    if (!r) return std::unexpected(r.error());
    into = *r;
    Wipe(*r);
    return {};
  };
  for (std::size_t j = 0; j < cols; ++j) {
    if (auto ok = draw(v[j]); !ok) {
      wipe_all();
      return std::unexpected(ok.error());
    }
  }
  for (std::size_t j = 1; j < cols; ++j) {
    if (auto ok = draw(w[j]); !ok) {
      wipe_all();
      return std::unexpected(ok.error());
    }
  }
  for (auto& tx : t) {
    if (auto ok = draw(tx); !ok) {
      wipe_all();
      return std::unexpected(ok.error());
    }
  }
  // lambda_x = M_x . v and omega_x = M_x . w (M public and small).
  std::vector<Fr> lambda(rows, Fr::Zero()), omega(rows, Fr::Zero());
  for (std::size_t x = 0; x < rows; ++x) {
    for (std::size_t j = 0; j < cols; ++j) {
      const std::int64_t m = matrix->rows[x][j];
      if (m == 0) continue;
      const Fr mf = abe::internal::FrFromInt64(m);
      lambda[x] += mf * v[j];
      omega[x] += mf * w[j];
    }
  }

  // G1: C2 = g1^(-t), C3 = (g1^y)^t g1^omega, as one batch.
  std::vector<G1> g1_slots(2 * rows, G1::Identity());
  std::vector<Term> terms;
  terms.reserve(3 * rows);
  for (std::size_t x = 0; x < rows; ++x) {
    terms.push_back({Tables().g1, -t[x], 2 * x});
    terms.push_back({tables[owner[x]].g_y, t[x], 2 * x + 1});
    terms.push_back({Tables().g1, omega[x], 2 * x + 1});
  }
  detail::AddProducts(terms, g1_slots);

  // G2 and GT, row by row, split over the worker threads.
  out.ct.rows.resize(rows);
  std::vector<detail::G2BaseRef> f(rows);
  for (std::size_t x = 0; x < rows; ++x) f[x] = AttributeBase(matrix->rho[x]);
  pairing::ParallelChunks(rows, [&](std::size_t begin, std::size_t end) {
    for (std::size_t x = begin; x < end; ++x) {
      auto& row = out.ct.rows[x];
      const auto& e_alpha = tables[owner[x]].e_alpha;
      // Both factors are secret (enough e(g1,g2)^lambda_x rebuild the KEM secret): wiped.
      Gt own = e_alpha ? e_alpha->Pow(t[x]) : authorities[owner[x]].e_alpha.Pow(t[x]);
      Gt share = Tables().egg.Pow(lambda[x]);
      row.c1 = share * own;
      Wipe(own);
      Wipe(share);
      row.c2 = g1_slots[2 * x];
      row.c3 = g1_slots[2 * x + 1];
      row.c4 = f[x]->Mul(t[x]);
    }
  });
  Gt shared = Tables().egg.Pow(v[0]);
  auto key = detail::DeriveKemKey(shared, kKemInfo);
  Wipe(shared);
  wipe_all();
  SecureWipe(lambda.data(), lambda.size() * sizeof(Fr));
  SecureWipe(omega.data(), omega.size() * sizeof(Fr));
  if (!key) return std::unexpected(key.error());
  out.key = std::move(*key);
  out.ct.policy = PolicyToString(policy);
  out.ct.matrix = std::move(*matrix);
  return out;
}

Result<TransformKeyPair> MakeTransformKeyWith(const UserKey& user, const ScalarSource& random) {
  if (auto ok = CheckGid(user.gid); !ok) return std::unexpected(ok.error());
  auto b = RandomNonZero(random);
  if (!b) return std::unexpected(b.error());
  Fr b_inv = b->Inverse();
  TransformKeyPair out;
  out.b = *b;
  Wipe(*b);
  out.tk.blinded.gid = user.gid;
  for (const auto& [ns, keys] : user.by_authority) {
    AuthorityKeys blinded;
    blinded.gid = keys.gid;
    blinded.authority_namespace = keys.authority_namespace;
    blinded.authority_id = keys.authority_id;
    for (const auto& [name, key] : keys.attributes)
      blinded.attributes[name] = {key.k.Mul(b_inv), key.kp.Mul(b_inv)};
    out.tk.blinded.by_authority.emplace(ns, std::move(blinded));
  }
  out.tk.h_gid = HashIdentity(user.gid).Mul(b_inv);
  Wipe(b_inv);
  return out;
}

}  // namespace internal

Result<AuthorityKeyPair> AuthoritySetup(std::string_view authority_namespace) {
  return internal::AuthoritySetupWith(authority_namespace, &Fr::Random);
}

Result<AuthorityKeys> KeyGen(const AuthorityKeyPair& authority, std::string_view gid,
                             const std::set<std::string>& attributes) {
  return internal::KeyGenWith(authority, gid, attributes, &Fr::Random);
}

Result<Encapsulation> Encapsulate(std::span<const AuthorityPublicKey> authorities, const PolicyNode& policy) {
  return internal::EncapsulateWith(authorities, policy, &Fr::Random);
}

Result<TransformKeyPair> MakeTransformKey(const UserKey& user) {
  return internal::MakeTransformKeyWith(user, &Fr::Random);
}

Result<void> AddKeys(UserKey& user, const AuthorityKeys& keys) {
  if (user.gid.empty() && user.by_authority.empty()) user.gid = keys.gid;
  if (auto ok = CheckGid(keys.gid); !ok) return ok;
  if (auto ok = ValidateNamespace(keys.authority_namespace); !ok) return ok;
  if (keys.attributes.empty()) {
    return Fail(ErrorCode::kInvalidArgument,
                "keys of authority \"" + keys.authority_namespace + "\" hold no attribute");
  }
  for (const auto& [name, key] : keys.attributes) {
    if (!IsBelowNamespace(name, keys.authority_namespace)) {
      return Fail(ErrorCode::kInvalidArgument, "keys of authority \"" + keys.authority_namespace +
                                                   "\" hold attribute \"" + name +
                                                   "\" outside its namespace");
    }
  }
  if (keys.gid != user.gid) {
    return Fail(ErrorCode::kInvalidArgument, "keys issued to identity \"" + keys.gid +
                                                 "\" cannot join a key of identity \"" + user.gid + "\"");
  }
  auto it = user.by_authority.find(keys.authority_namespace);
  if (it == user.by_authority.end()) {
    user.by_authority.emplace(keys.authority_namespace, keys);
    return {};
  }
  if (it->second.authority_id != keys.authority_id) {
    return Fail(ErrorCode::kInvalidArgument, "the key already holds attributes of authority \"" +
                                                 keys.authority_namespace +
                                                 "\" under another authority public key");
  }
  std::size_t merged = it->second.attributes.size();
  for (const auto& [name, key] : keys.attributes) merged += it->second.attributes.contains(name) ? 0 : 1;
  if (merged > fame::kMaxSerializedAttributes) {
    return Fail(ErrorCode::kInvalidArgument,
                "keys of authority \"" + keys.authority_namespace + "\": more than " +
                    std::to_string(fame::kMaxSerializedAttributes) + " attributes");
  }
  for (const auto& [name, key] : keys.attributes) it->second.attributes.insert_or_assign(name, key);
  return {};
}

Result<void> VerifyKeys(const AuthorityPublicKey& pk, const AuthorityKeys& keys) {
  auto id = AuthorityId(pk);
  if (!id) return std::unexpected(id.error());
  if (keys.authority_namespace != pk.authority_namespace || keys.authority_id != *id) {
    return Fail(ErrorCode::kInvalidArgument, "keys of authority \"" + keys.authority_namespace +
                                                 "\" are not for the public key of \"" +
                                                 pk.authority_namespace + "\" given");
  }
  if (auto ok = CheckGid(keys.gid); !ok) return ok;
  // e(g1, K) e(g1^y, H)^-1 e(K', F(u))^-1 must be e(g1,g2)^alpha.
  const G2 h = HashIdentity(keys.gid);
  for (const auto& [name, key] : keys.attributes) {
    const std::array<G1, 3> ps = {Global().g1, -pk.g_y, -key.kp};
    const std::array<G2, 3> qs = {key.k, h, HashAttribute(name)};
    if (!(pairing::PairingProduct(ps, qs) == pk.e_alpha)) {
      return Fail(ErrorCode::kIntegrity, "key for attribute \"" + name + "\" of identity \"" + keys.gid +
                                             "\" does not verify under the authority's public key");
    }
  }
  return {};
}

Result<std::vector<std::size_t>> RowAuthorities(const Ciphertext& ct) {
  std::vector<std::size_t> owner(ct.matrix.rho.size());
  std::vector<bool> seen(ct.authorities.size(), false);
  for (std::size_t x = 0; x < owner.size(); ++x) {
    auto o = Owner(ct.matrix.rho[x], ct.authorities,
                   [](const CiphertextAuthority& a) -> const std::string& { return a.authority_namespace; });
    if (!o) {
      return Fail(ErrorCode::kInvalidArgument, "ciphertext: policy attribute \"" + ct.matrix.rho[x] +
                                                   "\" belongs to none of its authorities");
    }
    owner[x] = *o;
    seen[*o] = true;
  }
  for (std::size_t i = 0; i < seen.size(); ++i) {
    if (!seen[i]) {
      return Fail(ErrorCode::kInvalidArgument, "ciphertext: authority \"" +
                                                   ct.authorities[i].authority_namespace +
                                                   "\" owns no attribute of the policy");
    }
  }
  return owner;
}

namespace {

// The two halves of decryption: prod_x C1_x^(c_x), and the pairing product
// prod_x e(C2_x, K_x)^(c_x) e(C3_x, H)^(c_x) e(K'_x, C4_x)^(c_x) (each c_x moved onto the G1
// side, and the C3 terms summed since they share H), from a possibly blinded key and H.
struct Halves {
  Gt c1_product;
  Gt pairs;
};
// With `prepared`, the pairs with a key G2 component (K_x, H(GID)) use its precomputed lines.
Result<Halves> DecryptionHalves(const UserKey& user, const G2& h, const Ciphertext& ct,
                                const PreparedUserKey* prepared = nullptr) {
  const std::size_t rows = ct.matrix.rows.size();
  if (ct.rows.size() != rows || ct.matrix.rho.size() != rows) {
    return Fail(ErrorCode::kInvalidArgument, "multi-authority ciphertext: " + std::to_string(ct.rows.size()) +
                                                 " rows for a matrix of " + std::to_string(rows) + " rows");
  }
  auto owner = RowAuthorities(ct);
  if (!owner) return std::unexpected(owner.error());
  // The row labels this identity holds a key for, under the very authority key the row used.
  std::vector<const AttributeKey*> key_of(rows, nullptr);
  std::vector<const pairing::G2Prepared*> lines_of(rows, nullptr);
  std::set<std::string> have;
  for (std::size_t x = 0; x < rows; ++x) {
    const auto& a = ct.authorities[(*owner)[x]];
    auto it = user.by_authority.find(a.authority_namespace);
    if (it == user.by_authority.end() || it->second.authority_id != a.id || it->second.gid != user.gid)
      continue;
    auto k = it->second.attributes.find(ct.matrix.rho[x]);
    if (k == it->second.attributes.end()) continue;
    key_of[x] = &k->second;
    if (prepared != nullptr) {
      lines_of[x] = prepared->Find(a.authority_namespace, ct.matrix.rho[x]);
      if (lines_of[x] == nullptr) continue;  // a key added after preparing: not usable here
    }
    have.insert(ct.matrix.rho[x]);
  }
  const auto rec = ReconstructionCoefficients(ct.matrix, have);
  if (!rec) return Fail(ErrorCode::kInvalidArgument, "the key's attributes do not satisfy the policy");

  const std::size_t used = rec->rows.size();
  // Pairs whose G2 side is the key's (K_x, H(GID)) and pairs whose G2 side is the
  // ciphertext's (C4_x); the first kind uses precomputed lines when the key is prepared.
  std::vector<G1> key_ps, ct_ps;
  std::vector<G2> key_qs, ct_qs;
  std::vector<const pairing::G2Prepared*> key_lines;
  key_ps.reserve(used + 1);
  ct_ps.reserve(used);
  ct_qs.reserve(used);
  Halves out;
  G1 c3_sum = G1::Identity();
  for (std::size_t n = 0; n < used; ++n) {
    const std::size_t x = rec->rows[n];
    const Fr& c = rec->coefficients[n];
    const CiphertextRow& row = ct.rows[x];
    out.c1_product *= c.IsOne() ? row.c1 : row.c1.PowVartime(c);  // public values
    key_ps.push_back(MulByPublic(row.c2, c));
    if (prepared != nullptr) {
      key_lines.push_back(lines_of[x]);
    } else {
      key_qs.push_back(key_of[x]->k);
    }
    ct_ps.push_back(MulByPublic(key_of[x]->kp, c));
    ct_qs.push_back(row.c4);
    c3_sum += MulByPublic(row.c3, c);
  }
  key_ps.push_back(c3_sum);
  if (prepared != nullptr) {
    key_lines.push_back(&prepared->h_gid());
    pairing::Fp12 f =
        pairing::MillerLoopProduct(key_ps, key_lines) * pairing::MillerLoopProduct(ct_ps, ct_qs);
    out.pairs = Gt::FromFp12Unchecked(pairing::FinalExponentiation(f));
    Wipe(f);
  } else {
    key_qs.push_back(h);
    key_ps.insert(key_ps.end(), ct_ps.begin(), ct_ps.end());
    key_qs.insert(key_qs.end(), ct_qs.begin(), ct_qs.end());
    out.pairs = pairing::PairingProduct(key_ps, key_qs);
  }
  SecureWipe(key_ps.data(), key_ps.size() * sizeof(G1));
  SecureWipe(ct_ps.data(), ct_ps.size() * sizeof(G1));
  SecureWipe(key_qs.data(), key_qs.size() * sizeof(G2));
  return out;
}

// The KEM key from the two halves of a (non-outsourced) decryption; wipes them.
Result<SecretBytes> KeyFromHalves(Result<Halves> halves) {
  if (!halves) return std::unexpected(halves.error());
  Gt shared = halves->c1_product * halves->pairs;
  auto key = detail::DeriveKemKey(shared, kKemInfo);
  Wipe(shared);
  Wipe(*halves);
  return key;
}

}  // namespace

Result<SecretBytes> Decapsulate(const UserKey& user, const Ciphertext& ct) {
  if (auto ok = CheckGid(user.gid); !ok) return std::unexpected(ok.error());
  return KeyFromHalves(DecryptionHalves(user, HashIdentity(user.gid), ct));
}

PreparedUserKey::PreparedUserKey(const UserKey& user) : key_(user), h_gid_(HashIdentity(user.gid)) {
  for (const auto& [ns, keys] : key_.by_authority) {
    for (const auto& [name, key] : keys.attributes)
      lines_.emplace(std::pair(ns, name), pairing::G2Prepared(key.k));
  }
}

const pairing::G2Prepared* PreparedUserKey::Find(const std::string& authority_namespace,
                                                 const std::string& attribute) const {
  auto it = lines_.find(std::pair(authority_namespace, attribute));
  return it == lines_.end() ? nullptr : &it->second;
}

Result<SecretBytes> Decapsulate(const PreparedUserKey& user, const Ciphertext& ct) {
  if (auto ok = CheckGid(user.key().gid); !ok) return std::unexpected(ok.error());
  return KeyFromHalves(DecryptionHalves(user.key(), G2::Identity(), ct, &user));
}

Result<PartialDecryption> Transform(const TransformKey& tk, const Ciphertext& ct) {
  auto halves = DecryptionHalves(tk.blinded, tk.h_gid, ct);
  if (!halves) return std::unexpected(halves.error());
  return PartialDecryption{halves->c1_product, halves->pairs};
}

Result<SecretBytes> DecryptTransformed(const Fr& b, const PartialDecryption& partial) {
  Gt unblinded = partial.blinded_pairs.Pow(b);
  Gt shared = partial.c1_product * unblinded;
  Wipe(unblinded);
  auto key = detail::DeriveKemKey(shared, kKemInfo);
  Wipe(shared);
  return key;
}

}  // namespace cipherchart::abe::maabe
