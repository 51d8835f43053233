// scripts/bench abe: FAME CP-ABE KEM, outsourced decryption and policy compilation. Names are
// fixed by issue 4. AND policy of N leaves with a key holding exactly those N; OR policy of N
// leaves with a key holding one of them.
#include <benchmark/benchmark.h>

#include <string>

#include "cipherchart/abe/fame.h"
#include "cipherchart/pairing/fixed_base.h"

namespace cipherchart::abe::fame {
namespace {

const SetupResult& Keys() {
  static const SetupResult keys = [] {
    auto s = Setup();
    if (!s) std::abort();
    return std::move(*s);
  }();
  return keys;
}

std::string Leaves(int n, const char* op) {
  std::string out;
  for (int i = 0; i < n; ++i) {
    if (i != 0) out.append(" ").append(op).append(" ");
    out.append("hospital_a.attr").append(std::to_string(i));
  }
  return out;
}
std::set<std::string> Attributes(int n) {
  std::set<std::string> s;
  for (int i = 0; i < n; ++i) s.insert("hospital_a.attr" + std::to_string(i));
  return s;
}
std::unique_ptr<PolicyNode> MustParse(const std::string& text) {
  auto p = ParsePolicy(text);
  if (!p) std::abort();
  return std::move(*p);
}

void BM_KeyGen(benchmark::State& state) {
  const auto attrs = Attributes(static_cast<int>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(KeyGen(Keys().msk, attrs));
}
BENCHMARK(BM_KeyGen)->Name("cpabe/keygen")->Arg(1)->Arg(10)->Arg(50)->Arg(100)->Unit(benchmark::kMillisecond);

void Encrypt(benchmark::State& state, const char* op) {
  const auto policy = MustParse(Leaves(static_cast<int>(state.range(0)), op));
  for (auto _ : state) benchmark::DoNotOptimize(Encapsulate(Keys().pk, *policy));
}
void BM_EncryptAnd(benchmark::State& state) { Encrypt(state, "AND"); }
void BM_EncryptOr(benchmark::State& state) { Encrypt(state, "OR"); }
BENCHMARK(BM_EncryptAnd)
    ->Name("cpabe/encrypt_and")
    ->Arg(1)
    ->Arg(10)
    ->Arg(50)
    ->Arg(100)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_EncryptOr)
    ->Name("cpabe/encrypt_or")
    ->Arg(1)
    ->Arg(10)
    ->Arg(50)
    ->Arg(100)
    ->Unit(benchmark::kMillisecond);

void Decrypt(benchmark::State& state, const char* op, int key_attributes) {
  const auto policy = MustParse(Leaves(static_cast<int>(state.range(0)), op));
  auto enc = Encapsulate(Keys().pk, *policy);
  auto sk = KeyGen(Keys().msk, Attributes(key_attributes));
  if (!enc || !sk) std::abort();
  for (auto _ : state) benchmark::DoNotOptimize(Decapsulate(*sk, enc->ct));
}
void BM_DecryptAnd(benchmark::State& state) { Decrypt(state, "AND", static_cast<int>(state.range(0))); }
void BM_DecryptOr(benchmark::State& state) { Decrypt(state, "OR", 1); }
BENCHMARK(BM_DecryptAnd)
    ->Name("cpabe/decrypt_and")
    ->Arg(1)
    ->Arg(10)
    ->Arg(50)
    ->Arg(100)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DecryptOr)
    ->Name("cpabe/decrypt_or")
    ->Arg(1)
    ->Arg(10)
    ->Arg(50)
    ->Arg(100)
    ->Unit(benchmark::kMillisecond);

void BM_Transform(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const auto policy = MustParse(Leaves(n, "AND"));
  auto enc = Encapsulate(Keys().pk, *policy);
  auto sk = KeyGen(Keys().msk, Attributes(n));
  if (!enc || !sk) std::abort();
  auto tk = MakeTransformKey(*sk);
  if (!tk) std::abort();
  for (auto _ : state) benchmark::DoNotOptimize(Transform(tk->tk, enc->ct));
}
BENCHMARK(BM_Transform)
    ->Name("outsourced/transform")
    ->Arg(1)
    ->Arg(10)
    ->Arg(50)
    ->Arg(100)
    ->Unit(benchmark::kMillisecond);

void BM_DecryptFinal(benchmark::State& state) {
  const auto policy = MustParse(Leaves(2, "AND"));
  auto enc = Encapsulate(Keys().pk, *policy);
  auto sk = KeyGen(Keys().msk, Attributes(2));
  if (!enc || !sk) std::abort();
  auto tk = MakeTransformKey(*sk);
  if (!tk) std::abort();
  auto partial = Transform(tk->tk, enc->ct);
  if (!partial) std::abort();
  for (auto _ : state) benchmark::DoNotOptimize(DecryptTransformed(tk->z, *partial));
}
BENCHMARK(BM_DecryptFinal)->Name("outsourced/decrypt_final")->Unit(benchmark::kMillisecond);

// The same key generation and AND encryption with the batched G1 multiplications confined to
// one thread (the named benchmarks above use BatchThreads(), i.e. both cores of the
// development machine): the single-core figure, for comparison with single-threaded libraries.
void BM_KeyGenOneThread(benchmark::State& state) {
  pairing::SetBatchThreads(1);
  BM_KeyGen(state);
  pairing::SetBatchThreads(0);
}
void BM_EncryptAndOneThread(benchmark::State& state) {
  pairing::SetBatchThreads(1);
  BM_EncryptAnd(state);
  pairing::SetBatchThreads(0);
}
BENCHMARK(BM_KeyGenOneThread)->Name("cpabe/keygen_1thread")->Arg(10)->Arg(100)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_EncryptAndOneThread)
    ->Name("cpabe/encrypt_and_1thread")
    ->Arg(10)
    ->Arg(100)
    ->Unit(benchmark::kMillisecond);

