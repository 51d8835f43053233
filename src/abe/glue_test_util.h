// TEST ONLY. Helpers shared by authority_test.cc, keystore_test.cc and record_test.cc: one set
// of authorities per test binary (each costs a FAME Setup), cheap Argon2 parameters with the
// explicit limits that admit them, fixed FAME public keys for known answers, temporary
// directories.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "cipherchart/abe/authority.h"
#include "cipherchart/abe/policy.h"
#include "cipherchart/envelope/passphrase_seal.h"
#include "cipherchart/pairing/pairing.h"
#include "src/envelope/test_random.h"

namespace cipherchart::abe::testing {

using Bytes = std::vector<std::uint8_t>;
using envelope::testing::DeterministicRandom;

// Validity of the test authorities, and a time inside it.
inline constexpr std::uint64_t kNotBefore = 1'700'000'000;  // 2023-11-14
inline constexpr std::uint64_t kNotAfter = 1'900'000'000;   // 2030-03-17
inline constexpr std::uint64_t kNow = 1'800'000'000;

// Cheap Argon2 parameters keep the keystore tests fast; the library's default limits refuse
// them, so every open passes kTestLimits explicitly.
inline constexpr envelope::Argon2Params kCheapArgon2{256, 1, 1};
inline constexpr envelope::Argon2Limits kTestLimits{8, 1u << 20, 1, 64, 16};

inline std::unique_ptr<PolicyNode> Policy(std::string_view text) {
  auto p = ParsePolicy(text);
  EXPECT_TRUE(p.has_value()) << text << ": " << (p ? "" : p.error().ToString());
  return p ? std::move(*p) : nullptr;
}

inline AttributeSet Attrs(std::string_view text) {
  auto a = ParseAttributeSet(text);
  EXPECT_TRUE(a.has_value()) << text;
  return a ? *a : AttributeSet{};
}

inline SecretBytes Text(std::string_view s) { return SecretBytes(Bytes(s.begin(), s.end())); }

inline Bytes Pattern(std::size_t n, std::uint8_t start = 0) {
  Bytes out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::uint8_t>(start + i * 13);
  return out;
}

inline envelope::Ed25519SigningKey SigningKey(std::string_view seed) {
  DeterministicRandom rng(seed);
  auto key = envelope::Ed25519SigningKey::Generate(rng);
  EXPECT_TRUE(key.has_value());
  return std::move(*key);
}

// A valid FAME public key built from fixed scalars (Setup draws from the OS, so known answers
// cannot use it). Not a key anyone holds the master key of.
inline fame::PublicKey FixedFameKey(std::uint64_t seed) {
  using pairing::Fr;
  fame::PublicKey pk;
  for (std::size_t i = 0; i < 3; ++i)
    pk.h_a[i] = pairing::G2::Generator().MulVartime(Fr::FromU64(seed + 2 + i));
  const pairing::Gt e = pairing::Pairing(pairing::G1::Generator(), pairing::G2::Generator());
  pk.t[0] = e.PowVartime(Fr::FromU64(seed + 5));
  pk.t[1] = e.PowVartime(Fr::FromU64(seed + 7));
  return pk;
}

// hospital_a -> hospital_a.cardiology -> hospital_a.cardiology.icu, and an unrelated root
// hospital_b; created once per test binary (three FAME Setups).
struct Authorities {
  Authority root;
  Authority cardiology;
  Authority icu;
  Authority other_root;

  TrustedRoot anchor() const { return TrustedRootOf(root.certificate()); }
};

inline const Authorities& TestAuthorities() {
  static const Authorities* authorities = [] {
    DeterministicRandom rng("glue test authorities");
    auto root = Authority::CreateRoot("hospital_a", kNotBefore, kNotAfter, rng);
    EXPECT_TRUE(root.has_value()) << root.error().ToString();
    auto cardiology = root->CreateSubAuthority("hospital_a.cardiology", kNotBefore, kNotAfter, rng);
    EXPECT_TRUE(cardiology.has_value()) << cardiology.error().ToString();
    auto icu = cardiology->CreateSubAuthority("hospital_a.cardiology.icu", kNotBefore, kNotAfter, rng);
    EXPECT_TRUE(icu.has_value()) << icu.error().ToString();
    auto other = Authority::CreateRoot("hospital_b", kNotBefore, kNotAfter, rng);
    EXPECT_TRUE(other.has_value()) << other.error().ToString();
    return new Authorities{std::move(*root), std::move(*cardiology), std::move(*icu), std::move(*other)};
  }();
  return *authorities;
}

// A fresh directory under the system's temporary directory, removed with its contents.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "cipherchart-test-XXXXXX").string();
    EXPECT_NE(::mkdtemp(pattern.data()), nullptr);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(std::string_view name) const { return path_ / name; }
  // Names of the files in the directory.
  std::set<std::string> Files() const {
    std::set<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(path_)) out.insert(e.path().filename().string());
    return out;
  }

 private:
  std::filesystem::path path_;
};

}  // namespace cipherchart::abe::testing
