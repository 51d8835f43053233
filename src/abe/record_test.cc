// Record sections under FAME (record.h): round trips, each refusal with its code, every byte
// flip and truncation of a small envelope (whole-buffer and streaming from a file), and
// file-to-file sealing in constant memory that never leaves unverified plaintext behind.
#include "cipherchart/abe/record.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "cipherchart/abe/fame_serialize.h"
#include "src/abe/glue_test_util.h"

namespace cipherchart::abe {
namespace {

using namespace testing;

constexpr std::string_view kPolicy = "hospital_a.cardiology.role:doctor AND hospital_a.cardiology.years >= 5";
constexpr std::string_view kRecordId = "patient-7f3a/observation/42";
constexpr std::uint64_t kVersion = 3;
constexpr std::uint32_t kSegment = 64;

Bytes ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

void WriteFile(const std::filesystem::path& p, std::span<const std::uint8_t> b) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

class RecordTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const Authority& cardiology = TestAuthorities().cardiology;
    auto doctor = cardiology.IssueUserKey(
        Attrs("hospital_a.cardiology.role:doctor, hospital_a.cardiology.years=7, hospital_a.cardiology.x:y"));
    auto nurse =
        cardiology.IssueUserKey(Attrs("hospital_a.cardiology.role:nurse, hospital_a.cardiology.years=20"));
    auto junior =
        cardiology.IssueUserKey(Attrs("hospital_a.cardiology.role:doctor, hospital_a.cardiology.years=4"));
    // The same attributes from another authority's key.
    auto stranger = TestAuthorities().root.master_key();
    auto foreign = fame::KeyGen(
        stranger, Attrs("hospital_a.cardiology.role:doctor, hospital_a.cardiology.years=7").Expanded());
    ASSERT_TRUE(doctor && nurse && junior && foreign);
    keys_ = new Keys{std::move(*doctor), std::move(*nurse), std::move(*junior),
                     UserKey{"hospital_a", TestAuthorities().root.public_params_id(), *foreign}};
  }
  static void TearDownTestSuite() {
    delete keys_;
    keys_ = nullptr;
  }

  struct Keys {
    UserKey doctor, nurse, junior, foreign;
  };
  static inline Keys* keys_ = nullptr;

  const Authority& authority() const { return TestAuthorities().cardiology; }

  Bytes Seal(std::span<const std::uint8_t> payload, std::string_view policy = kPolicy,
             std::string_view seed = "record") {
    DeterministicRandom rng(seed);
    auto env = SealRecordSection(authority().public_key(), authority().public_params_id(), *Policy(policy),
                                 kRecordId, kVersion, payload, author_, kSegment, rng);
    EXPECT_TRUE(env.has_value()) << env.error().ToString();
    return env ? *env : Bytes{};
  }

  // Opens with the doctor's key; kInternal stands for "opened with the right payload".
  ErrorCode OpenCode(std::span<const std::uint8_t> env, const Bytes& payload) {
    auto r = OpenRecordSection(keys_->doctor.key, env, author_.public_key(), kRecordId, kVersion);
    if (!r) return r.error().code();
    EXPECT_EQ(r->payload, payload);
    return ErrorCode::kInternal;
  }

  // The same through the file-to-file streaming opener; checks that a failure leaves no file.
  ErrorCode OpenFileCode(const TempDir& dir, std::span<const std::uint8_t> env, const Bytes& payload) {
    WriteFile(dir / "in.ccen", env);
    auto r = OpenRecordSectionFile(keys_->doctor.key, dir / "in.ccen", dir / "out", author_.public_key(),
                                   kRecordId, kVersion);
    if (!r) {
      EXPECT_EQ(dir.Files(), std::set<std::string>{"in.ccen"}) << "a failed open left a file behind";
      return r.error().code();
    }
    EXPECT_EQ(ReadFile(dir / "out"), payload);
    std::filesystem::remove(dir / "out");
    return ErrorCode::kInternal;
  }

  envelope::Ed25519SigningKey author_ = SigningKey("record author");
  Bytes payload_ = Pattern(100);  // two segments of 64 and 36 bytes
};

