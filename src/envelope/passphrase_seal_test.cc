#include "cipherchart/envelope/passphrase_seal.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "src/envelope/test_random.h"

namespace cipherchart::envelope {
namespace {

using Bytes = std::vector<std::uint8_t>;
using testing::DeterministicRandom;

// Cheap parameters keep these tests fast; the limits that admit them are passed explicitly
// (the library's defaults would refuse them, which DowngradedParametersAreRefused checks).
constexpr Argon2Params kCheap{256, 1, 1};
constexpr Argon2Limits kTestLimits{8, 1u << 20, 1, 64, 16};

SecretBytes Text(std::string_view s) { return SecretBytes(Bytes(s.begin(), s.end())); }
SecretBytes Secret() { return SecretBytes(Bytes{0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80, 0x90}); }
const SecretBytes& Passphrase() {
  static const SecretBytes p = Text("correct horse battery staple");
  return p;
}

Bytes SealCheap(std::string_view purpose = "authority master key") {
  DeterministicRandom rng("passphrase");
  auto blob = SealWithPassphrase(Secret(), Passphrase(), purpose, kCheap, kTestLimits, rng);
  EXPECT_TRUE(blob) << blob.error().ToString();
  return blob ? *blob : Bytes{};
}

ErrorCode OpenCode(const Bytes& blob, const SecretBytes& passphrase = Passphrase(),
                   std::string_view purpose = "authority master key",
                   const Argon2Limits& limits = kTestLimits) {
  auto r = OpenWithPassphrase(blob, passphrase, purpose, limits);
  if (r) {
    EXPECT_TRUE(*r == Secret());
    return ErrorCode::kInternal;  // stands for "opened"
  }
  return r.error().code();
}

TEST(PassphraseSealTest, RoundTripsAndRecordsItsParameters) {
  const Bytes blob = SealCheap();
  EXPECT_EQ(blob.size(), kPassphraseSealHeaderSize + Secret().size() + 16);
  auto info = ParseSealedBlob(blob);
  ASSERT_TRUE(info) << info.error().ToString();
  EXPECT_EQ(info->params.memory_kib, 256u);
  EXPECT_EQ(info->params.iterations, 1u);
  EXPECT_EQ(info->params.parallelism, 1u);
  EXPECT_EQ(info->secret_size, Secret().size());
  auto opened = OpenWithPassphrase(blob, Passphrase(), "authority master key", kTestLimits);
  ASSERT_TRUE(opened) << opened.error().ToString();
  EXPECT_TRUE(*opened == Secret());
}

TEST(PassphraseSealTest, DefaultParametersRoundTrip) {
  // 64 MiB, t = 3, p = 1: the production setting, accepted by the default limits.
  auto blob = SealWithPassphrase(Secret(), Passphrase(), "keystore");
  ASSERT_TRUE(blob) << blob.error().ToString();
  auto opened = OpenWithPassphrase(*blob, Passphrase(), "keystore");
  ASSERT_TRUE(opened) << opened.error().ToString();
  EXPECT_TRUE(*opened == Secret());
}

TEST(PassphraseSealTest, WrongPassphraseOrPurposeIsAnIntegrityError) {
  const Bytes blob = SealCheap();
  EXPECT_EQ(OpenCode(blob, Text("correct horse battery stapler")), ErrorCode::kIntegrity);
  EXPECT_EQ(OpenCode(blob, Passphrase(), "keystore"), ErrorCode::kIntegrity);
  EXPECT_EQ(OpenCode(blob), ErrorCode::kInternal);
}

TEST(PassphraseSealTest, DowngradedParametersAreRefusedBeforeAnyWork) {
  // A blob with weak parameters (written by a misconfigured or malicious tool) does not open
  // under the default limits, even with the right passphrase.
  auto r = OpenWithPassphrase(SealCheap(), Passphrase(), "authority master key");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kUnsupported);
  EXPECT_EQ(r.error().message(),
            "passphrase seal: at offset 5: Argon2 memory (KiB) 256 is outside the accepted 65536..1048576 "
            "(refusing weakened or excessive parameters)");
}

TEST(PassphraseSealTest, ExcessiveParametersAreRefused) {
  Bytes blob = SealCheap();
  blob[5] = 0x7F;  // memory ~2 TiB
  EXPECT_EQ(OpenCode(blob), ErrorCode::kUnsupported);
  blob = SealCheap();
  blob[9 + 3] = 200;  // 200 iterations
  EXPECT_EQ(OpenCode(blob), ErrorCode::kUnsupported);
  EXPECT_NE(OpenWithPassphrase(blob, Passphrase(), "authority master key", kTestLimits)
                .error()
                .message()
                .find("at offset 9: Argon2 iterations 200"),
            std::string::npos);
  blob = SealCheap();
  blob[13 + 3] = 0;  // no lanes
  EXPECT_EQ(OpenCode(blob), ErrorCode::kUnsupported);
}

TEST(PassphraseSealTest, EverySingleByteFlipFails) {
  const Bytes blob = SealCheap();
  for (std::size_t i = 0; i < blob.size(); ++i) {
    for (std::uint8_t mask : {0x01, 0x80, 0xFF}) {
      Bytes bad = blob;
      bad[i] ^= mask;
      const ErrorCode code = OpenCode(bad);
      if (i < 4) {
        EXPECT_EQ(code, ErrorCode::kInvalidEncoding) << i;  // magic
      } else if (i == 4) {
        EXPECT_EQ(code, ErrorCode::kUnsupported);  // version
      } else if (i < 17) {
        // Argon2 parameters: out of the limits, or a different key.
        EXPECT_TRUE(code == ErrorCode::kUnsupported || code == ErrorCode::kIntegrity)
            << i << " " << int(mask);
      } else if (i >= 45 && i < 49) {
        EXPECT_EQ(code, ErrorCode::kInvalidEncoding) << i;  // secret length
      } else {
        EXPECT_EQ(code, ErrorCode::kIntegrity) << i << " " << int(mask);
      }
    }
  }
}

TEST(PassphraseSealTest, TruncationAndExtensionAreEncodingErrors) {
  const Bytes blob = SealCheap();
  for (std::size_t len = 0; len < blob.size(); ++len) {
    EXPECT_EQ(OpenCode(Bytes(blob.begin(), blob.begin() + static_cast<std::ptrdiff_t>(len))),
              ErrorCode::kInvalidEncoding)
        << len;
  }
  Bytes longer = blob;
  longer.push_back(0);
  auto r = ParseSealedBlob(longer);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(),
            "passphrase seal: ciphertext is 26 bytes, the header says 25 (secret length + 16-byte tag) at "
            "offset 49");
}

