// Versioned binary encodings of the multi-authority ABE objects (maabe.h; docs/formats.md,
// "Multi-authority ABE objects"), with the conventions of fame_serialize.h: 4-byte magic,
// version byte 0x01, big-endian integers, u16-length-prefixed UTF-8 names, compressed G1 (48
// bytes) and G2 (96 bytes), GT in 576 bytes, scalars in 32. Encodings are canonical (names
// strictly increasing, policy text canonical, no trailing bytes): a decoder accepts exactly the
// bytes the encoder produces, so parse-then-serialise is the identity on accepted inputs.
//
// Decoders reject with the field name and offset: wrong magic, truncation, trailing bytes,
// out-of-bounds counts and lengths, invalid UTF-8, an invalid or unsorted namespace, an
// attribute outside its authority's namespace, a policy that does not parse or compile, a
// ciphertext whose authorities do not own exactly its rows (kInvalidEncoding); another version
// (kUnsupported); bad group elements with the pairing decoder's code. A ciphertext's matrix is
// recompiled from its policy, never read.
//
// Master keys, user keys and transformation keys are secrets: encoded into SecretBytes.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "cipherchart/abe/maabe.h"
#include "cipherchart/common/error.h"
#include "cipherchart/common/secret.h"

namespace cipherchart::abe::maabe {

inline constexpr std::uint8_t kSerializationVersion = 0x01;
inline constexpr std::string_view kPublicKeyMagic = "CMPK";          // AuthorityPublicKey
inline constexpr std::string_view kMasterKeyMagic = "CMMK";          // AuthorityMasterKey
inline constexpr std::string_view kAuthorityKeysMagic = "CMAK";      // AuthorityKeys
inline constexpr std::string_view kUserKeyMagic = "CMUK";            // UserKey
inline constexpr std::string_view kCiphertextMagic = "CMCT";         // Ciphertext
inline constexpr std::string_view kTransformKeyMagic = "CMTK";       // TransformKey
inline constexpr std::string_view kPartialDecryptionMagic = "CMPD";  // PartialDecryption

inline constexpr std::size_t kMaxSerializedAuthorities = 256;  // per user key or ciphertext
inline constexpr std::size_t kPartialDecryptionSize = 4 + 1 + 2 * 576;

// Encoders fail (kInvalidArgument) for objects outside the bounds the decoders enforce.
Result<std::vector<std::uint8_t>> Serialize(const AuthorityPublicKey& pk);
Result<AuthorityPublicKey> ParsePublicKey(std::span<const std::uint8_t> bytes);

Result<SecretBytes> Serialize(const AuthorityMasterKey& msk);
Result<AuthorityMasterKey> ParseMasterKey(std::span<const std::uint8_t> bytes);

Result<SecretBytes> Serialize(const AuthorityKeys& keys);
Result<AuthorityKeys> ParseAuthorityKeys(std::span<const std::uint8_t> bytes);

Result<SecretBytes> Serialize(const UserKey& user);
Result<UserKey> ParseUserKey(std::span<const std::uint8_t> bytes);

Result<std::vector<std::uint8_t>> Serialize(const Ciphertext& ct);
Result<Ciphertext> ParseCiphertext(std::span<const std::uint8_t> bytes);

Result<SecretBytes> Serialize(const TransformKey& tk);
Result<TransformKey> ParseTransformKey(std::span<const std::uint8_t> bytes);

std::vector<std::uint8_t> Serialize(const PartialDecryption& pd);
Result<PartialDecryption> ParsePartialDecryption(std::span<const std::uint8_t> bytes);

}  // namespace cipherchart::abe::maabe
