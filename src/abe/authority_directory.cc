// The signed authority directory (authority_directory.h).
#include "cipherchart/abe/authority_directory.h"

#include <algorithm>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "cipherchart/abe/maabe_serialize.h"
#include "cipherchart/envelope/hash.h"
#include "src/abe/serialize_internal.h"

namespace cipherchart::abe {
namespace {

using detail::Reader;

void PutU32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(v >> s));
}
void PutU64(std::vector<std::uint8_t>& out, std::uint64_t v) {
  for (int s = 56; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(v >> s));
}
void PutBytes(std::vector<std::uint8_t>& out, std::span<const std::uint8_t> b) {
  out.insert(out.end(), b.begin(), b.end());
}

Result<std::uint64_t> TakeU64(Reader& r, std::string_view field) {
  CC_TRY(b, r.Take(8, field));
  std::uint64_t v = 0;
  for (const std::uint8_t x : *b) v = (v << 8) | x;
  return v;
}

// The statement without its signature.
Result<std::vector<std::uint8_t>> StatementBody(const KeyStatement& s) {
  if (s.not_before > s.not_after)
    return Fail(ErrorCode::kInvalidArgument, "key statement: not_before is after not_after");
  auto pk = maabe::Serialize(s.public_key);
  if (!pk) return std::unexpected(pk.error());
  std::vector<std::uint8_t> out(kKeyStatementMagic.begin(), kKeyStatementMagic.end());
  out.push_back(kDirectoryVersion);
  PutU64(out, s.not_before);
  PutU64(out, s.not_after);
  PutU32(out, static_cast<std::uint32_t>(pk->size()));
  PutBytes(out, *pk);
  return out;
}

Result<std::vector<std::uint8_t>> StatementSignedMessage(const KeyStatement& s) {
  auto body = StatementBody(s);
  if (!body) return std::unexpected(body.error());
  auto digest = envelope::Sha256Of(*body);
  if (!digest) return std::unexpected(digest.error());
  std::vector<std::uint8_t> message(kKeyStatementSignatureLabel.begin(), kKeyStatementSignatureLabel.end());
  PutBytes(message, *digest);
  return message;
}

std::string Time(std::uint64_t t) { return std::to_string(t); }

}  // namespace

Result<KeyStatement> SignKeyStatement(const maabe::AuthorityPublicKey& pk,
                                      const envelope::Ed25519SigningKey& key, std::uint64_t not_before,
                                      std::uint64_t not_after) {
  KeyStatement s{pk, not_before, not_after, {}};
  auto message = StatementSignedMessage(s);
  if (!message) return std::unexpected(message.error());
  auto sig = key.Sign(*message);
  if (!sig) return std::unexpected(sig.error());
  s.signature = *sig;
  return s;
}

Result<std::vector<std::uint8_t>> EncodeKeyStatement(const KeyStatement& statement) {
  auto out = StatementBody(statement);
  if (!out) return out;
  PutBytes(*out, statement.signature);
  return out;
}

Result<KeyStatement> ParseKeyStatement(std::span<const std::uint8_t> bytes) {
  Reader r(bytes, "key statement");
  CC_TRY(header, r.Header(kKeyStatementMagic, kDirectoryVersion));
  KeyStatement s;
  CC_TRY(nb, TakeU64(r, "not_before"));
  const std::size_t na_offset = r.pos();
  CC_TRY(na, TakeU64(r, "not_after"));
  if (*nb > *na)
    return r.Failure(ErrorCode::kInvalidEncoding, na_offset, "not_after", "is before not_before");
  s.not_before = *nb;
  s.not_after = *na;
  const std::size_t len_offset = r.pos();
  CC_TRY(len, r.TakeUint(4, "public key length"));
  if (*len > 4096) {
    return r.Failure(ErrorCode::kInvalidEncoding, len_offset, "public key length",
                     std::to_string(*len) + " exceeds 4096");
  }
  const std::size_t pk_offset = r.pos();
  CC_TRY(pk_bytes, r.Take(*len, "public key"));
  auto pk = maabe::ParsePublicKey(*pk_bytes);
  if (!pk) return r.Failure(pk.error().code(), pk_offset, "public key", pk.error().message());
  s.public_key = std::move(*pk);
  CC_TRY(sig, r.Take(s.signature.size(), "signature"));
  std::copy(sig->begin(), sig->end(), s.signature.begin());
  CC_TRY(end, r.End());
  return s;
}

