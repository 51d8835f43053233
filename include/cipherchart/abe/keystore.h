// Keys at rest: an authority's secrets and a user's FAME key, sealed under a passphrase with
// envelope::SealWithPassphrase (Argon2id + AES-256-GCM, docs/formats.md "Passphrase seal").
//
// What is sealed (the secret inside the passphrase seal; docs/formats.md, "Authority keystore"
// and "User keystore"):
//   authority: "CCAS" || version || FAME master key (fame_serialize.h) || Ed25519 seed
//              || the authority's certificate chain (public, kept with it so that the file alone
//              restores a working Authority)
//   user:      "CCUK" || version || authority namespace || public-parameter id || FAME secret key
// under the purposes kAuthorityKeyPurpose and kUserKeyPurpose, so neither opens as the other.
// The plaintexts are built and parsed in SecretBytes and wiped. Their encoders and decoders are
// internal (src/abe/keystore_internal.h, for the known-answer tests and the fuzz target): the
// plaintexts are not meant to exist outside a seal.
//
// Opening: a wrong passphrase or purpose, or any modified byte, is kIntegrity; a blob whose
// Argon2 parameters are outside `limits` is kUnsupported (the defaults refuse anything weaker
// than the production parameters: tests that seal with cheap parameters must pass limits that
// admit them); kInvalidEncoding for a malformed blob or inner secret.
//
// Files are written atomically (a temporary file, fsync, rename, fsync of the directory) with
// mode 0600; a failed write leaves the old file in place.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string_view>
#include <vector>

#include "cipherchart/abe/authority.h"
#include "cipherchart/abe/maabe.h"
#include "cipherchart/common/error.h"
#include "cipherchart/common/secret.h"
#include "cipherchart/envelope/passphrase_seal.h"
#include "cipherchart/envelope/random_source.h"

namespace cipherchart::abe {

inline constexpr std::string_view kAuthorityKeyPurpose = "authority master key";
inline constexpr std::string_view kUserKeyPurpose = "user key";
inline constexpr std::string_view kMultiAuthorityMasterKeyPurpose = "multi-authority master key";
inline constexpr std::string_view kMultiAuthorityUserKeyPurpose = "multi-authority user key";
inline constexpr std::array<std::uint8_t, 4> kAuthoritySecretsMagic = {'C', 'C', 'A', 'S'};
inline constexpr std::array<std::uint8_t, 4> kUserKeyMagic = {'C', 'C', 'U', 'K'};
inline constexpr std::uint8_t kKeystoreVersion = 1;
// The largest file the Open*File functions read: a passphrase seal of the largest secret.
inline constexpr std::size_t kMaxKeystoreFileSize =
    envelope::kPassphraseSealHeaderSize + envelope::kMaxSealedSecretSize + 16;

// ---- authority -----------------------------------------------------------------------------------

Result<std::vector<std::uint8_t>> SealAuthority(const Authority& authority, const SecretBytes& passphrase,
                                                const envelope::Argon2Params& params = {},
                                                const envelope::Argon2Limits& limits = {},
                                                envelope::RandomSource& rng = envelope::OsRandom());
// Also fails like Authority::FromParts if the parts do not belong together.
Result<Authority> OpenAuthority(std::span<const std::uint8_t> blob, const SecretBytes& passphrase,
                                const envelope::Argon2Limits& limits = {});

Result<void> SealAuthorityToFile(const std::filesystem::path& path, const Authority& authority,
                                 const SecretBytes& passphrase, const envelope::Argon2Params& params = {},
                                 const envelope::Argon2Limits& limits = {},
                                 envelope::RandomSource& rng = envelope::OsRandom());
// kInvalidArgument if the file cannot be read (or is larger than kMaxKeystoreFileSize).
Result<Authority> OpenAuthorityFile(const std::filesystem::path& path, const SecretBytes& passphrase,
                                    const envelope::Argon2Limits& limits = {});

// ---- user key ------------------------------------------------------------------------------------

Result<std::vector<std::uint8_t>> SealUserKey(const UserKey& key, const SecretBytes& passphrase,
                                              const envelope::Argon2Params& params = {},
                                              const envelope::Argon2Limits& limits = {},
                                              envelope::RandomSource& rng = envelope::OsRandom());
Result<UserKey> OpenUserKey(std::span<const std::uint8_t> blob, const SecretBytes& passphrase,
                            const envelope::Argon2Limits& limits = {});

Result<void> SealUserKeyToFile(const std::filesystem::path& path, const UserKey& key,
                               const SecretBytes& passphrase, const envelope::Argon2Params& params = {},
                               const envelope::Argon2Limits& limits = {},
                               envelope::RandomSource& rng = envelope::OsRandom());
Result<UserKey> OpenUserKeyFile(const std::filesystem::path& path, const SecretBytes& passphrase,
                                const envelope::Argon2Limits& limits = {});

// ---- multi-authority keys (maabe.h) ------------------------------------------------------------
// The sealed secret is the object's own canonical encoding (maabe_serialize.h: CMMK, CMUK), under
// the purposes kMultiAuthorityMasterKeyPurpose and kMultiAuthorityUserKeyPurpose. An authority's
// Ed25519 key and certificate chain stay in its FAME keystore (SealAuthority): the
// multi-authority master key is the one extra secret it holds.

Result<std::vector<std::uint8_t>> SealMultiAuthorityMasterKey(
    const maabe::AuthorityMasterKey& msk, const SecretBytes& passphrase,
    const envelope::Argon2Params& params = {}, const envelope::Argon2Limits& limits = {},
    envelope::RandomSource& rng = envelope::OsRandom());
// Returns the whole key pair (maabe::FromMasterKey).
Result<maabe::AuthorityKeyPair> OpenMultiAuthorityMasterKey(std::span<const std::uint8_t> blob,
                                                            const SecretBytes& passphrase,
                                                            const envelope::Argon2Limits& limits = {});
Result<void> SealMultiAuthorityMasterKeyToFile(const std::filesystem::path& path,
                                               const maabe::AuthorityMasterKey& msk,
                                               const SecretBytes& passphrase,
                                               const envelope::Argon2Params& params = {},
                                               const envelope::Argon2Limits& limits = {},
                                               envelope::RandomSource& rng = envelope::OsRandom());
Result<maabe::AuthorityKeyPair> OpenMultiAuthorityMasterKeyFile(const std::filesystem::path& path,
                                                                const SecretBytes& passphrase,
                                                                const envelope::Argon2Limits& limits = {});

Result<std::vector<std::uint8_t>> SealMultiAuthorityUserKey(
    const maabe::UserKey& key, const SecretBytes& passphrase, const envelope::Argon2Params& params = {},
    const envelope::Argon2Limits& limits = {}, envelope::RandomSource& rng = envelope::OsRandom());
Result<maabe::UserKey> OpenMultiAuthorityUserKey(std::span<const std::uint8_t> blob,
                                                 const SecretBytes& passphrase,
                                                 const envelope::Argon2Limits& limits = {});
Result<void> SealMultiAuthorityUserKeyToFile(const std::filesystem::path& path, const maabe::UserKey& key,
                                             const SecretBytes& passphrase,
                                             const envelope::Argon2Params& params = {},
                                             const envelope::Argon2Limits& limits = {},
                                             envelope::RandomSource& rng = envelope::OsRandom());
Result<maabe::UserKey> OpenMultiAuthorityUserKeyFile(const std::filesystem::path& path,
                                                     const SecretBytes& passphrase,
                                                     const envelope::Argon2Limits& limits = {});

}  // namespace cipherchart::abe
