// Key packages: how an authority (or a patient, for the personal domain) delivers attribute keys
// to a user through the server's mailbox without the server learning them.
//
// Construction (an ECIES in the style of RFC 9180's base mode, with our own framing): the sender
// makes an ephemeral X25519 key pair, derives K = HKDF-SHA256(ikm = X25519(eph, recipient),
// salt = eph_pub || recipient_pub, info = "cipherchart key package v1") and seals the payload
// with AES-256-GCM under K (random 96-bit nonce; K is used once). The sender signs everything
// before the signature, recipient key included, with its Ed25519 identity key, so the recipient
// knows which authority sent the keys and a package cannot be re-targeted. Layout
// (docs/formats.md, "Key package"):
//   "CCKP" | u8 version=1 | u8 kind | sender Ed25519 (32) | recipient X25519 (32) |
//   ephemeral X25519 (32) | nonce (12) | u32 ciphertext length | ciphertext+tag | signature (64)
#pragma once
#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "cipherchart/common/error.h"
#include "cipherchart/common/secret.h"
#include "cipherchart/envelope/key_agreement.h"
#include "cipherchart/envelope/signature.h"

namespace cipherchart::chart {

using envelope::X25519PublicKey;

// A user's delivery key pair. The private half is a secret.
struct DeliveryKey {
  SecretBytes private_key;  // 32 bytes
  X25519PublicKey public_key{};
  static Result<DeliveryKey> Generate();
  static Result<DeliveryKey> FromPrivate(const SecretBytes& private_key);
};

// What a package carries: attribute keys (maabe::Serialize(AuthorityKeys)) or, in the personal
// domain, a patient's invitation.
enum class PackageKind : std::uint8_t { kAttributeKeys = 1, kInvitation = 2 };

Result<std::vector<std::uint8_t>> SealKeyPackage(PackageKind kind, const SecretBytes& payload,
                                                 const X25519PublicKey& recipient,
                                                 const envelope::Ed25519SigningKey& sender);

struct OpenedKeyPackage {
  PackageKind kind = PackageKind::kAttributeKeys;
  envelope::Ed25519PublicKey sender{};
  SecretBytes payload;
};

// kInvalidEncoding (with the field) for a malformed package, kSignerMismatch for a package made
// for another delivery key, kIntegrity for a bad signature or ciphertext.
Result<OpenedKeyPackage> OpenKeyPackage(std::span<const std::uint8_t> package, const DeliveryKey& recipient);

}  // namespace cipherchart::chart
