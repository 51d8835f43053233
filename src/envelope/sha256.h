// Internal: SHA-256 (FIPS 180-4) through OpenSSL, one-shot and incremental.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "cipherchart/common/error.h"
#include "src/envelope/openssl_util.h"

namespace cipherchart::envelope::internal {

using Sha256Digest = std::array<std::uint8_t, 32>;

class Sha256Hasher {
 public:
  static Result<Sha256Hasher> Create();
  // Fails only if OpenSSL does (kInternal).
  Result<void> Update(std::span<const std::uint8_t> bytes);
  // The digest of everything passed to Update; the hasher cannot be used afterwards.
  Result<Sha256Digest> Finish();

 private:
  explicit Sha256Hasher(MdCtxPtr ctx) : ctx_(std::move(ctx)) {}
  MdCtxPtr ctx_;
};

Result<Sha256Digest> Sha256Of(std::span<const std::uint8_t> bytes);

}  // namespace cipherchart::envelope::internal
