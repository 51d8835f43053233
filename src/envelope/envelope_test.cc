#include "cipherchart/envelope/envelope.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "src/envelope/sha256.h"
#include "src/envelope/test_random.h"
#include "src/envelope/wire.h"

namespace cipherchart::envelope {
namespace {

using Bytes = std::vector<std::uint8_t>;
using testing::DeterministicRandom;

constexpr std::uint32_t kSegment = 64;

Bytes Pattern(std::size_t n, std::uint8_t start = 0) {
  Bytes out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::uint8_t>(start + i * 13);
  return out;
}

SecretBytes KemKey(std::uint8_t fill = 0x5A) { return SecretBytes(Bytes(kKemKeySize, fill)); }

Ed25519SigningKey Author(std::string_view seed) {
  DeterministicRandom rng(seed);
  auto key = Ed25519SigningKey::Generate(rng);
  EXPECT_TRUE(key);
  return std::move(*key);
}

EnvelopeParams Params(std::string record_id = "patient-7f3a/observation/42", std::uint64_t version = 3) {
  EnvelopeParams p;
  p.scheme_id = 1;
  for (std::size_t i = 0; i < p.public_params_id.size(); ++i)
    p.public_params_id[i] = static_cast<std::uint8_t>(i);
  p.policy = "hospital_a.role:doctor AND (board.years_practice >= 5 OR hospital_a.dept:cardiology)";
  p.kem_ciphertext = Pattern(97, 0xA0);
  p.record_id = std::move(record_id);
  p.record_version = version;
  p.segment_size = kSegment;
  return p;
}

// Offsets of the header fields of an envelope sealed from Params() (docs/formats.md).
struct Layout {
  explicit Layout(const EnvelopeParams& p) {
    record_id = 81;
    policy_length = record_id + p.record_id.size();
    policy = policy_length + 4;
    kem_length = policy + p.policy.size();
    kem = kem_length + 4;
    key_commitment = kem + p.kem_ciphertext.size();
    header_size = key_commitment + kKeyCommitmentSize;
    header_signature = header_size;
    stream = header_signature + kEd25519SignatureSize;
  }
  static constexpr std::size_t kVersion = 4, kScheme = 5, kParamsId = 7, kAuthor = 39, kRecordVersion = 71,
                               kRecordIdLength = 79;
  // The fixed-offset fields follow each other as docs/formats.md lays them out.
  static_assert(kScheme == kVersion + 1 && kParamsId == kScheme + 2 && kAuthor == kParamsId + 32 &&
                kRecordVersion == kAuthor + 32 && kRecordIdLength == kRecordVersion + 8);
  std::size_t record_id, policy_length, policy, kem_length, kem, key_commitment, header_size,
      header_signature, stream;
};

// An Ed25519 signature by `key` over label || SHA-256(bytes), as the envelope signs.
Bytes SignAs(const Ed25519SigningKey& key, std::string_view label, std::span<const std::uint8_t> bytes) {
  auto digest = internal::Sha256Of(bytes);
  EXPECT_TRUE(digest);
  Bytes message(label.begin(), label.end());
  message.insert(message.end(), digest->begin(), digest->end());
  auto sig = key.Sign(message);
  EXPECT_TRUE(sig);
  return {sig->begin(), sig->end()};
}
constexpr std::string_view kHeaderLabel = "cipherchart/envelope/v1/header-signature";
constexpr std::string_view kFinalLabel = "cipherchart/envelope/v1/signature";

// Replaces the final signature with one by `key`.
void ResignFinal(Bytes& env, const Ed25519SigningKey& key) {
  ASSERT_GE(env.size(), kEd25519SignatureSize);
  env.erase(env.end() - kEd25519SignatureSize, env.end());
  const Bytes sig = SignAs(key, kFinalLabel, env);
  env.insert(env.end(), sig.begin(), sig.end());
}

class EnvelopeTest : public ::testing::Test {
 protected:
  Bytes Seal(const Bytes& payload, const EnvelopeParams& params, const Ed25519SigningKey& author,
             std::string_view seed = "envelope") {
    DeterministicRandom rng(seed);
    auto sealed = SealEnvelope(params, KemKey(), author, payload, rng);
    EXPECT_TRUE(sealed) << sealed.error().ToString();
    return sealed ? *sealed : Bytes{};
  }
  Bytes Seal(const Bytes& payload) { return Seal(payload, params_, author_); }

