// Ed25519 signatures (RFC 8032, "pure" Ed25519) through OpenSSL's EVP_PKEY ED25519: the
// identity keys of authors (doctors, patients, authorities) and the signature on every envelope.
//
// A signing key is its 32-byte RFC 8032 seed (the "private key" of section 5.1.5), held in
// SecretBytes; the public key is the 32-byte encoding of section 5.1.2. Signing is
// deterministic (RFC 8032 section 5.1.6), so only key generation needs randomness.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "cipherchart/common/error.h"
#include "cipherchart/common/secret.h"
#include "cipherchart/envelope/random_source.h"

namespace cipherchart::envelope {

inline constexpr std::size_t kEd25519SeedSize = 32;
inline constexpr std::size_t kEd25519PublicKeySize = 32;
inline constexpr std::size_t kEd25519SignatureSize = 64;

using Ed25519PublicKey = std::array<std::uint8_t, kEd25519PublicKeySize>;
using Ed25519Signature = std::array<std::uint8_t, kEd25519SignatureSize>;

class Ed25519SigningKey {
 public:
  // A fresh key from `rng`. Fails with kRandomnessFailure or kInternal.
  static Result<Ed25519SigningKey> Generate(RandomSource& rng = OsRandom());
  // The key with this 32-byte seed (kInvalidArgument for another length).
  static Result<Ed25519SigningKey> FromSeed(const SecretBytes& seed);

  Ed25519SigningKey(Ed25519SigningKey&&) noexcept;
  Ed25519SigningKey& operator=(Ed25519SigningKey&&) noexcept;
  ~Ed25519SigningKey();

  const Ed25519PublicKey& public_key() const { return public_key_; }
  // The seed, for sealing the key at rest (passphrase_seal.h). Treat as the secret it is.
  const SecretBytes& seed() const { return seed_; }

  // Signs `message` (any length). Fails only if OpenSSL does (kInternal).
  Result<Ed25519Signature> Sign(std::span<const std::uint8_t> message) const;

 private:
  struct Pkey;
  Ed25519SigningKey(SecretBytes seed, const Ed25519PublicKey& public_key, std::unique_ptr<Pkey> pkey);
  SecretBytes seed_;
  Ed25519PublicKey public_key_{};
  std::unique_ptr<Pkey> pkey_;  // OpenSSL's copy of the key (wiped by OpenSSL when freed)
};

// Verifies `signature` on `message` under `public_key`. Succeeds only for a valid signature;
// fails with kIntegrity for an invalid one (including a signature or public key that is not a
// canonical encoding: OpenSSL rejects S >= L and public keys that do not decode to a point),
// and with kInvalidArgument if `signature` is not 64 bytes.
Result<void> Ed25519Verify(const Ed25519PublicKey& public_key, std::span<const std::uint8_t> message,
                           std::span<const std::uint8_t> signature);

}  // namespace cipherchart::envelope
