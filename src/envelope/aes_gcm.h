// Internal: AES-256-GCM (NIST SP 800-38D) with a 12-byte nonce and a 16-byte tag, through one
// OpenSSL EVP_CIPHER_CTX whose key schedule is set up once and reused for every message
// (the stream seals thousands of segments under one key).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "cipherchart/common/error.h"
#include "src/envelope/openssl_util.h"

namespace cipherchart::envelope::internal {

inline constexpr std::size_t kAesGcmKeySize = 32;
inline constexpr std::size_t kAesGcmNonceSize = 12;
inline constexpr std::size_t kAesGcmTagSize = 16;

class AesGcm {
 public:
  enum class Direction { kSeal, kOpen };

  // `key` must be kAesGcmKeySize bytes (kInvalidArgument otherwise). OpenSSL copies the key
  // schedule into the context and wipes it when the context is freed.
  static Result<AesGcm> Create(std::span<const std::uint8_t> key, Direction direction);

  // out = ciphertext || tag; out.size() must be plaintext.size() + kAesGcmTagSize. `out` may
  // alias `plaintext` exactly (in-place).
  Result<void> Seal(std::span<const std::uint8_t> nonce, std::span<const std::uint8_t> aad,
                    std::span<const std::uint8_t> plaintext, std::span<std::uint8_t> out);
  // in = ciphertext || tag; out.size() must be in.size() - kAesGcmTagSize. On failure
  // (kIntegrity) `out` is wiped: plaintext of an unauthenticated message never leaves.
  Result<void> Open(std::span<const std::uint8_t> nonce, std::span<const std::uint8_t> aad,
                    std::span<const std::uint8_t> in, std::span<std::uint8_t> out);

 private:
  AesGcm(CipherCtxPtr ctx, Direction direction) : ctx_(std::move(ctx)), direction_(direction) {}
  CipherCtxPtr ctx_;
  Direction direction_;
};

}  // namespace cipherchart::envelope::internal
