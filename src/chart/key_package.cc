#include "cipherchart/chart/key_package.h"

#include <algorithm>
#include <string_view>

#include "cipherchart/common/bytes.h"
#include "cipherchart/common/random.h"
#include "cipherchart/envelope/kdf.h"
#include "cipherchart/envelope/key_agreement.h"
#include "cipherchart/protocol/labels.h"

namespace cipherchart::chart {
namespace {

using envelope::kAes256GcmTagSize;

constexpr std::string_view kMagic = "CCKP";
constexpr std::uint8_t kVersion = 1;
constexpr std::size_t kFixed = 4 + 1 + 1 + 32 + 32 + 32 + 12 + 4;
constexpr std::size_t kMaxPayload = 16u << 20;

// X25519(priv, peer) then HKDF(salt = ephemeral public || recipient public); X25519Agree refuses
// the all-zero shared secret (a low-order peer point).
Result<SecretBytes> DeriveKey(const SecretBytes& priv, const X25519PublicKey& peer,
                              const X25519PublicKey& eph_pub, const X25519PublicKey& recipient) {
  auto shared = envelope::X25519Agree(priv, peer);
  if (!shared) return Fail(shared.error().code(), "key package: " + shared.error().message());
  std::array<std::uint8_t, 64> salt{};
  std::copy(eph_pub.begin(), eph_pub.end(), salt.begin());
  std::copy(recipient.begin(), recipient.end(), salt.begin() + 32);
  return envelope::HkdfSha256(shared->span(), salt, AsBytes(protocol::label::kKeyPackage), 32);
}

}  // namespace

Result<DeliveryKey> DeliveryKey::Generate() {
  auto pair = envelope::X25519KeyPair::Generate();
  if (!pair) return std::unexpected(pair.error());
  return DeliveryKey{std::move(pair->private_key), pair->public_key};
}

Result<DeliveryKey> DeliveryKey::FromPrivate(const SecretBytes& private_key) {
  auto pair = envelope::X25519KeyPair::FromPrivate(private_key);
  if (!pair) return std::unexpected(pair.error());
  return DeliveryKey{std::move(pair->private_key), pair->public_key};
}

Result<std::vector<std::uint8_t>> SealKeyPackage(PackageKind kind, const SecretBytes& payload,
                                                 const X25519PublicKey& recipient,
                                                 const envelope::Ed25519SigningKey& sender) {
  if (payload.empty() || payload.size() > kMaxPayload)
    return Fail(ErrorCode::kInvalidArgument, "key package: payload must be 1 byte .. 16 MiB");
  auto eph = DeliveryKey::Generate();
  if (!eph) return std::unexpected(eph.error());
  auto key = DeriveKey(eph->private_key, recipient, eph->public_key, recipient);
  if (!key) return std::unexpected(key.error());
  std::array<std::uint8_t, 12> nonce{};
  if (auto r = FillRandom(nonce); !r) return std::unexpected(r.error());
  std::vector<std::uint8_t> out(kMagic.begin(), kMagic.end());
  out.push_back(kVersion);
  out.push_back(static_cast<std::uint8_t>(kind));
  out.insert(out.end(), sender.public_key().begin(), sender.public_key().end());
  out.insert(out.end(), recipient.begin(), recipient.end());
  out.insert(out.end(), eph->public_key.begin(), eph->public_key.end());
  out.insert(out.end(), nonce.begin(), nonce.end());
  const std::size_t ct_size = payload.size() + kAes256GcmTagSize;
  PutU32(out, static_cast<std::uint32_t>(ct_size));
  // The header (sender, recipient, ephemeral key, nonce) is the AEAD's associated data.
  auto sealed = envelope::Aes256GcmSeal(*key, nonce, out, payload.span());
  if (!sealed) return std::unexpected(sealed.error());
  PutBytes(out, *sealed);
  auto sig = sender.Sign(out);
  if (!sig) return std::unexpected(sig.error());
  out.insert(out.end(), sig->begin(), sig->end());
  return out;
}

Result<OpenedKeyPackage> OpenKeyPackage(std::span<const std::uint8_t> p, const DeliveryKey& recipient) {
  if (p.size() < kFixed + kAes256GcmTagSize + 64)
    return Fail(ErrorCode::kInvalidEncoding,
                "key package: truncated (" + std::to_string(p.size()) + " bytes)");
  if (!std::equal(kMagic.begin(), kMagic.end(), p.begin()))
    return Fail(ErrorCode::kInvalidEncoding, "key package: offset 0: magic: not \"CCKP\"");
  if (p[4] != kVersion) return Fail(ErrorCode::kUnsupported, "key package: offset 4: version: unsupported");
  if (p[5] != 1 && p[5] != 2)
    return Fail(ErrorCode::kInvalidEncoding, "key package: offset 5: kind: unknown");
  const std::size_t ct_size = (std::size_t{p[114]} << 24) | (std::size_t{p[115]} << 16) |
                              (std::size_t{p[116]} << 8) | std::size_t{p[117]};
  if (ct_size < kAes256GcmTagSize || kFixed + ct_size + 64 != p.size())
    return Fail(ErrorCode::kInvalidEncoding,
                "key package: offset 114: ciphertext length: does not match the size");
  OpenedKeyPackage out;
  out.kind = static_cast<PackageKind>(p[5]);
  std::copy(p.begin() + 6, p.begin() + 38, out.sender.begin());
  X25519PublicKey to{}, eph{};
  std::copy(p.begin() + 38, p.begin() + 70, to.begin());
  std::copy(p.begin() + 70, p.begin() + 102, eph.begin());
  if (to != recipient.public_key)
    return Fail(ErrorCode::kSignerMismatch, "key package: made for another delivery key");
  const std::size_t signed_size = p.size() - 64;
  if (auto r = envelope::Ed25519Verify(out.sender, p.first(signed_size), p.subspan(signed_size)); !r)
    return Fail(ErrorCode::kIntegrity, "key package: the sender's signature does not verify");
  auto key = DeriveKey(recipient.private_key, eph, eph, to);
  if (!key) return std::unexpected(key.error());
  auto payload =
      envelope::Aes256GcmOpen(*key, p.subspan(102, 12), p.first(kFixed), p.subspan(kFixed, ct_size));
  if (!payload) return Fail(ErrorCode::kIntegrity, "key package: the ciphertext does not authenticate");
  out.payload = std::move(*payload);
  return out;
}

}  // namespace cipherchart::chart
