// Passphrase sealing of secrets at rest (an authority's master key, a user's keystore):
// Argon2id (RFC 9106, via libargon2) turns the passphrase and a random salt into a 32-byte key,
// and AES-256-GCM encrypts the secret under it. The Argon2 parameters are stored in the blob, so
// they can be raised later without a format change; on opening they must lie within
// Argon2Limits, which stops a blob with weakened parameters (a downgrade) from being accepted
// and a blob with absurd ones from exhausting memory. docs/formats.md has the byte layout.
//
// `purpose` names what is sealed ("authority master key", "keystore"): it is authenticated
// (part of the AES-GCM associated data) but not stored, so a blob sealed for one purpose does
// not open as another even under the same passphrase.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "cipherchart/common/error.h"
#include "cipherchart/common/secret.h"
#include "cipherchart/envelope/random_source.h"

namespace cipherchart::envelope {

inline constexpr std::array<std::uint8_t, 4> kPassphraseSealMagic = {'C', 'C', 'P', 'S'};
inline constexpr std::uint8_t kPassphraseSealVersion = 1;
inline constexpr std::size_t kArgon2SaltSize = 16;
inline constexpr std::size_t kPassphraseSealHeaderSize = 4 + 1 + 4 + 4 + 4 + kArgon2SaltSize + 12 + 4;  // 49
inline constexpr std::size_t kMaxSealedSecretSize = 1u << 20;
inline constexpr std::size_t kMaxPurposeSize = 256;

struct Argon2Params {
  std::uint32_t memory_kib = 64 * 1024;  // m: 64 MiB (RFC 9106 section 4, second recommended option)
  std::uint32_t iterations = 3;          // t
  std::uint32_t parallelism = 1;         // p (lanes)
};

// The range of Argon2 parameters a sealer may use and an opener accepts.
struct Argon2Limits {
  std::uint32_t min_memory_kib = 64 * 1024;
  std::uint32_t max_memory_kib = 1024 * 1024;  // 1 GiB
  std::uint32_t min_iterations = 3;
  std::uint32_t max_iterations = 64;
  std::uint32_t max_parallelism = 16;
};

// What the clear part of a blob says (authenticated only once OpenWithPassphrase succeeds).
struct SealedBlobInfo {
  Argon2Params params;
  std::array<std::uint8_t, kArgon2SaltSize> salt{};
  std::array<std::uint8_t, 12> nonce{};
  std::size_t secret_size = 0;
};

// Seals `secret` (1..kMaxSealedSecretSize bytes) under `passphrase` (non-empty). Fails with
// kInvalidArgument for empty or oversized inputs or params outside `limits`, kRandomnessFailure,
// or kInternal (e.g. Argon2 could not allocate its memory).
Result<std::vector<std::uint8_t>> SealWithPassphrase(const SecretBytes& secret, const SecretBytes& passphrase,
                                                     std::string_view purpose,
                                                     const Argon2Params& params = {},
                                                     const Argon2Limits& limits = {},
                                                     RandomSource& rng = OsRandom());

// Parses the blob's structure without deriving any key: kInvalidEncoding (with field and offset)
// for a malformed blob, kUnsupported for another version.
Result<SealedBlobInfo> ParseSealedBlob(std::span<const std::uint8_t> blob);

// Opens a blob. Fails with the ParseSealedBlob errors; kUnsupported if its Argon2 parameters lie
// outside `limits` (checked before any work is done); kIntegrity for a wrong passphrase or
// purpose, or any modified byte.
Result<SecretBytes> OpenWithPassphrase(std::span<const std::uint8_t> blob, const SecretBytes& passphrase,
                                       std::string_view purpose, const Argon2Limits& limits = {});

}  // namespace cipherchart::envelope