  EnvelopeExpectation Expect() const {
    return {params_.record_id, params_.record_version, author_.public_key()};
  }

  // Opens with the whole-buffer API; kInternal stands for "opened".
  ErrorCode WholeCode(const Bytes& env, const EnvelopeExpectation& expected,
                      const SecretBytes& key = KemKey()) {
    auto r = OpenEnvelope(env, expected, key);
    return r ? ErrorCode::kInternal : r.error().code();
  }
  ErrorCode WholeCode(const Bytes& env) { return WholeCode(env, Expect()); }

  struct Streamed {
    Result<void> status;
    Bytes payload;
    int resolver_calls = 0;
  };
  // Opens with EnvelopeOpener, feeding random chunk sizes up to `max_chunk`.
  Streamed Stream(const Bytes& env, const EnvelopeExpectation& expected, std::size_t max_chunk = 100,
                  const SecretBytes& key = KemKey()) {
    Streamed out{{}, {}, 0};
    auto opener = EnvelopeOpener::Create(
        expected,
        [&](const EnvelopeHeader&) -> Result<SecretBytes> {
          ++out.resolver_calls;
          return key;
        },
        [&out](std::span<const std::uint8_t> b) -> Result<void> {
          out.payload.insert(out.payload.end(), b.begin(), b.end());
          return {};
        });
    EXPECT_TRUE(opener);
    std::uniform_int_distribution<std::size_t> size(0, max_chunk);
    std::span<const std::uint8_t> rest(env);
    while (!rest.empty()) {
      const std::size_t n = std::min(size(gen_), rest.size());
      out.status = opener->Update(rest.first(n));
      if (!out.status) return out;
      rest = rest.subspan(n);
    }
    out.status = opener->Finish();
    return out;
  }
  ErrorCode StreamCode(const Bytes& env, const EnvelopeExpectation& expected) {
    auto r = Stream(env, expected);
    return r.status ? ErrorCode::kInternal : r.status.error().code();
  }
  ErrorCode StreamCode(const Bytes& env) { return StreamCode(env, Expect()); }

