// scripts/bench abe (same executable as abe_bench.cc): the multi-authority scheme (RW15,
// maabe.h). Names are fixed by issue 5: maabe/keygen/N (one identity's keys for N attributes
// spread round-robin over 3 authorities: one KeyGen per authority), maabe/encrypt_and/N (the AND
// of those N attributes), maabe/decrypt_and/N (that ciphertext with that key). Each benchmark
// runs its operation a few times first, so the hashed bases and the authority tables are built
// (as in steady use). The *_1thread variants confine the work to one thread.
#include <benchmark/benchmark.h>

#include <array>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "cipherchart/abe/maabe.h"
#include "cipherchart/pairing/fixed_base.h"

namespace cipherchart::abe::maabe {
namespace {

constexpr int kWarmUps = 3;
constexpr std::array<const char*, 3> kAuthorities = {"board", "hospital_a", "pharmacy_z"};

const std::vector<AuthorityKeyPair>& Authorities() {
  static const std::vector<AuthorityKeyPair> all = [] {
    std::vector<AuthorityKeyPair> out;
    for (const char* ns : kAuthorities) {
      auto a = AuthoritySetup(ns);
      if (!a) std::abort();
      out.push_back(std::move(*a));
    }
    return out;
  }();
  return all;
}
std::vector<AuthorityPublicKey> PublicKeys() {
  std::vector<AuthorityPublicKey> out;
  for (const auto& a : Authorities()) out.push_back(a.pk);
  return out;
}

std::string Leaf(int i) { return std::string(kAuthorities[i % 3]) + ".attr" + std::to_string(i); }

// Attribute i belongs to authority i % 3.
std::vector<std::set<std::string>> Split(int n) {
  std::vector<std::set<std::string>> out(3);
  for (int i = 0; i < n; ++i) out[i % 3].insert(Leaf(i));
  return out;
}

std::unique_ptr<PolicyNode> AndPolicy(int n) {
  std::string text;
  for (int i = 0; i < n; ++i) text += (i ? " AND " : "") + Leaf(i);
  auto p = ParsePolicy(text);
  if (!p) std::abort();
  return std::move(*p);
}

UserKey IssueAll(const std::string& gid, const std::vector<std::set<std::string>>& split) {
  UserKey user{gid, {}};
  for (std::size_t a = 0; a < 3; ++a) {
    if (split[a].empty()) continue;
    auto keys = KeyGen(Authorities()[a], gid, split[a]);
    if (!keys || !AddKeys(user, *keys)) std::abort();
  }
  return user;
}

void BM_KeyGen(benchmark::State& state) {
  const auto split = Split(static_cast<int>(state.range(0)));
  for (int i = 0; i < kWarmUps; ++i) IssueAll("practitioner:0001", split);
  for (auto _ : state) benchmark::DoNotOptimize(IssueAll("practitioner:0001", split));
}
BENCHMARK(BM_KeyGen)->Name("maabe/keygen")->Arg(10)->Arg(50)->Arg(100)->Unit(benchmark::kMillisecond);

void BM_EncryptAnd(benchmark::State& state) {
  const auto policy = AndPolicy(static_cast<int>(state.range(0)));
  const auto pks = PublicKeys();
  for (int i = 0; i < kWarmUps; ++i) benchmark::DoNotOptimize(Encapsulate(pks, *policy));
  for (auto _ : state) benchmark::DoNotOptimize(Encapsulate(pks, *policy));
}
BENCHMARK(BM_EncryptAnd)
    ->Name("maabe/encrypt_and")
    ->Arg(10)
    ->Arg(50)
    ->Arg(100)
    ->Unit(benchmark::kMillisecond);

void BM_DecryptAnd(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const UserKey user = IssueAll("practitioner:0002", Split(n));
  auto enc = Encapsulate(PublicKeys(), *AndPolicy(n));
  if (!enc) std::abort();
  for (auto _ : state) {
    auto key = Decapsulate(user, enc->ct);
    if (!key || !(*key == enc->key)) std::abort();
  }
}
BENCHMARK(BM_DecryptAnd)
    ->Name("maabe/decrypt_and")
    ->Arg(10)
    ->Arg(50)
    ->Arg(100)
    ->Unit(benchmark::kMillisecond);

// Decryption with the key's G2 lines precomputed once (PreparedUserKey), as a reader who opens
// many records would.
void BM_DecryptAndPrepared(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const PreparedUserKey user(IssueAll("practitioner:0005", Split(n)));
  auto enc = Encapsulate(PublicKeys(), *AndPolicy(n));
  if (!enc) std::abort();
  for (auto _ : state) {
    auto key = Decapsulate(user, enc->ct);
    if (!key || !(*key == enc->key)) std::abort();
  }
}
BENCHMARK(BM_DecryptAndPrepared)
    ->Name("maabe/decrypt_and_prepared")
    ->Arg(10)
    ->Arg(100)
    ->Unit(benchmark::kMillisecond);

// Outsourced decryption: the cloud's Transform and the user's one exponentiation.
void BM_Transform(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const UserKey user = IssueAll("practitioner:0003", Split(n));
  auto tk = MakeTransformKey(user);
  auto enc = Encapsulate(PublicKeys(), *AndPolicy(n));
  if (!tk || !enc) std::abort();
  for (auto _ : state) benchmark::DoNotOptimize(Transform(tk->tk, enc->ct));
}
BENCHMARK(BM_Transform)->Name("maabe/transform_and")->Arg(100)->Unit(benchmark::kMillisecond);
void BM_DecryptFinal(benchmark::State& state) {
  const UserKey user = IssueAll("practitioner:0004", Split(10));
  auto tk = MakeTransformKey(user);
  auto enc = Encapsulate(PublicKeys(), *AndPolicy(10));
  if (!tk || !enc) std::abort();
  auto partial = Transform(tk->tk, enc->ct);
  if (!partial) std::abort();
  for (auto _ : state) benchmark::DoNotOptimize(DecryptTransformed(tk->b, *partial));
}
BENCHMARK(BM_DecryptFinal)->Name("maabe/decrypt_final")->Unit(benchmark::kMillisecond);

// One thread: the single-core figures.
template <void (*Bench)(benchmark::State&)>
void OneThread(benchmark::State& state) {
  pairing::SetBatchThreads(1);
  Bench(state);
  pairing::SetBatchThreads(0);
}
BENCHMARK(OneThread<BM_KeyGen>)->Name("maabe/keygen_1thread")->Arg(10)->Unit(benchmark::kMillisecond);
BENCHMARK(OneThread<BM_EncryptAnd>)
    ->Name("maabe/encrypt_and_1thread")
    ->Arg(100)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(OneThread<BM_DecryptAnd>)
    ->Name("maabe/decrypt_and_1thread")
    ->Arg(100)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(OneThread<BM_DecryptAndPrepared>)
    ->Name("maabe/decrypt_and_prepared_1thread")
    ->Arg(100)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace cipherchart::abe::maabe
