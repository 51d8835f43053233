#include "cipherchart/envelope/stream_aead.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "src/envelope/test_random.h"

namespace cipherchart::envelope {
namespace {

using Bytes = std::vector<std::uint8_t>;
using testing::DeterministicRandom;

constexpr std::uint32_t kSmallSegment = 64;
constexpr std::size_t kSealedSmallSegment = kSmallSegment + kStreamTagSize;

SecretBytes TestKey(std::uint8_t fill = 0x42) { return SecretBytes(Bytes(kStreamKeySize, fill)); }

Bytes Pattern(std::size_t n, std::uint8_t start = 0) {
  Bytes out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::uint8_t>(start + i * 7);
  return out;
}

const Bytes kAd = {'r', 'e', 'c', 'o', 'r', 'd', '-', '1'};

Bytes Seal(const Bytes& plaintext, std::string_view seed = "stream", const Bytes& ad = kAd,
           std::uint32_t segment = kSmallSegment) {
  DeterministicRandom rng(seed);
  auto sealed = SealStream(TestKey(), ad, plaintext, segment, rng);
  EXPECT_TRUE(sealed) << sealed.error().ToString();
  return sealed ? *sealed : Bytes{};
}

// Splits `data` into pieces of random sizes (including empty ones) drawn from `gen`.
std::vector<std::span<const std::uint8_t>> RandomChunks(std::span<const std::uint8_t> data, std::mt19937& gen,
                                                        std::size_t max_chunk) {
  std::vector<std::span<const std::uint8_t>> chunks;
  std::uniform_int_distribution<std::size_t> size(0, max_chunk);
  while (!data.empty()) {
    const std::size_t n = std::min(size(gen), data.size());
    chunks.push_back(data.first(n));
    data = data.subspan(n);
  }
  return chunks;
}

struct Opened {
  Result<void> status;
  Bytes plaintext;
};

Opened OpenChunked(const Bytes& sealed, std::mt19937& gen, std::size_t max_chunk, const Bytes& ad = kAd) {
  Opened out{{}, {}};
  auto opener = StreamOpener::Create(TestKey(), ad, [&out](std::span<const std::uint8_t> b) -> Result<void> {
    out.plaintext.insert(out.plaintext.end(), b.begin(), b.end());
    return {};
  });
  EXPECT_TRUE(opener);
  for (auto chunk : RandomChunks(sealed, gen, max_chunk)) {
    out.status = opener->Update(chunk);
    if (!out.status) return out;
  }
  out.status = opener->Finish();
  return out;
}

ErrorCode OpenCode(const Bytes& sealed, const Bytes& ad = kAd, const SecretBytes& key = TestKey()) {
  auto r = OpenStream(key, ad, sealed);
  return r ? ErrorCode::kInternal : r.error().code();  // kInternal stands for "opened"
}

TEST(StreamAeadTest, RoundTripsWholeBuffers) {
  for (std::size_t n : {0u, 1u, 63u, 64u, 65u, 128u, 129u, 1000u}) {
    const Bytes pt = Pattern(n);
    const Bytes sealed = Seal(pt);
    EXPECT_EQ(sealed.size(), StreamCiphertextSize(n, kSmallSegment)) << n;
    auto opened = OpenStream(TestKey(), kAd, sealed);
    ASSERT_TRUE(opened) << n << ": " << opened.error().ToString();
    EXPECT_EQ(*opened, pt);
  }
}

TEST(StreamAeadTest, SegmentLayoutMatchesTheFormat) {
  // Empty plaintext: the header and one final segment holding only a tag.
  EXPECT_EQ(Seal({}).size(), kStreamHeaderSize + kStreamTagSize);
  // Exactly two segments' worth: two segments, the second one final and full (no empty third).
  EXPECT_EQ(Seal(Pattern(128)).size(), kStreamHeaderSize + 2 * kSealedSmallSegment);
  const Bytes sealed = Seal(Pattern(10));
  auto header = StreamHeader::Parse(sealed);
  ASSERT_TRUE(header);
  EXPECT_EQ(header->segment_size, kSmallSegment);
  EXPECT_EQ(sealed[0], kStreamVersion);
  const auto encoded = header->Encode();
  EXPECT_EQ(Bytes(sealed.begin(), sealed.begin() + kStreamHeaderSize), Bytes(encoded.begin(), encoded.end()));
}

TEST(StreamAeadTest, EveryChunkingGivesTheSameBytes) {
  // Plaintext sizes 0..300 with 64-byte segments cover: empty, partial first segment, exact
  // multiples, one byte over. Each size is sealed and opened under several random chunkings
  // (chunk sizes 0..150, so chunks both smaller and larger than a segment), and compared with
  // the whole-buffer result.
  std::mt19937 gen(20240501);
  for (std::size_t n = 0; n <= 300; ++n) {
    const Bytes pt = Pattern(n, static_cast<std::uint8_t>(n));
    const Bytes reference = Seal(pt, "chunking");
    for (int round = 0; round < 4; ++round) {
      SCOPED_TRACE("size " + std::to_string(n) + " round " + std::to_string(round));
      DeterministicRandom rng("chunking");
      Bytes sealed;
      auto sealer = StreamSealer::Create(
          TestKey(), kAd,
          [&sealed](std::span<const std::uint8_t> b) -> Result<void> {
            sealed.insert(sealed.end(), b.begin(), b.end());
            return {};
          },
          kSmallSegment, rng);
      ASSERT_TRUE(sealer);
      for (auto chunk : RandomChunks(pt, gen, 150)) ASSERT_TRUE(sealer->Update(chunk));
      ASSERT_TRUE(sealer->Finish());
      ASSERT_EQ(sealed, reference);

      const Opened opened = OpenChunked(reference, gen, round == 0 ? 3 : 150);
      ASSERT_TRUE(opened.status) << opened.status.error().ToString();
      ASSERT_EQ(opened.plaintext, pt);
    }
  }
}

TEST(StreamAeadTest, TruncationAtEveryLengthFails) {
  const Bytes sealed = Seal(Pattern(200));  // 4 segments: 64 + 64 + 64 + 8
  for (std::size_t len = 0; len < sealed.size(); ++len) {
    const Bytes cut(sealed.begin(), sealed.begin() + static_cast<std::ptrdiff_t>(len));
    const ErrorCode expected = len < kStreamHeaderSize ? ErrorCode::kInvalidEncoding : ErrorCode::kIntegrity;
    EXPECT_EQ(OpenCode(cut), expected) << "length " << len;
  }
}

TEST(StreamAeadTest, EveryByteFlipFails) {
  const Bytes sealed = Seal(Pattern(150));
  for (std::size_t i = 0; i < sealed.size(); ++i) {
    for (std::uint8_t mask : {0x01, 0x80, 0xFF}) {
      Bytes bad = sealed;
      bad[i] ^= mask;
      const ErrorCode code = OpenCode(bad);
      if (i == 0) {
        EXPECT_EQ(code, ErrorCode::kUnsupported) << "version byte";
      } else if (i < 5) {
        // The segment size: out of bounds is an encoding error; in bounds it changes the key.
        EXPECT_TRUE(code == ErrorCode::kInvalidEncoding || code == ErrorCode::kIntegrity) << "offset " << i;
      } else {
        EXPECT_EQ(code, ErrorCode::kIntegrity) << "offset " << i << " mask " << int(mask);
      }
    }
  }
}

TEST(StreamAeadTest, ASegmentSizeChangeThatStillParsesIsDetected) {
  // One short segment: a different (valid) segment size would split it the same way, so only the
  // key derivation (which covers the header) can notice.
  Bytes sealed = Seal(Pattern(10));
  ASSERT_EQ(sealed[4], 64);
  sealed[4] = 128;  // segment size 64 -> 128
  EXPECT_EQ(OpenCode(sealed), ErrorCode::kIntegrity);
}

class StreamSegmentsTest : public ::testing::Test {
 protected:
  // Segment i of a sealed stream (the final one may be short).
  static Bytes Segment(const Bytes& sealed, std::size_t i) {
    const std::size_t begin = kStreamHeaderSize + i * kSealedSmallSegment;
    const std::size_t end = std::min(begin + kSealedSmallSegment, sealed.size());
    return {sealed.begin() + static_cast<std::ptrdiff_t>(begin),
            sealed.begin() + static_cast<std::ptrdiff_t>(end)};
  }
  static Bytes Header(const Bytes& sealed) { return {sealed.begin(), sealed.begin() + kStreamHeaderSize}; }
  static Bytes Join(std::initializer_list<Bytes> parts) {
    Bytes out;
    for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
  }