  EnvelopeParams params_ = Params();
  Ed25519SigningKey author_ = Author("author");
  Bytes payload_ = Pattern(150);  // three segments: 64 + 64 + 22
  std::mt19937 gen_{7};
};

TEST_F(EnvelopeTest, RoundTripsAndReturnsTheHeader) {
  const Bytes env = Seal(payload_);
  auto opened = OpenEnvelope(env, Expect(), KemKey());
  ASSERT_TRUE(opened) << opened.error().ToString();
  EXPECT_EQ(opened->payload, payload_);
  const EnvelopeHeader& h = opened->header;
  EXPECT_EQ(h.format_version, kEnvelopeFormatVersion);
  EXPECT_EQ(h.scheme_id, params_.scheme_id);
  EXPECT_EQ(h.public_params_id, params_.public_params_id);
  EXPECT_EQ(h.author, author_.public_key());
  EXPECT_EQ(h.record_id, params_.record_id);
  EXPECT_EQ(h.record_version, params_.record_version);
  EXPECT_EQ(h.policy, params_.policy);
  EXPECT_EQ(h.kem_ciphertext, params_.kem_ciphertext);
  EXPECT_EQ(h.stream.segment_size, kSegment);
  EXPECT_EQ(h.header_size, Layout(params_).header_size);
  EXPECT_EQ(env.size(),
            h.header_size + 2 * kEd25519SignatureSize + StreamCiphertextSize(payload_.size(), kSegment));
}

TEST_F(EnvelopeTest, EmptyAndSegmentAlignedPayloadsRoundTrip) {
  for (std::size_t n : {0u, 1u, 64u, 128u, 129u}) {
    const Bytes env = Seal(Pattern(n));
    auto opened = OpenEnvelope(env, Expect(), KemKey());
    ASSERT_TRUE(opened) << n << ": " << opened.error().ToString();
    EXPECT_EQ(opened->payload, Pattern(n));
    auto streamed = Stream(env, Expect());
    ASSERT_TRUE(streamed.status) << n << ": " << streamed.status.error().ToString();
    EXPECT_EQ(streamed.payload, Pattern(n));
  }
}

TEST_F(EnvelopeTest, StreamingSealAndOpenMatchTheWholeBufferForms) {
  const Bytes reference = Seal(payload_);
  for (int round = 0; round < 20; ++round) {
    DeterministicRandom rng("envelope");
    Bytes env;
    auto sealer = EnvelopeSealer::Create(
        params_, KemKey(), author_,
        [&env](std::span<const std::uint8_t> b) -> Result<void> {
          env.insert(env.end(), b.begin(), b.end());
          return {};
        },
        rng);
    ASSERT_TRUE(sealer);
    std::span<const std::uint8_t> rest(payload_);
    std::uniform_int_distribution<std::size_t> size(0, 90);
    while (!rest.empty()) {
      const std::size_t n = std::min(size(gen_), rest.size());
      ASSERT_TRUE(sealer->Update(rest.first(n)));
      rest = rest.subspan(n);
    }
    ASSERT_TRUE(sealer->Finish());
    ASSERT_EQ(env, reference);
    auto streamed = Stream(reference, Expect(), round == 0 ? 1 : 300);
    ASSERT_TRUE(streamed.status) << streamed.status.error().ToString();
    EXPECT_EQ(streamed.payload, payload_);
    EXPECT_EQ(streamed.resolver_calls, 1);
  }
}

TEST_F(EnvelopeTest, EverySingleByteFlipFailsWithTheRightError) {
  const Bytes env = Seal(payload_);
  const Layout at(params_);
  const std::size_t stream = at.stream;
  std::set<ErrorCode> seen;
  for (std::size_t i = 0; i < env.size(); ++i) {
    for (std::uint8_t mask : {0x01, 0x80, 0xFF}) {
      Bytes bad = env;
      bad[i] ^= mask;
      std::set<ErrorCode> allowed = {ErrorCode::kIntegrity};
      if (i < Layout::kVersion) {
        allowed = {ErrorCode::kInvalidEncoding};  // magic
      } else if (i == Layout::kVersion || i == stream) {
        allowed = {ErrorCode::kUnsupported};  // format version, stream version
      } else if ((i >= Layout::kRecordIdLength && i < at.record_id) ||
                 (i >= at.policy_length && i < at.policy) || (i >= at.kem_length && i < at.kem)) {
        // A length prefix: out of bounds, or it shifts every later field (which then may not
        // parse, or name an unknown stream version), or it parses and the signature fails.
        allowed = {ErrorCode::kInvalidEncoding, ErrorCode::kIntegrity, ErrorCode::kUnsupported};
      } else if ((i >= at.record_id && i < at.policy_length) || (i >= at.policy && i < at.kem_length)) {
        const std::size_t begin = i < at.policy_length ? at.record_id : at.policy;
        const std::size_t end = i < at.policy_length ? at.policy_length : at.kem_length;
        const bool utf8 = internal::IsValidUtf8(std::span(bad).subspan(begin, end - begin));
        allowed = {utf8 ? ErrorCode::kIntegrity : ErrorCode::kInvalidEncoding};
      } else if (i > stream && i < stream + 5) {
        allowed = {ErrorCode::kInvalidEncoding, ErrorCode::kIntegrity};  // segment size
      }
      const ErrorCode whole = WholeCode(bad);
      const ErrorCode streamed = StreamCode(bad);
      ASSERT_TRUE(allowed.contains(whole))
          << "offset " << i << " mask " << int(mask) << ": " << ErrorCodeName(whole);
      ASSERT_EQ(streamed, whole) << "offset " << i << " mask " << int(mask);
      seen.insert(whole);
    }
  }
  EXPECT_TRUE(seen.contains(ErrorCode::kInvalidEncoding));
  EXPECT_TRUE(seen.contains(ErrorCode::kUnsupported));
  EXPECT_TRUE(seen.contains(ErrorCode::kIntegrity));
}

TEST_F(EnvelopeTest, TruncationAtEveryLengthFails) {
  const Bytes env = Seal(payload_);
  const std::size_t parseable = Layout(params_).stream + kStreamHeaderSize;
  for (std::size_t len = 0; len < env.size(); ++len) {
    const Bytes cut(env.begin(), env.begin() + static_cast<std::ptrdiff_t>(len));
    const ErrorCode expected = len < parseable ? ErrorCode::kInvalidEncoding : ErrorCode::kIntegrity;
    ASSERT_EQ(WholeCode(cut), expected) << "length " << len;
    ASSERT_EQ(StreamCode(cut), expected) << "length " << len;
  }
}

TEST_F(EnvelopeTest, ExtensionFails) {
  Bytes env = Seal(payload_);
  env.push_back(0);
  EXPECT_EQ(WholeCode(env), ErrorCode::kIntegrity);
  EXPECT_EQ(StreamCode(env), ErrorCode::kIntegrity);
  const Bytes twice = [&] {
    Bytes e = Seal(payload_);
    Bytes out = e;
    out.insert(out.end(), e.begin(), e.end());
    return out;
  }();
  EXPECT_EQ(WholeCode(twice), ErrorCode::kIntegrity);
  EXPECT_EQ(StreamCode(twice), ErrorCode::kIntegrity);
}

TEST_F(EnvelopeTest, WrongRecordIdOrVersionIsAContextMismatch) {
  const Bytes env = Seal(payload_);
  const EnvelopeExpectation other_id{"patient-7f3a/observation/43", params_.record_version,
                                     author_.public_key()};
  const EnvelopeExpectation other_version{params_.record_id, params_.record_version + 1,
                                          author_.public_key()};
  for (const auto& expected : {other_id, other_version}) {
    auto r = OpenEnvelope(env, expected, KemKey());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), ErrorCode::kContextMismatch);
    EXPECT_NE(r.error().message().find("version 3"), std::string::npos) << r.error().message();
    // Streaming: the same code as soon as the header is in; nothing decrypted, no KEM key asked for.
    auto streamed = Stream(env, expected);
    ASSERT_FALSE(streamed.status);
    EXPECT_EQ(streamed.status.error().code(), ErrorCode::kContextMismatch);
    EXPECT_TRUE(streamed.payload.empty());
    EXPECT_EQ(streamed.resolver_calls, 0);
  }
}

