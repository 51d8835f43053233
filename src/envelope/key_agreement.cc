#include "cipherchart/envelope/key_agreement.h"

#include <openssl/evp.h>

#include <memory>

#include "src/envelope/aes_gcm.h"
#include "src/envelope/openssl_util.h"

namespace cipherchart::envelope {
namespace {

using internal::AesGcm;
using internal::PkeyPtr;

struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};

}  // namespace

Result<X25519KeyPair> X25519KeyPair::Generate() {
  auto priv = SecretBytes::Random(32);
  if (!priv) return std::unexpected(priv.error());
  return FromPrivate(*priv);
}

Result<X25519KeyPair> X25519KeyPair::FromPrivate(const SecretBytes& private_key) {
  if (private_key.size() != 32) return Fail(ErrorCode::kInvalidArgument, "X25519 private key: not 32 bytes");
  PkeyPtr key(EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, private_key.data(), private_key.size()));
  X25519KeyPair out;
  std::size_t len = out.public_key.size();
  if (!key || EVP_PKEY_get_raw_public_key(key.get(), out.public_key.data(), &len) != 1 ||
      len != out.public_key.size()) {
    internal::ClearOpensslErrors();
    return Fail(ErrorCode::kInternal, "X25519: cannot derive the public key");
  }
  out.private_key = private_key;
  return out;
}

Result<SecretBytes> X25519Agree(const SecretBytes& private_key, const X25519PublicKey& peer) {
  if (private_key.size() != 32) return Fail(ErrorCode::kInvalidArgument, "X25519 private key: not 32 bytes");
  PkeyPtr mine(
      EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, private_key.data(), private_key.size()));
  PkeyPtr theirs(EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr, peer.data(), peer.size()));
  if (!mine || !theirs) {
    internal::ClearOpensslErrors();
    return Fail(ErrorCode::kInvalidArgument, "X25519: invalid key");
  }
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> ctx(EVP_PKEY_CTX_new(mine.get(), nullptr));
  SecretBytes shared(32);
  std::size_t len = shared.size();
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 ||
      EVP_PKEY_derive_set_peer(ctx.get(), theirs.get()) != 1 ||
      EVP_PKEY_derive(ctx.get(), shared.data(), &len) != 1 || len != 32) {
    internal::ClearOpensslErrors();
    return Fail(ErrorCode::kIntegrity, "X25519: agreement failed (low-order point?)");
  }
  // Constant time: OR every byte, branch once on the result.
  std::uint8_t acc = 0;
  for (auto b : shared.span()) acc |= b;
  if (acc == 0) return Fail(ErrorCode::kIntegrity, "X25519: the shared secret is zero (low-order point)");
  return shared;
}

Result<std::vector<std::uint8_t>> Aes256GcmSeal(const SecretBytes& key, std::span<const std::uint8_t> nonce,
                                                std::span<const std::uint8_t> aad,
                                                std::span<const std::uint8_t> plaintext) {
  if (nonce.size() != kAes256GcmNonceSize)
    return Fail(ErrorCode::kInvalidArgument, "AES-GCM: nonce must be 12 bytes");
  auto gcm = AesGcm::Create(key.span(), AesGcm::Direction::kSeal);
  if (!gcm) return std::unexpected(gcm.error());
  std::vector<std::uint8_t> out(plaintext.size() + kAes256GcmTagSize);
  if (auto r = gcm->Seal(nonce, aad, plaintext, out); !r) return std::unexpected(r.error());
  return out;
}

Result<SecretBytes> Aes256GcmOpen(const SecretBytes& key, std::span<const std::uint8_t> nonce,
                                  std::span<const std::uint8_t> aad, std::span<const std::uint8_t> sealed) {
  if (nonce.size() != kAes256GcmNonceSize)
    return Fail(ErrorCode::kInvalidArgument, "AES-GCM: nonce must be 12 bytes");
  if (sealed.size() < kAes256GcmTagSize) return Fail(ErrorCode::kIntegrity, "AES-GCM: shorter than the tag");
  auto gcm = AesGcm::Create(key.span(), AesGcm::Direction::kOpen);
  if (!gcm) return std::unexpected(gcm.error());
  SecretBytes out(sealed.size() - kAes256GcmTagSize);
  if (auto r = gcm->Open(nonce, aad, sealed, out.span()); !r) return std::unexpected(r.error());
  return out;
}

}  // namespace cipherchart::envelope
