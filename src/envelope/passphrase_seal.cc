#include "cipherchart/envelope/passphrase_seal.h"

#include <argon2.h>

#include <algorithm>
#include <optional>
#include <string>
#include <utility>

#include "src/envelope/aes_gcm.h"
#include "src/envelope/wire.h"

namespace cipherchart::envelope {
namespace {

using internal::AesGcm;

constexpr std::size_t kNonceOffset = 4 + 1 + 4 + 4 + 4 + kArgon2SaltSize;  // 33

// Where in the blob each Argon2 parameter sits (docs/formats.md), for error messages.
constexpr std::size_t kMemoryOffset = 5, kIterationsOffset = 9, kParallelismOffset = 13;

struct ParamsProblem {
  std::size_t offset;
  std::string message;
};

// Checks `p` against `limits`; says which parameter is out of range, where it is and why.
std::optional<ParamsProblem> CheckParams(const Argon2Params& p, const Argon2Limits& limits) {
  auto range = [](std::size_t offset, std::string_view name, std::uint32_t v, std::uint32_t lo,
                  std::uint32_t hi) {
    return ParamsProblem{offset, std::string(name) + " " + std::to_string(v) + " is outside the accepted " +
                                     std::to_string(lo) + ".." + std::to_string(hi)};
  };
  if (p.memory_kib < limits.min_memory_kib || p.memory_kib > limits.max_memory_kib) {
    return range(kMemoryOffset, "Argon2 memory (KiB)", p.memory_kib, limits.min_memory_kib,
                 limits.max_memory_kib);
  }
  if (p.iterations < limits.min_iterations || p.iterations > limits.max_iterations || p.iterations == 0) {
    return range(kIterationsOffset, "Argon2 iterations", p.iterations, std::max(limits.min_iterations, 1u),
                 limits.max_iterations);
  }
  if (p.parallelism == 0 || p.parallelism > limits.max_parallelism) {
    return range(kParallelismOffset, "Argon2 parallelism", p.parallelism, 1, limits.max_parallelism);
  }
  if (p.memory_kib < 8 * p.parallelism) {  // RFC 9106 section 3.1: m >= 8p
    return ParamsProblem{kMemoryOffset,
                         "Argon2 memory " + std::to_string(p.memory_kib) + " KiB is below 8 x parallelism"};
  }
  return std::nullopt;
}

Result<void> CheckInputs(const SecretBytes& passphrase, std::string_view purpose) {
  if (passphrase.empty())
    return Fail(ErrorCode::kInvalidArgument, "passphrase seal: the passphrase is empty");
  if (purpose.size() > kMaxPurposeSize) {
    return Fail(ErrorCode::kInvalidArgument, "passphrase seal: purpose is " + std::to_string(purpose.size()) +
                                                 " bytes, the maximum is " + std::to_string(kMaxPurposeSize));
  }
  return {};
}

Result<SecretBytes> DeriveKey(const SecretBytes& passphrase, const SealedBlobInfo& info) {
  SecretBytes key(internal::kAesGcmKeySize);
  // argon2id_hash_raw wipes its working memory before freeing it (libargon2's default
  // FLAG_clear_internal_memory).
  const int rc = argon2id_hash_raw(info.params.iterations, info.params.memory_kib, info.params.parallelism,
                                   passphrase.data(), passphrase.size(), info.salt.data(), info.salt.size(),
                                   key.data(), key.size());
  if (rc != ARGON2_OK) {
    return Fail(ErrorCode::kInternal,
                std::string("passphrase seal: Argon2id failed: ") + argon2_error_message(rc));
  }
  return key;
}

// AAD = the blob's clear header (everything before the ciphertext) || purpose.
std::vector<std::uint8_t> AssociatedData(std::span<const std::uint8_t> header, std::string_view purpose) {
  std::vector<std::uint8_t> aad(header.begin(), header.end());
  internal::PutBytes(aad, purpose);
  return aad;
}

}  // namespace

Result<std::vector<std::uint8_t>> SealWithPassphrase(const SecretBytes& secret, const SecretBytes& passphrase,
                                                     std::string_view purpose, const Argon2Params& params,
                                                     const Argon2Limits& limits, RandomSource& rng) {
  if (auto ok = CheckInputs(passphrase, purpose); !ok) return std::unexpected(ok.error());
  if (secret.empty() || secret.size() > kMaxSealedSecretSize) {
    return Fail(ErrorCode::kInvalidArgument, "passphrase seal: the secret must be 1.." +
                                                 std::to_string(kMaxSealedSecretSize) + " bytes, got " +
                                                 std::to_string(secret.size()));
  }
  if (auto problem = CheckParams(params, limits)) {
    return Fail(ErrorCode::kInvalidArgument, "passphrase seal: " + problem->message);
  }
  SealedBlobInfo info;
  info.params = params;
  info.secret_size = secret.size();
  if (auto ok = rng.Fill(info.salt); !ok) return std::unexpected(ok.error());
  if (auto ok = rng.Fill(info.nonce); !ok) return std::unexpected(ok.error());

  std::vector<std::uint8_t> blob;
  blob.reserve(kPassphraseSealHeaderSize + secret.size() + internal::kAesGcmTagSize);
  internal::PutBytes(blob, kPassphraseSealMagic);
  internal::PutU8(blob, kPassphraseSealVersion);
  internal::PutU32(blob, params.memory_kib);
  internal::PutU32(blob, params.iterations);
  internal::PutU32(blob, params.parallelism);
  internal::PutBytes(blob, info.salt);
  internal::PutBytes(blob, info.nonce);
  internal::PutU32(blob, static_cast<std::uint32_t>(secret.size()));

  auto key = DeriveKey(passphrase, info);
  if (!key) return std::unexpected(key.error());
  auto aead = AesGcm::Create(key->span(), AesGcm::Direction::kSeal);
  if (!aead) return std::unexpected(aead.error());
  const std::vector<std::uint8_t> aad = AssociatedData(blob, purpose);
  blob.resize(kPassphraseSealHeaderSize + secret.size() + internal::kAesGcmTagSize);
  auto out = std::span(blob).subspan(kPassphraseSealHeaderSize);
  if (auto ok = aead->Seal(info.nonce, aad, secret.span(), out); !ok) return std::unexpected(ok.error());
  return blob;
}

Result<SealedBlobInfo> ParseSealedBlob(std::span<const std::uint8_t> blob) {
  internal::Reader r(blob, "passphrase seal");
  auto magic = r.Bytes(kPassphraseSealMagic.size(), "magic");
  if (!magic) return std::unexpected(magic.error());
  if (!std::equal(magic->begin(), magic->end(), kPassphraseSealMagic.begin())) {
    return std::unexpected(r.Invalid(0, "magic is not \"CCPS\" (not a CipherChart passphrase-sealed blob)"));
  }
  auto version = r.U8("version");
  if (!version) return std::unexpected(version.error());
  if (*version != kPassphraseSealVersion) {
    return Fail(ErrorCode::kUnsupported, "passphrase seal: version " + std::to_string(*version) +
                                             " at offset 4 is not supported (this library reads version " +
                                             std::to_string(kPassphraseSealVersion) + ")");
  }
  SealedBlobInfo info;
  for (auto [field, name] : {std::pair{&info.params.memory_kib, "Argon2 memory"},
                             std::pair{&info.params.iterations, "Argon2 iterations"},
                             std::pair{&info.params.parallelism, "Argon2 parallelism"}}) {
    auto value = r.U32(name);
    if (!value) return std::unexpected(value.error());
    *field = *value;
  }
  if (auto ok = r.CopyTo(info.salt, "salt"); !ok) return std::unexpected(ok.error());
  if (auto ok = r.CopyTo(info.nonce, "nonce"); !ok) return std::unexpected(ok.error());
  auto size = r.Length32("secret length", 1, kMaxSealedSecretSize);
  if (!size) return std::unexpected(size.error());
  info.secret_size = *size;
  const std::size_t at = r.offset();
  const std::size_t expected = info.secret_size + internal::kAesGcmTagSize;
  if (r.remaining() != expected) {
    return std::unexpected(r.Invalid(at, "ciphertext is " + std::to_string(r.remaining()) +
                                             " bytes, the header says " + std::to_string(expected) +
                                             " (secret length + 16-byte tag)"));
  }
  return info;
}

Result<SecretBytes> OpenWithPassphrase(std::span<const std::uint8_t> blob, const SecretBytes& passphrase,
                                       std::string_view purpose, const Argon2Limits& limits) {
  if (auto ok = CheckInputs(passphrase, purpose); !ok) return std::unexpected(ok.error());
  auto info = ParseSealedBlob(blob);
  if (!info) return std::unexpected(info.error());
  if (auto problem = CheckParams(info->params, limits)) {
    return Fail(ErrorCode::kUnsupported, "passphrase seal: at offset " + std::to_string(problem->offset) +
                                             ": " + problem->message +
                                             " (refusing weakened or excessive parameters)");
  }
  auto key = DeriveKey(passphrase, *info);
  if (!key) return std::unexpected(key.error());
  auto aead = AesGcm::Create(key->span(), AesGcm::Direction::kOpen);
  if (!aead) return std::unexpected(aead.error());
  const std::vector<std::uint8_t> aad = AssociatedData(blob.first(kPassphraseSealHeaderSize), purpose);
  SecretBytes secret(info->secret_size);
  if (!aead->Open(blob.subspan(kNonceOffset, 12), aad, blob.subspan(kPassphraseSealHeaderSize),
                  secret.span())) {
    return Fail(
        ErrorCode::kIntegrity,
        "passphrase seal: authentication failed (wrong passphrase or purpose, or the blob was modified)");
  }
  return secret;
}

}  // namespace cipherchart::envelope