TEST_F(EnvelopeTest, WrongExpectedAuthorIsASignerMismatch) {
  const Bytes env = Seal(payload_);
  const Ed25519SigningKey someone_else = Author("someone else");
  const EnvelopeExpectation expected{params_.record_id, params_.record_version, someone_else.public_key()};
  auto r = OpenEnvelope(env, expected, KemKey());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kSignerMismatch);
  auto streamed = Stream(env, expected);
  ASSERT_FALSE(streamed.status);
  EXPECT_EQ(streamed.status.error().code(), ErrorCode::kSignerMismatch);
  EXPECT_TRUE(streamed.payload.empty());
  EXPECT_EQ(streamed.resolver_calls, 0);
}

TEST_F(EnvelopeTest, ReplacingTheAuthorKeyWithoutItsSignatureFails) {
  Bytes env = Seal(payload_);
  const Ed25519SigningKey mallory = Author("mallory");
  std::copy(mallory.public_key().begin(), mallory.public_key().end(), env.begin() + Layout::kAuthor);
  const EnvelopeExpectation expect_mallory{params_.record_id, params_.record_version, mallory.public_key()};
  EXPECT_EQ(WholeCode(env, expect_mallory), ErrorCode::kIntegrity);
  EXPECT_EQ(StreamCode(env, expect_mallory), ErrorCode::kIntegrity);
  EXPECT_EQ(WholeCode(env), ErrorCode::kIntegrity);
  EXPECT_EQ(StreamCode(env), ErrorCode::kIntegrity);
}

