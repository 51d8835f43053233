#include "cipherchart/envelope/signature.h"

#include <string>

#include "src/envelope/openssl_util.h"

namespace cipherchart::envelope {

struct Ed25519SigningKey::Pkey {
  internal::PkeyPtr pkey;
};

Ed25519SigningKey::Ed25519SigningKey(SecretBytes seed, const Ed25519PublicKey& public_key,
                                     std::unique_ptr<Pkey> pkey)
    : seed_(std::move(seed)), public_key_(public_key), pkey_(std::move(pkey)) {}
Ed25519SigningKey::Ed25519SigningKey(Ed25519SigningKey&&) noexcept = default;
Ed25519SigningKey& Ed25519SigningKey::operator=(Ed25519SigningKey&&) noexcept = default;
Ed25519SigningKey::~Ed25519SigningKey() = default;

Result<Ed25519SigningKey> Ed25519SigningKey::Generate(RandomSource& rng) {
  SecretBytes seed(kEd25519SeedSize);
  if (auto ok = rng.Fill(seed.span()); !ok) return std::unexpected(ok.error());
  return FromSeed(seed);
}

Result<Ed25519SigningKey> Ed25519SigningKey::FromSeed(const SecretBytes& seed) {
  if (seed.size() != kEd25519SeedSize) {
    return Fail(ErrorCode::kInvalidArgument,
                "Ed25519: a seed is 32 bytes, got " + std::to_string(seed.size()));
  }
  auto pkey = std::make_unique<Pkey>();
  pkey->pkey.reset(EVP_PKEY_new_raw_private_key_ex(nullptr, "ED25519", nullptr, seed.data(), seed.size()));
  Ed25519PublicKey public_key{};
  std::size_t len = public_key.size();
  if (!pkey->pkey || EVP_PKEY_get_raw_public_key(pkey->pkey.get(), public_key.data(), &len) != 1 ||
      len != public_key.size()) {
    internal::ClearOpensslErrors();
    return Fail(ErrorCode::kInternal, "Ed25519: OpenSSL could not load the private key");
  }
  return Ed25519SigningKey(SecretBytes(seed), public_key, std::move(pkey));
}

Result<Ed25519Signature> Ed25519SigningKey::Sign(std::span<const std::uint8_t> message) const {
  internal::MdCtxPtr ctx(EVP_MD_CTX_new());
  Ed25519Signature signature{};
  std::size_t len = signature.size();
  // Pure Ed25519 takes no digest: EVP_DigestSign is one-shot over the whole message.
  if (!ctx ||
      EVP_DigestSignInit_ex(ctx.get(), nullptr, nullptr, nullptr, nullptr, pkey_->pkey.get(), nullptr) != 1 ||
      EVP_DigestSign(ctx.get(), signature.data(), &len, message.data(), message.size()) != 1 ||
      len != signature.size()) {
    internal::ClearOpensslErrors();
    return Fail(ErrorCode::kInternal, "Ed25519: signing failed in OpenSSL");
  }
  return signature;
}

Result<void> Ed25519Verify(const Ed25519PublicKey& public_key, std::span<const std::uint8_t> message,
                           std::span<const std::uint8_t> signature) {
  if (signature.size() != kEd25519SignatureSize) {
    return Fail(ErrorCode::kInvalidArgument,
                "Ed25519: a signature is 64 bytes, got " + std::to_string(signature.size()));
  }
  internal::PkeyPtr pkey(
      EVP_PKEY_new_raw_public_key_ex(nullptr, "ED25519", nullptr, public_key.data(), public_key.size()));
  if (!pkey) {
    internal::ClearOpensslErrors();
    return Fail(ErrorCode::kIntegrity, "Ed25519: the public key is not a valid encoding");
  }
  internal::MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx ||
      EVP_DigestVerifyInit_ex(ctx.get(), nullptr, nullptr, nullptr, nullptr, pkey.get(), nullptr) != 1) {
    internal::ClearOpensslErrors();
    return Fail(ErrorCode::kInternal, "Ed25519: OpenSSL could not set up verification");
  }
  const int rc =
      EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), message.data(), message.size());
  if (rc != 1) {
    internal::ClearOpensslErrors();
    return Fail(ErrorCode::kIntegrity, "Ed25519: signature verification failed");
  }
  return {};
}

}  // namespace cipherchart::envelope