TEST(PassphraseSealTest, SealRefusesBadInputs) {
  DeterministicRandom rng("bad");
  auto code = [&](const SecretBytes& secret, const SecretBytes& passphrase, std::string_view purpose,
                  const Argon2Params& params, const Argon2Limits& limits = kTestLimits) {
    auto r = SealWithPassphrase(secret, passphrase, purpose, params, limits, rng);
    return r ? ErrorCode::kInternal : r.error().code();
  };
  EXPECT_EQ(code(SecretBytes(), Passphrase(), "", kCheap), ErrorCode::kInvalidArgument);
  EXPECT_EQ(code(SecretBytes(kMaxSealedSecretSize + 1), Passphrase(), "", kCheap),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(code(Secret(), SecretBytes(), "", kCheap), ErrorCode::kInvalidArgument);
  EXPECT_EQ(code(Secret(), Passphrase(), std::string(kMaxPurposeSize + 1, 'p'), kCheap),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(code(Secret(), Passphrase(), "", kCheap, Argon2Limits{}), ErrorCode::kInvalidArgument);
  EXPECT_EQ(code(Secret(), Passphrase(), "", Argon2Params{16, 1, 4}), ErrorCode::kInvalidArgument);  // m < 8p
  EXPECT_EQ(code(Secret(), Passphrase(), "", Argon2Params{256, 0, 1}), ErrorCode::kInvalidArgument);
}

TEST(PassphraseSealTest, FreshSaltAndNonceEachTime) {
  auto a = SealWithPassphrase(Secret(), Passphrase(), "", kCheap, kTestLimits);
  auto b = SealWithPassphrase(Secret(), Passphrase(), "", kCheap, kTestLimits);
  ASSERT_TRUE(a && b);
  EXPECT_NE(*a, *b);
  EXPECT_NE(ParseSealedBlob(*a)->salt, ParseSealedBlob(*b)->salt);
}

TEST(PassphraseSealTest, SeveralLanesWork) {
  DeterministicRandom rng("lanes");
  auto blob = SealWithPassphrase(Secret(), Passphrase(), "p", Argon2Params{1024, 2, 4}, kTestLimits, rng);
  ASSERT_TRUE(blob) << blob.error().ToString();
  auto opened = OpenWithPassphrase(*blob, Passphrase(), "p", kTestLimits);
  ASSERT_TRUE(opened) << opened.error().ToString();
  EXPECT_TRUE(*opened == Secret());
}

}  // namespace
}  // namespace cipherchart::envelope