TEST_F(EnvelopeTest, ReSigningByAnotherAuthorIsASignerMismatch) {
  // Mallory takes Alice's envelope, puts her own key in the header and signs it (both
  // signatures). They are valid, so the reader learns exactly that it is not from the author it
  // expects.
  const Ed25519SigningKey mallory = Author("mallory");
  const Layout at(params_);
  Bytes env = Seal(payload_);
  std::copy(mallory.public_key().begin(), mallory.public_key().end(), env.begin() + Layout::kAuthor);
  const Bytes header_sig = SignAs(mallory, kHeaderLabel, std::span(env).first(at.header_size));
  std::copy(header_sig.begin(), header_sig.end(),
            env.begin() + static_cast<std::ptrdiff_t>(at.header_signature));
  ResignFinal(env, mallory);
  EXPECT_EQ(WholeCode(env), ErrorCode::kSignerMismatch);
  EXPECT_EQ(StreamCode(env), ErrorCode::kSignerMismatch);
  // And if the reader did expect Mallory, the payload no longer authenticates: its associated
  // data is the hash of the header Alice wrote.
  const EnvelopeExpectation expect_mallory{params_.record_id, params_.record_version, mallory.public_key()};
  EXPECT_EQ(WholeCode(env, expect_mallory), ErrorCode::kIntegrity);
  EXPECT_EQ(StreamCode(env, expect_mallory), ErrorCode::kIntegrity);
}

TEST_F(EnvelopeTest, APayloadCannotBeMovedToAnotherRecordEvenByItsAuthor) {
  // The author's key cannot move a sealed payload either: a header for record 43 with the
  // payload of record 42, freshly signed, fails because the payload's associated data is the
  // hash of the original header.
  const Bytes original = Seal(payload_);
  const EnvelopeParams moved_params = Params("patient-7f3a/observation/43", 4);
  const Bytes donor = Seal(Bytes{}, moved_params, author_, "donor");
  // The donor's header and header signature (valid: the author made them), then the original
  // stream, then a fresh final signature by the same author.
  Bytes forged(donor.begin(), donor.begin() + static_cast<std::ptrdiff_t>(Layout(moved_params).stream));
  forged.insert(forged.end(), original.begin() + static_cast<std::ptrdiff_t>(Layout(params_).stream),
                original.end());
  ResignFinal(forged, author_);
  const EnvelopeExpectation expected{moved_params.record_id, moved_params.record_version,
                                     author_.public_key()};
  auto r = OpenEnvelope(forged, expected, KemKey());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kIntegrity);
  EXPECT_NE(r.error().message().find("payload"), std::string::npos) << r.error().message();
  EXPECT_EQ(StreamCode(forged, expected), ErrorCode::kIntegrity);
}

TEST_F(EnvelopeTest, SwappingSegmentsBetweenEnvelopesFails) {
  // Same author, record, KEM key and payload: only the stream salt and prefix differ.
  const Bytes a = Seal(payload_, params_, author_, "a");
  const Bytes b = Seal(payload_, params_, author_, "b");
  ASSERT_EQ(a.size(), b.size());
  const std::size_t segment1 = Layout(params_).stream + kStreamHeaderSize + kSegment + kStreamTagSize;
  Bytes mixed = a;
  std::copy(b.begin() + static_cast<std::ptrdiff_t>(segment1),
            b.begin() + static_cast<std::ptrdiff_t>(segment1 + kSegment + kStreamTagSize),
            mixed.begin() + static_cast<std::ptrdiff_t>(segment1));
  EXPECT_EQ(WholeCode(mixed), ErrorCode::kIntegrity);
  auto streamed = Stream(mixed, Expect());
  ASSERT_FALSE(streamed.status);
  EXPECT_EQ(streamed.status.error().code(), ErrorCode::kIntegrity);
  EXPECT_NE(streamed.status.error().message().find("segment 1"), std::string::npos);
  EXPECT_EQ(streamed.payload, Pattern(64));  // only segment 0 was released
}

