#include "cipherchart/envelope/envelope.h"

#include <algorithm>
#include <cstring>
#include <istream>
#include <optional>
#include <ostream>

#include "cipherchart/envelope/kdf.h"
#include "src/envelope/envelope_internal.h"
#include "src/envelope/sha256.h"
#include "src/envelope/wire.h"

namespace cipherchart::envelope {
namespace {

using internal::Sha256Digest;

// HKDF info label of the payload key and the signatures' domain-separation prefixes
// (docs/formats.md, "Envelope"). The two prefixes differ, so neither signature can be passed off
// as the other, nor as any other message the author's key signs.
constexpr std::string_view kPayloadKeyLabel = "cipherchart/envelope/v1/payload-key";
constexpr std::string_view kKeyCommitmentLabel = "cipherchart/envelope/v1/key-commitment";
constexpr std::string_view kHeaderSignatureLabel = "cipherchart/envelope/v1/header-signature";
constexpr std::string_view kSignatureLabel = "cipherchart/envelope/v1/signature";
// The shortest part after the header signature: a stream header, one empty final segment, the
// final signature.
constexpr std::size_t kMinTrailerSize = kStreamHeaderSize + kStreamTagSize + kEd25519SignatureSize;
constexpr std::size_t kIoChunk = 256 * 1024;

Result<void> ValidateParams(const EnvelopeParams& p) {
  auto bad = [](const std::string& message) {
    return Fail(ErrorCode::kInvalidArgument, "envelope: " + message);
  };
  if (p.record_id.empty() || p.record_id.size() > kMaxRecordIdSize) {
    return bad("record id must be 1.." + std::to_string(kMaxRecordIdSize) + " bytes, got " +
               std::to_string(p.record_id.size()));
  }
  if (!internal::IsValidUtf8(internal::AsBytes(p.record_id))) return bad("record id is not valid UTF-8");
  if (p.policy.size() > kMaxPolicySize) {
    return bad("policy must be at most " + std::to_string(kMaxPolicySize) + " bytes, got " +
               std::to_string(p.policy.size()));
  }
  if (!internal::IsValidUtf8(internal::AsBytes(p.policy))) return bad("policy is not valid UTF-8");
  if (p.kem_ciphertext.empty() || p.kem_ciphertext.size() > kMaxKemCiphertextSize) {
    return bad("KEM ciphertext must be 1.." + std::to_string(kMaxKemCiphertextSize) + " bytes, got " +
               std::to_string(p.kem_ciphertext.size()));
  }
  if (p.segment_size < kMinSegmentSize || p.segment_size > kMaxSegmentSize) {
    return bad("segment size " + std::to_string(p.segment_size) + " is outside " +
               std::to_string(kMinSegmentSize) + ".." + std::to_string(kMaxSegmentSize));
  }
  return {};
}

std::vector<std::uint8_t> EncodeHeader(const EnvelopeParams& p, const Ed25519PublicKey& author,
                                       const KeyCommitment& commitment) {
  std::vector<std::uint8_t> out;
  out.reserve(kEnvelopeFixedHeaderSize + p.record_id.size() + p.policy.size() + p.kem_ciphertext.size());
  internal::PutBytes(out, kEnvelopeMagic);
  internal::PutU8(out, kEnvelopeFormatVersion);
  internal::PutU16(out, p.scheme_id);
  internal::PutBytes(out, p.public_params_id);
  internal::PutBytes(out, author);
  internal::PutU64(out, p.record_version);
  internal::PutU16(out, static_cast<std::uint16_t>(p.record_id.size()));
  internal::PutBytes(out, p.record_id);
  internal::PutU32(out, static_cast<std::uint32_t>(p.policy.size()));
  internal::PutBytes(out, p.policy);
  internal::PutU32(out, static_cast<std::uint32_t>(p.kem_ciphertext.size()));
  internal::PutBytes(out, p.kem_ciphertext);
  internal::PutBytes(out, commitment);
  return out;
}

struct DerivedKeys {
  SecretBytes payload_key;
  KeyCommitment commitment{};
};

// payload key = HKDF-SHA-256(KEM key, "", "cipherchart/envelope/v1/payload-key", 32)
// commitment  = HKDF-SHA-256(KEM key, "", "cipherchart/envelope/v1/key-commitment", 32)
Result<DerivedKeys> DeriveKeys(const SecretBytes& kem_key) {
  if (kem_key.size() != kKemKeySize) {
    return Fail(ErrorCode::kInvalidArgument, "envelope: the KEM key must be " + std::to_string(kKemKeySize) +
                                                 " bytes, got " + std::to_string(kem_key.size()));
  }
  auto payload_key = HkdfSha256(kem_key.span(), {}, internal::AsBytes(kPayloadKeyLabel), kStreamKeySize);
  if (!payload_key) return std::unexpected(payload_key.error());
  auto commitment =
      HkdfSha256(kem_key.span(), {}, internal::AsBytes(kKeyCommitmentLabel), kKeyCommitmentSize);
  if (!commitment) return std::unexpected(commitment.error());
  DerivedKeys out{std::move(*payload_key), {}};
  std::copy(commitment->span().begin(), commitment->span().end(), out.commitment.begin());
  return out;
}

// What an envelope signature signs: label || SHA-256(signed bytes).
std::vector<std::uint8_t> SignedMessage(std::string_view label, const Sha256Digest& digest) {
  std::vector<std::uint8_t> message;
  message.reserve(label.size() + digest.size());
  internal::PutBytes(message, label);
  internal::PutBytes(message, digest);
  return message;
}

// Check 2 of envelope.h. `header_hash` = SHA-256 of the header proper.
Result<void> VerifyHeaderSignature(const EnvelopeHeader& h, const Sha256Digest& header_hash) {
  if (!Ed25519Verify(h.author, SignedMessage(kHeaderSignatureLabel, header_hash), h.header_signature)) {
    return Fail(
        ErrorCode::kIntegrity,
        "envelope: the header signature does not verify under the author key in the header (the header "
        "was modified)");
  }
  return {};
}

Result<void> VerifyFinalSignature(const EnvelopeHeader& h, const Sha256Digest& digest,
                                  std::span<const std::uint8_t> signature) {
  if (!Ed25519Verify(h.author, SignedMessage(kSignatureLabel, digest), signature)) {
    return Fail(
        ErrorCode::kIntegrity,
        "envelope: the author signature does not verify (the envelope was modified, truncated or extended)");
  }
  return {};
}

std::string Quoted(std::string_view text) {
  constexpr std::size_t kMaxShown = 64;
  std::string out = "\"";
  out += text.substr(0, kMaxShown);
  out += text.size() > kMaxShown ? "...\"" : "\"";
  return out;
}

std::string HexPrefix(std::span<const std::uint8_t> bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::uint8_t b : bytes.first(std::min<std::size_t>(bytes.size(), 8))) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out + "...";
}

// Checks 3 and 4 of envelope.h against a header.
std::optional<Error> CheckExpectation(const EnvelopeHeader& h, const EnvelopeExpectation& expected) {
  if (!ConstantTimeEqual(h.author, expected.author)) {
    return Error(ErrorCode::kSignerMismatch, "envelope: signed by author key " + HexPrefix(h.author) +
                                                 ", not by the expected " + HexPrefix(expected.author));
  }
  if (h.record_id != expected.record_id || h.record_version != expected.record_version) {
    return Error(ErrorCode::kContextMismatch, "envelope: bound to record " + Quoted(h.record_id) +
                                                  " version " + std::to_string(h.record_version) +
                                                  ", but record " + Quoted(expected.record_id) + " version " +
                                                  std::to_string(expected.record_version) + " was expected");
  }
  return std::nullopt;
}

// Step 5's first half: the KEM key from the resolver, checked against the header's commitment.
Result<SecretBytes> ResolvePayloadKey(const KemKeyResolver& resolve, const EnvelopeHeader& header) {
  if (!resolve) return Fail(ErrorCode::kInvalidArgument, "envelope: no KEM key resolver");
  auto kem_key = resolve(header);
  if (!kem_key) return std::unexpected(kem_key.error());
  auto keys = DeriveKeys(*kem_key);
  if (!keys) return std::unexpected(keys.error());
  if (!ConstantTimeEqual(keys->commitment, header.key_commitment)) {
    return Fail(ErrorCode::kIntegrity,
                "envelope: the KEM key does not match the envelope's key commitment (wrong key, or a KEM "
                "ciphertext that decapsulates differently for different readers)");
  }
  return std::move(keys->payload_key);
}

Error Truncated(std::uint64_t size) {
  return {ErrorCode::kIntegrity, "envelope: truncated: " + std::to_string(size) +
                                     " bytes after the header signature cannot hold a stream header, a final "
                                     "segment and a signature (at least " +
                                     std::to_string(kMinTrailerSize) + ")"};
}

Result<void> WriteAll(std::ostream& out, std::span<const std::uint8_t> bytes) {
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) return Fail(ErrorCode::kInvalidArgument, "envelope: writing to the output stream failed");
  return {};
}

