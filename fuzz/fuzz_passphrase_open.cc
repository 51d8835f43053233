// libFuzzer target: the passphrase-sealed blob decoder (passphrase_seal.h): ParseSealedBlob and
// OpenWithPassphrase under small Argon2 limits (so that no input can make one run expensive)
// and the fixed passphrase fuzz_make_seeds seals its seeds with. Checks:
//   - errors carry only the documented codes; Open never accepts what Parse rejects;
//   - an accepted blob is canonical: re-sealing the secret with its own salt and nonce
//     (replayed) and parameters gives back exactly the input.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "cipherchart/envelope/passphrase_seal.h"
#include "envelope_fuzz_keys.h"
#include "fuzz_check.h"
#include "src/envelope/test_random.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace cipherchart;
  using namespace cipherchart::envelope;
  const std::span<const std::uint8_t> blob(data, size);
  auto info = ParseSealedBlob(blob);
  if (!info) {
    const ErrorCode c = info.error().code();
    FUZZ_CHECK(c == ErrorCode::kInvalidEncoding || c == ErrorCode::kUnsupported, blob);
  }
  auto secret = OpenWithPassphrase(blob, fuzz::FuzzPassphrase(), fuzz::kFuzzPurpose, fuzz::kFuzzArgon2Limits);
  if (!secret) {
    const ErrorCode c = secret.error().code();
    FUZZ_CHECK(c == ErrorCode::kInvalidEncoding || c == ErrorCode::kUnsupported || c == ErrorCode::kIntegrity,
               blob);
    return 0;
  }
  FUZZ_CHECK(info.has_value(), blob);
  std::vector<std::uint8_t> replay(info->salt.begin(), info->salt.end());
  replay.insert(replay.end(), info->nonce.begin(), info->nonce.end());
  testing::ReplayRandom rng(std::move(replay));
  auto resealed = SealWithPassphrase(*secret, fuzz::FuzzPassphrase(), fuzz::kFuzzPurpose, info->params,
                                     fuzz::kFuzzArgon2Limits, rng);
  FUZZ_CHECK(resealed.has_value(), blob);
  FUZZ_CHECK(fuzz::SameBytes(*resealed, blob), blob);
  return 0;
}
