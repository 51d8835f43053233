// Benchmarks of the record envelope layer (src/envelope). Run: scripts/bench envelope.
//
//   envelope/payload_seal_64MiB, envelope/payload_open_64MiB
//       the streaming AEAD alone (StreamSealer / StreamOpener, 1 MiB segments, fed in 1 MiB
//       chunks, output counted and dropped), in bytes of plaintext per second. Target: 1.5 GB/s.
//   envelope/seal_64MiB, envelope/open_64MiB
//       the whole envelope (streaming AEAD + SHA-256 of everything + two Ed25519 signatures or
//       verifications), whole-buffer API, for comparison.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "cipherchart/envelope/envelope.h"
#include "cipherchart/envelope/stream_aead.h"

namespace {

using namespace cipherchart;
using namespace cipherchart::envelope;

constexpr std::size_t kPayload = 64u << 20;
constexpr std::size_t kChunk = 1u << 20;

const std::vector<std::uint8_t>& Payload() {
  static const std::vector<std::uint8_t> payload = [] {
    std::vector<std::uint8_t> p(kPayload);
    for (std::size_t i = 0; i < p.size(); ++i) p[i] = static_cast<std::uint8_t>(i * 131 + (i >> 12));
    return p;
  }();
  return payload;
}

const SecretBytes& Key() {
  static const SecretBytes key(std::vector<std::uint8_t>(32, 0x42));
  return key;
}

const std::vector<std::uint8_t> kAd = {'b', 'e', 'n', 'c', 'h'};

template <class T>
T Must(Result<T> r) {
  if (!r) {
    std::fprintf(stderr, "envelope_bench: %s\n", r.error().ToString().c_str());
    std::abort();
  }
  return std::move(*r);
}

void Check(const Result<void>& r) {
  if (!r) {
    std::fprintf(stderr, "envelope_bench: %s\n", r.error().ToString().c_str());
    std::abort();
  }
}

void PayloadSeal(benchmark::State& state) {
  const auto& payload = Payload();
  std::uint64_t out = 0;
  for (auto _ : state) {
    auto sealer =
        Must(StreamSealer::Create(Key(), kAd, [&out](std::span<const std::uint8_t> b) -> Result<void> {
          out += b.size();
          return {};
        }));
    for (std::size_t off = 0; off < payload.size(); off += kChunk) {
      Check(sealer.Update(std::span(payload).subspan(off, kChunk)));
    }
    Check(sealer.Finish());
  }
  benchmark::DoNotOptimize(out);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * kPayload));
}
BENCHMARK(PayloadSeal)->Name("envelope/payload_seal_64MiB")->Unit(benchmark::kMillisecond);

void PayloadOpen(benchmark::State& state) {
  const auto sealed = Must(SealStream(Key(), kAd, Payload()));
  std::uint64_t out = 0;
  for (auto _ : state) {
    auto opener =
        Must(StreamOpener::Create(Key(), kAd, [&out](std::span<const std::uint8_t> b) -> Result<void> {
          out += b.size();
          return {};
        }));
    for (std::size_t off = 0; off < sealed.size(); off += kChunk) {
      Check(opener.Update(std::span(sealed).subspan(off, std::min(kChunk, sealed.size() - off))));
    }
    Check(opener.Finish());
  }
  benchmark::DoNotOptimize(out);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * kPayload));
}
BENCHMARK(PayloadOpen)->Name("envelope/payload_open_64MiB")->Unit(benchmark::kMillisecond);

EnvelopeParams Params() {
  EnvelopeParams p;
  p.scheme_id = 1;
  p.policy = "hospital_a.role:doctor AND board.years_practice >= 5";
  p.kem_ciphertext.assign(1024, 0xAB);
  p.record_id = "patient-7f3a/attachment/ct-scan";
  p.record_version = 1;
  return p;
}

const Ed25519SigningKey& Author() {
  static const Ed25519SigningKey key =
      Must(Ed25519SigningKey::FromSeed(SecretBytes(std::vector<std::uint8_t>(32, 7))));
  return key;
}

void EnvelopeSeal(benchmark::State& state) {
  for (auto _ : state) {
    auto env = Must(SealEnvelope(Params(), Key(), Author(), Payload()));
    benchmark::DoNotOptimize(env.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * kPayload));
}
BENCHMARK(EnvelopeSeal)->Name("envelope/seal_64MiB")->Unit(benchmark::kMillisecond);

void EnvelopeOpen(benchmark::State& state) {
  const EnvelopeParams params = Params();
  const auto env = Must(SealEnvelope(params, Key(), Author(), Payload()));
  const EnvelopeExpectation expected{params.record_id, params.record_version, Author().public_key()};
  for (auto _ : state) {
    auto opened = Must(OpenEnvelope(env, expected, Key()));
    benchmark::DoNotOptimize(opened.payload.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * kPayload));
}
BENCHMARK(EnvelopeOpen)->Name("envelope/open_64MiB")->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
