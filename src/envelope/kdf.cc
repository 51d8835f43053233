#include "cipherchart/envelope/kdf.h"

#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <array>
#include <string>

#include "src/envelope/openssl_util.h"

namespace cipherchart::envelope {
namespace {

enum class HkdfMode { kExtractAndExpand, kExtractOnly, kExpandOnly };

// OSSL_PARAM wants non-const pointers for octet strings it only reads.
void* Mutable(std::span<const std::uint8_t> bytes) {
  return const_cast<std::uint8_t*>(bytes.data());  // NOLINT(cppcoreguidelines-pro-type-const-cast)
}

Result<SecretBytes> RunHkdf(HkdfMode mode, std::span<const std::uint8_t> key,
                            std::span<const std::uint8_t> salt, std::span<const std::uint8_t> info,
                            std::size_t out_len) {
  if (out_len == 0 || out_len > kHkdfSha256MaxOutput) {
    return Fail(ErrorCode::kInvalidArgument, "HKDF-SHA-256: output length " + std::to_string(out_len) +
                                                 " is outside 1.." + std::to_string(kHkdfSha256MaxOutput));
  }
  if (info.size() > kHkdfMaxInfo) {
    return Fail(ErrorCode::kInvalidArgument, "HKDF-SHA-256: info is " + std::to_string(info.size()) +
                                                 " bytes, the maximum is " + std::to_string(kHkdfMaxInfo));
  }
  if (key.empty()) {
    // OpenSSL treats an empty key as "not set" and fails; no caller of ours has one.
    return Fail(ErrorCode::kInvalidArgument, "HKDF-SHA-256: the input keying material is empty");
  }
  EVP_KDF* kdf = internal::Hkdf();
  if (kdf == nullptr) return Fail(ErrorCode::kInternal, "HKDF-SHA-256: OpenSSL has no HKDF implementation");
  internal::KdfCtxPtr ctx(EVP_KDF_CTX_new(kdf));
  if (!ctx) return Fail(ErrorCode::kInternal, "HKDF-SHA-256: EVP_KDF_CTX_new failed");

  int ossl_mode = EVP_KDF_HKDF_MODE_EXTRACT_AND_EXPAND;
  if (mode == HkdfMode::kExtractOnly) ossl_mode = EVP_KDF_HKDF_MODE_EXTRACT_ONLY;
  if (mode == HkdfMode::kExpandOnly) ossl_mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
  // An empty salt or info is passed through a one-byte dummy pointer with length 0: OpenSSL
  // treats a zero-length salt as "HashLen zeros" (RFC 5869 section 2.2), which is also what
  // HMAC does with an empty key.
  static constexpr std::uint8_t kEmpty[1] = {0};
  auto nonnull = [](std::span<const std::uint8_t> s) {
    return s.empty() ? std::span<const std::uint8_t>(kEmpty, 0) : s;
  };
  salt = nonnull(salt);
  info = nonnull(info);

  char digest[] = "SHA256";
  std::array<OSSL_PARAM, 6> params{};
  std::size_t n = 0;
  params[n++] = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &ossl_mode);
  params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0);
  params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, Mutable(key), key.size());
  if (mode != HkdfMode::kExpandOnly) {
    params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, Mutable(salt), salt.size());
  }
  if (mode != HkdfMode::kExtractOnly && !info.empty()) {
    params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, Mutable(info), info.size());
  }
  params[n] = OSSL_PARAM_construct_end();

  SecretBytes out(out_len);
  if (EVP_KDF_derive(ctx.get(), out.data(), out.size(), params.data()) != 1) {
    internal::ClearOpensslErrors();
    return Fail(ErrorCode::kInternal, "HKDF-SHA-256: EVP_KDF_derive failed");
  }
  return out;
}

}  // namespace

Result<SecretBytes> HkdfSha256(std::span<const std::uint8_t> ikm, std::span<const std::uint8_t> salt,
                               std::span<const std::uint8_t> info, std::size_t out_len) {
  return RunHkdf(HkdfMode::kExtractAndExpand, ikm, salt, info, out_len);
}

Result<SecretBytes> HkdfSha256Extract(std::span<const std::uint8_t> ikm, std::span<const std::uint8_t> salt) {
  return RunHkdf(HkdfMode::kExtractOnly, ikm, salt, {}, kSha256Size);
}

Result<SecretBytes> HkdfSha256Expand(std::span<const std::uint8_t> prk, std::span<const std::uint8_t> info,
                                     std::size_t out_len) {
  if (prk.size() < kSha256Size) {
    return Fail(ErrorCode::kInvalidArgument,
                "HKDF-SHA-256: a PRK must be at least 32 bytes, got " + std::to_string(prk.size()));
  }
  return RunHkdf(HkdfMode::kExpandOnly, prk, {}, info, out_len);
}

}  // namespace cipherchart::envelope
