// Streaming AEAD for payloads of any size in constant memory: the STREAM construction of
// Hoang, Reyhanitabar, Rogaway, Vizár, "Online Authenticated-Encryption and its Nonce-Reuse
// Misuse-Resistance", CRYPTO 2015, section 7, instantiated like Tink's AES-GCM-HKDF streaming
// AEAD: a fresh segment key per stream from HKDF and a random salt, then AES-256-GCM per segment.
//
//   stream            = stream header (44 bytes) || segment_0 || ... || segment_n
//   stream header     = version (0x01) || segment size (u32 BE) || salt (32) || nonce prefix (7)
//   segment key       = HKDF-SHA-256(ikm = key, salt = salt,
//                                    info = "cipherchart/stream/v1" || stream header || SHA-256(AD))
//   nonce_i           = nonce prefix || i (u32 BE) || last (0x01 for the final segment, else 0x00)
//   segment_i         = AES-256-GCM(segment key, nonce_i, plaintext_i, no AAD) || 16-byte tag
//
// Every segment but the last holds exactly `segment size` plaintext bytes; the last holds
// 1..segment size bytes (0 only when the whole plaintext is empty). The last-segment flag in the
// nonce detects truncation at a segment boundary and extension; the counter detects reordering
// and dropped segments; the per-stream key (salt) detects segments moved between streams; the
// header and the associated data are bound through the key. docs/formats.md has the byte layout.
//
// Both directions are incremental: StreamSealer takes plaintext in chunks of any size and
// StreamOpener takes ciphertext in chunks of any size; each holds at most one segment. A sink
// callback receives the output as it is produced.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "cipherchart/common/error.h"
#include "cipherchart/common/secret.h"
#include "cipherchart/envelope/random_source.h"

namespace cipherchart::envelope {

// Receives output bytes. The span is valid only during the call. Returning an error stops the
// operation and the sealer/opener returns that error.
using ByteSink = std::function<Result<void>(std::span<const std::uint8_t>)>;

inline constexpr std::uint8_t kStreamVersion = 1;
inline constexpr std::size_t kStreamKeySize = 32;
inline constexpr std::size_t kStreamSaltSize = 32;
inline constexpr std::size_t kStreamNoncePrefixSize = 7;
inline constexpr std::size_t kStreamHeaderSize = 1 + 4 + kStreamSaltSize + kStreamNoncePrefixSize;  // 44
inline constexpr std::size_t kStreamTagSize = 16;
inline constexpr std::uint32_t kMinSegmentSize = 64;
inline constexpr std::uint32_t kMaxSegmentSize = 16u << 20;     // 16 MiB: bounds the opener's memory
inline constexpr std::uint32_t kDefaultSegmentSize = 1u << 20;  // 1 MiB
// The segment counter is 32 bits: at most 2^32 segments per stream.
inline constexpr std::uint64_t kMaxSegments = std::uint64_t{1} << 32;

// The parsed 44-byte stream header.
struct StreamHeader {
  std::uint32_t segment_size = kDefaultSegmentSize;
  std::array<std::uint8_t, kStreamSaltSize> salt{};
  std::array<std::uint8_t, kStreamNoncePrefixSize> nonce_prefix{};

  std::array<std::uint8_t, kStreamHeaderSize> Encode() const;
  // Fails with kInvalidEncoding (short input, segment size out of bounds: the message names the
  // field and offset) or kUnsupported (a version other than kStreamVersion). Reads exactly
  // kStreamHeaderSize bytes; any further bytes are ignored.
  static Result<StreamHeader> Parse(std::span<const std::uint8_t> bytes);
};

// Size of the sealed stream for a plaintext of `plaintext_size` bytes (header included).
std::uint64_t StreamCiphertextSize(std::uint64_t plaintext_size, std::uint32_t segment_size);

class StreamSealer {
 public:
  // Starts a stream under `key` (kStreamKeySize bytes) bound to `associated_data`, with a fresh
  // salt and nonce prefix from `rng`, and writes the stream header to `sink` at once.
  // Fails with kInvalidArgument (key size, segment size outside kMinSegmentSize..kMaxSegmentSize),
  // kRandomnessFailure, or the sink's error.
  static Result<StreamSealer> Create(const SecretBytes& key, std::span<const std::uint8_t> associated_data,
                                     ByteSink sink, std::uint32_t segment_size = kDefaultSegmentSize,
                                     RandomSource& rng = OsRandom());

  StreamSealer(StreamSealer&&) noexcept;
  StreamSealer& operator=(StreamSealer&&) noexcept;
  ~StreamSealer();  // wipes the key and the buffered plaintext

  // Encrypts `plaintext` (any length, including 0). Complete segments go to the sink; the last
  // up-to-one-segment of plaintext is held back until more arrives or Finish() is called.
  // Fails with the sink's error, or kInvalidArgument past kMaxSegments segments.
  Result<void> Update(std::span<const std::uint8_t> plaintext);
  // Writes the final segment. After Finish() (successful or not), or after any failed call,
  // every further call fails with kInvalidArgument.
  Result<void> Finish();

  const StreamHeader& header() const;

 private:
  struct State;
  explicit StreamSealer(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

class StreamOpener {
 public:
  // Opens a stream sealed under `key` with `associated_data`; plaintext of each segment goes to
  // `sink` only after that segment's tag has been verified. Fails with kInvalidArgument for a
  // key that is not kStreamKeySize bytes.
  static Result<StreamOpener> Create(const SecretBytes& key, std::span<const std::uint8_t> associated_data,
                                     ByteSink sink);

  StreamOpener(StreamOpener&&) noexcept;
  StreamOpener& operator=(StreamOpener&&) noexcept;
  ~StreamOpener();

  // Consumes ciphertext (the header first), in chunks of any size. Errors: kInvalidEncoding or
  // kUnsupported for a bad stream header; kIntegrity when a segment fails authentication (wrong
  // key or associated data, tampering, reordering, a segment from another stream, data after the
  // final segment); the sink's error.
  Result<void> Update(std::span<const std::uint8_t> ciphertext);
  // Ends the stream: authenticates and delivers the final segment. Fails with kInvalidEncoding
  // if the stream header is incomplete, and with kIntegrity if the stream was truncated (no
  // segment carrying the last-segment flag). Only after Finish() succeeds is the plaintext
  // delivered to the sink known to be complete.
  Result<void> Finish();

  // The stream header, once Update() has received all of it (else nullptr).
  const StreamHeader* header() const;
  // Plaintext bytes delivered to the sink so far.
  std::uint64_t plaintext_size() const;

 private:
  struct State;
  explicit StreamOpener(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// Whole-buffer conveniences over StreamSealer / StreamOpener.
Result<std::vector<std::uint8_t>> SealStream(const SecretBytes& key,
                                             std::span<const std::uint8_t> associated_data,
                                             std::span<const std::uint8_t> plaintext,
                                             std::uint32_t segment_size = kDefaultSegmentSize,
                                             RandomSource& rng = OsRandom());
Result<std::vector<std::uint8_t>> OpenStream(const SecretBytes& key,
                                             std::span<const std::uint8_t> associated_data,
                                             std::span<const std::uint8_t> ciphertext);

}  // namespace cipherchart::envelope
