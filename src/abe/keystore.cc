// Passphrase-sealed keystores: see keystore.h and docs/formats.md.
#include "cipherchart/abe/keystore.h"

#include <algorithm>
#include <string>
#include <utility>

#include "cipherchart/abe/fame_serialize.h"
#include "cipherchart/abe/maabe_serialize.h"
#include "cipherchart/common/atomic_file.h"
#include "cipherchart/common/byte_reader.h"
#include "cipherchart/common/bytes.h"
#include "cipherchart/envelope/hash.h"
#include "src/abe/keystore_internal.h"

namespace cipherchart::abe {
namespace {

using Reader = cipherchart::ByteReader;

// Fills a SecretBytes of known size front to back, so a plaintext is never in a std::vector.
class SecretWriter {
 public:
  explicit SecretWriter(std::size_t size) : out_(size) {}
  void Bytes(std::span<const std::uint8_t> b) {
    std::copy(b.begin(), b.end(), out_.data() + pos_);
    pos_ += b.size();
  }
  void Text(std::string_view s) { Bytes({reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}); }
  void U8(std::uint8_t v) { Bytes(std::span(&v, 1)); }
  void U16(std::uint16_t v) {
    const std::uint8_t b[2] = {static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)};
    Bytes(b);
  }
  void U32(std::uint32_t v) {
    std::uint8_t b[4];
    for (int i = 0; i < 4; ++i) b[i] = static_cast<std::uint8_t>(v >> (24 - 8 * i));
    Bytes(b);
  }
  // The secret, once exactly `size` bytes were written.
  Result<SecretBytes> Finish() && {
    if (pos_ != out_.size()) return Fail(ErrorCode::kInternal, "keystore: secret size miscomputed");
    return std::move(out_);
  }

 private:
  SecretBytes out_;
  std::size_t pos_ = 0;
};

// Magic and version of an inner secret; kInvalidEncoding / kUnsupported as for every format.
Result<void> ReadHeader(Reader& r, std::span<const std::uint8_t, 4> magic, std::string_view format) {
  auto m = r.Bytes(magic.size(), "magic");
  if (!m) return std::unexpected(m.error());
  if (!std::equal(m->begin(), m->end(), magic.begin())) {
    return std::unexpected(r.Invalid(0, "magic is not \"" + std::string(magic.begin(), magic.end()) + "\""));
  }
  auto version = r.U8("version");
  if (!version) return std::unexpected(version.error());
  if (*version != kKeystoreVersion) {
    return Fail(ErrorCode::kUnsupported, std::string(format) + ": version " + std::to_string(*version) +
                                             " at offset 4 is not supported (this library reads version " +
                                             std::to_string(kKeystoreVersion) + ")");
  }
  return {};
}

Result<void> ExpectEnd(const Reader& r) {
  if (r.remaining() == 0) return {};
  return std::unexpected(r.Invalid(r.offset(), std::to_string(r.remaining()) + " trailing bytes"));
}

// An error from a nested decoder, with the field and offset it sits at.
Error Nested(std::string_view format, std::string_view field, std::size_t at, const Error& e) {
  return Error(e.code(), std::string(format) + ": " + std::string(field) + " at offset " +
                             std::to_string(at) + ": " + e.message());
}

constexpr std::string_view kAuthorityFormat = "authority keystore";
constexpr std::string_view kUserFormat = "user keystore";

}  // namespace