TEST_F(EnvelopeTest, APayloadForgedByAReaderFailsTheFinalSignature) {
  // Every reader knows the KEM key, so a reader can make a stream that the AEAD accepts under
  // Alice's header (here: Alice's own envelope for another payload, same header). Only the final
  // signature tells the two apart.
  const Bytes alice = Seal(payload_);
  const Bytes other = Seal(Pattern(150, 99), params_, author_, "other");
  const std::size_t stream = Layout(params_).stream;
  Bytes forged(alice.begin(), alice.begin() + static_cast<std::ptrdiff_t>(stream));
  forged.insert(forged.end(), other.begin() + static_cast<std::ptrdiff_t>(stream),
                other.end() - kEd25519SignatureSize);
  forged.insert(forged.end(), alice.end() - kEd25519SignatureSize, alice.end());
  EXPECT_EQ(WholeCode(forged), ErrorCode::kIntegrity);
  auto streamed = Stream(forged, Expect());
  ASSERT_FALSE(streamed.status);
  EXPECT_EQ(streamed.status.error().code(), ErrorCode::kIntegrity);
  EXPECT_NE(streamed.status.error().message().find("author signature"), std::string::npos);
  EXPECT_EQ(streamed.payload, Pattern(150, 99));  // delivered, but Finish() said it is not Alice's
}

TEST_F(EnvelopeTest, WrongKemKeyFailsOnThePayload) {
  const Bytes env = Seal(payload_);
  auto r = OpenEnvelope(env, Expect(), KemKey(0x5B));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kIntegrity);
  EXPECT_NE(r.error().message().find("key commitment"), std::string::npos) << r.error().message();
  auto streamed = Stream(env, Expect(), 100, KemKey(0x5B));
  ASSERT_FALSE(streamed.status);
  EXPECT_EQ(streamed.status.error().code(), ErrorCode::kIntegrity);
  EXPECT_TRUE(streamed.payload.empty());
}

TEST_F(EnvelopeTest, ResolverSeesTheHeaderOnlyAfterTheSignatureAndItsErrorsPassThrough) {
  Bytes env = Seal(payload_);
  int calls = 0;
  auto failing = [&calls](const EnvelopeHeader& h) -> Result<SecretBytes> {
    ++calls;
    EXPECT_EQ(h.scheme_id, 1);
    return Fail(ErrorCode::kUnsupported, "no key for this policy");
  };
  auto r = OpenEnvelope(env, Expect(), failing);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "no key for this policy");
  EXPECT_EQ(calls, 1);
  env.back() ^= 1;  // a broken signature: the (expensive) resolver is not called
  EXPECT_EQ(OpenEnvelope(env, Expect(), failing).error().code(), ErrorCode::kIntegrity);
  EXPECT_EQ(calls, 1);
  auto short_key = [](const EnvelopeHeader&) -> Result<SecretBytes> { return SecretBytes(31); };
  EXPECT_EQ(OpenEnvelope(Seal(payload_), Expect(), short_key).error().code(), ErrorCode::kInvalidArgument);
}

TEST_F(EnvelopeTest, MalformedHeadersNameTheFieldAndOffset) {
  const Bytes env = Seal(payload_);
  {
    Bytes bad = env;
    bad[0] = 'X';
    auto r = ParseEnvelopeHeader(bad);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidEncoding);
    EXPECT_NE(r.error().message().find("magic"), std::string::npos);
  }
  {
    Bytes bad = env;
    bad[Layout::kRecordIdLength] = 0;
    bad[Layout::kRecordIdLength + 1] = 0;  // record id length 0
    auto r = ParseEnvelopeHeader(bad);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidEncoding);
    EXPECT_EQ(r.error().message(), "envelope: record id length 0 is outside 1..1024 at offset 79");
  }
  {
    const Layout at(params_);
    Bytes bad = env;
    bad[at.kem_length] = 0xFF;  // a KEM ciphertext length of ~4 GiB
    auto r = ParseEnvelopeHeader(bad);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message().find("KEM ciphertext length"), std::string::npos);
    EXPECT_NE(r.error().message().find("offset " + std::to_string(at.kem_length)), std::string::npos);
  }
  {
    const Layout at(params_);
    Bytes bad = env;
    bad[at.policy + 3] = 0xC0;  // an overlong UTF-8 lead byte
    auto r = ParseEnvelopeHeader(bad);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message(),
              "envelope: policy is not valid UTF-8 at offset " + std::to_string(at.policy));
  }
  {
    auto r = ParseEnvelopeHeader(std::span(env).first(50));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message(),
              "envelope: truncated at offset 39 reading author key (need 32 bytes, 11 left)");
  }
  {
    Bytes bad = env;
    bad[Layout::kVersion] = 9;
    auto r = ParseEnvelopeHeader(bad);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), ErrorCode::kUnsupported);
  }
}

