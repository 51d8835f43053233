// HKDF with SHA-256 (RFC 5869), through OpenSSL's EVP_KDF "HKDF".
//
// Every key the envelope layer uses is derived with HkdfSha256 from a 32-byte input key (the
// ABE-encapsulated key, a stream key) and a fixed, versioned `info` label; docs/formats.md lists
// the labels.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "cipherchart/common/error.h"
#include "cipherchart/common/secret.h"

namespace cipherchart::envelope {

inline constexpr std::size_t kSha256Size = 32;
// RFC 5869 section 2.3: L <= 255 * HashLen.
inline constexpr std::size_t kHkdfSha256MaxOutput = 255 * kSha256Size;
// OpenSSL 3.0 keeps `info` in a fixed 1024-byte buffer; longer labels are refused up front.
inline constexpr std::size_t kHkdfMaxInfo = 1024;

// HKDF-Extract-then-Expand (RFC 5869 section 2): `out_len` bytes of output keying material.
// An empty `salt` means HashLen zero bytes, as the RFC specifies.
// Fails with kInvalidArgument if `ikm` is empty, out_len is 0 or above kHkdfSha256MaxOutput, or
// `info` is longer than kHkdfMaxInfo; with kInternal if OpenSSL fails.
Result<SecretBytes> HkdfSha256(std::span<const std::uint8_t> ikm, std::span<const std::uint8_t> salt,
                               std::span<const std::uint8_t> info, std::size_t out_len);

// HKDF-Extract alone (RFC 5869 section 2.2): the 32-byte pseudorandom key PRK.
Result<SecretBytes> HkdfSha256Extract(std::span<const std::uint8_t> ikm, std::span<const std::uint8_t> salt);

// HKDF-Expand alone (RFC 5869 section 2.3) from a PRK of at least 32 bytes.
Result<SecretBytes> HkdfSha256Expand(std::span<const std::uint8_t> prk, std::span<const std::uint8_t> info,
                                     std::size_t out_len);

}  // namespace cipherchart::envelope
