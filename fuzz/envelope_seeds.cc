#include "envelope_seeds.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "cipherchart/envelope/envelope.h"
#include "cipherchart/envelope/passphrase_seal.h"
#include "cipherchart/envelope/stream_aead.h"
#include "envelope_fuzz_keys.h"
#include "seed_writer.h"
#include "src/envelope/test_random.h"

namespace cipherchart::fuzz {
namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;
using envelope::testing::DeterministicRandom;

Bytes Pattern(std::size_t n) {
  Bytes out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::uint8_t>(i * 29 + 3);
  return out;
}

}  // namespace

void WriteEnvelopeSeeds(const fs::path& root) {
  DeterministicRandom rng("fuzz seeds");
  int n = 0;
  {
    // fuzz_stream_open: chunk-size byte, then a stream under its fixed key and AD.
    const SecretBytes key(Bytes(envelope::kStreamKeySize, 0x42));
    const Bytes ad = {'f', 'u', 'z', 'z'};
    const struct {
      std::size_t size;
      std::uint32_t segment;
      std::uint8_t chunk;
    } cases[] = {{0, 64, 0}, {1, 64, 5}, {64, 64, 21}, {65, 64, 255}, {200, 64, 1}, {300, 100, 40}};
    for (const auto& c : cases) {
      Bytes seed = {c.chunk};
      const Bytes stream = Must(envelope::SealStream(key, ad, Pattern(c.size), c.segment, rng), "stream");
      seed.insert(seed.end(), stream.begin(), stream.end());
      WriteSeedFile(root / "fuzz_stream_open", n++, seed);
    }
  }
  {
    // fuzz_envelope_open: envelopes that open, and ones that fail each later check.
    envelope::EnvelopeParams p;
    p.scheme_id = 1;
    p.policy = "hospital_a.role:doctor AND board.years_practice >= 5";
    p.kem_ciphertext = Pattern(48);
    p.record_id = "fuzz/record";
    p.record_version = 1;
    p.segment_size = 64;
    for (std::size_t size : {0u, 10u, 150u}) {
      WriteSeedFile(
          root / "fuzz_envelope_open", n++,
          Must(envelope::SealEnvelope(p, FuzzKemKey(), FuzzAuthor(), Pattern(size), rng), "envelope"));
    }
    envelope::EnvelopeParams other = p;
    other.record_version = 2;
    WriteSeedFile(
        root / "fuzz_envelope_open", n++,
        Must(envelope::SealEnvelope(other, FuzzKemKey(), FuzzAuthor(), Pattern(30), rng), "envelope"));
    const auto someone = Must(envelope::Ed25519SigningKey::Generate(rng), "key");
    WriteSeedFile(root / "fuzz_envelope_open", n++,
                  Must(envelope::SealEnvelope(p, FuzzKemKey(), someone, Pattern(30), rng), "envelope"));
    const SecretBytes wrong_key(Bytes(envelope::kKemKeySize, 0x3D));
    WriteSeedFile(root / "fuzz_envelope_open", n++,
                  Must(envelope::SealEnvelope(p, wrong_key, FuzzAuthor(), Pattern(30), rng), "envelope"));
  }
  {
    // fuzz_passphrase_open: blobs within the target's small Argon2 limits.
    const envelope::Argon2Params params[] = {{8, 1, 1}, {64, 2, 1}, {32, 1, 2}};
    for (const auto& prm : params) {
      WriteSeedFile(root / "fuzz_passphrase_open", n++,
                    Must(envelope::SealWithPassphrase(SecretBytes(Pattern(32)), FuzzPassphrase(),
                                                      kFuzzPurpose, prm, kFuzzArgon2Limits, rng),
                         "passphrase seal"));
    }
  }
}

}  // namespace cipherchart::fuzz
