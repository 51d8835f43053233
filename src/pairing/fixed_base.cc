// Fixed-base G1 multiplication: GLV halves, regular signed 5-bit digits, affine tables, and a
// batched affine mode. See fixed_base.h for the method and its sources.
#include "cipherchart/pairing/fixed_base.h"

#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <cassert>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <functional>
#include <mutex>
#include <new>
#include <thread>

// The exceptional-case flag of a batch term is derived from the secret scalar but reveals only
// that a negligible-probability event happened; it is declassified for the ctgrind check
// (tests/ctgrind) so memcheck does not report the retry branch. A no-op outside Valgrind.
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define CIPHERCHART_DECLASSIFY(ptr, size) VALGRIND_MAKE_MEM_DEFINED(ptr, size)
#else
#define CIPHERCHART_DECLASSIFY(ptr, size) ((void)(ptr), (void)(size))
#endif

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

// A scalar recoded for the table: per half h (0: e0 on P, 1: e1 on x^2 P) and window i, one
// byte holding the entry index (|d| - 1) / 2 (low 4 bits) and the sign (bit 7), plus the index
// of the correction point: 53 bytes, one cache line, because a batch reads it once per round
// for every term. Secret: wiped by the users.
struct Recoded {
  std::array<std::array<std::uint8_t, kW>, 2> digit;
  std::uint8_t correction;

  u64 index(int half, int window) const { return digit[half][window] & 15; }
  // All-ones when the entry must be negated.
  u64 negate(int half, int window) const { return 0 - u64(digit[half][window] >> 7); }
};

// Regular recoding (Joye-Tunstall, Africacrypt 2009, Algorithm 6 with odd digits): for odd e,
// d = (e mod 64) - 32 is odd in [-31, 31] and (e - d) / 32 is odd again; no branch on e.
void RecodeHalf(u128 e, std::array<std::uint8_t, kW>& digit) {
  for (int i = 0; i < kW - 1; ++i) {
    const u64 m = u64(e) & 63;
    const u64 d = m - 32;  // two's complement of the signed digit
    const u64 neg = detail::ValueBarrier(0 - (d >> 63));
    const u64 abs = (d ^ neg) - neg;
    digit[i] = static_cast<std::uint8_t>(((abs - 1) >> 1) | (neg & 0x80));
    e = (e - m + 32) >> 5;  // (e - d) / 32
  }
  // What is left is odd and below 8 (e < 2^128 + 2 and 125 bits were consumed).
  digit[kW - 1] = static_cast<std::uint8_t>((u64(e) - 1) >> 1);
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
    rc.correction = static_cast<std::uint8_t>(rc.correction | (parity << h));
    RecodeHalf(e[h], rc.digit[h]);
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
  using TablePtr = const Packed*;

  static void Unpack(const V4& a0, const V4& a1, const V4& a2, Fp& x, Fp& y) {
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
    Unpack(a0, a1, a2, x, y);
  }
  // Two selections from one pass over the row (both halves of a window use the same row).
  static void Select2(const Packed* row, u64 want0, u64 want1, Fp& x0, Fp& y0, Fp& x1, Fp& y1) {
    V4 a0 = {0, 0, 0, 0}, a1 = a0, a2 = a0, b0 = a0, b1 = a0, b2 = a0;
    for (int j = 0; j < kE; ++j) {
      const u64 m = detail::ValueBarrier(detail::IsZeroMask(u64(j) ^ want0));
      const u64 k = detail::ValueBarrier(detail::IsZeroMask(u64(j) ^ want1));
      const V4 mv = {m, m, m, m}, kv = {k, k, k, k};
      V4 e0, e1, e2;
      std::memcpy(&e0, row[j].w.data(), 32);
      std::memcpy(&e1, row[j].w.data() + 4, 32);
      std::memcpy(&e2, row[j].w.data() + 8, 32);
      a0 |= e0 & mv;
      a1 |= e1 & mv;
      a2 |= e2 & mv;
      b0 |= e0 & kv;
      b1 |= e1 & kv;
      b2 |= e2 & kv;
    }
    Unpack(a0, a1, a2, x0, y0);
    Unpack(b0, b1, b2, x1, y1);
  }
  static Packed Pack(const G1Affine& a) {
    Packed p;
    std::copy(a.x.raw().begin(), a.x.raw().end(), p.w.begin());
    std::copy(a.y.raw().begin(), a.y.raw().end(), p.w.begin() + 6);
    return p;
  }
  static const Packed* Row(const G1FixedBase& b, int window) { return Row(b.entries_.get(), window); }
  static const Packed* Row(const Packed* table, int window) {
    return table + static_cast<std::size_t>(window) * kE;
  }
  static const Packed* Table(const G1FixedBase& b) { return b.entries_.get(); }
  // Starts loading a row that will be needed soon (its address is public).
  static void Prefetch(const Packed* table, int window) {
    const auto* p = reinterpret_cast<const char*>(Row(table, window));
    for (std::size_t off = 0; off < sizeof(Packed) * kE; off += 64) __builtin_prefetch(p + off);
  }
  // The point to add for window `window` of half `half` (single-multiplication path): the
  // selected entry, with x times beta for the x^2 half (whose entries are the -phi images
  // (beta x, -y), so y is flipped once more), and y negated by the recoded sign.
  static void Entry(const G1FixedBase& b, const Recoded& rc, int window, int half, Fp& x, Fp& y) {
    Select(Row(b, window), kE, rc.index(half, window), x, y);
    u64 negate = rc.negate(half, window);
    if (half == 1) {  // public: which half is being added
      x = x * Beta();
      negate = ~negate;
    }
    y = Fp::Select(negate, -y, y);
  }
  static void Correction(const G1FixedBase& b, const Recoded& rc, Fp& x, Fp& y) {
    Select(b.correction_.data(), 4, rc.correction, x, y);
  }
};