  const Bytes a_ = Seal(Pattern(64 * 3 + 10), "stream-a");  // segments 0, 1, 2 full; 3 final
  const Bytes b_ = Seal(Pattern(64 * 3 + 10), "stream-b");  // same key, AD and plaintext
};

TEST_F(StreamSegmentsTest, ReorderedSegmentsFail) {
  const Bytes swapped = Join({Header(a_), Segment(a_, 1), Segment(a_, 0), Segment(a_, 2), Segment(a_, 3)});
  EXPECT_EQ(OpenCode(swapped), ErrorCode::kIntegrity);
}

TEST_F(StreamSegmentsTest, ASegmentFromAnotherStreamFails) {
  const Bytes mixed = Join({Header(a_), Segment(a_, 0), Segment(b_, 1), Segment(a_, 2), Segment(a_, 3)});
  EXPECT_EQ(OpenCode(mixed), ErrorCode::kIntegrity);
  // Even the other stream's header with this stream's segments fails: the salt picks the key.
  const Bytes rehead = Join({Header(b_), Segment(a_, 0), Segment(a_, 1), Segment(a_, 2), Segment(a_, 3)});
  EXPECT_EQ(OpenCode(rehead), ErrorCode::kIntegrity);
}

TEST_F(StreamSegmentsTest, DroppedSegmentsFail) {
  EXPECT_EQ(OpenCode(Join({Header(a_), Segment(a_, 0), Segment(a_, 2), Segment(a_, 3)})),
            ErrorCode::kIntegrity);
  // Cut at a segment boundary: the remaining last segment was not sealed as final.
  EXPECT_EQ(OpenCode(Join({Header(a_), Segment(a_, 0), Segment(a_, 1), Segment(a_, 2)})),
            ErrorCode::kIntegrity);
  EXPECT_EQ(OpenCode(Header(a_)), ErrorCode::kIntegrity);
}

TEST_F(StreamSegmentsTest, ExtensionFails) {
  EXPECT_EQ(OpenCode(Join({a_, Segment(a_, 3)})), ErrorCode::kIntegrity);
  EXPECT_EQ(OpenCode(Join({a_, Bytes{0}})), ErrorCode::kIntegrity);
  EXPECT_EQ(OpenCode(Join({a_, Segment(b_, 0)})), ErrorCode::kIntegrity);
}

TEST_F(StreamSegmentsTest, OnlyAuthenticatedSegmentsReachTheSink) {
  Bytes bad = a_;
  bad[kStreamHeaderSize + 2 * kSealedSmallSegment + 5] ^= 1;  // inside segment 2
  Bytes delivered;
  auto opener = StreamOpener::Create(TestKey(), kAd, [&](std::span<const std::uint8_t> b) -> Result<void> {
    delivered.insert(delivered.end(), b.begin(), b.end());
    return {};
  });
  ASSERT_TRUE(opener);
  auto r = opener->Update(bad);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kIntegrity);
  EXPECT_NE(r.error().message().find("segment 2"), std::string::npos) << r.error().message();
  EXPECT_EQ(delivered, Pattern(128));  // segments 0 and 1 only
  EXPECT_EQ(opener->plaintext_size(), 128u);
  EXPECT_EQ(opener->Finish().error().code(), ErrorCode::kInvalidArgument);  // dead after a failure
}

TEST(StreamAeadTest, WrongKeyOrAssociatedDataFails) {
  const Bytes sealed = Seal(Pattern(100));
  EXPECT_EQ(OpenCode(sealed, kAd, TestKey(0x43)), ErrorCode::kIntegrity);
  EXPECT_EQ(OpenCode(sealed, Bytes{'r', 'e', 'c', 'o', 'r', 'd', '-', '2'}), ErrorCode::kIntegrity);
  EXPECT_EQ(OpenCode(sealed, Bytes{}), ErrorCode::kIntegrity);
}

TEST(StreamAeadTest, UnknownVersionIsUnsupported) {
  Bytes sealed = Seal(Pattern(10));
  sealed[0] = 2;
  auto r = OpenStream(TestKey(), kAd, sealed);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kUnsupported);
  EXPECT_NE(r.error().message().find("version 2"), std::string::npos);
}