// Delegation: a child key for half of a delegable key's N attributes.
void BM_Delegate(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  auto parent = KeyGen(Keys().msk, Attributes(n), KeyKind::kDelegable);
  if (!parent) std::abort();
  const auto half = Attributes(n / 2 > 0 ? n / 2 : 1);
  for (auto _ : state) benchmark::DoNotOptimize(Delegate(*parent, half));
}
BENCHMARK(BM_Delegate)->Name("cpabe/delegate_half")->Arg(10)->Unit(benchmark::kMillisecond);
void BM_KeyGenDelegable(benchmark::State& state) {
  const auto attrs = Attributes(static_cast<int>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(KeyGen(Keys().msk, attrs, KeyKind::kDelegable));
}
BENCHMARK(BM_KeyGenDelegable)
    ->Name("cpabe/keygen_delegable")
    ->Arg(10)
    ->Arg(100)
    ->Unit(benchmark::kMillisecond);

void BM_PolicyCompile100(benchmark::State& state) {
  // 100 leaves in nested AND/OR/threshold gates.
  std::string text;
  for (int g = 0; g < 10; ++g) {
    std::string gate = g % 3 == 0 ? "3 of (" : "(";
    for (int i = 0; i < 10; ++i) {
      if (i != 0) gate.append(g % 3 == 0 ? ", " : (g % 2 ? " AND " : " OR "));
      gate.append("h").append(std::to_string(g)).append(".a").append(std::to_string(i));
    }
    if (g != 0) text.append(" OR ");
    text.append(gate).append(")");
  }
  for (auto _ : state) {
    auto p = ParsePolicy(text);
    if (!p) std::abort();
    benchmark::DoNotOptimize(CompileToLsss(**p));
  }
}
BENCHMARK(BM_PolicyCompile100)->Name("policy/compile/100")->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace cipherchart::abe::fame

BENCHMARK_MAIN();