// Reads `in` to its end in kIoChunk pieces, passing each to `consume`.
template <class Consume>
Result<void> ReadAll(std::istream& in, Consume&& consume) {
  std::vector<std::uint8_t> buffer(kIoChunk);
  while (in) {
    in.read(reinterpret_cast<char*>(buffer.data()), static_cast<std::streamsize>(buffer.size()));
    const auto got = static_cast<std::size_t>(in.gcount());
    if (got != 0) {
      if (auto ok = consume(std::span<const std::uint8_t>(buffer).first(got)); !ok) return ok;
    }
  }
  if (in.bad()) return Fail(ErrorCode::kInvalidArgument, "envelope: reading the input stream failed");
  return {};
}

}  // namespace

namespace internal {

Result<EnvelopeHeader> ParseEnvelopeHeader(std::span<const std::uint8_t> bytes, std::size_t* needed) {
  Reader r(bytes, "envelope");
  auto fail = [&](Error e) -> Result<EnvelopeHeader> {
    if (needed != nullptr) *needed = r.needed();
    return std::unexpected(std::move(e));
  };
  EnvelopeHeader h;
  auto magic = r.Bytes(kEnvelopeMagic.size(), "magic");
  if (!magic) return fail(magic.error());
  if (!std::equal(magic->begin(), magic->end(), kEnvelopeMagic.begin())) {
    return fail(r.Invalid(0, "magic is not \"CCEN\" (not a CipherChart envelope)"));
  }
  auto version = r.U8("format version");
  if (!version) return fail(version.error());
  if (*version != kEnvelopeFormatVersion) {
    return fail(
        Error(ErrorCode::kUnsupported, "envelope: format version " + std::to_string(*version) +
                                           " at offset 4 is not supported (this library reads version " +
                                           std::to_string(kEnvelopeFormatVersion) + ")"));
  }
  h.format_version = *version;
  auto scheme = r.U16("scheme id");
  if (!scheme) return fail(scheme.error());
  h.scheme_id = *scheme;
  if (auto ok = r.CopyTo(h.public_params_id, "public-parameter id"); !ok) return fail(ok.error());
  if (auto ok = r.CopyTo(h.author, "author key"); !ok) return fail(ok.error());
  auto record_version = r.U64("record version");
  if (!record_version) return fail(record_version.error());
  h.record_version = *record_version;

  // The three length-prefixed fields: bounds first, then UTF-8 where the field is text.
  struct Field {
    const char* length_name;
    const char* name;
    bool wide;  // u32 length (else u16)
    std::uint32_t min, max;
    bool utf8;
  };
  const Field fields[] = {
      {"record id length", "record id", false, 1, kMaxRecordIdSize, true},
      {"policy length", "policy", true, 0, kMaxPolicySize, true},
      {"KEM ciphertext length", "KEM ciphertext", true, 1, kMaxKemCiphertextSize, false},
  };
  std::span<const std::uint8_t> values[3];
  for (std::size_t i = 0; i < 3; ++i) {
    const Field& f = fields[i];
    auto len = f.wide ? r.Length32(f.length_name, f.min, f.max) : r.Length16(f.length_name, f.min, f.max);
    if (!len) return fail(len.error());
    const std::size_t at = r.offset();
    auto value = r.Bytes(*len, f.name);
    if (!value) return fail(value.error());
    if (f.utf8 && !IsValidUtf8(*value))
      return fail(r.Invalid(at, std::string(f.name) + " is not valid UTF-8"));
    values[i] = *value;
  }
  h.record_id.assign(values[0].begin(), values[0].end());
  h.policy.assign(values[1].begin(), values[1].end());
  h.kem_ciphertext.assign(values[2].begin(), values[2].end());
  if (auto ok = r.CopyTo(h.key_commitment, "key commitment"); !ok) return fail(ok.error());
  h.header_size = r.offset();
  if (auto ok = r.CopyTo(h.header_signature, "header signature"); !ok) return fail(ok.error());

  const std::size_t stream_at = r.offset();
  auto stream_bytes = r.Bytes(kStreamHeaderSize, "stream header");
  if (!stream_bytes) return fail(stream_bytes.error());
  auto stream = StreamHeader::Parse(*stream_bytes);
  if (!stream) {
    return fail(Error(
        stream.error().code(),
        "envelope: stream header at offset " + std::to_string(stream_at) + ": " + stream.error().message()));
  }
  h.stream = *stream;
  return h;
}

}  // namespace internal

