// Versioned binary encodings of the FAME CP-ABE objects (docs/formats.md, "ABE objects
// (FAME)"): public key, master key, user secret key, ciphertext and transformation key.
//
// Every encoding starts with a 4-byte magic naming the object type and a format version byte
// (0x01); integers are big-endian, attribute names are u16-length-prefixed UTF-8, group
// elements are compressed (G1 48 bytes, G2 96 bytes), GT elements take 576 bytes and scalars
// 32 bytes. Encodings are canonical: a decoder accepts exactly the bytes the encoder produces
// for the decoded object (attribute names strictly increasing, the policy text in canonical
// form, no trailing bytes), so parse-then-serialise is the identity on accepted inputs.
//
// Decoders reject, with the field name and offset in the message: a wrong magic or truncation
// or trailing bytes or an out-of-bounds count or length or invalid UTF-8 or duplicate/unsorted
// attribute names or a policy that does not parse or compile (kInvalidEncoding), an unknown
// version (kUnsupported, as for every format of docs/formats.md), and invalid group elements
// with the pairing decoder's own code (kBadFlags, kNonCanonical, kNotOnCurve, kNotInSubgroup).
// A ciphertext's LSSS matrix is never read from the wire: it is recompiled from the policy.
//
// Master keys, secret keys and transformation keys are secrets: they are encoded into
// SecretBytes and the encoder wipes its temporaries.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "cipherchart/abe/fame.h"
#include "cipherchart/common/error.h"
#include "cipherchart/common/secret.h"

namespace cipherchart::abe::fame {

inline constexpr std::uint8_t kSerializationVersion = 0x01;
inline constexpr std::string_view kPublicKeyMagic = "CFPK";
inline constexpr std::string_view kMasterKeyMagic = "CFMK";
inline constexpr std::string_view kSecretKeyMagic = "CFSK";
inline constexpr std::string_view kCiphertextMagic = "CFCT";
inline constexpr std::string_view kTransformKeyMagic = "CFTK";

// Bounds checked by encoders and decoders.
inline constexpr std::size_t kMaxSerializedAttributeBytes = 1024;  // each name: 1 ..= 1024 bytes
inline constexpr std::size_t kMaxSerializedAttributes = 4096;      // attributes of one key

// Sizes of the fixed-size objects.
inline constexpr std::size_t kSerializedPublicKeySize = 4 + 1 + 3 * 96 + 2 * 576;  // 1445
inline constexpr std::size_t kSerializedMasterKeySize = 4 + 1 + 4 * 32 + 3 * 48;   // 277

std::vector<std::uint8_t> Serialize(const PublicKey& pk);
Result<PublicKey> ParsePublicKey(std::span<const std::uint8_t> bytes);

SecretBytes Serialize(const MasterKey& msk);
Result<MasterKey> ParseMasterKey(std::span<const std::uint8_t> bytes);

// Fails (kInvalidArgument) for a key outside the bounds above (KeyGen's keys for at most
// kMaxSerializedAttributes names of at most kMaxSerializedAttributeBytes valid UTF-8 bytes
// always serialise).
Result<SecretBytes> Serialize(const SecretKey& sk);
Result<SecretKey> ParseSecretKey(std::span<const std::uint8_t> bytes);

// Fails (kInvalidArgument) if the policy text is empty or longer than kMaxPolicyBytes, or the
// number of row components is not 1 ..= kMaxLsssRows. Only the policy text, C0 and the row
// components are written; the matrix is recompiled on parsing.
Result<std::vector<std::uint8_t>> Serialize(const Ciphertext& ct);
Result<Ciphertext> ParseCiphertext(std::span<const std::uint8_t> bytes);

Result<SecretBytes> Serialize(const TransformKey& tk);
Result<TransformKey> ParseTransformKey(std::span<const std::uint8_t> bytes);

}  // namespace cipherchart::abe::fame
