#include "cipherchart/chart/enrolment.h"

#include <algorithm>

#include "cipherchart/abe/authority_directory.h"
#include "cipherchart/abe/keystore.h"
#include "cipherchart/abe/maabe_serialize.h"
#include "cipherchart/chart/directory.h"
#include "cipherchart/chart/records.h"
#include "cipherchart/common/bytes.h"
#include "cipherchart/common/hex.h"
#include "cipherchart/envelope/hash.h"
#include "cipherchart/protocol/ids.h"

namespace cipherchart::chart {
namespace {

constexpr std::string_view kOwnerAuthorityMagic = "CCOA";
constexpr std::uint8_t kOwnerAuthorityVersion = 1;

Result<std::vector<std::uint8_t>> TakeBlob(std::span<const std::uint8_t>& in, std::size_t at,
                                           std::string_view field) {
  if (in.size() < 4)
    return Fail(ErrorCode::kInvalidEncoding, "owner-authority: truncated at offset " + std::to_string(at) +
                                                 " reading " + std::string(field) + " length");
  const std::size_t n =
      (std::size_t{in[0]} << 24) | (std::size_t{in[1]} << 16) | (std::size_t{in[2]} << 8) | in[3];
  if (n == 0 || n > in.size() - 4)
    return Fail(ErrorCode::kInvalidEncoding, "owner-authority: " + std::string(field) + " at offset " +
                                                 std::to_string(at) + ": length " + std::to_string(n) +
                                                 " does not fit the record");
  std::vector<std::uint8_t> out(in.begin() + 4, in.begin() + 4 + static_cast<std::ptrdiff_t>(n));
  in = in.subspan(4 + n);
  return out;
}

}  // namespace

std::vector<std::uint8_t> EncodeOwnerAuthority(const SealedOwnerAuthority& sealed) {
  std::vector<std::uint8_t> out(kOwnerAuthorityMagic.begin(), kOwnerAuthorityMagic.end());
  out.reserve(5 + 4 + sealed.fame_keystore.size() + 4 + sealed.multi_authority_keystore.size());
  PutU8(out, kOwnerAuthorityVersion);
  PutU32(out, static_cast<std::uint32_t>(sealed.fame_keystore.size()));
  PutBytes(out, sealed.fame_keystore);
  PutU32(out, static_cast<std::uint32_t>(sealed.multi_authority_keystore.size()));
  PutBytes(out, sealed.multi_authority_keystore);
  return out;
}

Result<SealedOwnerAuthority> ParseOwnerAuthority(std::span<const std::uint8_t> record) {
  std::span<const std::uint8_t> in = record;
  std::size_t at = 0;
  if (in.size() >= 4 && std::equal(kOwnerAuthorityMagic.begin(), kOwnerAuthorityMagic.end(), in.begin())) {
    if (in.size() < 5)
      return Fail(ErrorCode::kInvalidEncoding, "owner-authority: truncated before the version");
    if (in[4] != kOwnerAuthorityVersion)
      return Fail(ErrorCode::kUnsupported,
                  "owner-authority: offset 4: version " + std::to_string(in[4]) + " is not supported");
    in = in.subspan(5);
    at = 5;
  }
  // Else the legacy form, which starts with a length (its first byte is 0: no keystore is 16 MiB).
  SealedOwnerAuthority out;
  auto fame = TakeBlob(in, at, "FAME keystore");
  if (!fame) return std::unexpected(fame.error());
  at += 4 + fame->size();
  auto ma = TakeBlob(in, at, "multi-authority keystore");
  if (!ma) return std::unexpected(ma.error());
  at += 4 + ma->size();
  if (!in.empty())
    return Fail(ErrorCode::kInvalidEncoding, "owner-authority: " + std::to_string(in.size()) +
                                                 " trailing bytes at offset " + std::to_string(at));
  out.fame_keystore = std::move(*fame);
  out.multi_authority_keystore = std::move(*ma);
  return out;
}

Result<NewPatient> CreatePatient(ServerPort& server, const envelope::Ed25519SigningKey& author,
                                 std::uint64_t now) {
  // 1. The pseudonym, bound to the hash of a one-time enrolment code's proof.
  auto code = protocol::NewEnrolmentCode();
  if (!code) return std::unexpected(code.error());
  auto proof = EnrolmentProof(*code);
  if (!proof) return std::unexpected(proof.error());
  auto digest = envelope::Sha256Of(AsBytes(*proof));
  if (!digest) return std::unexpected(digest.error());
  auto pid = server.CreatePatient(ToHex(*digest));
  if (!pid) return std::unexpected(pid.error());
  if (!protocol::IsValidPatientId(*pid))
    return Fail(ErrorCode::kInvalidEncoding, "creating the patient: the server answered no valid patient id");
  const std::string ns = protocol::PatientNamespace(*pid);
  // 2. The personal-domain authority: public part for every encryptor, secrets sealed under the
  //    code for the patient (docs/threat-model.md: the registering client makes these keys and
  //    forgets them).
  const std::uint64_t from = now - kClockSkewSeconds, until = now + kPersonalAuthorityValiditySeconds;
  auto root = abe::Authority::CreateRoot(ns, from, until);
  if (!root) return std::unexpected(root.error());
  auto ma = abe::maabe::AuthoritySetup(ns);
  if (!ma) return std::unexpected(ma.error());
  auto st = abe::SignKeyStatement(ma->pk, root->signing_key(), from, until);
  if (!st) return std::unexpected(st.error());
  std::vector<abe::DirectoryEntry> entry = {{root->chain(), *st}};
  auto dir_bytes = abe::EncodeDirectory(entry);
  if (!dir_bytes) return std::unexpected(dir_bytes.error());
  auto pub = SealPublicRecord(kOwnerDirectoryRecord, *dir_bytes, author);
  if (!pub) return std::unexpected(pub.error());
  if (auto put = server.Put(*pid, std::string(kOwnerDirectoryRecord), 1, {"owner", "public"}, *pub); !put)
    return std::unexpected(put.error());
  const SecretBytes code_secret(AsBytes(*code));
  auto sealed_fame = abe::SealAuthority(*root, code_secret);
  if (!sealed_fame) return std::unexpected(sealed_fame.error());
  auto sealed_ma = abe::SealMultiAuthorityMasterKey(ma->msk, code_secret);
  if (!sealed_ma) return std::unexpected(sealed_ma.error());
  const auto owner = EncodeOwnerAuthority({std::move(*sealed_fame), std::move(*sealed_ma)});
  if (auto put = server.Put(*pid, std::string(kOwnerAuthorityRecord), 1, {"owner", "enrolment-code"}, owner);
      !put)
    return std::unexpected(put.error());
  return NewPatient{*pid, std::move(*code)};
}

Result<abe::maabe::AuthorityKeyPair> OpenOwnerAuthority(std::span<const std::uint8_t> record,
                                                        const SecretBytes& code,
                                                        const std::string& patient_id) {
  auto sealed = ParseOwnerAuthority(record);
  if (!sealed)
    return Fail(ErrorCode::kIntegrity,
                "the sealed personal authority is malformed: " + sealed.error().message());
  auto ma = abe::OpenMultiAuthorityMasterKey(sealed->multi_authority_keystore, code);
  if (!ma)
    return Fail(ErrorCode::kIntegrity,
                "the sealed personal authority does not open with this code: " + ma.error().message());
  if (ma->pk.authority_namespace != protocol::PatientNamespace(patient_id))
    return Fail(ErrorCode::kIntegrity, "the sealed personal authority is for another record");
  return ma;
}

Result<Enrolled> Enrol(ServerPort& server, Identity& identity, const std::string& pid,
                       const SecretBytes& code, const std::vector<abe::TrustedRoot>& roots) {
  auto proof = EnrolmentProof(AsText(code.span()));
  if (!proof) return std::unexpected(proof.error());
  if (auto r = server.Enrol(pid, *proof); !r) return std::unexpected(r.error());
  // The personal-domain authority the registering doctor sealed under the code.
  auto record = server.Fetch(pid, std::string(kOwnerAuthorityRecord), 0);
  if (!record) return std::unexpected(record.error());
  auto ma = OpenOwnerAuthority(*record, code, pid);
  if (!ma) return std::unexpected(ma.error());
  // The sealed key must be the one every encryptor uses: the published owner-directory entry.
  Enrolled out;
  auto dir = LoadDirectory(server, roots, pid, out.warnings);
  if (!dir) return std::unexpected(dir.error());
  const std::string ns = protocol::PatientNamespace(pid);
  const auto published = dir->entries().find(ns);
  auto sealed_pk = abe::maabe::Serialize(ma->pk);
  if (published == dir->entries().end() || !sealed_pk)
    return Fail(ErrorCode::kIntegrity, "the record's personal authority is not in the directory");
  auto published_pk = abe::maabe::Serialize(published->second.public_key);
  if (!published_pk || *published_pk != *sealed_pk)
    return Fail(ErrorCode::kIntegrity, "the sealed personal authority does not match the published one");
  const std::string& uid = identity.account.user_id;
  auto owner = abe::maabe::KeyGen(*ma, uid, {ns + ".owner"});
  if (!owner) return std::unexpected(owner.error());
  identity.wallet.keys.gid = uid;
  if (auto k = abe::maabe::AddKeys(identity.wallet.keys, *owner); !k) return std::unexpected(k.error());
  identity.wallet.personal_authority = ma->msk;
  identity.account.patient_id = pid;
  return out;
}

Result<void> DeleteSealedAuthority(ServerPort& server, const std::string& patient_id) {
  return server.Delete(patient_id, std::string(kOwnerAuthorityRecord));
}

}  // namespace cipherchart::chart