// ---- whole buffer ------------------------------------------------------------------------------

Result<EnvelopeHeader> ParseEnvelopeHeader(std::span<const std::uint8_t> bytes) {
  return internal::ParseEnvelopeHeader(bytes, nullptr);
}

Result<std::vector<std::uint8_t>> SealEnvelope(const EnvelopeParams& params, const SecretBytes& kem_key,
                                               const Ed25519SigningKey& author,
                                               std::span<const std::uint8_t> payload, RandomSource& rng) {
  std::vector<std::uint8_t> out;
  auto sealer = EnvelopeSealer::Create(
      params, kem_key, author,
      [&out](std::span<const std::uint8_t> bytes) -> Result<void> {
        internal::PutBytes(out, bytes);
        return {};
      },
      rng);
  if (!sealer) return std::unexpected(sealer.error());
  out.reserve(out.size() + StreamCiphertextSize(payload.size(), params.segment_size) + kEd25519SignatureSize);
  if (auto ok = sealer->Update(payload); !ok) return std::unexpected(ok.error());
  if (auto ok = sealer->Finish(); !ok) return std::unexpected(ok.error());
  return out;
}

Result<OpenedEnvelope> OpenEnvelope(std::span<const std::uint8_t> envelope,
                                    const EnvelopeExpectation& expected,
                                    const KemKeyResolver& resolve_kem_key) {
  // 1. structure
  auto header = ParseEnvelopeHeader(envelope);
  if (!header) return std::unexpected(header.error());
  const std::size_t stream_at = header->header_size + kEd25519SignatureSize;
  // 2. the header signature, under the author key the header names
  auto header_hash = internal::Sha256Of(envelope.first(header->header_size));
  if (!header_hash) return std::unexpected(header_hash.error());
  if (auto ok = VerifyHeaderSignature(*header, *header_hash); !ok) return std::unexpected(ok.error());
  // 3, 4. who signed it, and for which record
  if (auto mismatch = CheckExpectation(*header, expected)) return std::unexpected(std::move(*mismatch));
  // 6 before 5 here, since all bytes are at hand: nothing is decrypted, and the resolver (an ABE
  // decryption) is not called, for an envelope whose payload was modified.
  if (envelope.size() - stream_at < kMinTrailerSize)
    return std::unexpected(Truncated(envelope.size() - stream_at));
  const auto signed_part = envelope.first(envelope.size() - kEd25519SignatureSize);
  auto digest = internal::Sha256Of(signed_part);
  if (!digest) return std::unexpected(digest.error());
  if (auto ok = VerifyFinalSignature(*header, *digest, envelope.last(kEd25519SignatureSize)); !ok) {
    return std::unexpected(ok.error());
  }
  // 5. the payload
  auto payload_key = ResolvePayloadKey(resolve_kem_key, *header);
  if (!payload_key) return std::unexpected(payload_key.error());
  auto payload = OpenStream(*payload_key, *header_hash, signed_part.subspan(stream_at));
  if (!payload) {
    return Fail(payload.error().code(), "envelope: payload: " + payload.error().message());
  }
  return OpenedEnvelope{std::move(*header), std::move(*payload)};
}