Result<std::vector<std::uint8_t>> EncodeDirectory(std::span<const DirectoryEntry> entries) {
  if (entries.size() > kMaxDirectoryEntries)
    return Fail(ErrorCode::kInvalidArgument,
                "directory: more than " + std::to_string(kMaxDirectoryEntries) + " entries");
  std::vector<std::uint8_t> out(kDirectoryMagic.begin(), kDirectoryMagic.end());
  out.push_back(kDirectoryVersion);
  out.push_back(static_cast<std::uint8_t>(entries.size() >> 8));
  out.push_back(static_cast<std::uint8_t>(entries.size()));
  for (std::size_t i = 0; i < entries.size(); ++i) {
    auto chain = EncodeChain(entries[i].chain);
    auto statement = EncodeKeyStatement(entries[i].statement);
    if (!chain || !statement) {
      const Error& e = chain ? statement.error() : chain.error();
      return Fail(e.code(), "directory entry " + std::to_string(i) + ": " + e.message());
    }
    PutU32(out, static_cast<std::uint32_t>(chain->size()));
    PutBytes(out, *chain);
    PutU32(out, static_cast<std::uint32_t>(statement->size()));
    PutBytes(out, *statement);
  }
  return out;
}

Result<std::vector<DirectoryEntry>> ParseDirectory(std::span<const std::uint8_t> bytes) {
  Reader r(bytes, "authority directory");
  CC_TRY(header, r.Header(kDirectoryMagic, kDirectoryVersion));
  const std::size_t count_offset = r.pos();
  CC_TRY(count, r.TakeUint(2, "entry count"));
  if (*count > kMaxDirectoryEntries) {
    return r.Failure(ErrorCode::kInvalidEncoding, count_offset, "entry count",
                     std::to_string(*count) + " exceeds " + std::to_string(kMaxDirectoryEntries));
  }
  std::vector<DirectoryEntry> out;
  for (std::size_t i = 0; i < *count; ++i) {
    DirectoryEntry e;
    const std::string chain_field = detail::Indexed("entry", i) + ".chain";
    CC_TRY(chain_len, r.TakeUint(4, chain_field + " length"));
    const std::size_t chain_offset = r.pos();
    CC_TRY(chain_bytes, r.Take(*chain_len, chain_field));
    auto chain = ParseChain(*chain_bytes);
    if (!chain) return r.Failure(chain.error().code(), chain_offset, chain_field, chain.error().message());
    e.chain = std::move(*chain);
    const std::string statement_field = detail::Indexed("entry", i) + ".statement";
    CC_TRY(statement_len, r.TakeUint(4, statement_field + " length"));
    const std::size_t statement_offset = r.pos();
    CC_TRY(statement_bytes, r.Take(*statement_len, statement_field));
    auto statement = ParseKeyStatement(*statement_bytes);
    if (!statement) {
      return r.Failure(statement.error().code(), statement_offset, statement_field,
                       statement.error().message());
    }
    e.statement = std::move(*statement);
    out.push_back(std::move(e));
  }
  CC_TRY(end, r.End());
  return out;
}