namespace internal {

// magic, version, u32 master key length, master key, Ed25519 seed, u32 chain length, chain.
Result<SecretBytes> SerializeAuthoritySecrets(const Authority& authority) {
  const SecretBytes msk = fame::Serialize(authority.master_key());
  auto chain = EncodeChain(authority.chain());
  if (!chain) return std::unexpected(chain.error());
  const SecretBytes& seed = authority.signing_key().seed();
  SecretWriter w(4 + 1 + 4 + msk.size() + seed.size() + 4 + chain->size());
  w.Bytes(kAuthoritySecretsMagic);
  w.U8(kKeystoreVersion);
  w.U32(static_cast<std::uint32_t>(msk.size()));
  w.Bytes(msk.span());
  w.Bytes(seed.span());
  w.U32(static_cast<std::uint32_t>(chain->size()));
  w.Bytes(*chain);
  return std::move(w).Finish();
}

Result<Authority> ParseAuthoritySecrets(std::span<const std::uint8_t> bytes) {
  Reader r(bytes, kAuthorityFormat);
  if (auto ok = ReadHeader(r, kAuthoritySecretsMagic, kAuthorityFormat); !ok)
    return std::unexpected(ok.error());
  auto msk_len =
      r.Length32("master key length", 1, static_cast<std::uint32_t>(envelope::kMaxSealedSecretSize));
  if (!msk_len) return std::unexpected(msk_len.error());
  const std::size_t msk_at = r.offset();
  auto msk_bytes = r.Bytes(*msk_len, "master key");
  if (!msk_bytes) return std::unexpected(msk_bytes.error());
  auto msk = fame::ParseMasterKey(*msk_bytes);
  if (!msk) return std::unexpected(Nested(kAuthorityFormat, "master key", msk_at, msk.error()));
  auto seed = r.Bytes(envelope::kEd25519SeedSize, "signing key seed");
  if (!seed) return std::unexpected(seed.error());
  auto signing_key = envelope::Ed25519SigningKey::FromSeed(SecretBytes(*seed));
  if (!signing_key) return std::unexpected(signing_key.error());
  auto chain_len = r.Length32("chain length", 1, static_cast<std::uint32_t>(envelope::kMaxSealedSecretSize));
  if (!chain_len) return std::unexpected(chain_len.error());
  const std::size_t chain_at = r.offset();
  auto chain_bytes = r.Bytes(*chain_len, "chain");
  if (!chain_bytes) return std::unexpected(chain_bytes.error());
  auto chain = ParseChain(*chain_bytes);
  if (!chain) return std::unexpected(Nested(kAuthorityFormat, "chain", chain_at, chain.error()));
  if (auto ok = ExpectEnd(r); !ok) return std::unexpected(ok.error());
  return Authority::FromParts(*msk, std::move(*signing_key), std::move(*chain));
}

// magic, version, u16 namespace length, namespace, public-parameter id, u32 key length, key.
Result<SecretBytes> SerializeUserKeyPayload(const UserKey& key) {
  if (auto ok = ValidateNamespace(key.authority_namespace); !ok) return std::unexpected(ok.error());
  auto sk = fame::Serialize(key.key);
  if (!sk) return std::unexpected(sk.error());
  SecretWriter w(4 + 1 + 2 + key.authority_namespace.size() + key.public_params_id.size() + 4 + sk->size());
  w.Bytes(kUserKeyMagic);
  w.U8(kKeystoreVersion);
  w.U16(static_cast<std::uint16_t>(key.authority_namespace.size()));
  w.Text(key.authority_namespace);
  w.Bytes(key.public_params_id);
  w.U32(static_cast<std::uint32_t>(sk->size()));
  w.Bytes(sk->span());
  return std::move(w).Finish();
}

Result<UserKey> ParseUserKeyPayload(std::span<const std::uint8_t> bytes) {
  Reader r(bytes, kUserFormat);
  if (auto ok = ReadHeader(r, kUserKeyMagic, kUserFormat); !ok) return std::unexpected(ok.error());
  UserKey out;
  auto ns_len = r.Length16("namespace length", 1, kMaxNamespaceSize);
  if (!ns_len) return std::unexpected(ns_len.error());
  const std::size_t ns_at = r.offset();
  auto ns = r.Bytes(*ns_len, "namespace");
  if (!ns) return std::unexpected(ns.error());
  out.authority_namespace.assign(ns->begin(), ns->end());
  if (auto ok = ValidateNamespace(out.authority_namespace); !ok) {
    return std::unexpected(r.Invalid(ns_at, "namespace is not valid (" + ok.error().message() + ")"));
  }
  if (auto ok = r.CopyTo(out.public_params_id, "public-parameter id"); !ok)
    return std::unexpected(ok.error());
  auto sk_len =
      r.Length32("secret key length", 1, static_cast<std::uint32_t>(envelope::kMaxSealedSecretSize));
  if (!sk_len) return std::unexpected(sk_len.error());
  const std::size_t sk_at = r.offset();
  auto sk_bytes = r.Bytes(*sk_len, "secret key");
  if (!sk_bytes) return std::unexpected(sk_bytes.error());
  auto sk = fame::ParseSecretKey(*sk_bytes);
  if (!sk) return std::unexpected(Nested(kUserFormat, "secret key", sk_at, sk.error()));
  if (auto ok = ExpectEnd(r); !ok) return std::unexpected(ok.error());
  out.key = *sk;  // fame::SecretKey is copy-only (it wipes itself)
  return out;
}

}  // namespace internal