Result<OpenedEnvelope> OpenEnvelope(std::span<const std::uint8_t> envelope,
                                    const EnvelopeExpectation& expected, const SecretBytes& kem_key) {
  return OpenEnvelope(envelope, expected,
                      [&kem_key](const EnvelopeHeader&) -> Result<SecretBytes> { return kem_key; });
}

// ---- EnvelopeSealer ----------------------------------------------------------------------------

namespace {

// Everything before the final signature goes through here: hashed, then written. Heap-allocated,
// so that the stream's sink can keep pointing at it while the sealer is moved around.
struct SignedWriter {
  Result<void> Write(std::span<const std::uint8_t> bytes) {
    if (auto ok = hasher.Update(bytes); !ok) return ok;
    return sink(bytes);
  }

  ByteSink sink;
  internal::Sha256Hasher hasher;
};

}  // namespace

struct EnvelopeSealer::State {
  std::unique_ptr<SignedWriter> writer;
  Ed25519SigningKey author;
  StreamSealer stream;
  bool ended = false;
};

EnvelopeSealer::EnvelopeSealer(std::unique_ptr<State> state) : state_(std::move(state)) {}
EnvelopeSealer::EnvelopeSealer(EnvelopeSealer&&) noexcept = default;
EnvelopeSealer& EnvelopeSealer::operator=(EnvelopeSealer&&) noexcept = default;
EnvelopeSealer::~EnvelopeSealer() = default;

