#include "src/cli/key_package.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string_view>

#include "cipherchart/common/random.h"
#include "cipherchart/envelope/kdf.h"
#include "src/envelope/aes_gcm.h"
#include "src/envelope/openssl_util.h"

namespace cipherchart::cli {
namespace {

using envelope::internal::AesGcm;
using envelope::internal::PkeyPtr;

constexpr std::string_view kMagic = "CCKP";
constexpr std::uint8_t kVersion = 1;
constexpr std::string_view kInfo = "cipherchart key package v1";
constexpr std::size_t kFixed = 4 + 1 + 1 + 32 + 32 + 32 + 12 + 4;
constexpr std::size_t kMaxPayload = 16u << 20;

Result<X25519PublicKey> PublicOf(const SecretBytes& priv) {
  PkeyPtr key(EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, priv.data(), priv.size()));
  if (!key) return Fail(ErrorCode::kInternal, "X25519: cannot load the private key");
  X25519PublicKey pub{};
  std::size_t len = pub.size();
  if (EVP_PKEY_get_raw_public_key(key.get(), pub.data(), &len) != 1 || len != pub.size())
    return Fail(ErrorCode::kInternal, "X25519: cannot derive the public key");
  return pub;
}

// X25519(priv, peer) then HKDF; refuses the all-zero shared secret (a low-order peer point).
Result<SecretBytes> DeriveKey(const SecretBytes& priv, const X25519PublicKey& peer,
                              const X25519PublicKey& eph_pub, const X25519PublicKey& recipient) {
  PkeyPtr mine(EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, priv.data(), priv.size()));
  PkeyPtr theirs(EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr, peer.data(), peer.size()));
  if (!mine || !theirs) return Fail(ErrorCode::kInvalidArgument, "X25519: invalid key");
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(EVP_PKEY_CTX_new(mine.get(), nullptr),
                                                                  EVP_PKEY_CTX_free);
  SecretBytes shared(32);
  std::size_t len = shared.size();
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 ||
      EVP_PKEY_derive_set_peer(ctx.get(), theirs.get()) != 1 ||
      EVP_PKEY_derive(ctx.get(), shared.data(), &len) != 1 || len != 32) {
    envelope::internal::ClearOpensslErrors();
    return Fail(ErrorCode::kIntegrity, "key package: X25519 agreement failed (low-order point?)");
  }
  std::uint8_t acc = 0;
  for (auto b : shared.span()) acc |= b;
  if (acc == 0) return Fail(ErrorCode::kIntegrity, "key package: X25519 shared secret is zero");
  std::array<std::uint8_t, 64> salt{};
  std::copy(eph_pub.begin(), eph_pub.end(), salt.begin());
  std::copy(recipient.begin(), recipient.end(), salt.begin() + 32);
  return envelope::HkdfSha256(
      shared.span(), salt, std::span(reinterpret_cast<const std::uint8_t*>(kInfo.data()), kInfo.size()), 32);
}

void PutU32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(v >> s));
}

}  // namespace

Result<DeliveryKey> DeliveryKey::Generate() {
  auto priv = SecretBytes::Random(32);
  if (!priv) return std::unexpected(priv.error());
  return FromPrivate(*priv);
}

Result<DeliveryKey> DeliveryKey::FromPrivate(const SecretBytes& private_key) {
  if (private_key.size() != 32) return Fail(ErrorCode::kInvalidArgument, "X25519 private key: not 32 bytes");
  auto pub = PublicOf(private_key);
  if (!pub) return std::unexpected(pub.error());
  DeliveryKey k;
  k.private_key = private_key;
  k.public_key = *pub;
  return k;
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
  const std::size_t ct_size = payload.size() + envelope::internal::kAesGcmTagSize;
  PutU32(out, static_cast<std::uint32_t>(ct_size));
  const std::size_t header = out.size();
  out.resize(header + ct_size);
  auto gcm = AesGcm::Create(key->span(), AesGcm::Direction::kSeal);
  if (!gcm) return std::unexpected(gcm.error());
  // The header (sender, recipient, ephemeral key, nonce) is the AEAD's associated data.
  if (auto r = gcm->Seal(nonce, std::span(out.data(), header), payload.span(),
                         std::span(out.data() + header, ct_size));
      !r)
    return std::unexpected(r.error());
  auto sig = sender.Sign(out);
  if (!sig) return std::unexpected(sig.error());
  out.insert(out.end(), sig->begin(), sig->end());
  return out;
}

Result<OpenedKeyPackage> OpenKeyPackage(std::span<const std::uint8_t> p, const DeliveryKey& recipient) {
  if (p.size() < kFixed + envelope::internal::kAesGcmTagSize + 64)
    return Fail(ErrorCode::kInvalidEncoding,
                "key package: truncated (" + std::to_string(p.size()) + " bytes)");
  if (!std::equal(kMagic.begin(), kMagic.end(), p.begin()))
    return Fail(ErrorCode::kInvalidEncoding, "key package: offset 0: magic: not \"CCKP\"");
  if (p[4] != kVersion) return Fail(ErrorCode::kUnsupported, "key package: offset 4: version: unsupported");
  if (p[5] != 1 && p[5] != 2)
    return Fail(ErrorCode::kInvalidEncoding, "key package: offset 5: kind: unknown");
  const std::size_t ct_size = (std::size_t{p[114]} << 24) | (std::size_t{p[115]} << 16) |
                              (std::size_t{p[116]} << 8) | std::size_t{p[117]};
  if (ct_size < envelope::internal::kAesGcmTagSize || kFixed + ct_size + 64 != p.size())
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
  auto gcm = AesGcm::Create(key->span(), AesGcm::Direction::kOpen);
  if (!gcm) return std::unexpected(gcm.error());
  out.payload = SecretBytes(ct_size - envelope::internal::kAesGcmTagSize);
  if (auto r = gcm->Open(p.subspan(102, 12), p.first(kFixed), p.subspan(kFixed, ct_size), out.payload.span());
      !r)
    return Fail(ErrorCode::kIntegrity, "key package: the ciphertext does not authenticate");
  return out;
}

}  // namespace cipherchart::cli