TEST_F(EnvelopeTest, SealRefusesBadParameters) {
  DeterministicRandom rng("params");
  auto code = [&](const EnvelopeParams& p, const SecretBytes& key = KemKey()) {
    auto r = SealEnvelope(p, key, author_, payload_, rng);
    return r ? ErrorCode::kInternal : r.error().code();
  };
  EnvelopeParams p = params_;
  p.record_id = "";
  EXPECT_EQ(code(p), ErrorCode::kInvalidArgument);
  p.record_id = std::string(kMaxRecordIdSize + 1, 'r');
  EXPECT_EQ(code(p), ErrorCode::kInvalidArgument);
  p.record_id = std::string(kMaxRecordIdSize, 'r');
  EXPECT_EQ(code(p), ErrorCode::kInternal);  // the maximum is fine
  p = params_;
  p.record_id = "bad\xff";
  EXPECT_EQ(code(p), ErrorCode::kInvalidArgument);
  p = params_;
  p.policy = "a\xed\xa0\x80";  // an encoded surrogate
  EXPECT_EQ(code(p), ErrorCode::kInvalidArgument);
  p.policy = std::string(kMaxPolicySize + 1, 'p');
  EXPECT_EQ(code(p), ErrorCode::kInvalidArgument);
  p = params_;
  p.kem_ciphertext.clear();
  EXPECT_EQ(code(p), ErrorCode::kInvalidArgument);
  p = params_;
  p.segment_size = kMinSegmentSize - 1;
  EXPECT_EQ(code(p), ErrorCode::kInvalidArgument);
  EXPECT_EQ(code(params_, SecretBytes(16)), ErrorCode::kInvalidArgument);
  p = params_;
  p.policy = "";  // an empty policy is allowed (e.g. a KP-ABE envelope keeps its attributes elsewhere)
  EXPECT_EQ(code(p), ErrorCode::kInternal);
}

TEST_F(EnvelopeTest, UnicodeRecordIdAndPolicyRoundTrip) {
  EnvelopeParams p = params_;
  p.record_id = "patient/\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";  // é € 😀
  p.policy = "hospital_a.dept:\xc3\xa9";
  const Bytes env = Seal(payload_, p, author_);
  auto opened = OpenEnvelope(env, {p.record_id, p.record_version, author_.public_key()}, KemKey());
  ASSERT_TRUE(opened) << opened.error().ToString();
  EXPECT_EQ(opened->header.record_id, p.record_id);
}

TEST_F(EnvelopeTest, IostreamInterfacesRoundTrip) {
  const Bytes payload = Pattern(1'000'000);
  std::istringstream in(std::string(payload.begin(), payload.end()));
  std::ostringstream sealed;
  EnvelopeParams p = params_;
  p.segment_size = 4096;
  ASSERT_TRUE(SealEnvelopeStream(p, KemKey(), author_, in, sealed));
  const std::string env = sealed.str();
  // The streamed envelope is an ordinary envelope.
  auto opened = OpenEnvelope(Bytes(env.begin(), env.end()), Expect(), KemKey());
  ASSERT_TRUE(opened) << opened.error().ToString();
  EXPECT_EQ(opened->payload, payload);
  std::istringstream env_in(env);
  std::ostringstream out;
  auto header = OpenEnvelopeStream(env_in, out, Expect(),
                                   [](const EnvelopeHeader&) -> Result<SecretBytes> { return KemKey(); });
  ASSERT_TRUE(header) << header.error().ToString();
  EXPECT_EQ(header->record_id, params_.record_id);
  const std::string got = out.str();
  EXPECT_EQ(Bytes(got.begin(), got.end()), payload);
}

