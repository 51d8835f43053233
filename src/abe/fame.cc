// FAME CP-ABE KEM (Agrawal-Chase, CCS 2017, section 3, k = 2). See fame.h. Names follow the
// paper: A = diag(a1, a2) with a last row of ones, B likewise with b1, b2; Br = (b1 r1, b2 r2,
// r1 + r2); the random oracle H is hash_to_curve into G1 (RFC 9380).
#include "cipherchart/abe/fame.h"

#include <string>

#include "cipherchart/pairing/hash_to_curve.h"
#include "src/abe/hashed_bases.h"
#include "src/abe/scheme_internal.h"

namespace cipherchart::abe::fame {
namespace {

using detail::AddProducts;
using detail::AttributeHashInput;
using detail::ColumnHashInput;
using detail::GeneratorBase;
using detail::HashedBase;
using detail::MulByPublic;
using detail::MulBySmall;
using detail::MulG2Generator;
using detail::RandomNonZero;
using detail::Term;
using detail::Wipe;

// The KEM key (detail::DeriveKemKey) with CP-ABE's info string.
Result<SecretBytes> DeriveKey(const Gt& shared) {
  return detail::DeriveKemKey(shared, "cipherchart fame kem v1");
}

}  // namespace

MasterKey::~MasterKey() {
  Wipe(a);
  Wipe(b);
  Wipe(g_d);
}
SecretKey::~SecretKey() {
  Wipe(k0);
  Wipe(kp);
  for (auto& [name, v] : k) Wipe(v);
  for (auto& d : delegation) {
    Wipe(d.k0);
    Wipe(d.kp);
    for (auto& [name, v] : d.k) Wipe(v);
  }
}

G1 HashAttribute(std::string_view attribute, int l, int t) {
  return HashedBase(AttributeHashInput(attribute, l, t))->point;
}

G1 HashColumn(std::size_t column, int l, int t) { return HashedBase(ColumnHashInput(column, l, t))->point; }

Result<SetupResult> Setup() {
  SetupResult out;
  const G1 g = G1::Generator();
  const G2 h = G2::Generator();
  std::array<Fr, 3> d;
  for (int i = 0; i < 2; ++i) {
    auto a = RandomNonZero();
    auto b = RandomNonZero();
    if (!a || !b) return std::unexpected(a ? b.error() : a.error());
    out.msk.a[i] = *a;
    out.msk.b[i] = *b;
  }
  for (auto& di : d) {
    auto r = Fr::Random();
    if (!r) return std::unexpected(r.error());
    di = *r;
  }
  out.pk.h_a = {h.Mul(out.msk.a[0]), h.Mul(out.msk.a[1]), h};
  const Gt e_gh = pairing::Pairing(g, h);
  for (int t = 0; t < 2; ++t) out.pk.t[t] = e_gh.Pow(d[t] * out.msk.a[t] + d[2]);
  for (int i = 0; i < 3; ++i) out.msk.g_d[i] = g.Mul(d[i]);
  Wipe(d);
  return out;
}

Result<SecretKey> KeyGen(const MasterKey& msk, const std::set<std::string>& attributes, KeyKind kind) {
  // A delegable key is three keys for the same attributes computed in one batch: the key
  // itself (index 0) and its two delegation bases (indices 1, 2: no g^d, see fame.h).
  const std::size_t keys = kind == KeyKind::kDelegable ? 3 : 1;
  const std::size_t n = attributes.size();
  const std::size_t per_key = 3 * n + 3;
  std::array<Fr, 2> a_inv = {msk.a[0].Inverse(), msk.a[1].Inverse()};
  std::array<std::array<G2, 3>, 3> k0;
  // All G1 components in one batch: for key number q, slots q (3n + 3) + 3a + t for attribute
  // number a and q (3n + 3) + 3n + t for sk':
  //   sk_{y,t} = prod_l H(y,l,t)^(Br_l / a_t) * g^(sigma_y / a_t),   sk_{y,3} = g^(-sigma_y)
  //   sk'_t = g^(d_t) * prod_l H(0 1, l, t)^(Br_l / a_t) * g^(sigma' / a_t),  sk'_3 = g^(d_3) g^(-sigma')
  std::vector<G1> slots(keys * per_key, G1::Identity());
  std::vector<Term> terms;
  terms.reserve(keys * (9 * n + 9));
  const auto g = GeneratorBase();
  // The hashed bases are the same for the three keys: look them up once.
  std::vector<std::array<std::array<detail::BaseRef, 2>, 3>> bases(n);
  std::size_t a = 0;
  for (const auto& y : attributes) {
    for (int l = 0; l < 3; ++l)
      for (int t = 0; t < 2; ++t) bases[a][l][t] = HashedBase(AttributeHashInput(y, l, t));
    ++a;
  }
  std::array<std::array<detail::BaseRef, 2>, 3> column_bases;
  for (int l = 0; l < 3; ++l)
    for (int t = 0; t < 2; ++t) column_bases[l][t] = HashedBase(ColumnHashInput(1, l, t));

  // All randomness at once: per key r1, r2, one sigma per attribute and sigma'.
  std::vector<Fr> random(keys * (n + 3));
  if (auto ok = Fr::RandomMany(random); !ok) return std::unexpected(ok.error());
  for (std::size_t q = 0; q < keys; ++q) {
    const Fr* rnd = &random[q * (n + 3)];
    std::array<Fr, 2> r = {rnd[0], rnd[1]};
    std::array<Fr, 3> br = {msk.b[0] * r[0], msk.b[1] * r[1], r[0] + r[1]};
    for (int l = 0; l < 3; ++l) k0[q][l] = MulG2Generator(br[l]);
    // e[l][t] = Br_l / a_t, the exponent of every H(., l, t) in the key.
    std::array<std::array<Fr, 2>, 3> e;
    for (int l = 0; l < 3; ++l)
      for (int t = 0; t < 2; ++t) e[l][t] = br[l] * a_inv[t];
    const std::size_t base = q * per_key;
    for (a = 0; a < n; ++a) {
      const Fr& sigma = rnd[2 + a];
      for (int t = 0; t < 2; ++t) {
        terms.push_back({g, sigma * a_inv[t], base + 3 * a + t});
        for (int l = 0; l < 3; ++l) terms.push_back({bases[a][l][t], e[l][t], base + 3 * a + t});
      }
      terms.push_back({g, -sigma, base + 3 * a + 2});
    }
    const Fr& sigma = rnd[2 + n];
    for (int t = 0; t < 2; ++t) {
      terms.push_back({g, sigma * a_inv[t], base + 3 * n + t});
      for (int l = 0; l < 3; ++l) terms.push_back({column_bases[l][t], e[l][t], base + 3 * n + t});
    }
    terms.push_back({g, -sigma, base + 3 * n + 2});
    if (q == 0) {
      for (int t = 0; t < 3; ++t) slots[3 * n + t] = msk.g_d[t];
    }
    Wipe(e);
    Wipe(r);
    Wipe(br);
  }
  SecureWipe(random.data(), random.size() * sizeof(Fr));
  AddProducts(terms, slots);

  SecretKey sk;
  auto fill = [&](std::size_t q, std::map<std::string, std::array<G1, 3>>& k, std::array<G1, 3>& kp) {
    const std::size_t base = q * per_key;
    std::size_t i = 0;
    for (const auto& y : attributes) {
      k.emplace(y, std::array<G1, 3>{slots[base + 3 * i], slots[base + 3 * i + 1], slots[base + 3 * i + 2]});
      ++i;
    }
    kp = {slots[base + 3 * n], slots[base + 3 * n + 1], slots[base + 3 * n + 2]};
  };
  sk.k0 = k0[0];
  fill(0, sk.k, sk.kp);
  for (std::size_t q = 1; q < keys; ++q) {
    DelegationBasis& d = sk.delegation.emplace_back();
    d.k0 = k0[q];
    fill(q, d.k, d.kp);
  }
  SecureWipe(slots.data(), slots.size() * sizeof(slots[0]));
  Wipe(k0);
  Wipe(a_inv);
  return sk;
}

namespace {

// p + c1 q1 + c2 q2 for secret points and scalars (constant-time multiplications).
template <class Point>
Point Combine(const Point& p, const Point& q1, const Fr& c1, const Point& q2, const Fr& c2) {
  return p + q1.Mul(c1) + q2.Mul(c2);
}
template <class Point, std::size_t N>
std::array<Point, N> Combine(const std::array<Point, N>& p, const std::array<Point, N>& q1, const Fr& c1,
                             const std::array<Point, N>& q2, const Fr& c2) {
  std::array<Point, N> out;
  for (std::size_t i = 0; i < N; ++i) out[i] = Combine(p[i], q1[i], c1, q2[i], c2);
  return out;
}

}  // namespace

Result<SecretKey> Delegate(const SecretKey& parent, const std::set<std::string>& subset) {
  if (parent.delegation.size() != 2) {
    return Fail(ErrorCode::kInvalidArgument,
                "delegation: the key was not issued as delegable (KeyGen with KeyKind::kDelegable)");
  }
  for (const auto& y : subset) {
    if (!parent.k.contains(y) || !parent.delegation[0].k.contains(y) || !parent.delegation[1].k.contains(y)) {
      return Fail(ErrorCode::kInvalidArgument, "delegation: attribute '" + y + "' is not in the parent key");
    }
  }
  // delta: the child's shift along the bases; alpha: the child's own bases as an invertible
  // combination of the parent's (det != 0 fails with probability 1/r: public retry).
  std::array<Fr, 2> delta;
  std::array<Fr, 4> alpha;
  for (auto& v : delta) {
    auto x = Fr::Random();
    if (!x) return std::unexpected(x.error());
    v = *x;
  }
  for (;;) {
    for (auto& v : alpha) {
      auto x = Fr::Random();
      if (!x) return std::unexpected(x.error());
      v = *x;
    }
    if (!(alpha[0] * alpha[3] - alpha[1] * alpha[2]).IsZero()) break;
  }
  const DelegationBasis& b1 = parent.delegation[0];
  const DelegationBasis& b2 = parent.delegation[1];
  SecretKey child;
  child.k0 = Combine(parent.k0, b1.k0, delta[0], b2.k0, delta[1]);
  child.kp = Combine(parent.kp, b1.kp, delta[0], b2.kp, delta[1]);
  child.delegation.resize(2);
  for (int j = 0; j < 2; ++j) {
    // basis'_j = alpha_j1 b1 + alpha_j2 b2  (Combine with a zero "p" term, the identity)
    const Fr& c1 = alpha[2 * j];
    const Fr& c2 = alpha[2 * j + 1];
    DelegationBasis& d = child.delegation[j];
    d.k0 = Combine(std::array<G2, 3>{}, b1.k0, c1, b2.k0, c2);
    d.kp = Combine(std::array<G1, 3>{}, b1.kp, c1, b2.kp, c2);
    for (const auto& y : subset) d.k.emplace(y, Combine(std::array<G1, 3>{}, b1.k.at(y), c1, b2.k.at(y), c2));
  }
  for (const auto& y : subset)
    child.k.emplace(y, Combine(parent.k.at(y), b1.k.at(y), delta[0], b2.k.at(y), delta[1]));
  Wipe(delta);
  Wipe(alpha);
  return child;
}

Result<Encapsulation> Encapsulate(const PublicKey& pk, const PolicyNode& policy) {
  auto matrix = CompileToLsss(policy);
  if (!matrix) return std::unexpected(matrix.error());
  std::array<Fr, 2> s;
  if (auto ok = Fr::RandomMany(s); !ok) return std::unexpected(ok.error());
  Encapsulation out;
  out.ct.policy = PolicyToString(policy);
  out.ct.c0 = detail::MulPublicKeyBases(pk.h_a, s);

  // One batch of 6 (rows + columns) products: slot 3i + l receives
  // prod_t H(rho(i), l, t)^(s_t), slot 3 (rows + j) + l the column part
  // U_{j,l} = prod_t H(0j, l, t)^(s_t), which every row then adds with its public M_ij.
  const std::size_t rows = matrix->rows.size(), cols = matrix->columns;
  std::vector<G1> slots(3 * (rows + cols), G1::Identity());
  std::vector<Term> terms;
  terms.reserve(6 * (rows + cols));
  for (std::size_t i = 0; i < rows; ++i) {
    for (int l = 0; l < 3; ++l)
      for (int t = 0; t < 2; ++t)
        terms.push_back({HashedBase(AttributeHashInput(matrix->rho[i], l, t)), s[t], 3 * i + l});
  }
  for (std::size_t j = 0; j < cols; ++j) {
    for (int l = 0; l < 3; ++l)
      for (int t = 0; t < 2; ++t)
        terms.push_back({HashedBase(ColumnHashInput(j + 1, l, t)), s[t], 3 * (rows + j) + l});
  }
  AddProducts(terms, slots);
  // ct_{i,l} = prod_t H(rho(i), l, t)^(s_t) * prod_j U_{j,l}^(M_ij)
  out.ct.c.resize(rows);
  for (std::size_t i = 0; i < rows; ++i) {
    for (int l = 0; l < 3; ++l) {
      G1 acc = slots[3 * i + l];
      for (std::size_t j = 0; j < cols; ++j) {
        if (matrix->rows[i][j] != 0)
          acc += MulBySmall(slots[3 * (rows + j) + l], matrix->rows[i][j]);  // public
      }
      out.ct.c[i][l] = acc;
    }
  }
  out.ct.matrix = std::move(*matrix);
  Gt shared = pk.t[0].Pow(s[0]) * pk.t[1].Pow(s[1]);
  auto key = DeriveKey(shared);
  Wipe(shared);
  Wipe(s);
  SecureWipe(slots.data(), slots.size() * sizeof(slots[0]));
  if (!key) return std::unexpected(key.error());
  out.key = std::move(*key);
  return out;
}

namespace {

// T = T1^s1 T2^s2 from a (possibly blinded) key: the six-pairing product of decapsulation.
Result<Gt> SharedValue(const SecretKey& sk, const Ciphertext& ct) {
  if (ct.c.size() != ct.matrix.rows.size() || ct.matrix.rho.size() != ct.matrix.rows.size()) {
    return Fail(ErrorCode::kInvalidArgument, "FAME ciphertext: " + std::to_string(ct.c.size()) +
                                                 " row components for a matrix of " +
                                                 std::to_string(ct.matrix.rows.size()) + " rows");
  }
  std::set<std::string> have;
  for (const auto& [name, v] : sk.k) have.insert(name);
  const auto rec = ReconstructionCoefficients(ct.matrix, have);
  if (!rec) return Fail(ErrorCode::kInvalidArgument, "the key's attributes do not satisfy the policy");

  // With num_l = sum_i g_i ct_{i,l} and den_l = sk'_l + sum_i g_i sk_{rho(i),l}, the paper's
  // prod_l e(num_l, K0_l) / prod_l e(den_l, C0_l) equals (T1^s1 T2^s2)^-1 (its message is
  // C' times this), so the shared value is prod_l e(den_l, C0_l) e(-num_l, K0_l).
  std::array<G1, 6> ps;
  std::array<G2, 6> qs;
  for (int l = 0; l < 3; ++l) {
    G1 num = G1::Identity(), den = sk.kp[l];
    for (std::size_t n = 0; n < rec->rows.size(); ++n) {
      const std::size_t i = rec->rows[n];
      const Fr& gamma = rec->coefficients[n];
      num += MulByPublic(ct.c[i][l], gamma);
      den += MulByPublic(sk.k.at(ct.matrix.rho[i])[l], gamma);
    }
    ps[l] = -num;
    qs[l] = sk.k0[l];
    ps[3 + l] = den;
    qs[3 + l] = ct.c0[l];
  }
  Gt shared = pairing::PairingProduct(ps, qs);
  Wipe(ps);
  return shared;
}

}  // namespace

Result<SecretBytes> Decapsulate(const SecretKey& sk, const Ciphertext& ct) {
  auto shared = SharedValue(sk, ct);
  if (!shared) return std::unexpected(shared.error());
  auto key = DeriveKey(*shared);
  Wipe(*shared);
  return key;
}

Result<TransformKeyPair> MakeTransformKey(const SecretKey& sk) {
  auto z = RandomNonZero();
  if (!z) return std::unexpected(z.error());
  Fr z_inv = z->Inverse();
  TransformKeyPair out;
  out.z = *z;
  for (int l = 0; l < 3; ++l) {
    out.tk.blinded.k0[l] = sk.k0[l].Mul(z_inv);
    out.tk.blinded.kp[l] = sk.kp[l].Mul(z_inv);
  }
  for (const auto& [name, v] : sk.k) {
    out.tk.blinded.k[name] = {v[0].Mul(z_inv), v[1].Mul(z_inv), v[2].Mul(z_inv)};
  }
  Wipe(*z);
  Wipe(z_inv);
  return out;
}

TransformKeyPair::~TransformKeyPair() { Wipe(z); }

Result<Gt> Transform(const TransformKey& tk, const Ciphertext& ct) { return SharedValue(tk.blinded, ct); }

Result<SecretBytes> DecryptTransformed(const Fr& z, const Gt& partial) {
  Gt shared = partial.Pow(z);
  auto key = DeriveKey(shared);
  Wipe(shared);
  return key;
}

}  // namespace cipherchart::abe::fame
