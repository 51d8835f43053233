#include "cipherchart/envelope/stream_aead.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "cipherchart/envelope/kdf.h"
#include "src/envelope/aes_gcm.h"
#include "src/envelope/sha256.h"
#include "src/envelope/wire.h"

namespace cipherchart::envelope {
namespace {

using internal::AesGcm;

// The HKDF info label of the segment key (docs/formats.md, "Stream").
constexpr std::string_view kSegmentKeyLabel = "cipherchart/stream/v1";

Result<void> CheckSegmentSize(std::uint32_t segment_size) {
  if (segment_size < kMinSegmentSize || segment_size > kMaxSegmentSize) {
    return Fail(ErrorCode::kInvalidArgument, "stream: segment size " + std::to_string(segment_size) +
                                                 " is outside " + std::to_string(kMinSegmentSize) + ".." +
                                                 std::to_string(kMaxSegmentSize));
  }
  return {};
}

Result<void> CheckKey(const SecretBytes& key) {
  if (key.size() != kStreamKeySize) {
    return Fail(ErrorCode::kInvalidArgument, "stream: key must be " + std::to_string(kStreamKeySize) +
                                                 " bytes, got " + std::to_string(key.size()));
  }
  return {};
}

// segment key = HKDF-SHA-256(key, salt, "cipherchart/stream/v1" || header || SHA-256(AD))
Result<AesGcm> SegmentCipher(const SecretBytes& key, const StreamHeader& header,
                             const internal::Sha256Digest& ad_hash, AesGcm::Direction direction) {
  std::vector<std::uint8_t> info;
  info.reserve(kSegmentKeyLabel.size() + kStreamHeaderSize + ad_hash.size());
  internal::PutBytes(info, kSegmentKeyLabel);
  internal::PutBytes(info, header.Encode());
  internal::PutBytes(info, ad_hash);
  auto segment_key = HkdfSha256(key.span(), header.salt, info, internal::kAesGcmKeySize);
  if (!segment_key) return std::unexpected(segment_key.error());
  return AesGcm::Create(segment_key->span(), direction);
}

// nonce_i = prefix (7) || i (u32 BE) || last flag (1)
std::array<std::uint8_t, internal::kAesGcmNonceSize> SegmentNonce(const StreamHeader& header,
                                                                  std::uint64_t index, bool last) {
  std::array<std::uint8_t, internal::kAesGcmNonceSize> nonce{};
  std::copy(header.nonce_prefix.begin(), header.nonce_prefix.end(), nonce.begin());
  internal::StoreU32(nonce.data() + kStreamNoncePrefixSize, static_cast<std::uint32_t>(index));
  nonce[internal::kAesGcmNonceSize - 1] = last ? 1 : 0;
  return nonce;
}

Error UseAfterEnd(std::string_view who) {
  return {ErrorCode::kInvalidArgument,
          std::string(who) + ": used after Finish() or after an earlier failure"};
}

}  // namespace

// ---- StreamHeader ------------------------------------------------------------------------------

std::array<std::uint8_t, kStreamHeaderSize> StreamHeader::Encode() const {
  std::array<std::uint8_t, kStreamHeaderSize> out{};
  out[0] = kStreamVersion;
  internal::StoreU32(out.data() + 1, segment_size);
  std::copy(salt.begin(), salt.end(), out.begin() + 5);
  std::copy(nonce_prefix.begin(), nonce_prefix.end(), out.begin() + 5 + kStreamSaltSize);
  return out;
}

Result<StreamHeader> StreamHeader::Parse(std::span<const std::uint8_t> bytes) {
  internal::Reader r(bytes, "stream header");
  auto version = r.U8("stream version");
  if (!version) return std::unexpected(version.error());
  if (*version != kStreamVersion) {
    return Fail(ErrorCode::kUnsupported, "stream header: version " + std::to_string(*version) +
                                             " at offset 0 is not supported (this library reads version " +
                                             std::to_string(kStreamVersion) + ")");
  }
  StreamHeader header;
  const std::size_t at = r.offset();
  auto segment_size = r.U32("segment size");
  if (!segment_size) return std::unexpected(segment_size.error());
  if (*segment_size < kMinSegmentSize || *segment_size > kMaxSegmentSize) {
    return std::unexpected(r.Invalid(at, "segment size " + std::to_string(*segment_size) + " outside " +
                                             std::to_string(kMinSegmentSize) + ".." +
                                             std::to_string(kMaxSegmentSize)));
  }
  header.segment_size = *segment_size;
  if (auto ok = r.CopyTo(header.salt, "salt"); !ok) return std::unexpected(ok.error());
  if (auto ok = r.CopyTo(header.nonce_prefix, "nonce prefix"); !ok) return std::unexpected(ok.error());
  return header;
}

std::uint64_t StreamCiphertextSize(std::uint64_t plaintext_size, std::uint32_t segment_size) {
  const std::uint64_t segments = plaintext_size == 0 ? 1 : (plaintext_size + segment_size - 1) / segment_size;
  return kStreamHeaderSize + plaintext_size + segments * kStreamTagSize;
}

// ---- StreamSealer ------------------------------------------------------------------------------

struct StreamSealer::State {
  State(AesGcm c, StreamHeader h, ByteSink s)
      : cipher(std::move(c)),
        header(h),
        sink(std::move(s)),
        buffer(h.segment_size),
        out(static_cast<std::size_t>(h.segment_size) + kStreamTagSize) {}