TEST_F(EnvelopeTest, FailingOutputStreamIsReported) {
  std::istringstream in("payload");
  std::ofstream closed;  // not open: every write fails
  auto r = SealEnvelopeStream(params_, KemKey(), author_, in, closed);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
}

TEST_F(EnvelopeTest, OpenerIsDeadAfterAnError) {
  Bytes env = Seal(payload_);
  env[0] = 'X';
  auto opener = EnvelopeOpener::Create(
      Expect(), [](const EnvelopeHeader&) -> Result<SecretBytes> { return KemKey(); },
      [](std::span<const std::uint8_t>) -> Result<void> { return {}; });
  ASSERT_TRUE(opener);
  EXPECT_EQ(opener->Update(env).error().code(), ErrorCode::kInvalidEncoding);
  EXPECT_EQ(opener->Update(env).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(opener->Finish().error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(opener->header(), nullptr);
}

// Resident set size of this process, from /proc/self/statm.
std::size_t ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  std::size_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

TEST(EnvelopeStreamingTest, OneGibibytePayloadRoundTripsInConstantMemory) {
  // Sealer -> opener as a pipe: the 1 GiB payload and envelope never exist in memory. The
  // resident set may grow by the buffers (a segment or two of 1 MiB each, the 1 MiB source
  // chunk), not with the payload size.
  constexpr std::size_t kChunk = 1 << 20;
  constexpr std::size_t kTotal = std::size_t{1} << 30;
  const Ed25519SigningKey author = Author("big");
  EnvelopeParams params = Params("patient-7f3a/attachment/ct-scan", 1);
  params.segment_size = kDefaultSegmentSize;
  const std::size_t baseline = ResidentBytes();
  std::size_t peak = baseline;
  std::uint64_t received = 0, checksum_out = 0;
  auto opener = EnvelopeOpener::Create(
      {params.record_id, params.record_version, author.public_key()},
      [](const EnvelopeHeader&) -> Result<SecretBytes> { return KemKey(); },
      [&](std::span<const std::uint8_t> b) -> Result<void> {
        for (std::size_t i = 0; i < b.size(); i += 4096) checksum_out = checksum_out * 31 + b[i];
        received += b.size();
        return {};
      });
  ASSERT_TRUE(opener);
  std::uint64_t envelope_size = 0;
  auto sealer = EnvelopeSealer::Create(params, KemKey(), author, [&](std::span<const std::uint8_t> b) {
    envelope_size += b.size();
    return opener->Update(b);
  });
  ASSERT_TRUE(sealer);
  Bytes chunk = Pattern(kChunk);
  std::uint64_t checksum_in = 0;
  for (std::size_t done = 0; done < kTotal; done += kChunk) {
    std::memcpy(chunk.data(), &done, sizeof done);  // every chunk differs
    for (std::size_t i = 0; i < chunk.size(); i += 4096) checksum_in = checksum_in * 31 + chunk[i];
    ASSERT_TRUE(sealer->Update(chunk));
    if (done % (64 * kChunk) == 0) peak = std::max(peak, ResidentBytes());
  }
  ASSERT_TRUE(sealer->Finish());
  auto finished = opener->Finish();
  ASSERT_TRUE(finished) << finished.error().ToString();
  peak = std::max(peak, ResidentBytes());
  EXPECT_EQ(received, kTotal);
  EXPECT_EQ(checksum_out, checksum_in);
  EXPECT_GT(envelope_size, kTotal);
  EXPECT_LT(peak - baseline, std::size_t{32} << 20)
      << "resident set grew by " << ((peak - baseline) >> 20) << " MiB";
}

}  // namespace
}  // namespace cipherchart::envelope