TEST_F(RecordTest, RoundTripsUnderAVerifiedAuthority) {
  auto verified =
      VerifyChain(authority().chain(), std::vector<TrustedRoot>{TestAuthorities().anchor()}, kNow);
  ASSERT_TRUE(verified.has_value()) << verified.error().ToString();
  DeterministicRandom rng("verified");
  auto env =
      SealRecordSection(*verified, *Policy(kPolicy), kRecordId, kVersion, payload_, author_, kSegment, rng);
  ASSERT_TRUE(env.has_value()) << env.error().ToString();

  auto opened = OpenRecordSection(keys_->doctor, *env, author_.public_key(), kRecordId, kVersion);
  ASSERT_TRUE(opened.has_value()) << opened.error().ToString();
  EXPECT_EQ(opened->payload, payload_);
  const envelope::EnvelopeHeader& h = opened->header;
  EXPECT_EQ(h.scheme_id, kFameCpAbeSchemeId);
  EXPECT_EQ(h.public_params_id, authority().public_params_id());
  EXPECT_EQ(h.policy, PolicyToString(*Policy(kPolicy)));
  EXPECT_EQ(h.author, author_.public_key());
  auto ct = fame::ParseCiphertext(h.kem_ciphertext);
  ASSERT_TRUE(ct.has_value());
  EXPECT_EQ(ct->policy, h.policy);

  // The raw-key overload opens it too; an empty payload round-trips.
  EXPECT_EQ(OpenCode(*env, payload_), ErrorCode::kInternal);
  EXPECT_EQ(OpenCode(Seal({}), {}), ErrorCode::kInternal);
}

TEST_F(RecordTest, SealingRefusesAMismatchedIdOrAForeignPolicy) {
  auto wrong_id = SealRecordSection(authority().public_key(), TestAuthorities().root.public_params_id(),
                                    *Policy(kPolicy), kRecordId, kVersion, payload_, author_);
  ASSERT_FALSE(wrong_id.has_value());
  EXPECT_EQ(wrong_id.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(wrong_id.error().message().find("public-parameter id"), std::string::npos);

  const VerifiedAuthority verified{authority().authority_namespace(), authority().public_key(),
                                   authority().public_params_id(), authority().signing_key().public_key()};
  auto foreign =
      SealRecordSection(verified, *Policy("hospital_a.cardiology.role:doctor OR board.licensed:yes"),
                        kRecordId, kVersion, payload_, author_);
  ASSERT_FALSE(foreign.has_value());
  EXPECT_EQ(foreign.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(foreign.error().message().find("'board.licensed:yes'"), std::string::npos)
      << foreign.error().message();

  auto bad_id = SealRecordSection(verified, *Policy(kPolicy), "", kVersion, payload_, author_);
  ASSERT_FALSE(bad_id.has_value());
  EXPECT_EQ(bad_id.error().code(), ErrorCode::kInvalidArgument);
}

TEST_F(RecordTest, AReaderWhoseAttributesDoNotSatisfyThePolicyGetsTheAbeError) {
  const Bytes env = Seal(payload_);
  for (const UserKey* key : {&keys_->nurse, &keys_->junior}) {
    auto r = OpenRecordSection(*key, env, author_.public_key(), kRecordId, kVersion);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(r.error().message(), "the key's attributes do not satisfy the policy");
  }
}

TEST_F(RecordTest, WrongRecordIdOrVersionIsAContextMismatch) {
  const Bytes env = Seal(payload_);
  auto r =
      OpenRecordSection(keys_->doctor, env, author_.public_key(), "patient-7f3a/observation/43", kVersion);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kContextMismatch);
  r = OpenRecordSection(keys_->doctor, env, author_.public_key(), kRecordId, kVersion + 1);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kContextMismatch);
}

TEST_F(RecordTest, WrongAuthorIsASignerMismatch) {
  const Bytes env = Seal(payload_);
  auto r =
      OpenRecordSection(keys_->doctor, env, SigningKey("someone else").public_key(), kRecordId, kVersion);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kSignerMismatch);
}

TEST_F(RecordTest, AKeyOfAnotherAuthorityDoesNotOpen) {
  const Bytes env = Seal(payload_);
  // With its authority known, it is refused before any pairing.
  auto r = OpenRecordSection(keys_->foreign, env, author_.public_key(), kRecordId, kVersion);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(r.error().message().find("no key for these public parameters"), std::string::npos);
  // As a bare FAME key its attributes satisfy the policy, but it decapsulates to another key.
  r = OpenRecordSection(keys_->foreign.key, env, author_.public_key(), kRecordId, kVersion);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kIntegrity);
  EXPECT_NE(r.error().message().find("key commitment"), std::string::npos) << r.error().message();
}

