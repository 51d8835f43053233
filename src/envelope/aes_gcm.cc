#include "src/envelope/aes_gcm.h"

#include <climits>

#include "cipherchart/common/secret.h"

namespace cipherchart::envelope::internal {
namespace {

// EVP_*Update takes an int length; every caller here stays far below this.
constexpr std::size_t kMaxChunk = INT_MAX - kAesGcmTagSize;

}  // namespace

Result<AesGcm> AesGcm::Create(std::span<const std::uint8_t> key, Direction direction) {
  if (key.size() != kAesGcmKeySize) {
    return Fail(ErrorCode::kInvalidArgument,
                "AES-256-GCM: key must be 32 bytes, got " + std::to_string(key.size()));
  }
  const EVP_CIPHER* cipher = Aes256Gcm();
  if (cipher == nullptr) return Fail(ErrorCode::kInternal, "AES-256-GCM: not available in OpenSSL");
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return Fail(ErrorCode::kInternal, "AES-256-GCM: EVP_CIPHER_CTX_new failed");
  const int enc = direction == Direction::kSeal ? 1 : 0;
  if (EVP_CipherInit_ex(ctx.get(), cipher, nullptr, nullptr, nullptr, enc) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(kAesGcmNonceSize), nullptr) !=
          1 ||
      EVP_CipherInit_ex(ctx.get(), nullptr, nullptr, key.data(), nullptr, enc) != 1) {
    ClearOpensslErrors();
    return Fail(ErrorCode::kInternal, "AES-256-GCM: setting the key failed");
  }
  return AesGcm(std::move(ctx), direction);
}

Result<void> AesGcm::Seal(std::span<const std::uint8_t> nonce, std::span<const std::uint8_t> aad,
                          std::span<const std::uint8_t> plaintext, std::span<std::uint8_t> out) {
  if (direction_ != Direction::kSeal || nonce.size() != kAesGcmNonceSize || plaintext.size() > kMaxChunk ||
      aad.size() > kMaxChunk || out.size() != plaintext.size() + kAesGcmTagSize) {
    return Fail(ErrorCode::kInternal, "AES-256-GCM: seal called with inconsistent sizes");
  }
  EVP_CIPHER_CTX* ctx = ctx_.get();
  int len = 0;
  bool ok = EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, nonce.data()) == 1;
  if (ok && !aad.empty())
    ok = EVP_EncryptUpdate(ctx, nullptr, &len, aad.data(), static_cast<int>(aad.size())) == 1;
  if (ok && !plaintext.empty()) {
    ok =
        EVP_EncryptUpdate(ctx, out.data(), &len, plaintext.data(), static_cast<int>(plaintext.size())) == 1 &&
        static_cast<std::size_t>(len) == plaintext.size();
  }
  if (ok) ok = EVP_EncryptFinal_ex(ctx, out.data() + plaintext.size(), &len) == 1 && len == 0;
  if (ok) {
    ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, static_cast<int>(kAesGcmTagSize),
                             out.data() + plaintext.size()) == 1;
  }
  if (!ok) {
    ClearOpensslErrors();
    SecureWipe(out.data(), out.size());
    return Fail(ErrorCode::kInternal, "AES-256-GCM: encryption failed in OpenSSL");
  }
  return {};
}

Result<void> AesGcm::Open(std::span<const std::uint8_t> nonce, std::span<const std::uint8_t> aad,
                          std::span<const std::uint8_t> in, std::span<std::uint8_t> out) {
  if (direction_ != Direction::kOpen || nonce.size() != kAesGcmNonceSize || in.size() < kAesGcmTagSize ||
      in.size() > kMaxChunk + kAesGcmTagSize || aad.size() > kMaxChunk ||
      out.size() != in.size() - kAesGcmTagSize) {
    return Fail(ErrorCode::kInternal, "AES-256-GCM: open called with inconsistent sizes");
  }
  EVP_CIPHER_CTX* ctx = ctx_.get();
  const std::span<const std::uint8_t> ciphertext = in.first(out.size());
  // The tag is copied: EVP_CTRL_GCM_SET_TAG takes a non-const pointer.
  std::uint8_t tag[kAesGcmTagSize];
  std::copy(in.end() - kAesGcmTagSize, in.end(), tag);
  int len = 0;
  bool ok = EVP_DecryptInit_ex(ctx, nullptr, nullptr, nullptr, nonce.data()) == 1;
  if (ok && !aad.empty())
    ok = EVP_DecryptUpdate(ctx, nullptr, &len, aad.data(), static_cast<int>(aad.size())) == 1;
  if (ok && !ciphertext.empty()) {
    ok = EVP_DecryptUpdate(ctx, out.data(), &len, ciphertext.data(), static_cast<int>(ciphertext.size())) ==
             1 &&
         static_cast<std::size_t>(len) == ciphertext.size();
  }
  if (ok) ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, static_cast<int>(kAesGcmTagSize), tag) == 1;
  // EVP_DecryptFinal_ex compares the tags in constant time and fails on a mismatch.
  if (ok) ok = EVP_DecryptFinal_ex(ctx, out.data() + out.size(), &len) == 1;
  if (!ok) {
    ClearOpensslErrors();
    SecureWipe(out.data(), out.size());
    return Fail(ErrorCode::kIntegrity, "AES-256-GCM: authentication failed");
  }
  return {};
}

}  // namespace cipherchart::envelope::internal
