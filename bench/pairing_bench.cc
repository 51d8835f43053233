// scripts/bench pairing: the BLS12-381 library. Names are fixed by issue 3 so results can be
// compared over time; do not rename.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "cipherchart/pairing/fixed_base.h"
#include "cipherchart/pairing/hash_to_curve.h"
#include "cipherchart/pairing/pairing.h"

namespace cipherchart::pairing {
namespace {

std::mt19937_64& Rng() {
  static std::mt19937_64 rng(0xBE7C4);
  return rng;
}
std::vector<std::uint8_t> RandomBytes(std::size_t n) {
  std::vector<std::uint8_t> out(n);
  for (auto& b : out) b = static_cast<std::uint8_t>(Rng()());
  return out;
}
Fp RandomFp() { return Fp::FromBytesWide(RandomBytes(64)); }
Fr RandomFr() { return Fr::FromBytesWide(RandomBytes(48)); }
G1 RandomG1() { return G1::Generator().MulVartime(RandomFr()); }
G2 RandomG2() { return G2::Generator().MulVartime(RandomFr()); }

void BM_FpMul(benchmark::State& state) {
  Fp a = RandomFp(), b = RandomFp();
  for (auto _ : state) {
    a = a * b;
    benchmark::DoNotOptimize(a);
  }
}
BENCHMARK(BM_FpMul)->Name("fp/mul");

void BM_FpInv(benchmark::State& state) {
  Fp a = RandomFp();
  for (auto _ : state) {
    a = a.Inverse();
    benchmark::DoNotOptimize(a);
  }
}
BENCHMARK(BM_FpInv)->Name("fp/inv");

void BM_Fp2Mul(benchmark::State& state) {
  Fp2 a{RandomFp(), RandomFp()}, b{RandomFp(), RandomFp()};
  for (auto _ : state) {
    a = a * b;
    benchmark::DoNotOptimize(a);
  }
}
BENCHMARK(BM_Fp2Mul)->Name("fp2/mul");

void BM_MillerLoop(benchmark::State& state) {
  const G1 p = RandomG1();
  const G2 q = RandomG2();
  for (auto _ : state) benchmark::DoNotOptimize(MillerLoop(p, q));
}
BENCHMARK(BM_MillerLoop)->Name("pairing/miller_loop")->Unit(benchmark::kMicrosecond);

void BM_FinalExp(benchmark::State& state) {
  const Fp12 f = MillerLoop(RandomG1(), RandomG2());
  for (auto _ : state) benchmark::DoNotOptimize(FinalExponentiation(f));
}
BENCHMARK(BM_FinalExp)->Name("pairing/final_exp")->Unit(benchmark::kMicrosecond);

void BM_PairingFull(benchmark::State& state) {
  const G1 p = RandomG1();
  const G2 q = RandomG2();
  for (auto _ : state) benchmark::DoNotOptimize(Pairing(p, q));
}
BENCHMARK(BM_PairingFull)->Name("pairing/full")->Unit(benchmark::kMicrosecond);

void BM_PairingProduct4(benchmark::State& state) {
  std::vector<G1> ps;
  std::vector<G2> qs;
  for (int i = 0; i < 4; ++i) {
    ps.push_back(RandomG1());
    qs.push_back(RandomG2());
  }
  for (auto _ : state) benchmark::DoNotOptimize(PairingProduct(ps, qs));
}
BENCHMARK(BM_PairingProduct4)->Name("pairing/product_4")->Unit(benchmark::kMicrosecond);

// Multi-pairings of N pairs (one final exponentiation) on BatchThreads() threads: run with
// CIPHERCHART_THREADS=1 for the single-core figure.
void BM_PairingProductN(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  std::vector<G1> ps;
  std::vector<G2> qs;
  for (std::size_t i = 0; i < n; ++i) {
    ps.push_back(RandomG1());
    qs.push_back(RandomG2());
  }
  for (auto _ : state) benchmark::DoNotOptimize(PairingProduct(ps, qs));
}
BENCHMARK(BM_PairingProductN)->Name("pairing/product")->Arg(16)->Arg(200)->Unit(benchmark::kMicrosecond);

void BM_PairingProductPreparedN(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  std::vector<G1> ps;
  std::vector<G2Prepared> prepared;
  prepared.reserve(n);
  std::vector<const G2Prepared*> ptrs;
  for (std::size_t i = 0; i < n; ++i) {
    ps.push_back(RandomG1());
    prepared.emplace_back(RandomG2());
    ptrs.push_back(&prepared.back());
  }
  for (auto _ : state) benchmark::DoNotOptimize(PairingProduct(ps, ptrs));
}
BENCHMARK(BM_PairingProductPreparedN)
    ->Name("pairing/product_prepared")
    ->Arg(16)
    ->Arg(200)
    ->Unit(benchmark::kMicrosecond);

void BM_PairingPrepared(benchmark::State& state) {
  const G1 p = RandomG1();
  const G2Prepared q(RandomG2());
  for (auto _ : state) benchmark::DoNotOptimize(Pairing(p, q));
}
BENCHMARK(BM_PairingPrepared)->Name("pairing/prepared_g2")->Unit(benchmark::kMicrosecond);

void BM_G1MulCt(benchmark::State& state) {
  const G1 p = RandomG1();
  const Fr k = RandomFr();
  for (auto _ : state) benchmark::DoNotOptimize(p.Mul(k));
}
BENCHMARK(BM_G1MulCt)->Name("g1/mul_ct")->Unit(benchmark::kMicrosecond);

void BM_G2MulCt(benchmark::State& state) {
  const G2 p = RandomG2();
  const Fr k = RandomFr();
  for (auto _ : state) benchmark::DoNotOptimize(p.Mul(k));
}
BENCHMARK(BM_G2MulCt)->Name("g2/mul_ct")->Unit(benchmark::kMicrosecond);

void BM_GtExpCt(benchmark::State& state) {
  const Gt e = Pairing(RandomG1(), RandomG2());
  const Fr k = RandomFr();
  for (auto _ : state) benchmark::DoNotOptimize(e.Pow(k));
}
BENCHMARK(BM_GtExpCt)->Name("gt/exp_ct")->Unit(benchmark::kMicrosecond);

// GtFixedBase: one precomputed table per digit position, no squarings (constant-time).
void BM_GtExpFixedBase(benchmark::State& state) {
  const GtFixedBase fixed(Pairing(RandomG1(), RandomG2()));
  const Fr k = RandomFr();
  for (auto _ : state) benchmark::DoNotOptimize(fixed.Pow(k));
}
BENCHMARK(BM_GtExpFixedBase)->Name("gt/exp_fixed_base")->Unit(benchmark::kMicrosecond);

void BM_G1MulFixedBase(benchmark::State& state) {
  static const FixedBaseTable<G1> table(G1::Generator());
  const Fr k = RandomFr();
  for (auto _ : state) benchmark::DoNotOptimize(table.Mul(k));
}
BENCHMARK(BM_G1MulFixedBase)->Name("g1/mul_fixed_base")->Unit(benchmark::kMicrosecond);

// G1FixedBase: GLV + signed 5-bit digits, one multiplication with complete additions.
void BM_G1MulFixedGlv(benchmark::State& state) {
  static const G1FixedBase table(G1::Generator());
  const Fr k = RandomFr();
  for (auto _ : state) benchmark::DoNotOptimize(table.Mul(k));
}
BENCHMARK(BM_G1MulFixedGlv)->Name("g1/mul_fixed_glv")->Unit(benchmark::kMicrosecond);

// FixedBaseSum over N terms on N distinct bases (as in an ABE encryption), one thread; the
// time divided by N is the figure to compare with g1/mul_fixed_glv.
void BM_G1FixedBaseSum(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  static std::vector<G1FixedBase> tables;
  while (tables.size() < n) tables.emplace_back(RandomG1());
  std::vector<G1FixedBaseTerm> terms;
  terms.reserve(n);
  for (std::size_t i = 0; i < n; ++i) terms.push_back({&tables[i], RandomFr(), i % 16});
  std::vector<G1> out(16);
  SetBatchThreads(1);
  for (auto _ : state) FixedBaseSum(terms, out);
  SetBatchThreads(0);
}
BENCHMARK(BM_G1FixedBaseSum)->Name("g1/fixed_base_sum_1thread")->Arg(1024)->Unit(benchmark::kMillisecond);

void BM_G2MulFixedBase(benchmark::State& state) {
  static const FixedBaseTable<G2> table(G2::Generator());
  const Fr k = RandomFr();
  for (auto _ : state) benchmark::DoNotOptimize(table.Mul(k));
}
BENCHMARK(BM_G2MulFixedBase)->Name("g2/mul_fixed_base")->Unit(benchmark::kMicrosecond);

void BM_G1Msm256(benchmark::State& state) {
  std::vector<G1> ps;
  std::vector<Fr> ks;
  for (int i = 0; i < 256; ++i) {
    ps.push_back(RandomG1());
    ks.push_back(RandomFr());
  }
  for (auto _ : state) benchmark::DoNotOptimize(MsmVartime(ps, ks));
}
BENCHMARK(BM_G1Msm256)->Name("g1/msm_256")->Unit(benchmark::kMicrosecond);

void BM_G1HashToCurve(benchmark::State& state) {
  const auto msg = RandomBytes(32);
  const auto dst = AsBytes("CIPHERCHART-BENCH-V01-CS01-with-BLS12381G1_XMD:SHA-256_SSWU_RO_");
  for (auto _ : state) benchmark::DoNotOptimize(HashToG1(msg, dst));
}
BENCHMARK(BM_G1HashToCurve)->Name("g1/hash_to_curve")->Unit(benchmark::kMicrosecond);

void BM_G2HashToCurve(benchmark::State& state) {
  const auto msg = RandomBytes(32);
  const auto dst = AsBytes("CIPHERCHART-BENCH-V01-CS01-with-BLS12381G2_XMD:SHA-256_SSWU_RO_");
  for (auto _ : state) benchmark::DoNotOptimize(HashToG2(msg, dst));
}
BENCHMARK(BM_G2HashToCurve)->Name("g2/hash_to_curve")->Unit(benchmark::kMicrosecond);

void BM_G1DecompressChecked(benchmark::State& state) {
  const auto enc = G1Compress(RandomG1());
  for (auto _ : state) benchmark::DoNotOptimize(G1Decompress(enc));
}
BENCHMARK(BM_G1DecompressChecked)->Name("g1/decompress_checked")->Unit(benchmark::kMicrosecond);

void BM_G2DecompressChecked(benchmark::State& state) {
  const auto enc = G2Compress(RandomG2());
  for (auto _ : state) benchmark::DoNotOptimize(G2Decompress(enc));
}
BENCHMARK(BM_G2DecompressChecked)->Name("g2/decompress_checked")->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace cipherchart::pairing

BENCHMARK_MAIN();
