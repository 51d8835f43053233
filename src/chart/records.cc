#include "cipherchart/chart/records.h"

#include "cipherchart/common/bytes.h"
#include "cipherchart/common/hex.h"
#include "cipherchart/envelope/hash.h"
#include "cipherchart/envelope/kdf.h"

namespace cipherchart::chart {
namespace {

Result<SecretBytes> PublicKeyFor(std::string_view record_id) {
  std::string info(protocol::label::kPublicRecordInfo);
  info += record_id;
  return envelope::HkdfSha256(AsBytes(protocol::label::kPublicRecordIkm), {}, AsBytes(info), 32);
}

}  // namespace

Result<std::string> EnrolmentProof(std::string_view code) {
  auto h = envelope::Sha256Hasher::Create();
  if (!h) return std::unexpected(h.error());
  const std::uint8_t separator = 0;
  for (auto part : {AsBytes(protocol::label::kEnrolmentProof), std::span<const std::uint8_t>(&separator, 1),
                    AsBytes(code)})
    if (auto ok = h->Update(part); !ok) return std::unexpected(ok.error());
  auto digest = h->Finish();
  if (!digest) return std::unexpected(digest.error());
  return ToHex(*digest);
}

Result<SecretBytes> EntryKey(const SecretBytes& section_key, std::string_view entry_id) {
  std::string info(protocol::label::kEntryKey);
  info += entry_id;
  return envelope::HkdfSha256(section_key.span(), {}, AsBytes(info), 32);
}

envelope::PublicParamsId SectionKeyId(const SecretBytes& section_key) {
  // Hashed in place: the key is never copied out of its SecretBytes. A hash failure (OpenSSL out
  // of memory) gives the all-zero id, which names no section key, so the entry is refused as
  // tampered rather than opened under a wrong key.
  envelope::PublicParamsId id{};
  auto h = envelope::Sha256Hasher::Create();
  if (!h || !h->Update(AsBytes(protocol::label::kSectionKeyId)) || !h->Update(section_key.span())) return id;
  if (auto d = h->Finish(); d) std::copy(d->begin(), d->end(), id.begin());
  return id;
}

Result<std::vector<std::uint8_t>> SealPublicRecord(std::string_view record_id,
                                                   std::span<const std::uint8_t> payload,
                                                   const envelope::Ed25519SigningKey& author) {
  auto key = PublicKeyFor(record_id);
  if (!key) return std::unexpected(key.error());
  envelope::EnvelopeParams p;
  p.scheme_id = kPublicRecordSchemeId;
  p.policy = "public";
  p.kem_ciphertext = {0};
  p.record_id = std::string(record_id);
  p.record_version = 1;
  return envelope::SealEnvelope(p, *key, author, payload);
}

Result<std::vector<std::uint8_t>> OpenPublicRecord(std::span<const std::uint8_t> bytes,
                                                   std::string_view record_id,
                                                   const envelope::Ed25519PublicKey& author) {
  auto key = PublicKeyFor(record_id);
  if (!key) return std::unexpected(key.error());
  envelope::EnvelopeExpectation e{std::string(record_id), 1, author};
  auto opened =
      envelope::OpenEnvelope(bytes, e, [&](const envelope::EnvelopeHeader& h) -> Result<SecretBytes> {
        if (h.scheme_id != kPublicRecordSchemeId) return Fail(ErrorCode::kUnsupported, "not a public record");
        return *key;
      });
  if (!opened) return std::unexpected(opened.error());
  return std::move(opened->payload);
}

bool IsIntegrityError(const Error& e) {
  return e.code() == ErrorCode::kIntegrity || e.code() == ErrorCode::kSignerMismatch ||
         e.code() == ErrorCode::kInvalidEncoding || e.code() == ErrorCode::kContextMismatch;
}

}  // namespace cipherchart::chart