Result<EnvelopeSealer> EnvelopeSealer::Create(const EnvelopeParams& params, const SecretBytes& kem_key,
                                              const Ed25519SigningKey& author, ByteSink sink,
                                              RandomSource& rng) {
  if (auto ok = ValidateParams(params); !ok) return std::unexpected(ok.error());
  if (!sink) return Fail(ErrorCode::kInvalidArgument, "envelope: the sink is empty");
  auto keys = DeriveKeys(kem_key);
  if (!keys) return std::unexpected(keys.error());
  const std::vector<std::uint8_t> header = EncodeHeader(params, author.public_key(), keys->commitment);
  auto ad = internal::Sha256Of(header);
  if (!ad) return std::unexpected(ad.error());
  auto hasher = internal::Sha256Hasher::Create();
  if (!hasher) return std::unexpected(hasher.error());
  // A private copy of the signing key, so the sealer does not depend on the caller's lifetime.
  auto author_copy = Ed25519SigningKey::FromSeed(author.seed());
  if (!author_copy) return std::unexpected(author_copy.error());

  auto header_signature = author.Sign(SignedMessage(kHeaderSignatureLabel, *ad));
  if (!header_signature) return std::unexpected(header_signature.error());

  auto writer = std::make_unique<SignedWriter>(SignedWriter{std::move(sink), std::move(*hasher)});
  if (auto ok = writer->Write(header); !ok) return std::unexpected(ok.error());
  if (auto ok = writer->Write(*header_signature); !ok) return std::unexpected(ok.error());
  SignedWriter* w = writer.get();
  auto stream = StreamSealer::Create(
      keys->payload_key, *ad, [w](std::span<const std::uint8_t> bytes) { return w->Write(bytes); },
      params.segment_size, rng);
  if (!stream) return std::unexpected(stream.error());
  return EnvelopeSealer(
      std::make_unique<State>(State{std::move(writer), std::move(*author_copy), std::move(*stream)}));
}

Result<void> EnvelopeSealer::Update(std::span<const std::uint8_t> payload) {
  State& s = *state_;
  if (s.ended)
    return Fail(ErrorCode::kInvalidArgument, "EnvelopeSealer::Update: used after Finish() or a failure");
  auto ok = s.stream.Update(payload);
  if (!ok) s.ended = true;
  return ok;
}

Result<void> EnvelopeSealer::Finish() {
  State& s = *state_;
  if (s.ended)
    return Fail(ErrorCode::kInvalidArgument, "EnvelopeSealer::Finish: used after Finish() or a failure");
  s.ended = true;
  if (auto ok = s.stream.Finish(); !ok) return ok;
  auto digest = s.writer->hasher.Finish();
  if (!digest) return std::unexpected(digest.error());
  auto signature = s.author.Sign(SignedMessage(kSignatureLabel, *digest));
  if (!signature) return std::unexpected(signature.error());
  return s.writer->sink(*signature);
}

// ---- EnvelopeOpener ----------------------------------------------------------------------------

namespace {

// The opener's state once the header has been accepted.
struct AcceptedEnvelope {
  internal::Sha256Hasher hasher;  // of everything before the final signature
  StreamOpener stream;
};

}  // namespace