TEST_F(RecordTest, AuthenticButMalformedKemCiphertextsAreRefused) {
  // What an accepted author could sign: another scheme id, a KEM ciphertext that is not FAME's,
  // or one whose policy is not the header's.
  auto enc = fame::Encapsulate(authority().public_key(), *Policy(kPolicy));
  ASSERT_TRUE(enc.has_value());
  envelope::EnvelopeParams p;
  p.scheme_id = kFameCpAbeSchemeId;
  p.public_params_id = authority().public_params_id();
  p.policy = enc->ct.policy;
  p.kem_ciphertext = *fame::Serialize(enc->ct);
  p.record_id = std::string(kRecordId);
  p.record_version = kVersion;
  p.segment_size = kSegment;
  auto code = [&](const envelope::EnvelopeParams& params, std::string* message = nullptr) {
    auto env = envelope::SealEnvelope(params, enc->key, author_, payload_);
    EXPECT_TRUE(env.has_value());
    auto r = OpenRecordSection(keys_->doctor.key, *env, author_.public_key(), kRecordId, kVersion);
    if (r) return ErrorCode::kInternal;
    if (message != nullptr) *message = r.error().message();
    return r.error().code();
  };
  std::string message;
  EXPECT_EQ(code(p), ErrorCode::kInternal);
  envelope::EnvelopeParams bad = p;
  bad.scheme_id = 2;
  EXPECT_EQ(code(bad, &message), ErrorCode::kUnsupported);
  EXPECT_EQ(message, "record: scheme id 2 is not FAME CP-ABE (1)");
  bad = p;
  bad.kem_ciphertext = Pattern(40);
  EXPECT_EQ(code(bad, &message), ErrorCode::kInvalidEncoding);
  EXPECT_NE(message.find("record: KEM ciphertext: "), std::string::npos) << message;
  bad = p;
  bad.policy = "hospital_a.cardiology.role:nurse";
  EXPECT_EQ(code(bad, &message), ErrorCode::kInvalidEncoding);
  EXPECT_NE(message.find("policy text of the envelope header"), std::string::npos) << message;
}

TEST_F(RecordTest, EverySingleByteFlipFails) {
  // A small envelope (one-row policy, 100-byte payload), every byte flipped with three masks;
  // opened whole (the resolver never runs: the final signature fails first) and streamed from a
  // file (the resolver runs, and decapsulates, for flips in the payload).
  const Bytes env = Seal(payload_, "hospital_a.cardiology.role:doctor");
  ASSERT_LT(env.size(), 1200u);
  ASSERT_EQ(OpenCode(env, payload_), ErrorCode::kInternal);
  const std::set<ErrorCode> allowed = {ErrorCode::kIntegrity, ErrorCode::kInvalidEncoding,
                                       ErrorCode::kUnsupported};
  TempDir dir;
  std::set<ErrorCode> seen;
  for (std::size_t i = 0; i < env.size(); ++i) {
    for (const std::uint8_t mask : {0x01, 0x80, 0xFF}) {
      Bytes bad = env;
      bad[i] ^= mask;
      const ErrorCode whole = OpenCode(bad, payload_);
      ASSERT_TRUE(allowed.contains(whole))
          << "offset " << i << " mask " << int{mask} << ": " << ErrorCodeName(whole);
      seen.insert(whole);
      if (mask == 0x01) {
        const ErrorCode streamed = OpenFileCode(dir, bad, payload_);
        ASSERT_TRUE(allowed.contains(streamed)) << "offset " << i << ": " << ErrorCodeName(streamed);
      }
    }
  }
  EXPECT_EQ(seen, allowed);
}

TEST_F(RecordTest, TruncationAtEveryLengthFails) {
  const Bytes env = Seal(payload_, "hospital_a.cardiology.role:doctor");
  TempDir dir;
  for (std::size_t n = 0; n < env.size(); ++n) {
    const std::span<const std::uint8_t> cut(env.data(), n);
    const ErrorCode whole = OpenCode(cut, payload_);
    ASSERT_TRUE(whole == ErrorCode::kInvalidEncoding || whole == ErrorCode::kIntegrity)
        << n << ": " << ErrorCodeName(whole);
    ASSERT_EQ(OpenFileCode(dir, cut, payload_), whole) << n;
  }
  Bytes longer = env;
  longer.push_back(0);
  EXPECT_EQ(OpenCode(longer, payload_), ErrorCode::kIntegrity);
}

