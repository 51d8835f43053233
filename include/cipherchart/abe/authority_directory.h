// The signed authority directory of the multi-authority scheme (maabe.h; docs/architecture.md,
// "Authority directory"; docs/formats.md, "Multi-authority key statement" and "Authority
// directory").
//
// An encryptor must know which multi-authority public key speaks for each namespace a policy
// names, and must not take that from whoever serves the ciphertext's storage. Each authority
// already has a certificate chain (authority.h) from a trusted root that certifies its namespace
// and its Ed25519 signing key. With that signing key it signs a key statement: "my
// multi-authority public key is X, valid from .. to ..". A directory entry is the chain plus the
// statement; AuthorityDirectory::Add accepts it only if the chain verifies against the
// encryptor's trusted roots, the statement's signature verifies under the chain's certified
// signing key, the namespaces agree and the statement is valid now. Resolve then maps a policy
// to the verified keys, refusing any namespace it has no verified key for.
//
// Independent hospitals can each be their own root (the encryptor lists them all as trusted
// roots), or sit under a common one (a national board); adding an authority adds an entry and
// changes nothing else.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cipherchart/abe/authority.h"
#include "cipherchart/abe/maabe.h"
#include "cipherchart/common/error.h"
#include "cipherchart/envelope/signature.h"

namespace cipherchart::abe {

inline constexpr std::string_view kKeyStatementMagic = "CCMS";
inline constexpr std::string_view kDirectoryMagic = "CCMD";
inline constexpr std::uint8_t kDirectoryVersion = 1;
inline constexpr std::size_t kMaxDirectoryEntries = 4096;
// The authority signs label || SHA-256(statement without its signature).
inline constexpr std::string_view kKeyStatementSignatureLabel = "cipherchart/maabe-key-statement/v1";

struct KeyStatement {
  maabe::AuthorityPublicKey public_key;  // its namespace is the statement's subject
  std::uint64_t not_before = 0;          // unix seconds, inclusive
  std::uint64_t not_after = 0;           // unix seconds, inclusive
  envelope::Ed25519Signature signature{};
};

// Signs a statement with the authority's signing key (the one its certificate certifies).
// kInvalidArgument for an invalid namespace or not_before > not_after.
Result<KeyStatement> SignKeyStatement(const maabe::AuthorityPublicKey& pk,
                                      const envelope::Ed25519SigningKey& key, std::uint64_t not_before,
                                      std::uint64_t not_after);

// Encoding: magic "CCMS", version, u64 not_before, u64 not_after, u32 length + the CMPK public
// key, 64-byte signature. The decoder checks the structure, not the signature (Add does).
Result<std::vector<std::uint8_t>> EncodeKeyStatement(const KeyStatement& statement);
Result<KeyStatement> ParseKeyStatement(std::span<const std::uint8_t> bytes);

// One directory entry as it travels: the authority's certificate chain and its key statement.
struct DirectoryEntry {
  std::vector<Certificate> chain;
  KeyStatement statement;
};
// A directory file: magic "CCMD", version, u16 entry count, then per entry u32 length + CCCH
// chain, u32 length + CCMS statement.
Result<std::vector<std::uint8_t>> EncodeDirectory(std::span<const DirectoryEntry> entries);
Result<std::vector<DirectoryEntry>> ParseDirectory(std::span<const std::uint8_t> bytes);

class AuthorityDirectory {
 public:
  explicit AuthorityDirectory(std::vector<TrustedRoot> trusted_roots) : roots_(std::move(trusted_roots)) {}

  // Verifies and adds the entry for the chain's authority at time `now`. Fails, adding nothing,
  // with VerifyChain's error for a bad chain, kIntegrity for a statement not signed by the
  // chain's certified key, kSignerMismatch for a statement about another namespace than the
  // chain certifies, kContextMismatch outside the statement's validity. A namespace already in
  // the directory is replaced only by a statement with a later not_before (key rotation goes
  // forward: an old statement cannot bring back a replaced key; kContextMismatch); the same key
  // again is accepted and changes nothing.
  Result<void> Add(std::span<const Certificate> chain, const KeyStatement& statement, std::uint64_t now);
  // Adds every entry of a directory file; on the first failure nothing is added and the error
  // names the entry ("directory entry 3 (hospital_b): ..."). Two entries for one namespace in
  // one file are refused (kInvalidArgument).
  Result<void> AddAll(std::span<const DirectoryEntry> entries, std::uint64_t now);

  // The verified keys `policy` needs, one per authority owning one of its attributes (the
  // longest namespace in the directory containing the attribute); kInvalidArgument naming the
  // first attribute no verified authority owns ("policy attribute \"x.y\": no verified authority
  // for it in the directory"), and kContextMismatch if a needed entry's statement has expired
  // by `now`.
  Result<std::vector<maabe::AuthorityPublicKey>> Resolve(const PolicyNode& policy, std::uint64_t now) const;
  // A namespace the directory lacks is not noticed when a parent namespace is present: the
  // parent's key is used for its attributes (the ciphertext says so, per row). Encryptors that
  // rely on a sub-authority should check entries() for it.
  // Resolve, then maabe::Encapsulate.
  Result<maabe::Encapsulation> Encapsulate(const PolicyNode& policy, std::uint64_t now) const;

  struct Entry {
    maabe::AuthorityPublicKey public_key;
    envelope::Ed25519PublicKey signing_key{};
    // When the entry may be used: the intersection of the statement's and every chain
    // certificate's validity.
    std::uint64_t not_before = 0;
    std::uint64_t not_after = 0;
    std::uint64_t statement_not_before = 0;  // orders the statements of one namespace
  };
  const std::map<std::string, Entry>& entries() const { return entries_; }

 private:
  std::vector<TrustedRoot> roots_;
  std::map<std::string, Entry> entries_;  // by namespace
};

}  // namespace cipherchart::abe
