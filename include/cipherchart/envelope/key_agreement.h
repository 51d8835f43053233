// X25519 key agreement (RFC 7748) and one-shot AES-256-GCM (NIST SP 800-38D), the parts of a
// hybrid public-key encryption that layers above the envelope build on (the chart layer's key
// packages: docs/formats.md, "Key package"). Through OpenSSL; secrets stay in SecretBytes.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "cipherchart/common/error.h"
#include "cipherchart/common/secret.h"

namespace cipherchart::envelope {

using X25519PublicKey = std::array<std::uint8_t, 32>;

// A key pair for receiving: the private half is a secret.
struct X25519KeyPair {
  SecretBytes private_key;  // 32 bytes
  X25519PublicKey public_key{};
  static Result<X25519KeyPair> Generate();
  // kInvalidArgument unless `private_key` is 32 bytes.
  static Result<X25519KeyPair> FromPrivate(const SecretBytes& private_key);
};

// The X25519 shared secret of `private_key` and `peer`. kIntegrity for a peer key whose shared
// secret is all zero (a low-order point: RFC 7748 section 6.1's check).
Result<SecretBytes> X25519Agree(const SecretBytes& private_key, const X25519PublicKey& peer);

inline constexpr std::size_t kAes256GcmKeySize = 32;
inline constexpr std::size_t kAes256GcmNonceSize = 12;
inline constexpr std::size_t kAes256GcmTagSize = 16;

// ciphertext || tag. kInvalidArgument for a key or nonce of the wrong size.
Result<std::vector<std::uint8_t>> Aes256GcmSeal(const SecretBytes& key, std::span<const std::uint8_t> nonce,
                                                std::span<const std::uint8_t> aad,
                                                std::span<const std::uint8_t> plaintext);
// The plaintext of ciphertext || tag; kIntegrity if it does not authenticate (nothing of the
// plaintext is returned then).
Result<SecretBytes> Aes256GcmOpen(const SecretBytes& key, std::span<const std::uint8_t> nonce,
                                  std::span<const std::uint8_t> aad, std::span<const std::uint8_t> sealed);

}  // namespace cipherchart::envelope