Result<std::vector<std::uint8_t>> SealAuthority(const Authority& authority, const SecretBytes& passphrase,
                                                const envelope::Argon2Params& params,
                                                const envelope::Argon2Limits& limits,
                                                envelope::RandomSource& rng) {
  auto secret = internal::SerializeAuthoritySecrets(authority);
  if (!secret) return std::unexpected(secret.error());
  return envelope::SealWithPassphrase(*secret, passphrase, kAuthorityKeyPurpose, params, limits, rng);
}

Result<Authority> OpenAuthority(std::span<const std::uint8_t> blob, const SecretBytes& passphrase,
                                const envelope::Argon2Limits& limits) {
  auto secret = envelope::OpenWithPassphrase(blob, passphrase, kAuthorityKeyPurpose, limits);
  if (!secret) return std::unexpected(secret.error());
  return internal::ParseAuthoritySecrets(secret->span());
}

Result<void> SealAuthorityToFile(const std::filesystem::path& path, const Authority& authority,
                                 const SecretBytes& passphrase, const envelope::Argon2Params& params,
                                 const envelope::Argon2Limits& limits, envelope::RandomSource& rng) {
  auto blob = SealAuthority(authority, passphrase, params, limits, rng);
  if (!blob) return std::unexpected(blob.error());
  return WriteFileAtomically(path, *blob);
}

Result<Authority> OpenAuthorityFile(const std::filesystem::path& path, const SecretBytes& passphrase,
                                    const envelope::Argon2Limits& limits) {
  auto blob = ReadSmallFile(path, kMaxKeystoreFileSize);
  if (!blob) return std::unexpected(blob.error());
  return OpenAuthority(*blob, passphrase, limits);
}

Result<std::vector<std::uint8_t>> SealUserKey(const UserKey& key, const SecretBytes& passphrase,
                                              const envelope::Argon2Params& params,
                                              const envelope::Argon2Limits& limits,
                                              envelope::RandomSource& rng) {
  auto secret = internal::SerializeUserKeyPayload(key);
  if (!secret) return std::unexpected(secret.error());
  return envelope::SealWithPassphrase(*secret, passphrase, kUserKeyPurpose, params, limits, rng);
}

Result<UserKey> OpenUserKey(std::span<const std::uint8_t> blob, const SecretBytes& passphrase,
                            const envelope::Argon2Limits& limits) {
  auto secret = envelope::OpenWithPassphrase(blob, passphrase, kUserKeyPurpose, limits);
  if (!secret) return std::unexpected(secret.error());
  return internal::ParseUserKeyPayload(secret->span());
}

Result<void> SealUserKeyToFile(const std::filesystem::path& path, const UserKey& key,
                               const SecretBytes& passphrase, const envelope::Argon2Params& params,
                               const envelope::Argon2Limits& limits, envelope::RandomSource& rng) {
  auto blob = SealUserKey(key, passphrase, params, limits, rng);
  if (!blob) return std::unexpected(blob.error());
  return WriteFileAtomically(path, *blob);
}

Result<UserKey> OpenUserKeyFile(const std::filesystem::path& path, const SecretBytes& passphrase,
                                const envelope::Argon2Limits& limits) {
  auto blob = ReadSmallFile(path, kMaxKeystoreFileSize);
  if (!blob) return std::unexpected(blob.error());
  return OpenUserKey(*blob, passphrase, limits);
}

// ---- multi-authority keys ----

namespace {

// Opens a sealed blob and hands the secret to `parse` (kInvalidEncoding from the object's own
// decoder for a malformed inner secret).
template <class Parse>
auto OpenSealed(std::span<const std::uint8_t> blob, const SecretBytes& passphrase, std::string_view purpose,
                const envelope::Argon2Limits& limits, Parse parse) -> decltype(parse(blob)) {
  auto secret = envelope::OpenWithPassphrase(blob, passphrase, purpose, limits);
  if (!secret) return std::unexpected(secret.error());
  return parse(secret->span());
}

Result<std::vector<std::uint8_t>> SealEncoded(const Result<SecretBytes>& secret,
                                              const SecretBytes& passphrase, std::string_view purpose,
                                              const envelope::Argon2Params& params,
                                              const envelope::Argon2Limits& limits,
                                              envelope::RandomSource& rng) {
  if (!secret) return std::unexpected(secret.error());
  return envelope::SealWithPassphrase(*secret, passphrase, purpose, params, limits, rng);
}

Result<void> WriteBlob(const std::filesystem::path& path, const Result<std::vector<std::uint8_t>>& blob) {
  if (!blob) return std::unexpected(blob.error());
  return WriteFileAtomically(path, *blob);
}

}  // namespace

