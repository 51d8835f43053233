// SHA-256 (FIPS 180-4) through OpenSSL, one-shot and incremental: the hash every layer above
// the envelope uses (record digests, the audit log, enrolment proofs).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>

#include "cipherchart/common/error.h"

struct evp_md_ctx_st;

namespace cipherchart::envelope {

using Sha256Digest = std::array<std::uint8_t, 32>;

class Sha256Hasher {
 public:
  static Result<Sha256Hasher> Create();
  // Fails only if OpenSSL does (kInternal).
  Result<void> Update(std::span<const std::uint8_t> bytes);
  // The digest of everything passed to Update; the hasher cannot be used afterwards.
  Result<Sha256Digest> Finish();

 private:
  struct Free {
    void operator()(evp_md_ctx_st* ctx) const;
  };
  explicit Sha256Hasher(std::unique_ptr<evp_md_ctx_st, Free> ctx) : ctx_(std::move(ctx)) {}
  std::unique_ptr<evp_md_ctx_st, Free> ctx_;
};

Result<Sha256Digest> Sha256Of(std::span<const std::uint8_t> bytes);

}  // namespace cipherchart::envelope
