// Fixed-base G1 multiplication: GLV halves, regular signed 5-bit digits, affine tables, and a
// batched affine mode. See fixed_base.h for the method and its sources.
#include "cipherchart/pairing/fixed_base.h"

#include <cassert>
#include <cstring>

namespace cipherchart::pairing {
namespace {

constexpr int kW = G1FixedBase::kWindows;
constexpr int kE = G1FixedBase::kEntries;

// phi(x, y) = (beta x, y) with the beta of curve.cc's Phi (eigenvalue -x^2 on G1).
const Fp& Beta() {
  static const Fp beta = [] {
    const G1 g = G1::Generator();  // Z = 1
    return Phi(g).X() * g.X().Inverse();
  }();
  return beta;
}

// A scalar recoded for the table: per half h (0: e0 on P, 1: e1 on x^2 P) and window i, the
// entry index (|d| - 1) / 2 and an all-ones mask when the point must be negated, plus the
// index of the correction point. Secret: wiped by the users.
struct Recoded {
  std::array<std::array<u64, kW>, 2> index;
  std::array<std::array<u64, kW>, 2> negate;
  u64 correction;
};

// Regular recoding (Joye-Tunstall, Africacrypt 2009, Algorithm 6 with odd digits): for odd e,
// d = (e mod 64) - 32 is odd in [-31, 31] and (e - d) / 32 is odd again; no branch on e.
void RecodeHalf(u128 e, std::array<u64, kW>& index, std::array<u64, kW>& negate, u64 y_flip) {
  for (int i = 0; i < kW - 1; ++i) {
    const u64 m = u64(e) & 63;
    const u64 d = m - 32;  // two's complement of the signed digit
    const u64 neg = detail::ValueBarrier(0 - (d >> 63));
    const u64 abs = (d ^ neg) - neg;
    index[i] = (abs - 1) >> 1;
    negate[i] = neg ^ y_flip;
    e = (e - m + 32) >> 5;  // (e - d) / 32
  }
  // What is left is odd and below 8 (e < 2^128 + 2 and 125 bits were consumed).
  index[kW - 1] = (u64(e) - 1) >> 1;
  negate[kW - 1] = y_flip;
}

// c = x^2 (128 bits) and the Barrett constant m = floor(2^384 / c) (5 limbs), for the split
// k = e0 + e1 c with e1 = floor(k / c), e0 = k mod c. Both are below 2^128 because k < r < c^2.
constexpr u128 kC = u128(kBlsX) * kBlsX;
constexpr std::array<u64, 5> BarrettM() {
  // Long division of 2^384 by c, bit by bit (public constant, computed at compile time).
  std::array<u64, 5> q{};
  u128 rem = 0;
  for (int i = 384; i >= 0; --i) {
    const bool top = (rem >> 127) != 0;
    rem = (rem << 1) | (i == 384 ? 1 : 0);
    if (top || rem >= kC) {
      rem -= kC;
      if (i < 320) q[i / 64] |= u64(1) << (i % 64);
    }
  }
  return q;
}
constexpr std::array<u64, 5> kM = BarrettM();

// (e0, e1) for the canonical k < 2^255, constant-time (no branch, no secret index).
std::array<u128, 2> SplitGlv(const std::array<u64, 4>& k) {
  // q = floor(k m / 2^384) is floor(k / c) or one less.
  std::array<u64, 9> prod{};
  for (int i = 0; i < 4; ++i) {
    u64 carry = 0;
    for (int j = 0; j < 5; ++j) {
      const u128 t = u128(k[i]) * kM[j] + prod[i + j] + carry;
      prod[i + j] = u64(t);
      carry = u64(t >> 64);
    }
    prod[i + 5] = carry;
  }
  u128 q = (u128(prod[7]) << 64) | prod[6];
  // rem = k - q c (below 2c < 2^130: three limbs), then at most one correction.
  const u128 qc_lo = u128(u64(q)) * u64(kC);
  const u128 mid1 = u128(u64(q)) * u64(kC >> 64), mid2 = u128(u64(q >> 64)) * u64(kC);
  const u128 qc_hi = u128(u64(q >> 64)) * u64(kC >> 64);
  std::array<u64, 4> qc{};
  u128 acc = qc_lo;
  qc[0] = u64(acc);
  acc = (acc >> 64) + u64(mid1) + u64(mid2);
  qc[1] = u64(acc);
  acc = (acc >> 64) + (mid1 >> 64) + (mid2 >> 64) + u64(qc_hi);
  qc[2] = u64(acc);
  qc[3] = u64((acc >> 64) + (qc_hi >> 64));
  std::array<u64, 3> rem{};
  u64 borrow = 0;
  for (int i = 0; i < 3; ++i) {
    const u128 t = u128(k[i]) - qc[i] - borrow;
    rem[i] = u64(t);
    borrow = u64(t >> 64) & 1;
  }
  // rem >= c  <=>  rem - c does not borrow.
  std::array<u64, 3> sub{};
  const std::array<u64, 3> c3 = {u64(kC), u64(kC >> 64), 0};
  borrow = 0;
  for (int i = 0; i < 3; ++i) {
    const u128 t = u128(rem[i]) - c3[i] - borrow;
    sub[i] = u64(t);
    borrow = u64(t >> 64) & 1;
  }
  const u64 ge = detail::ValueBarrier(0 - (borrow ^ 1));
  for (int i = 0; i < 3; ++i) rem[i] = (sub[i] & ge) | (rem[i] & ~ge);
  q += ge & 1;
  std::array<u128, 2> e = {(u128(rem[1]) << 64) | rem[0], q};
  std::memset(prod.data(), 0, sizeof(prod));
  std::memset(rem.data(), 0, sizeof(rem));
  std::memset(sub.data(), 0, sizeof(sub));
  __asm__ __volatile__("" : : "r"(prod.data()), "r"(rem.data()), "r"(sub.data()) : "memory");
  return e;
}

Recoded Recode(const Fr& k) {
  auto kc = k.ToCanonical();
  // k = e0 + e1 x^2 (mod r), 0 <= e0, e1 < x^2 < 2^128.
  std::array<u128, 2> e = SplitGlv(kc);
  Recoded rc;
  rc.correction = 0;
  for (int h = 0; h < 2; ++h) {
    // Odd e' = e + 1 + parity; the correction point removes the (1 + parity) multiple again.
    const u64 parity = u64(e[h]) & 1;
    e[h] += 1 + parity;
    rc.correction |= parity << h;
    // The x^2 P half uses the entries' -phi images: (beta x, -y), so y is flipped once more.
    RecodeHalf(e[h], rc.index[h], rc.negate[h], h == 0 ? 0 : ~u64(0));
  }
  std::memset(kc.data(), 0, sizeof(kc));
  std::memset(static_cast<void*>(e.data()), 0, sizeof(e));
  __asm__ __volatile__("" : : "r"(kc.data()), "r"(e.data()) : "memory");
  return rc;
}

void Wipe(std::span<Recoded> rc) {
  std::memset(static_cast<void*>(rc.data()), 0, rc.size_bytes());
  __asm__ __volatile__("" : : "r"(rc.data()) : "memory");
}

}  // namespace

// Table access for one recoded scalar (constant-time: reads a whole window's row and keeps
// the wanted entry by mask, four limbs at a time).
struct G1FixedBase::Lookup {
  typedef u64 V4 __attribute__((vector_size(32)));

