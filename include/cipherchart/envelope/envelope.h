// The record envelope: hybrid encryption of one record section (or attachment) for an ABE
// policy, bound to its record id and version, signed by its author. docs/formats.md has the
// byte layout and the security argument; in short:
//
//   envelope  = header || header signature || stream || signature
//   header    = "CCEN" || format version (1) || scheme id || public-parameter id || author key
//               || record version || record id || policy || KEM ciphertext || key commitment
//   header signature = Ed25519 by the author over
//               "cipherchart/envelope/v1/header-signature" || SHA-256(header)
//   stream    = the streaming AEAD (stream_aead.h) of the payload under
//               payload key = HKDF-SHA-256(KEM key, info = "cipherchart/envelope/v1/payload-key")
//               with associated data SHA-256(header)
//   key commitment = HKDF-SHA-256(KEM key, info = "cipherchart/envelope/v1/key-commitment")
//   signature = Ed25519 by the author over
//               "cipherchart/envelope/v1/signature" || SHA-256(everything before it)
//
// The header signature lets a reader authenticate the header before it does anything with it
// (in particular before the ABE decryption of the KEM ciphertext), even when the payload is
// streamed; the final signature makes the author answerable for every byte, which the AEAD alone
// cannot do (every reader of the record knows the payload key). The key commitment pins the one
// KEM key that opens the envelope (AES-GCM alone is not key-committing), so every reader who
// opens it sees the same payload.
//
// The ABE scheme acts as a KEM: it produced (KEM ciphertext, 32-byte KEM key) before sealing,
// and the reader's ABE key recovers the KEM key from the KEM ciphertext before opening. The
// envelope itself does not depend on ABE: it treats the scheme id, the public-parameter id, the
// policy text and the KEM ciphertext as opaque, authenticated header fields.
//
// Opening checks, in this order, and fails with the first that does not hold:
//   1. the header, the header signature's slot and the stream header parse (kInvalidEncoding
//      naming field and offset; kUnsupported for an unknown format or stream version);
//   2. the header signature verifies under the author key named in the header (kIntegrity: a
//      modified header byte lands here);
//   3. that author key is the one the caller expects (kSignerMismatch);
//   4. the record id and version are the ones the caller expects (kContextMismatch: an
//      authentic envelope presented for another record or version);
//   5. the KEM key is obtained (the resolver's own error) and matches the key commitment
//      (kIntegrity: wrong KEM key), and every payload segment authenticates under the key
//      derived from it (kIntegrity: modified, reordered or truncated payload, or a payload
//      re-used under another header);
//   6. the final signature verifies (kIntegrity: any modified, truncated or appended byte).
// The whole-buffer OpenEnvelope checks 6 before 5 (it has every byte), so a modified payload is
// never decrypted and the resolver is not called for it; the streaming EnvelopeOpener checks 1-4
// when the header has arrived, 5 while the payload arrives and 6 in Finish(). Either way a
// defect gives the same error code (one exception: for an envelope with a modified payload
// whose KEM key the resolver cannot produce, the streaming opener reports the resolver's error).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cipherchart/common/error.h"
#include "cipherchart/common/secret.h"
#include "cipherchart/envelope/random_source.h"
#include "cipherchart/envelope/signature.h"
#include "cipherchart/envelope/stream_aead.h"

