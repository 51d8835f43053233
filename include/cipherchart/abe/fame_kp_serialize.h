// Versioned binary encodings of the FAME KP-ABE objects (docs/formats.md, "ABE objects (FAME
// KP-ABE)"): public key, master key, user secret key and ciphertext.
//
// The conventions are those of the CP-ABE encodings (fame_serialize.h): a 4-byte magic naming
// the object type and a format version byte (0x01); big-endian integers, u16-length-prefixed
// UTF-8 attribute names, compressed group elements (G1 48 bytes, G2 96 bytes), GT elements 576
// bytes, scalars 32 bytes. Encodings are canonical: a decoder accepts exactly the bytes the
// encoder produces for the decoded object (a ciphertext's attribute names strictly increasing,
// a key's policy text in canonical form, no trailing bytes), so parse-then-serialise is the
// identity on accepted inputs.
//
// Decoders reject, with the field name and offset in the message: a wrong magic or truncation
// or trailing bytes or an out-of-bounds count or length or invalid UTF-8 or duplicate/unsorted
// attribute names or a policy that does not parse or compile (kInvalidEncoding), an unknown
// version (kUnsupported), and invalid group elements with the pairing decoder's own code
// (kBadFlags, kNonCanonical, kNotOnCurve, kNotInSubgroup). A secret key's LSSS matrix is never
// read from the wire: it is recompiled from the policy text.
//
// Master keys and secret keys are secrets: they are encoded into SecretBytes and the encoder
// wipes its temporaries.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "cipherchart/abe/fame_kp.h"
#include "cipherchart/abe/fame_serialize.h"
#include "cipherchart/common/error.h"
#include "cipherchart/common/secret.h"

namespace cipherchart::abe::fame_kp {

inline constexpr std::uint8_t kSerializationVersion = 0x01;
inline constexpr std::string_view kPublicKeyMagic = "CKPK";
inline constexpr std::string_view kMasterKeyMagic = "CKMK";
inline constexpr std::string_view kSecretKeyMagic = "CKSK";
inline constexpr std::string_view kCiphertextMagic = "CKCT";

// Bounds: the same as CP-ABE's for attribute names (fame_serialize.h); a ciphertext carries
// 1 ..= kMaxSerializedAttributes names, a key policy at most kMaxLsssRows rows (ParsePolicy's
// own limit, checked by recompiling it).
inline constexpr std::size_t kMaxSerializedAttributeBytes = fame::kMaxSerializedAttributeBytes;  // 1024
inline constexpr std::size_t kMaxSerializedAttributes = fame::kMaxSerializedAttributes;          // 4096

// Sizes of the fixed-size objects (the same layouts as CP-ABE's, under other magics).
inline constexpr std::size_t kSerializedPublicKeySize = 4 + 1 + 3 * 96 + 2 * 576;  // 1445
inline constexpr std::size_t kSerializedMasterKeySize = 4 + 1 + 4 * 32 + 3 * 48;   // 277

std::vector<std::uint8_t> Serialize(const PublicKey& pk);
Result<PublicKey> ParsePublicKey(std::span<const std::uint8_t> bytes);

SecretBytes Serialize(const MasterKey& msk);
Result<MasterKey> ParseMasterKey(std::span<const std::uint8_t> bytes);

// Fails (kInvalidArgument) if the policy text is empty or longer than kMaxPolicyBytes, or the
// number of row components is not that of the matrix (1 ..= kMaxLsssRows). Only the policy
// text, k0 and the row components are written; the matrix is recompiled on parsing.
Result<SecretBytes> Serialize(const SecretKey& sk);
Result<SecretKey> ParseSecretKey(std::span<const std::uint8_t> bytes);

// Fails (kInvalidArgument) for a ciphertext outside the bounds above (Encapsulate's
// ciphertexts for at most kMaxSerializedAttributes names of at most kMaxSerializedAttributeBytes
// valid UTF-8 bytes always serialise).
Result<std::vector<std::uint8_t>> Serialize(const Ciphertext& ct);
Result<Ciphertext> ParseCiphertext(std::span<const std::uint8_t> bytes);

}  // namespace cipherchart::abe::fame_kp