struct EnvelopeOpener::State {
  // Called once `header` has been parsed from `pending` (which holds the header, the header
  // signature and the stream header): checks 2-4, then the resolver, then sets up the stream.
  Result<void> Start(const EnvelopeHeader& h) {
    const auto header_bytes = std::span<const std::uint8_t>(pending).first(h.header_size);
    auto header_hash = internal::Sha256Of(header_bytes);
    if (!header_hash) return std::unexpected(header_hash.error());
    if (auto ok = VerifyHeaderSignature(h, *header_hash); !ok) return ok;
    if (auto mismatch = CheckExpectation(h, expected)) return std::unexpected(std::move(*mismatch));
    auto hasher = internal::Sha256Hasher::Create();
    if (!hasher) return std::unexpected(hasher.error());
    if (auto ok = hasher->Update(std::span<const std::uint8_t>(pending).first(StreamOffset(h))); !ok)
      return ok;
    auto payload_key = ResolvePayloadKey(resolver, h);
    if (!payload_key) return std::unexpected(payload_key.error());
    auto stream = StreamOpener::Create(*payload_key, *header_hash, sink);
    if (!stream) return std::unexpected(stream.error());
    accepted = std::make_unique<AcceptedEnvelope>(AcceptedEnvelope{std::move(*hasher), std::move(*stream)});
    return {};
  }

  static std::size_t StreamOffset(const EnvelopeHeader& h) { return h.header_size + kEd25519SignatureSize; }

  // Bytes known not to be part of the signature.
  Result<void> Consume(std::span<const std::uint8_t> bytes) {
    if (bytes.empty()) return {};
    if (auto ok = accepted->hasher.Update(bytes); !ok) return ok;
    consumed += bytes.size();
    if (auto ok = accepted->stream.Update(bytes); !ok) {
      return Fail(ok.error().code(), "envelope: payload: " + ok.error().message());
    }
    return {};
  }

  // Everything after the header: the last kEd25519SignatureSize bytes seen so far are held back
  // in `tail`, since they may be the signature.
  Result<void> FeedPayload(std::span<const std::uint8_t> bytes) {
    constexpr std::size_t kSig = kEd25519SignatureSize;
    if (bytes.size() >= kSig) {
      if (auto ok = Consume(std::span<const std::uint8_t>(tail).first(tail_fill)); !ok) return ok;
      if (auto ok = Consume(bytes.first(bytes.size() - kSig)); !ok) return ok;
      std::copy(bytes.end() - kSig, bytes.end(), tail.begin());
      tail_fill = kSig;
      return {};
    }
    const std::size_t total = tail_fill + bytes.size();
    const std::size_t release = total > kSig ? total - kSig : 0;
    if (auto ok = Consume(std::span<const std::uint8_t>(tail).first(release)); !ok) return ok;
    std::memmove(tail.data(), tail.data() + release, tail_fill - release);
    tail_fill -= release;
    if (!bytes.empty()) std::memcpy(tail.data() + tail_fill, bytes.data(), bytes.size());
    tail_fill += bytes.size();
    return {};
  }

  EnvelopeExpectation expected;
  KemKeyResolver resolver;
  ByteSink sink;
  std::vector<std::uint8_t> pending;  // the header, while it arrives
  std::size_t need = kEnvelopeFixedHeaderSize;
  std::unique_ptr<EnvelopeHeader> header;      // once parsed
  std::unique_ptr<AcceptedEnvelope> accepted;  // once checks 2-4 passed and the stream is set up
  std::array<std::uint8_t, kEd25519SignatureSize> tail{};
  std::size_t tail_fill = 0;
  std::uint64_t consumed = 0;  // bytes after the header passed to Consume
  bool ended = false;
};

EnvelopeOpener::EnvelopeOpener(std::unique_ptr<State> state) : state_(std::move(state)) {}
EnvelopeOpener::EnvelopeOpener(EnvelopeOpener&&) noexcept = default;
EnvelopeOpener& EnvelopeOpener::operator=(EnvelopeOpener&&) noexcept = default;
EnvelopeOpener::~EnvelopeOpener() = default;

Result<EnvelopeOpener> EnvelopeOpener::Create(EnvelopeExpectation expected, KemKeyResolver resolve_kem_key,
                                              ByteSink payload_sink) {
  if (!resolve_kem_key) return Fail(ErrorCode::kInvalidArgument, "envelope: no KEM key resolver");
  if (!payload_sink) return Fail(ErrorCode::kInvalidArgument, "envelope: the sink is empty");
  auto state = std::make_unique<State>();
  state->expected = std::move(expected);
  state->resolver = std::move(resolve_kem_key);
  state->sink = std::move(payload_sink);
  return EnvelopeOpener(std::move(state));
}

