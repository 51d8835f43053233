// libFuzzer target: the record envelope decoders (envelope.h): ParseEnvelopeHeader, the
// whole-buffer OpenEnvelope and the streaming EnvelopeOpener, with the fixed author key, KEM key
// and record that fuzz_make_seeds seals its seed envelopes with. Checks:
//   - the whole-buffer and the streaming opener agree (same success or same error code, same
//     payload), whatever the chunk size;
//   - errors carry only the documented codes;
//   - a header that OpenEnvelope accepts is the one ParseEnvelopeHeader returns.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "cipherchart/envelope/envelope.h"
#include "envelope_fuzz_keys.h"
#include "fuzz_check.h"

namespace {

using namespace cipherchart;
using namespace cipherchart::envelope;

struct Outcome {
  bool ok = false;
  ErrorCode code = ErrorCode::kInternal;
  std::vector<std::uint8_t> payload;
};

Outcome OpenStreaming(std::span<const std::uint8_t> env, std::size_t chunk) {
  Outcome out;
  auto opener = EnvelopeOpener::Create(
      fuzz::EnvelopeFuzzExpectation(),
      [](const EnvelopeHeader&) -> Result<SecretBytes> { return fuzz::FuzzKemKey(); },
      [&out](std::span<const std::uint8_t> b) -> Result<void> {
        out.payload.insert(out.payload.end(), b.begin(), b.end());
        return {};
      });
  Result<void> status;
  while (status && !env.empty()) {
    const std::size_t n = std::min(chunk, env.size());
    status = opener->Update(env.first(n));
    env = env.subspan(n);
  }
  if (status) status = opener->Finish();
  out.ok = status.has_value();
  if (!out.ok) out.code = status.error().code();
  return out;
}

bool Documented(ErrorCode c) {
  return c == ErrorCode::kInvalidEncoding || c == ErrorCode::kUnsupported || c == ErrorCode::kIntegrity ||
         c == ErrorCode::kSignerMismatch || c == ErrorCode::kContextMismatch;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> env(data, size);
  auto header = ParseEnvelopeHeader(env);
  if (!header) FUZZ_CHECK(Documented(header.error().code()), env);

  auto whole = OpenEnvelope(env, fuzz::EnvelopeFuzzExpectation(), fuzz::FuzzKemKey());
  if (!whole) FUZZ_CHECK(Documented(whole.error().code()), env);
  if (whole) {
    FUZZ_CHECK(header.has_value(), env);
    FUZZ_CHECK(whole->header.header_size == header->header_size, env);
    FUZZ_CHECK(whole->header.record_id == header->record_id, env);
  }
  const std::size_t chunk = size == 0 ? 1 : 1 + (data[size / 2] % 97);
  for (std::size_t c : {chunk, size + 1}) {
    const Outcome streamed = OpenStreaming(env, c);
    FUZZ_CHECK(streamed.ok == whole.has_value(), env);
    if (whole) {
      FUZZ_CHECK(streamed.payload == whole->payload, env);
    } else {
      FUZZ_CHECK(streamed.code == whole.error().code(), env);
    }
  }
  return 0;
}