namespace {

// Fixed-size slots for the tables (all 40 KB), carved from 32 MiB chunks mapped with
// MADV_HUGEPAGE (transparent huge pages, where the kernel offers them: "madvise" mode is the
// Debian default). Freed slots are reused; chunks are kept for the process's lifetime (the
// callers bound how many tables they keep, e.g. the ABE layer's cache).
class TableArena {
 public:
  static constexpr std::size_t kSlot = std::size_t{96} * G1FixedBase::kWindows * G1FixedBase::kEntries;
  static constexpr std::size_t kChunk = std::size_t{32} << 20;
  static constexpr std::size_t kHuge = std::size_t{2} << 20;

  static TableArena& Instance() {
    static TableArena* arena = new TableArena();  // never destroyed: tables may outlive statics
    return *arena;
  }
  void* Allocate() {
    std::lock_guard lock(mu_);
    if (!free_.empty()) {
      void* p = free_.back();
      free_.pop_back();
      return p;
    }
    if (left_ < kSlot) {
      void* raw = mmap(nullptr, kChunk + kHuge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (raw == MAP_FAILED) throw std::bad_alloc();
      auto addr = reinterpret_cast<std::uintptr_t>(raw);
      addr = (addr + kHuge - 1) & ~(kHuge - 1);  // 2 MiB-aligned, so whole huge pages fit
      next_ = reinterpret_cast<char*>(addr);
      left_ = kChunk;
      (void)madvise(next_, kChunk, MADV_HUGEPAGE);  // a hint: 4 KB pages still work
    }
    void* p = next_;
    next_ += kSlot;
    left_ -= kSlot;
    return p;
  }
  void Release(void* p) {
    std::lock_guard lock(mu_);
    free_.push_back(p);
  }

 private:
  std::mutex mu_;
  std::vector<void*> free_;
  char* next_ = nullptr;
  std::size_t left_ = 0;
};

}  // namespace

void G1FixedBase::ArenaDelete::operator()(Packed* p) const {
  // Public data, but wiped anyway so freed slots hold nothing stale.
  std::memset(static_cast<void*>(p), 0, TableArena::kSlot);
  TableArena::Instance().Release(p);
}

G1FixedBase::G1FixedBase(const G1& base) : base_(base) {
  static_assert(sizeof(Packed) == 96, "tables are packed affine points");
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
  constexpr std::size_t kCount = static_cast<std::size_t>(kW) * kE;
  entries_.reset(static_cast<Packed*>(TableArena::Instance().Allocate()));
  for (std::size_t i = 0; i < kCount; ++i) entries_[i] = Lookup::Pack(affine[i]);
  for (std::size_t i = 0; i < 4; ++i) correction_[i] = Lookup::Pack(affine[kCount + i]);
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

namespace {

// Per-accumulator state of a batch: the running sum (ax, ay), affine; the point being added
// (ex, with numerator num = ey - ay and denominator den = ex - ax); pre = the product of the
// earlier denominators of the round; bad: a denominator was 0 (see the header).
struct BatchState {
  Fp ax, ay, ex, num, den, pre;
  u64 bad;
};

std::atomic<unsigned> g_batch_threads{0};  // 0: not set, use the hardware's count

// One round of affine additions (ax, ay) += point_of(a) for accumulators [0, m), sharing one
// inversion (Montgomery's trick). prefetch(a) is called a few accumulators ahead.
template <class PointOf, class Prefetch>
void AddRound(std::span<BatchState> st, PointOf&& point_of, Prefetch&& prefetch) {
  constexpr std::size_t kPrefetchAhead = 4;
  const std::size_t m = st.size();
  Fp run = Fp::One();
  Fp x2, y2;
  for (std::size_t a = 0; a < m; ++a) {
    if (a + kPrefetchAhead < m) prefetch(a + kPrefetchAhead);
    point_of(a, x2, y2);
    BatchState& s = st[a];
    Fp d = x2 - s.ax;
    const u64 zero = d.IsZeroMask();
    s.bad |= zero;
    d = Fp::Select(zero, Fp::One(), d);  // keeps the other inverses right
    s.den = d;
    s.ex = x2;
    s.num = y2 - s.ay;
    s.pre = run;
    run = run * d;
  }
  Fp inv = run.Inverse();
  for (std::size_t a = m; a-- > 0;) {
    BatchState& s = st[a];
    const Fp d_inv = inv * s.pre;
    inv = inv * s.den;
    const Fp lambda = s.num * d_inv;
    const Fp x3 = lambda.Square() - s.ax - s.ex;
    s.ay = lambda * (s.ax - x3) - s.ay;
    s.ax = x3;
  }
}

// Runs a chunk of multiplications. Each term t has two accumulators, 2t for e0's digits on the
// table entries and 2t + 1 for e1's digits on the same entries (so no beta multiplication per
// addition and one shared inversion per window for both halves): after the 25 window rounds
// A_{2t} = e0' P and A_{2t+1} = e1' P; then A_{2t} += -phi(A_{2t+1}) = e1' x^2 P, and finally
// A_{2t} += the correction point. 27 inversions and 52 additions per term. Leaves k P in
// st[2t] unless st[2t].bad or st[2t + 1].bad.
void RunBatch(std::span<const G1FixedBaseTerm> terms, std::span<BatchState> st) {
  using L = G1FixedBase::Lookup;
  const std::size_t n = terms.size();
  std::vector<Recoded> rc(n);
  std::vector<L::TablePtr> table(n);  // no pointer chase in the rounds
  for (std::size_t t = 0; t < n; ++t) {
    rc[t] = Recode(terms[t].scalar);
    table[t] = L::Table(*terms[t].base);
  }
  // Window 0 initialises both accumulators; windows 1..25 add to both from one row scan.
  Fp x1, y1;  // the second half's entry, selected in the same scan as the first's
  for (std::size_t t = 0; t < n; ++t) {
    BatchState& s0 = st[2 * t];
    BatchState& s1 = st[2 * t + 1];
    L::Select2(L::Row(table[t], 0), rc[t].index(0, 0), rc[t].index(1, 0), s0.ax, s0.ay, s1.ax, s1.ay);
    s0.ay = Fp::Select(rc[t].negate(0, 0), -s0.ay, s0.ay);
    s1.ay = Fp::Select(rc[t].negate(1, 0), -s1.ay, s1.ay);
    s0.bad = s1.bad = 0;
  }
  for (int i = 1; i < kW; ++i) {
    AddRound(
        st,
        [&](std::size_t a, Fp& x, Fp& y) {
          const std::size_t t = a / 2;
          if (a % 2 == 0) {
            L::Select2(L::Row(table[t], i), rc[t].index(0, i), rc[t].index(1, i), x, y, x1, y1);
          } else {
            x = x1;
            y = y1;
          }
          y = Fp::Select(rc[t].negate(a % 2, i), -y, y);
        },
        [&](std::size_t a) {
          if (a % 2 == 0) L::Prefetch(table[a / 2], i);
        });
  }
  // Fold the halves: A_{2t} += -phi(A_{2t+1}) = (beta x, -y), then the correction point.
  std::vector<BatchState> folded(n);
  for (std::size_t t = 0; t < n; ++t) {
    folded[t].ax = st[2 * t].ax;
    folded[t].ay = st[2 * t].ay;
    folded[t].bad = st[2 * t].bad | st[2 * t + 1].bad;
  }
  AddRound(
      folded,
      [&](std::size_t t, Fp& x, Fp& y) {
        x = st[2 * t + 1].ax * Beta();
        y = -st[2 * t + 1].ay;
      },
      [](std::size_t) {});
  AddRound(
      folded, [&](std::size_t t, Fp& x, Fp& y) { L::Correction(*terms[t].base, rc[t], x, y); },
      [](std::size_t) {});
  for (std::size_t t = 0; t < n; ++t) st[2 * t] = folded[t];
  std::memset(static_cast<void*>(folded.data()), 0, folded.size() * sizeof(BatchState));
  __asm__ __volatile__("" : : "r"(folded.data()) : "memory");
  std::memset(static_cast<void*>(&x1), 0, sizeof(x1));
  std::memset(static_cast<void*>(&y1), 0, sizeof(y1));
  Wipe(rc);
}

}  // namespace

void SetBatchThreads(unsigned threads) { g_batch_threads.store(threads); }

unsigned BatchThreads() {
  const unsigned set = g_batch_threads.load();
  if (set != 0) return set;
  // CIPHERCHART_THREADS=n (1..64) overrides the hardware's count for the whole process.
  static const unsigned from_env = [] {
    const char* v = std::getenv("CIPHERCHART_THREADS");
    if (v == nullptr) return 0u;
    char* end = nullptr;
    const unsigned long n = std::strtoul(v, &end, 10);
    return (end != v && *end == '\0' && n >= 1 && n <= 64) ? static_cast<unsigned>(n) : 0u;
  }();
  if (from_env != 0) return from_env;
  return std::clamp(std::thread::hardware_concurrency(), 1u, 8u);
}

namespace {

// True on pool threads and on a caller while it runs its own chunk: a ParallelChunks call from
// there runs inline instead of queueing jobs it would wait for (all pool threads could be
// waiting like that, with the jobs stuck behind them in the queue).
thread_local bool t_in_chunk = false;

// Persistent helper threads for ParallelChunks: starting a thread (and touching its fresh
// stack and heap) per call costs about as much as a small batch. Threads are created on first
// need and live for the process (detached; they hold nothing secret between jobs). Concurrent
// callers share them: jobs queue, and each caller waits for its own jobs only. Jobs never
// wait on the pool themselves (nested calls run inline), so the queue always drains.
class WorkerPool {
 public:
  static WorkerPool& Instance() {
    static auto* pool = new WorkerPool();  // never destroyed: its threads outlive statics
    return *pool;
  }
  // Runs `jobs` on pool threads and `own` on the calling thread; returns when all are done.
  void Run(std::vector<std::function<void()>>& jobs, const std::function<void()>& own) {
    struct Latch {
      std::mutex mu;
      std::condition_variable cv;
      std::size_t left;
    } latch;
    latch.left = jobs.size();
    {
      std::lock_guard lock(mu_);
      while (threads_ < jobs.size()) {
        std::thread([this] { Loop(); }).detach();
        ++threads_;
      }
      for (auto& j : jobs) {
        queue_.emplace_back([&latch, job = std::move(j)] {
          job();
          std::lock_guard l(latch.mu);
          if (--latch.left == 0) latch.cv.notify_all();
        });
      }
    }
    work_.notify_all();
    own();
    std::unique_lock l(latch.mu);
    latch.cv.wait(l, [&] { return latch.left == 0; });
  }

 private:
  void Loop() {
    t_in_chunk = true;
    std::unique_lock lock(mu_);
    for (;;) {
      work_.wait(lock, [this] { return !queue_.empty(); });
      std::function<void()> job = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      job();
      job = nullptr;
      lock.lock();
    }
  }
  std::mutex mu_;
  std::condition_variable work_;
  std::deque<std::function<void()>> queue_;
  std::size_t threads_ = 0;
};

}  // namespace

unsigned ParallelWidth() { return t_in_chunk ? 1u : BatchThreads(); }

void ParallelChunks(std::size_t n, const std::function<void(std::size_t begin, std::size_t end)>& fn) {
  const std::size_t chunks = std::min<std::size_t>(ParallelWidth(), n);
  if (chunks <= 1) {
    fn(0, n);
    return;
  }
  // Chunk c is [begin(c), begin(c + 1)): sizes differ by at most one.
  const std::size_t base = n / chunks, extra = n % chunks;
  const auto begin = [&](std::size_t c) { return c * base + std::min(c, extra); };
  std::vector<std::function<void()>> jobs;
  jobs.reserve(chunks - 1);
  for (std::size_t c = 1; c < chunks; ++c) {
    jobs.emplace_back([&fn, lo = begin(c), hi = begin(c + 1)] { fn(lo, hi); });
  }
  WorkerPool::Instance().Run(jobs, [&] {
    t_in_chunk = true;
    fn(0, begin(1));
    t_in_chunk = false;  // the caller was not in a chunk, or it would have run inline
  });
}

namespace {

// Adds the chunk's results into `out` (the retry for exceptional terms included).
void Accumulate(std::span<const G1FixedBaseTerm> terms, std::span<const BatchState> st, std::span<G1> out,
                std::vector<bool>* touched) {
  for (std::size_t t = 0; t < terms.size(); ++t) {
    G1& o = out[terms[t].slot];
    if (touched != nullptr) (*touched)[terms[t].slot] = true;  // slots are public
    // An exceptional case (a handful of scalars, 0 among them): redo this one with the
    // complete formulas. The only secret-dependent branch here (see the header).
    u64 bad = st[2 * t].bad;
    CIPHERCHART_DECLASSIFY(&bad, sizeof(bad));
    if (bad) {
      o += terms[t].base->Mul(terms[t].scalar);
    } else {
      o = o.AddAffine(st[2 * t].ax, st[2 * t].ay);
    }
  }
}

template <class T>
void WipeVector(std::vector<T>& v) {
  std::memset(static_cast<void*>(v.data()), 0, v.size() * sizeof(T));
  __asm__ __volatile__("" : : "r"(v.data()) : "memory");
}

}  // namespace

void FixedBaseSum(std::span<const G1FixedBaseTerm> terms, std::span<G1> out) {
  const std::size_t n = terms.size();
  if (n == 0) return;
  for (const auto& t : terms) {
    assert(t.slot < out.size());
    (void)t;
  }
  // Reused across calls on this thread: a fresh half-megabyte buffer per call would be mapped
  // and faulted in each time. Wiped after each use.
  thread_local std::vector<BatchState> st_buffer;
  if (st_buffer.size() < 2 * n) st_buffer.resize(2 * n);
  const std::span<BatchState> st(st_buffer.data(), 2 * n);
  // Chunks of at least kMinChunk terms per thread: below that, a shared inversion per round
  // (about 20 us) is no longer cheap next to the chunk's additions.
  constexpr std::size_t kMinChunk = 96;
  const std::size_t chunks = std::max<std::size_t>(1, std::min<std::size_t>(ParallelWidth(), n / kMinChunk));
  if (chunks == 1) {
    RunBatch(terms, st);
    Accumulate(terms, st, out, nullptr);
  } else {
    // Chunk 0 (the caller's thread) sums into `out` directly, the others into their own copy
    // of the slots; then the touched slots of the copies are added.
    std::vector<std::vector<G1>> partial(chunks - 1);
    std::vector<std::vector<bool>> touched(chunks - 1);
    for (std::size_t c = 0; c + 1 < chunks; ++c) {
      partial[c].assign(out.size(), G1::Identity());
      touched[c].assign(out.size(), false);
    }
    const std::size_t per = (n + chunks - 1) / chunks;
    // ParallelChunks over chunk indices, normally one per thread (a loop in case it groups).
    ParallelChunks(chunks, [&](std::size_t c_begin, std::size_t c_end) {
      for (std::size_t c = c_begin; c < c_end; ++c) {
        const std::size_t lo = std::min(n, c * per), hi = std::min(n, lo + per);
        const auto chunk = terms.subspan(lo, hi - lo);
        const auto chunk_st = st.subspan(2 * lo, 2 * (hi - lo));
        RunBatch(chunk, chunk_st);
        if (c == 0) {
          Accumulate(chunk, chunk_st, out, nullptr);
        } else {
          Accumulate(chunk, chunk_st, partial[c - 1], &touched[c - 1]);
        }
      }
    });
    for (std::size_t c = 0; c + 1 < chunks; ++c) {
      for (std::size_t slot = 0; slot < out.size(); ++slot) {
        if (touched[c][slot]) out[slot] += partial[c][slot];
      }
      WipeVector(partial[c]);
    }
  }
  std::memset(static_cast<void*>(st.data()), 0, st.size_bytes());
  __asm__ __volatile__("" : : "r"(st.data()) : "memory");
}

}  // namespace cipherchart::pairing