  // Seals one segment from `plaintext` and hands it to the sink.
  Result<void> Emit(std::span<const std::uint8_t> plaintext, bool last) {
    if (index >= kMaxSegments) {
      return Fail(ErrorCode::kInvalidArgument, "stream: more than 2^32 segments; use a larger segment size");
    }
    const auto nonce = SegmentNonce(header, index, last);
    const auto ciphertext = std::span(out).first(plaintext.size() + kStreamTagSize);
    if (auto ok = cipher.Seal(nonce, {}, plaintext, ciphertext); !ok) return ok;
    ++index;
    return sink(ciphertext);
  }

  AesGcm cipher;
  StreamHeader header;
  ByteSink sink;
  SecretBytes buffer;  // plaintext held back: the current, not yet sealed segment
  std::size_t fill = 0;
  std::vector<std::uint8_t> out;  // one sealed segment
  std::uint64_t index = 0;
  bool ended = false;
};

StreamSealer::StreamSealer(std::unique_ptr<State> state) : state_(std::move(state)) {}
StreamSealer::StreamSealer(StreamSealer&&) noexcept = default;
StreamSealer& StreamSealer::operator=(StreamSealer&&) noexcept = default;
StreamSealer::~StreamSealer() = default;

Result<StreamSealer> StreamSealer::Create(const SecretBytes& key,
                                          std::span<const std::uint8_t> associated_data, ByteSink sink,
                                          std::uint32_t segment_size, RandomSource& rng) {
  if (auto ok = CheckKey(key); !ok) return std::unexpected(ok.error());
  if (auto ok = CheckSegmentSize(segment_size); !ok) return std::unexpected(ok.error());
  if (!sink) return Fail(ErrorCode::kInvalidArgument, "stream: the sink is empty");
  StreamHeader header;
  header.segment_size = segment_size;
  if (auto ok = rng.Fill(header.salt); !ok) return std::unexpected(ok.error());
  if (auto ok = rng.Fill(header.nonce_prefix); !ok) return std::unexpected(ok.error());
  auto ad_hash = internal::Sha256Of(associated_data);
  if (!ad_hash) return std::unexpected(ad_hash.error());
  auto cipher = SegmentCipher(key, header, *ad_hash, AesGcm::Direction::kSeal);
  if (!cipher) return std::unexpected(cipher.error());
  auto state = std::make_unique<State>(std::move(*cipher), header, std::move(sink));
  if (auto ok = state->sink(header.Encode()); !ok) return std::unexpected(ok.error());
  return StreamSealer(std::move(state));
}

Result<void> StreamSealer::Update(std::span<const std::uint8_t> plaintext) {
  State& s = *state_;
  if (s.ended) return std::unexpected(UseAfterEnd("StreamSealer::Update"));
  const std::size_t segment = s.header.segment_size;
  while (!plaintext.empty()) {
    // A full buffer is sealed only now that more plaintext follows: it is not the last segment.
    if (s.fill == segment) {
      if (auto ok = s.Emit(s.buffer.span(), false); !ok) {
        s.ended = true;
        return ok;
      }
      s.fill = 0;
    }
    // Whole segments straight from the input while more than one segment remains.
    if (s.fill == 0 && plaintext.size() > segment) {
      if (auto ok = s.Emit(plaintext.first(segment), false); !ok) {
        s.ended = true;
        return ok;
      }
      plaintext = plaintext.subspan(segment);
      continue;
    }
    const std::size_t take = std::min(segment - s.fill, plaintext.size());
    std::memcpy(s.buffer.data() + s.fill, plaintext.data(), take);
    s.fill += take;
    plaintext = plaintext.subspan(take);
  }
  return {};
}

Result<void> StreamSealer::Finish() {
  State& s = *state_;
  if (s.ended) return std::unexpected(UseAfterEnd("StreamSealer::Finish"));
  s.ended = true;
  auto ok = s.Emit(s.buffer.span().first(s.fill), true);
  s.buffer.Clear();
  s.fill = 0;
  return ok;
}

const StreamHeader& StreamSealer::header() const { return state_->header; }

// ---- StreamOpener ------------------------------------------------------------------------------

namespace {

// The opener's state once the stream header has been parsed.
struct StartedStream {
  StreamHeader header;
  AesGcm cipher;
};

}  // namespace

struct StreamOpener::State {
  // Parses the header once all of it has arrived, then derives the segment key.
  Result<void> Start() {
    auto parsed = StreamHeader::Parse(header_bytes);
    if (!parsed) return std::unexpected(parsed.error());
    auto c = SegmentCipher(key, *parsed, ad_hash, AesGcm::Direction::kOpen);
    if (!c) return std::unexpected(c.error());
    started = std::make_unique<StartedStream>(StartedStream{*parsed, std::move(*c)});
    key.Clear();
    sealed_segment = static_cast<std::size_t>(parsed->segment_size) + kStreamTagSize;
    // The buffers grow with the data actually received (at most one segment each), so a short
    // input cannot make the opener allocate what its header's segment size would allow.
    return {};
  }

