// FAME KP-ABE KEM (Agrawal-Chase, CCS 2017, full version Appendix B, k = 2). See fame_kp.h.
// Names follow the paper and fame.cc: A = diag(a1, a2) with a last row of ones, B likewise with
// b1, b2; Br = (b1 r1, b2 r2, r1 + r2); the random oracle H is hash_to_curve into G1.
#include "cipherchart/abe/fame_kp.h"

#include <array>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cipherchart/pairing/hash_to_curve.h"
#include "src/abe/fame_kp_internal.h"
#include "src/abe/hashed_bases.h"
#include "src/abe/scheme_internal.h"

namespace cipherchart::abe::fame_kp {
namespace {

using detail::AddProducts;
using detail::GeneratorBase;
using detail::HashedBase;
using detail::MulByPublic;
using detail::MulBySmall;
using detail::MulG2Generator;
using detail::RandomNonZero;
using detail::TaggedHashInput;
using detail::Term;
using detail::Wipe;
using internal::ScalarSource;
using pairing::u64;

// An LSSS entry as a scalar (public).
Fr EntryToFr(std::int64_t m) {
  return m >= 0 ? Fr::FromU64(static_cast<u64>(m)) : -Fr::FromU64(u64(0) - static_cast<u64>(m));
}

// The KEM key (detail::DeriveKemKey) with KP-ABE's info string, not CP-ABE's.
Result<SecretBytes> DeriveKey(const Gt& shared) {
  return detail::DeriveKemKey(shared, "cipherchart fame-kp kem v1");
}

Result<Fr> OsScalar() { return Fr::Random(); }

}  // namespace

MasterKey::~MasterKey() {
  Wipe(a);
  Wipe(b);
  Wipe(g_d);
}
SecretKey::~SecretKey() {
  Wipe(k0);
  for (auto& row : k) Wipe(row);
}

namespace internal {

std::vector<std::uint8_t> AttributeHashInput(std::string_view attribute, int l, int t) {
  return TaggedHashInput('K', attribute, l, t);
}

std::vector<std::uint8_t> ColumnHashInput(std::size_t column, int l, int t) {
  const auto j = static_cast<std::uint32_t>(column);
  const std::array<char, 4> label = {static_cast<char>(j >> 24), static_cast<char>(j >> 16),
                                     static_cast<char>(j >> 8), static_cast<char>(j)};
  return TaggedHashInput('L', std::string_view(label.data(), label.size()), l, t);
}

Result<SetupResult> SetupWith(const ScalarSource& random) {
  SetupResult out;
  const G1 g = G1::Generator();
  const G2 h = G2::Generator();
  std::array<Fr, 3> d;
  for (int i = 0; i < 2; ++i) {
    auto a = RandomNonZero(random);
    if (!a) return std::unexpected(a.error());
    auto b = RandomNonZero(random);
    if (!b) {
      Wipe(*a);
      return std::unexpected(b.error());
    }
    out.msk.a[i] = *a;
    out.msk.b[i] = *b;
    Wipe(*a);
    Wipe(*b);
  }
  for (auto& di : d) {
    auto r = random();
    if (!r) {
      Wipe(d);
      return std::unexpected(r.error());
    }
    di = *r;
    Wipe(*r);
  }
  out.pk.h_a = {h.Mul(out.msk.a[0]), h.Mul(out.msk.a[1]), h};
  const Gt e_gh = pairing::Pairing(g, h);
  for (int t = 0; t < 2; ++t) out.pk.t[t] = e_gh.Pow(d[t] * out.msk.a[t] + d[2]);
  for (int i = 0; i < 3; ++i) out.msk.g_d[i] = g.Mul(d[i]);
  Wipe(d);
  return out;
}

Result<SecretKey> KeyGenWith(const MasterKey& msk, const PolicyNode& key_policy, const ScalarSource& random) {
  auto matrix = CompileToLsss(key_policy);
  if (!matrix) return std::unexpected(matrix.error());
  const std::size_t rows = matrix->rows.size(), cols = matrix->columns;

  // Randomness, drawn in a fixed order (r1, r2, sigma'_2..sigma'_n2, sigma_1..sigma_n1) so a
  // deterministic source gives a deterministic key.
  std::array<Fr, 2> r;
  std::vector<Fr> sigma_col(cols, Fr::Zero());  // sigma'_j at index j - 1; index 0 unused
  std::vector<Fr> tau(rows, Fr::Zero());
  auto wipe_all = [&] {
    Wipe(r);
    SecureWipe(static_cast<void*>(sigma_col.data()), sigma_col.size() * sizeof(Fr));
    SecureWipe(static_cast<void*>(tau.data()), tau.size() * sizeof(Fr));
  };
  auto draw = [&](Fr& into) -> Result<void> {
    auto v = random();
    if (!v) return std::unexpected(v.error());
    into = *v;
    Wipe(*v);
    return {};
  };
  for (auto& ri : r) {
    if (auto ok = draw(ri); !ok) {
      wipe_all();
      return std::unexpected(ok.error());
    }
  }
  for (std::size_t j = 1; j < cols; ++j) {
    if (auto ok = draw(sigma_col[j]); !ok) {
      wipe_all();
      return std::unexpected(ok.error());
    }
  }
  // tau_i = sigma_i + sum_{j>=2} M_ij sigma'_j: the exponent of g in row i once the column
  // elements' g^(sigma'_j / a_t) and g^(-sigma'_j) are folded into the row (the M_ij are
  // public, the sum is constant-time Fr arithmetic). This leaves only the hashed part of each
  // column element to compute separately.
  for (std::size_t i = 0; i < rows; ++i) {
    if (auto ok = draw(tau[i]); !ok) {
      wipe_all();
      return std::unexpected(ok.error());
    }
    for (std::size_t j = 1; j < cols; ++j) {
      if (matrix->rows[i][j] != 0) tau[i] += EntryToFr(matrix->rows[i][j]) * sigma_col[j];
    }
  }

  std::array<Fr, 3> br = {msk.b[0] * r[0], msk.b[1] * r[1], r[0] + r[1]};
  std::array<Fr, 2> a_inv = {msk.a[0].Inverse(), msk.a[1].Inverse()};
  SecretKey sk;
  sk.policy = PolicyToString(key_policy);
  for (int l = 0; l < 3; ++l) sk.k0[l] = MulG2Generator(br[l]);
  // e[l][t] = Br_l / a_t, the exponent of every H(., l, t) in the key.
  std::array<std::array<Fr, 2>, 3> e;
  for (int l = 0; l < 3; ++l)
    for (int t = 0; t < 2; ++t) e[l][t] = br[l] * a_inv[t];

  // All G1 products in one batch, 9 per row and 6 per column j >= 2 (what makes key generation
  // fast: see hashed_bases.h):
  //   slot 3i + t (t < 2)        : prod_l H(rho(i) l t)^(e_lt) * g^(tau_i / a_t)
  //   slot 3i + 2                : g^(-tau_i)
  //   column_slot(j, t) (j >= 2) : U_{j,t} = prod_l H(0j l t)^(e_lt)
  // Each row then adds U_{j,t}^(M_ij) and the master part (g^(d_t))^(M_i1) with its public,
  // small LSSS entries (columns are shared by rows, so they are computed once).
  auto column_slot = [&](std::size_t j, int t) {
    return 3 * rows + 2 * (j - 1) + static_cast<std::size_t>(t);
  };
  std::vector<G1> slots(3 * rows + 2 * (cols - 1), G1::Identity());
  std::vector<Term> terms;
  terms.reserve(9 * rows + 6 * (cols - 1));
  const auto g = GeneratorBase();
  for (std::size_t i = 0; i < rows; ++i) {
    for (int t = 0; t < 2; ++t) {
      terms.push_back({g, tau[i] * a_inv[t], 3 * i + t});
      for (int l = 0; l < 3; ++l) {
        terms.push_back({HashedBase(internal::AttributeHashInput(matrix->rho[i], l, t)), e[l][t], 3 * i + t});
      }
    }
    terms.push_back({g, -tau[i], 3 * i + 2});
  }
  for (std::size_t j = 1; j < cols; ++j) {
    for (int t = 0; t < 2; ++t)
      for (int l = 0; l < 3; ++l)
        terms.push_back({HashedBase(internal::ColumnHashInput(j + 1, l, t)), e[l][t], column_slot(j, t)});
  }
  AddProducts(terms, slots);

  // sk_{i,t} = slot + (g^(d_t))^(M_i1) + sum_{j>=2} U_{j,t}^(M_ij); sk_{i,3} = slot + (g^(d_3))^(M_i1).
  sk.k.resize(rows);
  for (std::size_t i = 0; i < rows; ++i) {
    const auto& m = matrix->rows[i];
    for (int t = 0; t < 2; ++t) {
      G1 acc = slots[3 * i + t] + MulBySmall(msk.g_d[t], m[0]);  // public M_i1
      for (std::size_t j = 1; j < cols; ++j) {
        if (m[j] != 0) acc += MulBySmall(slots[column_slot(j, t)], m[j]);  // public M_ij
      }
      sk.k[i][t] = acc;
      Wipe(acc);
    }
    sk.k[i][2] = slots[3 * i + 2] + MulBySmall(msk.g_d[2], m[0]);
  }
  sk.matrix = std::move(*matrix);
  SecureWipe(static_cast<void*>(slots.data()), slots.size() * sizeof(slots[0]));
  wipe_all();
  Wipe(e);
  Wipe(br);
  Wipe(a_inv);
  return sk;
}

Result<Encapsulation> EncapsulateWith(const PublicKey& pk, const std::set<std::string>& attributes,
                                      const ScalarSource& random) {
  if (attributes.empty()) {
    return Fail(ErrorCode::kInvalidArgument,
                "FAME KP ciphertext: the attribute set is empty (no key policy could be satisfied)");
  }
  std::array<Fr, 2> s;
  for (auto& si : s) {
    auto v = random();
    if (!v) {
      Wipe(s);
      return std::unexpected(v.error());
    }
    si = *v;
    Wipe(*v);
  }
  Encapsulation out;
  out.ct.c0 = detail::MulPublicKeyBases(pk.h_a, s);

  // One batch of 6 products per attribute: slot 3a + l receives ct_{y,l} = prod_t H(y l t)^(s_t)
  // for the a-th attribute y.
  const std::size_t n = attributes.size();
  std::vector<G1> slots(3 * n, G1::Identity());
  std::vector<Term> terms;
  terms.reserve(6 * n);
  std::size_t a = 0;
  for (const auto& y : attributes) {
    for (int l = 0; l < 3; ++l)
      for (int t = 0; t < 2; ++t)
        terms.push_back({HashedBase(internal::AttributeHashInput(y, l, t)), s[t], 3 * a + l});
    ++a;
  }
  AddProducts(terms, slots);
  a = 0;
  for (const auto& y : attributes) {
    out.ct.c.emplace(y, std::array<G1, 3>{slots[3 * a], slots[3 * a + 1], slots[3 * a + 2]});
    ++a;
  }
  Gt shared = pk.t[0].Pow(s[0]) * pk.t[1].Pow(s[1]);
  auto key = DeriveKey(shared);
  Wipe(shared);
  Wipe(s);
  if (!key) return std::unexpected(key.error());
  out.key = std::move(*key);
  return out;
}

}  // namespace internal

Result<SetupResult> Setup() { return internal::SetupWith(OsScalar); }

Result<SecretKey> KeyGen(const MasterKey& msk, const PolicyNode& key_policy) {
  return internal::KeyGenWith(msk, key_policy, OsScalar);
}

Result<Encapsulation> Encapsulate(const PublicKey& pk, const std::set<std::string>& attributes) {
  return internal::EncapsulateWith(pk, attributes, OsScalar);
}

Result<SecretBytes> Decapsulate(const SecretKey& sk, const Ciphertext& ct) {
  if (sk.k.size() != sk.matrix.rows.size() || sk.matrix.rho.size() != sk.matrix.rows.size()) {
    return Fail(ErrorCode::kInvalidArgument, "FAME KP secret key: " + std::to_string(sk.k.size()) +
                                                 " row components for a matrix of " +
                                                 std::to_string(sk.matrix.rows.size()) + " rows");
  }
  std::set<std::string> have;
  for (const auto& [name, v] : ct.c) have.insert(name);
  const auto rec = ReconstructionCoefficients(sk.matrix, have);
  if (!rec)
    return Fail(ErrorCode::kInvalidArgument, "the ciphertext's attributes do not satisfy the key's policy");

  // With den_l = sum_i gamma_i sk_{i,l} and num_l = sum_i gamma_i ct_{rho(i),l}, the paper's
  // prod_l e(den_l, ct_0,l) / prod_l e(num_l, sk_0,l) is T1^s1 T2^s2: the master part
  // (column 1, sum gamma_i M_i1 = 1) pairs to it, the columns j >= 2 (sum gamma_i M_ij = 0) and
  // the sigma parts (orthogonal to As) vanish, and the hashed parts cancel against num.
  // Rows sharing an attribute share its ciphertext component, so num adds each attribute once
  // with the sum of its rows' coefficients.
  std::map<std::string_view, std::pair<const std::array<G1, 3>*, Fr>> per_attribute;
  for (std::size_t n = 0; n < rec->rows.size(); ++n) {
    const std::string& y = sk.matrix.rho[rec->rows[n]];
    auto [it, inserted] = per_attribute.try_emplace(y, nullptr, Fr::Zero());
    if (inserted) it->second.first = &ct.c.find(y)->second;  // present: rec only uses rows in `have`
    it->second.second += rec->coefficients[n];
  }
  std::array<G1, 6> ps;
  std::array<G2, 6> qs;
  for (int l = 0; l < 3; ++l) {
    G1 num = G1::Identity(), den = G1::Identity();
    for (std::size_t n = 0; n < rec->rows.size(); ++n) {
      den += MulByPublic(sk.k[rec->rows[n]][l], rec->coefficients[n]);
    }
    for (const auto& [y, entry] : per_attribute) {
      if (!entry.second.IsZero()) num += MulByPublic((*entry.first)[l], entry.second);
    }
    ps[l] = den;
    Wipe(den);
    qs[l] = ct.c0[l];
    ps[3 + l] = -num;
    qs[3 + l] = sk.k0[l];
  }
  Gt shared = pairing::PairingProduct(ps, qs);
  Wipe(ps);
  auto key = DeriveKey(shared);
  Wipe(shared);
  return key;
}

}  // namespace cipherchart::abe::fame_kp