TEST(StreamAeadTest, SegmentSizeOutOfBoundsIsAnEncodingErrorNamingTheField) {
  Bytes sealed = Seal(Pattern(10));
  sealed[1] = 0xFF;  // 0xFF000040: far above kMaxSegmentSize
  auto r = OpenStream(TestKey(), kAd, sealed);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidEncoding);
  EXPECT_NE(r.error().message().find("segment size"), std::string::npos) << r.error().message();
  EXPECT_NE(r.error().message().find("offset 1"), std::string::npos) << r.error().message();
}

TEST(StreamAeadTest, ParametersAreChecked) {
  DeterministicRandom rng("params");
  auto sink = [](std::span<const std::uint8_t>) -> Result<void> { return {}; };
  EXPECT_EQ(StreamSealer::Create(SecretBytes(16), kAd, sink, kSmallSegment, rng).error().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(StreamSealer::Create(TestKey(), kAd, sink, kMinSegmentSize - 1, rng).error().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(StreamSealer::Create(TestKey(), kAd, sink, kMaxSegmentSize + 1, rng).error().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(StreamSealer::Create(TestKey(), kAd, nullptr, kSmallSegment, rng).error().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(StreamOpener::Create(SecretBytes(33), kAd, sink).error().code(), ErrorCode::kInvalidArgument);
}

TEST(StreamAeadTest, SinkErrorsStopTheStream) {
  DeterministicRandom rng("sink");
  int calls = 0;
  auto sealer = StreamSealer::Create(
      TestKey(), kAd,
      [&calls](std::span<const std::uint8_t>) -> Result<void> {
        if (++calls == 3) return Fail(ErrorCode::kInvalidArgument, "disk full");
        return {};
      },
      kSmallSegment, rng);
  ASSERT_TRUE(sealer);
  auto r = sealer->Update(Pattern(500));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "disk full");
  EXPECT_EQ(sealer->Update(Pattern(1)).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(sealer->Finish().error().code(), ErrorCode::kInvalidArgument);
}

TEST(StreamAeadTest, NothingIsAcceptedAfterFinish) {
  DeterministicRandom rng("finish");
  auto sealer = StreamSealer::Create(
      TestKey(), kAd, [](std::span<const std::uint8_t>) -> Result<void> { return {}; }, kSmallSegment, rng);
  ASSERT_TRUE(sealer);
  ASSERT_TRUE(sealer->Finish());
  EXPECT_EQ(sealer->Update(Pattern(1)).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(sealer->Finish().error().code(), ErrorCode::kInvalidArgument);
}

TEST(StreamAeadTest, FreshSaltAndPrefixEveryStream) {
  const Bytes pt = Pattern(10);
  auto a = SealStream(TestKey(), kAd, pt, kSmallSegment);
  auto b = SealStream(TestKey(), kAd, pt, kSmallSegment);
  ASSERT_TRUE(a && b);
  EXPECT_NE(*a, *b);
  auto ha = StreamHeader::Parse(*a), hb = StreamHeader::Parse(*b);
  ASSERT_TRUE(ha && hb);
  EXPECT_NE(ha->salt, hb->salt);
}

TEST(StreamAeadTest, DefaultSegmentSizeRoundTripsSeveralMegabytes) {
  const Bytes pt = Pattern((3u << 20) + 12345);
  auto sealed = SealStream(TestKey(), kAd, pt);
  ASSERT_TRUE(sealed);
  EXPECT_EQ(sealed->size(), StreamCiphertextSize(pt.size(), kDefaultSegmentSize));
  auto opened = OpenStream(TestKey(), kAd, *sealed);
  ASSERT_TRUE(opened);
  EXPECT_EQ(*opened, pt);
}

}  // namespace
}  // namespace cipherchart::envelope