  Result<void> OpenSegment(std::span<const std::uint8_t> sealed, bool last) {
    if (index >= kMaxSegments) {
      return Fail(ErrorCode::kIntegrity, "stream: more than 2^32 segments (the counter would wrap)");
    }
    const auto nonce = SegmentNonce(started->header, index, last);
    const std::size_t size = sealed.size() - kStreamTagSize;
    if (plaintext.size() < size) plaintext = SecretBytes(size);
    const auto out = plaintext.span().first(size);
    if (!started->cipher.Open(nonce, {}, sealed, out)) {
      return Fail(ErrorCode::kIntegrity,
                  "stream: segment " + std::to_string(index) + (last ? " (final)" : "") +
                      " failed authentication (wrong key or associated data, or the stream was modified, "
                      "reordered, truncated or extended)");
    }
    ++index;
    delivered += out.size();
    return sink(out);
  }

  SecretBytes key;  // until the header has arrived
  internal::Sha256Digest ad_hash{};
  ByteSink sink;
  std::array<std::uint8_t, kStreamHeaderSize> header_bytes{};
  std::size_t header_fill = 0;
  std::unique_ptr<StartedStream> started;  // once the header is in
  std::size_t sealed_segment = 0;          // segment size + tag, once the header is known
  std::vector<std::uint8_t> buffer;        // (part of) one sealed segment being collected
  SecretBytes plaintext;                   // one opened segment
  std::uint64_t index = 0;
  std::uint64_t delivered = 0;
  bool ended = false;
};

StreamOpener::StreamOpener(std::unique_ptr<State> state) : state_(std::move(state)) {}
StreamOpener::StreamOpener(StreamOpener&&) noexcept = default;
StreamOpener& StreamOpener::operator=(StreamOpener&&) noexcept = default;
StreamOpener::~StreamOpener() = default;

Result<StreamOpener> StreamOpener::Create(const SecretBytes& key,
                                          std::span<const std::uint8_t> associated_data, ByteSink sink) {
  if (auto ok = CheckKey(key); !ok) return std::unexpected(ok.error());
  if (!sink) return Fail(ErrorCode::kInvalidArgument, "stream: the sink is empty");
  auto state = std::make_unique<State>();
  state->key = key;
  auto ad_hash = internal::Sha256Of(associated_data);
  if (!ad_hash) return std::unexpected(ad_hash.error());
  state->ad_hash = *ad_hash;
  state->sink = std::move(sink);
  return StreamOpener(std::move(state));
}

Result<void> StreamOpener::Update(std::span<const std::uint8_t> ciphertext) {
  State& s = *state_;
  if (s.ended) return std::unexpected(UseAfterEnd("StreamOpener::Update"));
  auto fail = [&s](Error e) -> Result<void> {
    s.ended = true;
    return std::unexpected(std::move(e));
  };
  if (!s.started) {
    const std::size_t take = std::min(kStreamHeaderSize - s.header_fill, ciphertext.size());
    if (take != 0) std::memcpy(s.header_bytes.data() + s.header_fill, ciphertext.data(), take);
    s.header_fill += take;
    ciphertext = ciphertext.subspan(take);
    if (s.header_fill < kStreamHeaderSize) return {};
    if (auto ok = s.Start(); !ok) return fail(ok.error());
  }
  const std::size_t sealed_segment = s.sealed_segment;
  while (!ciphertext.empty()) {
    // A full buffered segment followed by more bytes cannot be the final one.
    if (s.buffer.size() == sealed_segment) {
      if (auto ok = s.OpenSegment(s.buffer, false); !ok) return fail(ok.error());
      s.buffer.clear();
    }
    if (s.buffer.empty() && ciphertext.size() > sealed_segment) {
      if (auto ok = s.OpenSegment(ciphertext.first(sealed_segment), false); !ok) return fail(ok.error());
      ciphertext = ciphertext.subspan(sealed_segment);
      continue;
    }
    const std::size_t take = std::min(sealed_segment - s.buffer.size(), ciphertext.size());
    s.buffer.insert(s.buffer.end(), ciphertext.begin(),
                    ciphertext.begin() + static_cast<std::ptrdiff_t>(take));
    ciphertext = ciphertext.subspan(take);
  }
  return {};
}

Result<void> StreamOpener::Finish() {
  State& s = *state_;
  if (s.ended) return std::unexpected(UseAfterEnd("StreamOpener::Finish"));
  s.ended = true;
  if (!s.started) {
    return Fail(ErrorCode::kInvalidEncoding,
                "stream header: truncated at offset " + std::to_string(s.header_fill) + " (need " +
                    std::to_string(kStreamHeaderSize) + " bytes, got " + std::to_string(s.header_fill) + ")");
  }
  if (s.buffer.size() < kStreamTagSize) {
    return Fail(ErrorCode::kIntegrity, "stream: truncated: it ends after segment " + std::to_string(s.index) +
                                           " with " + std::to_string(s.buffer.size()) +
                                           " bytes left, without a final segment");
  }
  auto ok = s.OpenSegment(s.buffer, true);
  s.plaintext.Clear();
  return ok;
}

const StreamHeader* StreamOpener::header() const {
  return state_->started ? &state_->started->header : nullptr;
}

std::uint64_t StreamOpener::plaintext_size() const { return state_->delivered; }

// ---- whole-buffer helpers ----------------------------------------------------------------------

Result<std::vector<std::uint8_t>> SealStream(const SecretBytes& key,
                                             std::span<const std::uint8_t> associated_data,
                                             std::span<const std::uint8_t> plaintext,
                                             std::uint32_t segment_size, RandomSource& rng) {
  if (auto ok = CheckSegmentSize(segment_size); !ok) return std::unexpected(ok.error());
  std::vector<std::uint8_t> out;
  out.reserve(StreamCiphertextSize(plaintext.size(), segment_size));
  auto sealer = StreamSealer::Create(
      key, associated_data,
      [&out](std::span<const std::uint8_t> bytes) -> Result<void> {
        internal::PutBytes(out, bytes);
        return {};
      },
      segment_size, rng);
  if (!sealer) return std::unexpected(sealer.error());
  if (auto ok = sealer->Update(plaintext); !ok) return std::unexpected(ok.error());
  if (auto ok = sealer->Finish(); !ok) return std::unexpected(ok.error());
  return out;
}

Result<std::vector<std::uint8_t>> OpenStream(const SecretBytes& key,
                                             std::span<const std::uint8_t> associated_data,
                                             std::span<const std::uint8_t> ciphertext) {
  std::vector<std::uint8_t> out;
  if (ciphertext.size() > kStreamHeaderSize) out.reserve(ciphertext.size() - kStreamHeaderSize);
  auto opener =
      StreamOpener::Create(key, associated_data, [&out](std::span<const std::uint8_t> bytes) -> Result<void> {
        internal::PutBytes(out, bytes);
        return {};
      });
  if (!opener) return std::unexpected(opener.error());
  auto ok = opener->Update(ciphertext);
  if (ok) ok = opener->Finish();
  if (!ok) {
    SecureWipe(out.data(), out.size());
    return std::unexpected(ok.error());
  }
  return out;
}

}  // namespace cipherchart::envelope