  static void Select(const Packed* row, int count, u64 want, Fp& x, Fp& y) {
    V4 a0 = {0, 0, 0, 0}, a1 = a0, a2 = a0;
    for (int j = 0; j < count; ++j) {
      const u64 m = detail::ValueBarrier(detail::IsZeroMask(u64(j) ^ want));
      const V4 mv = {m, m, m, m};
      V4 e0, e1, e2;
      std::memcpy(&e0, row[j].w.data(), 32);
      std::memcpy(&e1, row[j].w.data() + 4, 32);
      std::memcpy(&e2, row[j].w.data() + 8, 32);
      a0 |= e0 & mv;
      a1 |= e1 & mv;
      a2 |= e2 & mv;
    }
    std::array<u64, 12> w;
    std::memcpy(w.data(), &a0, 32);
    std::memcpy(w.data() + 4, &a1, 32);
    std::memcpy(w.data() + 8, &a2, 32);
    Fp::Limbs lx, ly;
    std::copy(w.begin(), w.begin() + 6, lx.begin());
    std::copy(w.begin() + 6, w.end(), ly.begin());
    x = Fp::FromRaw(lx);
    y = Fp::FromRaw(ly);
  }
  static Packed Pack(const G1Affine& a) {
    Packed p;
    std::copy(a.x.raw().begin(), a.x.raw().end(), p.w.begin());
    std::copy(a.y.raw().begin(), a.y.raw().end(), p.w.begin() + 6);
    return p;
  }
  static const Packed* Row(const G1FixedBase& b, int window) {
    return &b.entries_[static_cast<std::size_t>(window) * kE];
  }
  // Starts loading a row that will be needed soon (its address is public).
  static void Prefetch(const G1FixedBase& b, int window) {
    const auto* p = reinterpret_cast<const char*>(Row(b, window));
    for (std::size_t off = 0; off < sizeof(Packed) * kE; off += 64) __builtin_prefetch(p + off);
  }
  static void Entry(const G1FixedBase& b, const Recoded& rc, int window, int half, Fp& x, Fp& y) {
    Select(Row(b, window), kE, rc.index[half][window], x, y);
    if (half == 1) x = x * Beta();  // public: which half is being added
    y = Fp::Select(rc.negate[half][window], -y, y);
  }
  static void Correction(const G1FixedBase& b, const Recoded& rc, Fp& x, Fp& y) {
    Select(b.correction_.data(), 4, rc.correction, x, y);
  }
};

G1FixedBase::G1FixedBase(const G1& base) : base_(base) {
  std::vector<G1> proj(static_cast<std::size_t>(kW) * kE + 4);
  G1 window_base = base;  // 32^i * base
  for (int i = 0; i < kW; ++i) {
    const G1 twice = window_base.Double();
    G1 acc = window_base;
    for (int j = 0; j < kE; ++j) {
      proj[static_cast<std::size_t>(i) * kE + j] = acc;  // (2j + 1) 32^i base
      if (j + 1 < kE) acc += twice;
    }
    window_base = acc + window_base;  // 31 + 1 = 32 times
  }
  const G1 q = -Phi(base);  // x^2 * base
  for (int c1 = 0; c1 < 2; ++c1) {
    for (int c0 = 0; c0 < 2; ++c0) {
      G1 c = base;
      if (c0) c += base;
      c += q;
      if (c1) c += q;
      proj[static_cast<std::size_t>(kW) * kE + 2 * c1 + c0] = -c;
    }
  }
  std::vector<G1Affine> affine(proj.size());
  G1::BatchToAffine(proj, affine);
  entries_.resize(static_cast<std::size_t>(kW) * kE);
  for (std::size_t i = 0; i < entries_.size(); ++i) entries_[i] = Lookup::Pack(affine[i]);
  for (std::size_t i = 0; i < 4; ++i) correction_[i] = Lookup::Pack(affine[entries_.size() + i]);
}

G1 G1FixedBase::Mul(const Fr& k) const {
  Recoded rc = Recode(k);
  G1 acc = G1::Identity();
  Fp x, y;
  for (int i = 0; i < kW; ++i) {
    for (int h = 0; h < 2; ++h) {
      Lookup::Entry(*this, rc, i, h, x, y);
      acc = acc.AddAffine(x, y);  // complete: acc may be anything, the entry is never O
    }
  }
  Lookup::Correction(*this, rc, x, y);
  acc = acc.AddAffine(x, y);
  Wipe(std::span<Recoded>(&rc, 1));
  return acc;
}

void FixedBaseSum(std::span<const G1FixedBaseTerm> terms, std::span<G1> out) {
  const std::size_t n = terms.size();
  if (n == 0) return;
  using L = G1FixedBase::Lookup;
  std::vector<Recoded> rc(n);
  for (std::size_t t = 0; t < n; ++t) {
    assert(terms[t].slot < out.size());
    rc[t] = Recode(terms[t].scalar);
  }
  // Running sums (ax, ay), affine; the point being added (ex, with numerator num = ey - ay and
  // denominator den = ex - ax); pre[t] = den_0 ... den_{t-1}. bad[t]: a denominator was 0.
  std::vector<Fp> ax(n), ay(n), ex(n), num(n), den(n), pre(n);
  std::vector<u64> bad(n, 0);
  for (std::size_t t = 0; t < n; ++t) L::Entry(*terms[t].base, rc[t], 0, 0, ax[t], ay[t]);

  constexpr std::size_t kPrefetchAhead = 3;
  auto add_round = [&](auto&& point_of, auto&& prefetch) {
    Fp run = Fp::One();
    Fp x2, y2;
    for (std::size_t t = 0; t < n; ++t) {
      if (t + kPrefetchAhead < n) prefetch(t + kPrefetchAhead);
      point_of(t, x2, y2);
      Fp d = x2 - ax[t];
      const u64 zero = d.IsZeroMask();
      bad[t] |= zero;
      d = Fp::Select(zero, Fp::One(), d);  // keeps the other inverses right
      den[t] = d;
      ex[t] = x2;
      num[t] = y2 - ay[t];
      pre[t] = run;
      run = run * d;
    }
    Fp inv = run.Inverse();
    for (std::size_t t = n; t-- > 0;) {
      const Fp d_inv = inv * pre[t];
      inv = inv * den[t];
      const Fp lambda = num[t] * d_inv;
      const Fp x3 = lambda.Square() - ax[t] - ex[t];
      ay[t] = lambda * (ax[t] - x3) - ay[t];
      ax[t] = x3;
    }
  };
  for (int i = 0; i < kW; ++i) {
    for (int h = 0; h < 2; ++h) {
      if (i == 0 && h == 0) continue;
      add_round([&](std::size_t t, Fp& x, Fp& y) { L::Entry(*terms[t].base, rc[t], i, h, x, y); },
                [&](std::size_t t) { L::Prefetch(*terms[t].base, i); });
    }
  }
  add_round([&](std::size_t t, Fp& x, Fp& y) { L::Correction(*terms[t].base, rc[t], x, y); },
            [](std::size_t) {});

  for (std::size_t t = 0; t < n; ++t) {
    G1& o = out[terms[t].slot];
    // An exceptional case (probability ~2^-248 per uniform scalar, or a zero scalar): redo
    // this one with the complete formulas. The only secret-dependent branch here.
    if (bad[t]) {
      o += terms[t].base->Mul(terms[t].scalar);
    } else {
      o = o.AddAffine(ax[t], ay[t]);
    }
  }
  Wipe(rc);
  for (auto* v : {&ax, &ay, &ex, &num}) {
    std::memset(static_cast<void*>(v->data()), 0, v->size() * sizeof(Fp));
    __asm__ __volatile__("" : : "r"(v->data()) : "memory");
  }
}

}  // namespace cipherchart::pairing