Result<std::vector<std::uint8_t>> SealMultiAuthorityMasterKey(const maabe::AuthorityMasterKey& msk,
                                                              const SecretBytes& passphrase,
                                                              const envelope::Argon2Params& params,
                                                              const envelope::Argon2Limits& limits,
                                                              envelope::RandomSource& rng) {
  return SealEncoded(maabe::Serialize(msk), passphrase, kMultiAuthorityMasterKeyPurpose, params, limits, rng);
}

Result<maabe::AuthorityKeyPair> OpenMultiAuthorityMasterKey(std::span<const std::uint8_t> blob,
                                                            const SecretBytes& passphrase,
                                                            const envelope::Argon2Limits& limits) {
  return OpenSealed(blob, passphrase, kMultiAuthorityMasterKeyPurpose, limits,
                    [](std::span<const std::uint8_t> secret) -> Result<maabe::AuthorityKeyPair> {
                      auto msk = maabe::ParseMasterKey(secret);
                      if (!msk) return std::unexpected(msk.error());
                      return maabe::FromMasterKey(*msk);
                    });
}

Result<void> SealMultiAuthorityMasterKeyToFile(
    const std::filesystem::path& path, const maabe::AuthorityMasterKey& msk, const SecretBytes& passphrase,
    const envelope::Argon2Params& params, const envelope::Argon2Limits& limits, envelope::RandomSource& rng) {
  return WriteBlob(path, SealMultiAuthorityMasterKey(msk, passphrase, params, limits, rng));
}

Result<maabe::AuthorityKeyPair> OpenMultiAuthorityMasterKeyFile(const std::filesystem::path& path,
                                                                const SecretBytes& passphrase,
                                                                const envelope::Argon2Limits& limits) {
  auto blob = ReadSmallFile(path, kMaxKeystoreFileSize);
  if (!blob) return std::unexpected(blob.error());
  return OpenMultiAuthorityMasterKey(*blob, passphrase, limits);
}

Result<std::vector<std::uint8_t>> SealMultiAuthorityUserKey(const maabe::UserKey& key,
                                                            const SecretBytes& passphrase,
                                                            const envelope::Argon2Params& params,
                                                            const envelope::Argon2Limits& limits,
                                                            envelope::RandomSource& rng) {
  return SealEncoded(maabe::Serialize(key), passphrase, kMultiAuthorityUserKeyPurpose, params, limits, rng);
}

Result<maabe::UserKey> OpenMultiAuthorityUserKey(std::span<const std::uint8_t> blob,
                                                 const SecretBytes& passphrase,
                                                 const envelope::Argon2Limits& limits) {
  return OpenSealed(blob, passphrase, kMultiAuthorityUserKeyPurpose, limits,
                    [](std::span<const std::uint8_t> secret) { return maabe::ParseUserKey(secret); });
}

Result<void> SealMultiAuthorityUserKeyToFile(const std::filesystem::path& path, const maabe::UserKey& key,
                                             const SecretBytes& passphrase,
                                             const envelope::Argon2Params& params,
                                             const envelope::Argon2Limits& limits,
                                             envelope::RandomSource& rng) {
  return WriteBlob(path, SealMultiAuthorityUserKey(key, passphrase, params, limits, rng));
}

Result<maabe::UserKey> OpenMultiAuthorityUserKeyFile(const std::filesystem::path& path,
                                                     const SecretBytes& passphrase,
                                                     const envelope::Argon2Limits& limits) {
  auto blob = ReadSmallFile(path, kMaxKeystoreFileSize);
  if (!blob) return std::unexpected(blob.error());
  return OpenMultiAuthorityUserKey(*blob, passphrase, limits);
}

}  // namespace cipherchart::abe
