#include "cipherchart/envelope/hash.h"
#include "src/envelope/openssl_util.h"

namespace cipherchart::envelope {

using internal::ClearOpensslErrors;

void Sha256Hasher::Free::operator()(evp_md_ctx_st* ctx) const { EVP_MD_CTX_free(ctx); }

Result<Sha256Hasher> Sha256Hasher::Create() {
  const EVP_MD* md = internal::Sha256();
  std::unique_ptr<evp_md_ctx_st, Free> ctx(EVP_MD_CTX_new());
  if (md == nullptr || !ctx || EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1) {
    ClearOpensslErrors();
    return Fail(ErrorCode::kInternal, "SHA-256: OpenSSL initialisation failed");
  }
  return Sha256Hasher(std::move(ctx));
}

Result<void> Sha256Hasher::Update(std::span<const std::uint8_t> bytes) {
  if (!ctx_) return Fail(ErrorCode::kInternal, "SHA-256: hasher used after Finish");
  if (!bytes.empty() && EVP_DigestUpdate(ctx_.get(), bytes.data(), bytes.size()) != 1) {
    ClearOpensslErrors();
    return Fail(ErrorCode::kInternal, "SHA-256: EVP_DigestUpdate failed");
  }
  return {};
}

Result<Sha256Digest> Sha256Hasher::Finish() {
  if (!ctx_) return Fail(ErrorCode::kInternal, "SHA-256: hasher used after Finish");
  Sha256Digest out{};
  unsigned int len = 0;
  const bool ok = EVP_DigestFinal_ex(ctx_.get(), out.data(), &len) == 1 && len == out.size();
  ctx_.reset();
  if (!ok) {
    ClearOpensslErrors();
    return Fail(ErrorCode::kInternal, "SHA-256: EVP_DigestFinal_ex failed");
  }
  return out;
}

Result<Sha256Digest> Sha256Of(std::span<const std::uint8_t> bytes) {
  auto hasher = Sha256Hasher::Create();
  if (!hasher) return std::unexpected(hasher.error());
  if (auto ok = hasher->Update(bytes); !ok) return std::unexpected(ok.error());
  return hasher->Finish();
}

}  // namespace cipherchart::envelope
