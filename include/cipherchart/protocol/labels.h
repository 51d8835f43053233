// Every domain-separation label of the product layer, in one place. A label is part of a format:
// changing one makes a new format version, and stored data and known-answer vectors must keep
// opening, so none is ever renamed here. The cryptographic layers keep theirs beside their
// formats (envelope.h, stream_aead.h, authority.h, authority_directory.h, fame/maabe KEMs,
// server/merkle.h); docs/formats.md lists all of them.
#pragma once

#include <cstdint>
#include <string_view>

namespace cipherchart::protocol::label {

// Login: see api.h (kLoginLabel), which the server and the client share.

// EnrolmentProof(code) = SHA-256(label || 0x00 || code), hex: what the server sees of the code.
inline constexpr std::string_view kEnrolmentProof = "cipherchart enrolment proof v1";
// Key packages: HKDF info of the ECIES key (docs/formats.md, "Key package").
inline constexpr std::string_view kKeyPackage = "cipherchart key package v1";
// Public records (scheme 0x0011): HKDF(salt-less ikm = label, info = info label || "|" || id).
inline constexpr std::string_view kPublicRecordIkm = "cipherchart public record";
inline constexpr std::string_view kPublicRecordInfo = "cipherchart public record v1|";
// Entries (scheme 0x0010): key = HKDF(section key, info = label || entry id).
inline constexpr std::string_view kEntryKey = "cipherchart entry key v1|";
// The public-parameter id an entry names its section key by: SHA-256(label || section key).
inline constexpr std::string_view kSectionKeyId = "cipherchart section key id v1";
// The wallet's passphrase-seal purpose.
inline constexpr std::string_view kWalletPurpose = "cipherchart wallet v1";

}  // namespace cipherchart::protocol::label

namespace cipherchart::protocol {
// Envelope scheme ids of the chart layer (the envelope's own are in envelope.h).
inline constexpr std::uint16_t kSectionKeyEntrySchemeId = 0x0010;
inline constexpr std::uint16_t kPublicRecordSchemeId = 0x0011;
}  // namespace cipherchart::protocol