Result<void> AuthorityDirectory::Add(std::span<const Certificate> chain, const KeyStatement& statement,
                                     std::uint64_t now) {
  auto verified = VerifyChain(chain, roots_, now);
  if (!verified) return std::unexpected(verified.error());
  const std::string& ns = statement.public_key.authority_namespace;
  if (ns != verified->authority_namespace) {
    return Fail(ErrorCode::kSignerMismatch, "key statement for \"" + ns +
                                                "\" comes with the certificate chain of \"" +
                                                verified->authority_namespace + "\"");
  }
  auto message = StatementSignedMessage(statement);
  if (!message) return std::unexpected(message.error());
  if (auto ok = envelope::Ed25519Verify(verified->signing_key, *message, statement.signature); !ok) {
    return Fail(
        ErrorCode::kIntegrity,
        "key statement for \"" + ns + "\": the signature does not verify under its certified signing key");
  }
  if (now < statement.not_before || now > statement.not_after) {
    return Fail(ErrorCode::kContextMismatch,
                "key statement for \"" + ns +
                    "\": " + (now < statement.not_before ? "not yet valid" : "expired") + " (valid " +
                    Time(statement.not_before) + " ..= " + Time(statement.not_after) + ", now " + Time(now) +
                    ")");
  }
  // The entry is usable while the statement and every certificate of its chain are valid.
  Entry entry{statement.public_key, verified->signing_key, statement.not_before, statement.not_after};
  for (const auto& cert : chain) {
    entry.not_before = std::max(entry.not_before, cert.not_before);
    entry.not_after = std::min(entry.not_after, cert.not_after);
  }
  // Rotation goes forward only: whoever serves the directory must not be able to bring back a
  // key the authority has replaced (while its old statement is still within its validity).
  if (auto it = entries_.find(ns); it != entries_.end()) {
    auto stored = maabe::Serialize(it->second.public_key), offered = maabe::Serialize(statement.public_key);
    if (stored && offered && *stored == *offered) return {};  // the same key again
    if (statement.not_before <= it->second.statement_not_before) {
      return Fail(ErrorCode::kContextMismatch,
                  "key statement for \"" + ns +
                      "\" is not newer than the one already in the directory (not_before " +
                      Time(statement.not_before) + " <= " + Time(it->second.statement_not_before) + ")");
    }
  }
  entry.statement_not_before = statement.not_before;
  entries_[ns] = std::move(entry);
  return {};
}

Result<void> AuthorityDirectory::AddAll(std::span<const DirectoryEntry> entries, std::uint64_t now) {
  AuthorityDirectory staged = *this;
  std::set<std::string> seen;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const std::string& ns = entries[i].statement.public_key.authority_namespace;
    if (!seen.insert(ns).second) {
      return Fail(ErrorCode::kInvalidArgument, "directory entry " + std::to_string(i) + " (" + ns +
                                                   "): a second entry for the same namespace");
    }
    if (auto ok = staged.Add(entries[i].chain, entries[i].statement, now); !ok) {
      return Fail(ok.error().code(), "directory entry " + std::to_string(i) + " (" +
                                         entries[i].statement.public_key.authority_namespace +
                                         "): " + ok.error().message());
    }
  }
  *this = std::move(staged);
  return {};
}

Result<std::vector<maabe::AuthorityPublicKey>> AuthorityDirectory::Resolve(const PolicyNode& policy,
                                                                           std::uint64_t now) const {
  auto matrix = CompileToLsss(policy);
  if (!matrix) return std::unexpected(matrix.error());
  std::set<std::string> needed;
  for (const auto& label : matrix->rho) {
    const Entry* best = nullptr;
    for (const auto& [ns, entry] : entries_) {
      if (IsBelowNamespace(label, ns) &&
          (best == nullptr || ns.size() > best->public_key.authority_namespace.size()))
        best = &entry;
    }
    if (best == nullptr) {
      return Fail(ErrorCode::kInvalidArgument,
                  "policy attribute \"" + label + "\": no verified authority for it in the directory");
    }
    if (now < best->not_before || now > best->not_after) {
      return Fail(ErrorCode::kContextMismatch,
                  "authority \"" + best->public_key.authority_namespace +
                      "\": its key statement or certificate chain is not valid at " + Time(now) + " (valid " +
                      Time(best->not_before) + " ..= " + Time(best->not_after) + ")");
    }
    needed.insert(best->public_key.authority_namespace);
  }
  std::vector<maabe::AuthorityPublicKey> out;
  out.reserve(needed.size());
  for (const auto& ns : needed) out.push_back(entries_.at(ns).public_key);
  return out;
}

Result<maabe::Encapsulation> AuthorityDirectory::Encapsulate(const PolicyNode& policy,
                                                             std::uint64_t now) const {
  auto keys = Resolve(policy, now);
  if (!keys) return std::unexpected(keys.error());
  return maabe::Encapsulate(*keys, policy);
}

}  // namespace cipherchart::abe

#undef CC_TRY