namespace cipherchart::envelope {

inline constexpr std::array<std::uint8_t, 4> kEnvelopeMagic = {'C', 'C', 'E', 'N'};
inline constexpr std::uint8_t kEnvelopeFormatVersion = 1;
inline constexpr std::size_t kKemKeySize = 32;
inline constexpr std::size_t kPublicParamsIdSize = 32;
inline constexpr std::size_t kKeyCommitmentSize = 32;
inline constexpr std::size_t kMaxRecordIdSize = 1024;           // bytes of UTF-8, at least 1
inline constexpr std::size_t kMaxPolicySize = 65536;            // bytes of UTF-8, may be empty
inline constexpr std::size_t kMaxKemCiphertextSize = 4u << 20;  // at least 1 byte
// Magic, version, scheme id, public-parameter id, author key, record version, the three length
// prefixes and the key commitment: the smallest header is this plus a 1-byte record id and a
// 1-byte KEM ciphertext.
inline constexpr std::size_t kEnvelopeFixedHeaderSize =
    4 + 1 + 2 + kPublicParamsIdSize + kEd25519PublicKeySize + 8 + 2 + 4 + 4 + kKeyCommitmentSize;

using PublicParamsId = std::array<std::uint8_t, kPublicParamsIdSize>;
using KeyCommitment = std::array<std::uint8_t, kKeyCommitmentSize>;

// What the author chooses when sealing.
struct EnvelopeParams {
  std::uint16_t scheme_id = 0;        // which ABE scheme made the KEM ciphertext (docs/formats.md)
  PublicParamsId public_params_id{};  // which authority / public parameters it was made under
  std::string policy;                 // the ABE policy text, UTF-8 (stored in clear)
  std::vector<std::uint8_t> kem_ciphertext;
  std::string record_id;  // UTF-8
  std::uint64_t record_version = 0;
  std::uint32_t segment_size = kDefaultSegmentSize;
};

// A parsed header. Its contents are NOT authenticated until opening succeeds; use them before
// that only to find keys (which authority, which ABE key, which author to expect).
struct EnvelopeHeader {
  std::uint8_t format_version = kEnvelopeFormatVersion;
  std::uint16_t scheme_id = 0;
  PublicParamsId public_params_id{};
  Ed25519PublicKey author{};
  std::uint64_t record_version = 0;
  std::string record_id;
  std::string policy;
  std::vector<std::uint8_t> kem_ciphertext;
  KeyCommitment key_commitment{};
  Ed25519Signature header_signature{};
  StreamHeader stream;
  std::size_t header_size = 0;  // bytes of the header proper (before the header signature)
};

// What the reader expects the envelope to be: opening fails unless all three match.
struct EnvelopeExpectation {
  std::string record_id;
  std::uint64_t record_version = 0;
  Ed25519PublicKey author{};
};

// Recovers the 32-byte KEM key from a header (typically: ABE decapsulation of
// header.kem_ciphertext with the reader's key for header.scheme_id / public_params_id). Its
// error is returned unchanged by the opener.
using KemKeyResolver = std::function<Result<SecretBytes>(const EnvelopeHeader&)>;

struct OpenedEnvelope {
  EnvelopeHeader header;
  std::vector<std::uint8_t> payload;
};

// ---- whole-buffer interface ----------------------------------------------------------------------

// Seals `payload` into a new envelope signed by `author`. Fails with kInvalidArgument for
// out-of-range parameters (lengths, non-UTF-8 text, a KEM key that is not 32 bytes, a segment
// size out of bounds), kRandomnessFailure, or kInternal.
Result<std::vector<std::uint8_t>> SealEnvelope(const EnvelopeParams& params, const SecretBytes& kem_key,
                                               const Ed25519SigningKey& author,
                                               std::span<const std::uint8_t> payload,
                                               RandomSource& rng = OsRandom());

// Parses the header and the stream header from the start of `bytes` (the rest, if any, is not
// looked at). For finding keys before opening; authenticates nothing.
Result<EnvelopeHeader> ParseEnvelopeHeader(std::span<const std::uint8_t> bytes);

// Opens an envelope held in memory: checks 1-4 and 6 of the list above before the resolver is
// called (so a forged or modified envelope costs no ABE decryption), then decrypts. On failure
// no payload byte is returned.
Result<OpenedEnvelope> OpenEnvelope(std::span<const std::uint8_t> envelope,
                                    const EnvelopeExpectation& expected,
                                    const KemKeyResolver& resolve_kem_key);
// The same with a KEM key the caller already has.
Result<OpenedEnvelope> OpenEnvelope(std::span<const std::uint8_t> envelope,
                                    const EnvelopeExpectation& expected, const SecretBytes& kem_key);

// ---- streaming interface (constant memory for payloads of any size) --------------------------------

class EnvelopeSealer {
 public:
  // Validates the parameters, writes the header and the stream header to `sink`.
  static Result<EnvelopeSealer> Create(const EnvelopeParams& params, const SecretBytes& kem_key,
                                       const Ed25519SigningKey& author, ByteSink sink,
                                       RandomSource& rng = OsRandom());
  EnvelopeSealer(EnvelopeSealer&&) noexcept;
  EnvelopeSealer& operator=(EnvelopeSealer&&) noexcept;
  ~EnvelopeSealer();

  // Encrypts more payload (chunks of any size).
  Result<void> Update(std::span<const std::uint8_t> payload);
  // Writes the final segment and the signature. No call is valid afterwards.
  Result<void> Finish();

 private:
  struct State;
  explicit EnvelopeSealer(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

class EnvelopeOpener {
 public:
  // `resolve_kem_key` is called once, as soon as the header has arrived and passed checks 2-4.
  // `payload_sink` receives plaintext segment by segment, each authenticated by the AEAD under
  // the KEM key; but the final signature (which makes the author, not just some holder of the
  // KEM key, answerable for the payload) and the completeness of the stream are known only when
  // Finish() succeeds. Until then treat what the sink got as unverified: write it to a
  // temporary place and commit it only afterwards.
  static Result<EnvelopeOpener> Create(EnvelopeExpectation expected, KemKeyResolver resolve_kem_key,
                                       ByteSink payload_sink);
  EnvelopeOpener(EnvelopeOpener&&) noexcept;
  EnvelopeOpener& operator=(EnvelopeOpener&&) noexcept;
  ~EnvelopeOpener();

  // Consumes envelope bytes in chunks of any size. After an error every call fails.
  Result<void> Update(std::span<const std::uint8_t> bytes);
  // Ends the envelope: the final segment, the signature and the deferred checks.
  Result<void> Finish();

  // The parsed (not yet authenticated) header once it has arrived, else nullptr.
  const EnvelopeHeader* header() const;

 private:
  struct State;
  explicit EnvelopeOpener(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// std::iostream conveniences over EnvelopeSealer / EnvelopeOpener, reading and writing in
// 256 KiB chunks. A stream that fails to read or write gives kInvalidArgument. For
// OpenEnvelopeStream, the warning on EnvelopeOpener applies to `payload`: it holds verified data
// only if the call returns success.
Result<void> SealEnvelopeStream(const EnvelopeParams& params, const SecretBytes& kem_key,
                                const Ed25519SigningKey& author, std::istream& payload,
                                std::ostream& envelope, RandomSource& rng = OsRandom());
Result<EnvelopeHeader> OpenEnvelopeStream(std::istream& envelope, std::ostream& payload,
                                          const EnvelopeExpectation& expected,
                                          const KemKeyResolver& resolve_kem_key);

}  // namespace cipherchart::envelope