Result<void> EnvelopeOpener::Update(std::span<const std::uint8_t> bytes) {
  State& s = *state_;
  if (s.ended)
    return Fail(ErrorCode::kInvalidArgument, "EnvelopeOpener::Update: used after Finish() or a failure");
  auto fail = [&s](Error e) -> Result<void> {
    s.ended = true;
    return std::unexpected(std::move(e));
  };
  if (s.accepted) {
    if (auto ok = s.FeedPayload(bytes); !ok) return fail(ok.error());
    return {};
  }
  // Collect the header (with its signature and the stream header) in `pending`, never more:
  // take bytes up to what the parser last said it needs, and re-parse only then, so that a
  // header delivered byte by byte is parsed a bounded number of times and a large first chunk
  // is not copied.
  while (!s.header) {
    const std::size_t take = std::min(s.need - s.pending.size(), bytes.size());
    internal::PutBytes(s.pending, bytes.first(take));
    bytes = bytes.subspan(take);
    if (s.pending.size() < s.need) return {};  // wait for more
    std::size_t needed = 0;
    auto header = internal::ParseEnvelopeHeader(s.pending, &needed);
    if (header) {
      s.header = std::make_unique<EnvelopeHeader>(std::move(*header));
    } else if (needed > s.pending.size()) {
      s.need = needed;
    } else {
      return fail(header.error());
    }
  }
  if (auto ok = s.Start(*s.header); !ok) return fail(ok.error());
  std::vector<std::uint8_t> pending = std::move(s.pending);
  s.pending = {};
  // The stream header: the last kStreamHeaderSize bytes of `pending`.
  if (auto ok = s.FeedPayload(std::span<const std::uint8_t>(pending).subspan(State::StreamOffset(*s.header)));
      !ok) {
    return fail(ok.error());
  }
  if (auto ok = s.FeedPayload(bytes); !ok) return fail(ok.error());
  return {};
}

Result<void> EnvelopeOpener::Finish() {
  State& s = *state_;
  if (s.ended)
    return Fail(ErrorCode::kInvalidArgument, "EnvelopeOpener::Finish: used after Finish() or a failure");
  s.ended = true;
  if (!s.accepted) {
    // Incomplete header (a rejected one already ended the opener): the parser's own message
    // names the field it could not read.
    auto header = internal::ParseEnvelopeHeader(s.pending, nullptr);
    if (!header) return std::unexpected(header.error());
    return Fail(ErrorCode::kInternal, "envelope: header parsed only at Finish()");
  }
  const std::uint64_t after_header = s.consumed + s.tail_fill;
  if (after_header < kMinTrailerSize) return std::unexpected(Truncated(after_header));
  if (auto ok = s.accepted->stream.Finish(); !ok) {
    return Fail(ok.error().code(), "envelope: payload: " + ok.error().message());
  }
  auto digest = s.accepted->hasher.Finish();
  if (!digest) return std::unexpected(digest.error());
  return VerifyFinalSignature(*s.header, *digest, s.tail);
}

const EnvelopeHeader* EnvelopeOpener::header() const { return state_->header.get(); }

// ---- iostreams ---------------------------------------------------------------------------------

Result<void> SealEnvelopeStream(const EnvelopeParams& params, const SecretBytes& kem_key,
                                const Ed25519SigningKey& author, std::istream& payload,
                                std::ostream& envelope, RandomSource& rng) {
  auto sealer = EnvelopeSealer::Create(
      params, kem_key, author,
      [&envelope](std::span<const std::uint8_t> bytes) { return WriteAll(envelope, bytes); }, rng);
  if (!sealer) return std::unexpected(sealer.error());
  if (auto ok = ReadAll(payload, [&](std::span<const std::uint8_t> chunk) { return sealer->Update(chunk); });
      !ok) {
    return ok;
  }
  return sealer->Finish();
}

Result<EnvelopeHeader> OpenEnvelopeStream(std::istream& envelope, std::ostream& payload,
                                          const EnvelopeExpectation& expected,
                                          const KemKeyResolver& resolve_kem_key) {
  auto opener = EnvelopeOpener::Create(
      expected, resolve_kem_key,
      [&payload](std::span<const std::uint8_t> bytes) { return WriteAll(payload, bytes); });
  if (!opener) return std::unexpected(opener.error());
  if (auto ok = ReadAll(envelope, [&](std::span<const std::uint8_t> chunk) { return opener->Update(chunk); });
      !ok) {
    return std::unexpected(ok.error());
  }
  if (auto ok = opener->Finish(); !ok) return std::unexpected(ok.error());
  return *opener->header();
}

}  // namespace cipherchart::envelope