// Resident set size now and its peak since the last reset, from /proc/self/status.
std::size_t StatusKib(std::string_view field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with(field)) return std::stoul(line.substr(field.size()));
  }
  return 0;
}

TEST_F(RecordTest, FilesRoundTripInConstantMemory) {
  // 32 MiB through files with 1 MiB segments: the peak resident set may grow by a few buffers,
  // not by the payload.
  constexpr std::size_t kSize = 32u << 20;
  TempDir dir;
  {
    std::ofstream out(dir / "scan.bin", std::ios::binary);
    Bytes chunk = Pattern(1 << 20);
    for (std::size_t done = 0; done < kSize; done += chunk.size()) {
      chunk[0] = static_cast<std::uint8_t>(done >> 20);
      out.write(reinterpret_cast<const char*>(chunk.data()), static_cast<std::streamsize>(chunk.size()));
    }
  }
  // Reset the peak (VmHWM) to the current resident set (Linux >= 4.0), if allowed.
  std::ofstream clear_refs("/proc/self/clear_refs");
  clear_refs << "5" << std::flush;
  const bool peak_reset = static_cast<bool>(clear_refs);
  const std::size_t baseline = StatusKib("VmRSS:");

  auto sealed =
      SealRecordSectionFile(authority().public_key(), authority().public_params_id(), *Policy(kPolicy),
                            kRecordId, kVersion, dir / "scan.bin", dir / "scan.ccen", author_);
  ASSERT_TRUE(sealed.has_value()) << sealed.error().ToString();
  auto header = OpenRecordSectionFile(keys_->doctor.key, dir / "scan.ccen", dir / "scan.out",
                                      author_.public_key(), kRecordId, kVersion);
  ASSERT_TRUE(header.has_value()) << header.error().ToString();
  EXPECT_EQ(header->record_id, kRecordId);
  EXPECT_EQ(header->stream.segment_size, envelope::kDefaultSegmentSize);
  if (peak_reset) {
    const std::size_t peak = StatusKib("VmHWM:");
    EXPECT_LT(peak - std::min(peak, baseline), std::size_t{12} << 10)
        << "peak resident set grew by " << (peak - baseline) << " KiB";
  }
  EXPECT_EQ(std::filesystem::file_size(dir / "scan.out"), kSize);
  EXPECT_TRUE(ReadFile(dir / "scan.out") == ReadFile(dir / "scan.bin"));
  EXPECT_EQ(dir.Files(), (std::set<std::string>{"scan.bin", "scan.ccen", "scan.out"}));
  // The whole-buffer opener reads the same envelope.
  auto whole = OpenRecordSection(keys_->doctor, ReadFile(dir / "scan.ccen"), author_.public_key(), kRecordId,
                                 kVersion);
  ASSERT_TRUE(whole.has_value()) << whole.error().ToString();
  EXPECT_EQ(whole->payload.size(), kSize);
}

TEST_F(RecordTest, AFailedFileOpenLeavesTheTargetAsItWas) {
  TempDir dir;
  WriteFile(dir / "payload", payload_);
  ASSERT_TRUE(SealRecordSectionFile(authority().public_key(), authority().public_params_id(),
                                    *Policy(kPolicy), kRecordId, kVersion, dir / "payload", dir / "env",
                                    author_, kSegment));
  Bytes env = ReadFile(dir / "env");
  const Bytes previous = {'o', 'l', 'd'};
  WriteFile(dir / "out", previous);
  // The payload authenticates segment by segment, but the final signature is broken: the
  // plaintext reached only the temporary file, which is gone.
  env.back() ^= 1;
  WriteFile(dir / "env", env);
  auto r = OpenRecordSectionFile(keys_->doctor.key, dir / "env", dir / "out", author_.public_key(), kRecordId,
                                 kVersion);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kIntegrity);
  EXPECT_EQ(ReadFile(dir / "out"), previous);
  EXPECT_EQ(dir.Files(), (std::set<std::string>{"env", "out", "payload"}));

  auto missing = OpenRecordSectionFile(keys_->doctor.key, dir / "nope", dir / "out2", author_.public_key(),
                                       kRecordId, kVersion);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_FALSE(SealRecordSectionFile(authority().public_key(), authority().public_params_id(),
                                     *Policy(kPolicy), kRecordId, kVersion, dir / "nope", dir / "env2",
                                     author_));
  EXPECT_EQ(dir.Files(), (std::set<std::string>{"env", "out", "payload"}));
}

}  // namespace
}  // namespace cipherchart::abe
