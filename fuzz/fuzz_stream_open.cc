// libFuzzer target: the streaming AEAD opener (stream_aead.h) under a fixed key and associated
// data. Input: one byte that picks the chunk size, then the stream. Checks:
//   - opening in chunks and in one piece agree (same success or same error code, same
//     plaintext): chunk boundaries never change the result;
//   - an accepted stream is canonical: re-sealing its plaintext with its own salt and nonce
//     prefix (replayed) and segment size gives back exactly the input.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "cipherchart/envelope/stream_aead.h"
#include "fuzz_check.h"
#include "src/envelope/test_random.h"

namespace {

using namespace cipherchart;
using namespace cipherchart::envelope;

const SecretBytes& Key() {
  static const SecretBytes key(std::vector<std::uint8_t>(kStreamKeySize, 0x42));
  return key;
}
constexpr std::uint8_t kAd[] = {'f', 'u', 'z', 'z'};

struct Outcome {
  bool ok = false;
  ErrorCode code = ErrorCode::kInternal;
  std::vector<std::uint8_t> plaintext;
};

Outcome OpenInChunks(std::span<const std::uint8_t> stream, std::size_t chunk) {
  Outcome out;
  auto opener = StreamOpener::Create(Key(), kAd, [&out](std::span<const std::uint8_t> b) -> Result<void> {
    out.plaintext.insert(out.plaintext.end(), b.begin(), b.end());
    return {};
  });
  Result<void> status;
  while (status && !stream.empty()) {
    const std::size_t n = std::min(chunk, stream.size());
    status = opener->Update(stream.first(n));
    stream = stream.subspan(n);
  }
  if (status) status = opener->Finish();
  out.ok = status.has_value();
  if (!out.ok) out.code = status.error().code();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::span<const std::uint8_t> input(data, size);
  const std::size_t chunk = 1 + data[0] * 3u;  // 1 .. 766 bytes
  const auto stream = input.subspan(1);

  const Outcome chunked = OpenInChunks(stream, chunk);
  const Outcome whole = OpenInChunks(stream, stream.size() + 1);
  FUZZ_CHECK(chunked.ok == whole.ok, input);
  FUZZ_CHECK(chunked.ok || chunked.code == whole.code, input);
  FUZZ_CHECK(!chunked.ok || chunked.plaintext == whole.plaintext, input);
  if (!whole.ok) {
    FUZZ_CHECK(whole.code == ErrorCode::kIntegrity || whole.code == ErrorCode::kInvalidEncoding ||
                   whole.code == ErrorCode::kUnsupported,
               input);
    return 0;
  }
  auto header = StreamHeader::Parse(stream);
  FUZZ_CHECK(header.has_value(), input);
  std::vector<std::uint8_t> replay(header->salt.begin(), header->salt.end());
  replay.insert(replay.end(), header->nonce_prefix.begin(), header->nonce_prefix.end());
  testing::ReplayRandom rng(std::move(replay));
  auto resealed = SealStream(Key(), kAd, whole.plaintext, header->segment_size, rng);
  FUZZ_CHECK(resealed.has_value(), input);
  FUZZ_CHECK(fuzz::SameBytes(*resealed, stream), input);
  return 0;
}
