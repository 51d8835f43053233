// Record sections under FAME CP-ABE: see record.h.
#include "cipherchart/abe/record.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "cipherchart/abe/fame_serialize.h"
#include "cipherchart/abe/maabe_serialize.h"
#include "cipherchart/common/atomic_file.h"
#include "cipherchart/envelope/hash.h"

namespace cipherchart::abe {
namespace {

using envelope::EnvelopeHeader;

// Files are read in chunks of this size (the envelope holds at most one segment besides).
constexpr std::size_t kFileChunk = 256 * 1024;

std::string IdPrefix(const PublicParamsId& id) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < 8; ++i) {
    out.push_back(kDigits[id[i] >> 4]);
    out.push_back(kDigits[id[i] & 15]);
  }
  return out + "...";
}

// Encapsulates under the policy and fills in the envelope parameters; the KEM key goes to `key`.
Result<envelope::EnvelopeParams> EncapsulateForEnvelope(const fame::PublicKey& pk,
                                                        const PublicParamsId& public_params_id,
                                                        const PolicyNode& policy, std::string_view record_id,
                                                        std::uint64_t record_version,
                                                        std::uint32_t segment_size, SecretBytes& key) {
  auto id = FamePublicParamsId(pk);
  if (!id) return std::unexpected(id.error());
  if (*id != public_params_id) {
    return Fail(ErrorCode::kInvalidArgument, "record: the public-parameter id " + IdPrefix(public_params_id) +
                                                 " is not the FAME public key's (" + IdPrefix(*id) + ")");
  }
  auto enc = fame::Encapsulate(pk, policy);
  if (!enc) return std::unexpected(enc.error());
  auto kem_ciphertext = fame::Serialize(enc->ct);
  if (!kem_ciphertext) return std::unexpected(kem_ciphertext.error());
  envelope::EnvelopeParams params;
  params.scheme_id = kFameCpAbeSchemeId;
  params.public_params_id = public_params_id;
  params.policy = enc->ct.policy;  // the canonical text, as the KEM ciphertext holds it
  params.kem_ciphertext = std::move(*kem_ciphertext);
  params.record_id = std::string(record_id);
  params.record_version = record_version;
  params.segment_size = segment_size;
  key = std::move(enc->key);
  return params;
}

// Called by the envelope only after the header signature, the author, the record id and the
// version have checked out.
envelope::KemKeyResolver FameResolver(const fame::SecretKey& key, const PublicParamsId* expected_id) {
  return [&key, expected_id](const EnvelopeHeader& h) -> Result<SecretBytes> {
    if (h.scheme_id != kFameCpAbeSchemeId) {
      return Fail(ErrorCode::kUnsupported, "record: scheme id " + std::to_string(h.scheme_id) +
                                               " is not FAME CP-ABE (" + std::to_string(kFameCpAbeSchemeId) +
                                               ")");
    }
    if (expected_id != nullptr && h.public_params_id != *expected_id) {
      return Fail(ErrorCode::kInvalidArgument,
                  "record: no key for these public parameters: the envelope is under " +
                      IdPrefix(h.public_params_id) + ", the key is for " + IdPrefix(*expected_id));
    }
    auto ct = fame::ParseCiphertext(h.kem_ciphertext);
    if (!ct) return Fail(ct.error().code(), "record: KEM ciphertext: " + ct.error().message());
    if (ct->policy != h.policy) {
      return Fail(ErrorCode::kInvalidEncoding,
                  "record: KEM ciphertext: its policy is not the policy text of the envelope header");
    }
    return fame::Decapsulate(key, *ct);
  };
}

// The multi-authority counterpart of FameResolver.
envelope::KemKeyResolver MultiAuthorityResolver(const maabe::UserKey& key) {
  return [&key](const EnvelopeHeader& h) -> Result<SecretBytes> {
    if (h.scheme_id != kRw15MaAbeSchemeId) {
      return Fail(ErrorCode::kUnsupported, "record: scheme id " + std::to_string(h.scheme_id) +
                                               " is not RW15 multi-authority CP-ABE (" +
                                               std::to_string(kRw15MaAbeSchemeId) + ")");
    }
    auto ct = maabe::ParseCiphertext(h.kem_ciphertext);
    if (!ct) return Fail(ct.error().code(), "record: KEM ciphertext: " + ct.error().message());
    if (ct->policy != h.policy) {
      return Fail(ErrorCode::kInvalidEncoding,
                  "record: KEM ciphertext: its policy is not the policy text of the envelope header");
    }
    auto id = MultiAuthorityParamsId(ct->authorities);
    if (!id) return std::unexpected(id.error());
    if (*id != h.public_params_id) {
      return Fail(ErrorCode::kInvalidEncoding,
                  "record: KEM ciphertext: its authorities are not the envelope header's parameter id");
    }
    return maabe::Decapsulate(key, *ct);
  };
}

// A file descriptor opened for reading, closed on scope exit.
class InputFile {
 public:
  static Result<InputFile> Open(const std::filesystem::path& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      const int err = errno;
      return Fail(ErrorCode::kInvalidArgument, "cannot open " + path.string() + ": " + std::strerror(err));
    }
    return InputFile(path, fd);
  }
  InputFile(InputFile&& other) noexcept : path_(std::move(other.path_)), fd_(std::exchange(other.fd_, -1)) {}
  InputFile& operator=(InputFile&&) = delete;
  ~InputFile() {
    if (fd_ >= 0) ::close(fd_);
  }

  // Calls `consume` with each chunk until the end of the file.
  template <class Consume>
  Result<void> ForEachChunk(Consume consume) {
    std::vector<std::uint8_t> buffer(kFileChunk);
    for (;;) {
      const ssize_t n = ::read(fd_, buffer.data(), buffer.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        const int err = errno;
        return Fail(ErrorCode::kInvalidArgument, "cannot read " + path_.string() + ": " + std::strerror(err));
      }
      if (n == 0) return {};
      if (auto ok = consume(std::span<const std::uint8_t>(buffer.data(), static_cast<std::size_t>(n))); !ok) {
        return ok;
      }
    }
  }

 private:
  InputFile(std::filesystem::path path, int fd) : path_(std::move(path)), fd_(fd) {}
  std::filesystem::path path_;
  int fd_ = -1;
};

}  // namespace

Result<std::vector<std::uint8_t>> SealRecordSection(
    const fame::PublicKey& pk, const PublicParamsId& public_params_id, const PolicyNode& policy,
    std::string_view record_id, std::uint64_t record_version, std::span<const std::uint8_t> payload,
    const envelope::Ed25519SigningKey& author, std::uint32_t segment_size, envelope::RandomSource& rng) {
  SecretBytes key;
  auto params =
      EncapsulateForEnvelope(pk, public_params_id, policy, record_id, record_version, segment_size, key);
  if (!params) return std::unexpected(params.error());
  return envelope::SealEnvelope(*params, key, author, payload, rng);
}

Result<std::vector<std::uint8_t>> SealRecordSection(const VerifiedAuthority& authority,
                                                    const PolicyNode& policy, std::string_view record_id,
                                                    std::uint64_t record_version,
                                                    std::span<const std::uint8_t> payload,
                                                    const envelope::Ed25519SigningKey& author,
                                                    std::uint32_t segment_size, envelope::RandomSource& rng) {
  if (auto ok = CheckPolicyNamespace(policy, authority.authority_namespace); !ok)
    return std::unexpected(ok.error());
  return SealRecordSection(authority.public_key, authority.public_params_id, policy, record_id,
                           record_version, payload, author, segment_size, rng);
}

Result<envelope::OpenedEnvelope> OpenRecordSection(const fame::SecretKey& key,
                                                   std::span<const std::uint8_t> envelope_bytes,
                                                   const envelope::Ed25519PublicKey& expected_author,
                                                   std::string_view expected_record_id,
                                                   std::uint64_t expected_version) {
  const envelope::EnvelopeExpectation expected{std::string(expected_record_id), expected_version,
                                               expected_author};
  return envelope::OpenEnvelope(envelope_bytes, expected, FameResolver(key, nullptr));
}

Result<envelope::OpenedEnvelope> OpenRecordSection(const UserKey& key,
                                                   std::span<const std::uint8_t> envelope_bytes,
                                                   const envelope::Ed25519PublicKey& expected_author,
                                                   std::string_view expected_record_id,
                                                   std::uint64_t expected_version) {
  const envelope::EnvelopeExpectation expected{std::string(expected_record_id), expected_version,
                                               expected_author};
  return envelope::OpenEnvelope(envelope_bytes, expected, FameResolver(key.key, &key.public_params_id));
}

Result<PublicParamsId> MultiAuthorityParamsId(std::span<const maabe::CiphertextAuthority> authorities) {
  static constexpr std::string_view kLabel = "cipherchart maabe authorities v1";
  std::vector<std::uint8_t> input(kLabel.begin(), kLabel.end());
  for (const auto& a : authorities) {
    if (a.authority_namespace.size() > 0xFFFF)
      return Fail(ErrorCode::kInvalidArgument, "record: authority namespace too long");
    input.push_back(static_cast<std::uint8_t>(a.authority_namespace.size() >> 8));
    input.push_back(static_cast<std::uint8_t>(a.authority_namespace.size()));
    input.insert(input.end(), a.authority_namespace.begin(), a.authority_namespace.end());
    input.insert(input.end(), a.id.begin(), a.id.end());
  }
  return envelope::Sha256Of(input);
}

Result<std::vector<std::uint8_t>> SealRecordSection(const AuthorityDirectory& directory, std::uint64_t now,
                                                    const PolicyNode& policy, std::string_view record_id,
                                                    std::uint64_t record_version,
                                                    std::span<const std::uint8_t> payload,
                                                    const envelope::Ed25519SigningKey& author,
                                                    std::uint32_t segment_size, envelope::RandomSource& rng) {
  auto enc = directory.Encapsulate(policy, now);
  if (!enc) return std::unexpected(enc.error());
  auto kem_ciphertext = maabe::Serialize(enc->ct);
  if (!kem_ciphertext) return std::unexpected(kem_ciphertext.error());
  auto params_id = MultiAuthorityParamsId(enc->ct.authorities);
  if (!params_id) return std::unexpected(params_id.error());
  envelope::EnvelopeParams params;
  params.scheme_id = kRw15MaAbeSchemeId;
  params.public_params_id = *params_id;
  params.policy = enc->ct.policy;
  params.kem_ciphertext = std::move(*kem_ciphertext);
  params.record_id = std::string(record_id);
  params.record_version = record_version;
  params.segment_size = segment_size;
  return envelope::SealEnvelope(params, enc->key, author, payload, rng);
}

Result<envelope::OpenedEnvelope> OpenRecordSection(const maabe::UserKey& key,
                                                   std::span<const std::uint8_t> envelope_bytes,
                                                   const envelope::Ed25519PublicKey& expected_author,
                                                   std::string_view expected_record_id,
                                                   std::uint64_t expected_version) {
  const envelope::EnvelopeExpectation expected{std::string(expected_record_id), expected_version,
                                               expected_author};
  return envelope::OpenEnvelope(envelope_bytes, expected, MultiAuthorityResolver(key));
}

Result<envelope::OpenedEnvelope> OpenRecordSection(const ReaderKeys& keys,
                                                   std::span<const std::uint8_t> envelope_bytes,
                                                   const envelope::Ed25519PublicKey& expected_author,
                                                   std::string_view expected_record_id,
                                                   std::uint64_t expected_version) {
  const envelope::EnvelopeExpectation expected{std::string(expected_record_id), expected_version,
                                               expected_author};
  auto resolver = [&keys](const EnvelopeHeader& h) -> Result<SecretBytes> {
    if (h.scheme_id == kFameCpAbeSchemeId) {
      for (const auto& key : keys.fame) {
        if (key.public_params_id == h.public_params_id)
          return FameResolver(key.key, &key.public_params_id)(h);
      }
      return Fail(ErrorCode::kInvalidArgument, "record: no FAME key for the public parameters " +
                                                   IdPrefix(h.public_params_id) + " of this envelope");
    }
    if (h.scheme_id == kRw15MaAbeSchemeId) {
      if (keys.multi_authority.empty()) {
        return Fail(ErrorCode::kInvalidArgument,
                    "record: the envelope is multi-authority and the reader has no multi-authority key");
      }
      Result<SecretBytes> first = MultiAuthorityResolver(keys.multi_authority.front())(h);
      if (first) return first;
      for (std::size_t i = 1; i < keys.multi_authority.size(); ++i) {
        if (auto key = MultiAuthorityResolver(keys.multi_authority[i])(h)) return key;
      }
      return first;  // the first key's error
    }
    return Fail(ErrorCode::kUnsupported, "record: scheme id " + std::to_string(h.scheme_id) +
                                             " is neither FAME CP-ABE nor RW15 multi-authority CP-ABE");
  };
  return envelope::OpenEnvelope(envelope_bytes, expected, resolver);
}

Result<void> SealRecordSectionFile(const fame::PublicKey& pk, const PublicParamsId& public_params_id,
                                   const PolicyNode& policy, std::string_view record_id,
                                   std::uint64_t record_version, const std::filesystem::path& payload_path,
                                   const std::filesystem::path& envelope_path,
                                   const envelope::Ed25519SigningKey& author, std::uint32_t segment_size,
                                   envelope::RandomSource& rng) {
  auto input = InputFile::Open(payload_path);
  if (!input) return std::unexpected(input.error());
  SecretBytes key;
  auto params =
      EncapsulateForEnvelope(pk, public_params_id, policy, record_id, record_version, segment_size, key);
  if (!params) return std::unexpected(params.error());
  auto output = AtomicFile::Create(envelope_path);
  if (!output) return std::unexpected(output.error());
  auto sealer = envelope::EnvelopeSealer::Create(
      *params, key, author, [&output](std::span<const std::uint8_t> bytes) { return output->Write(bytes); },
      rng);
  if (!sealer) return std::unexpected(sealer.error());
  if (auto ok = input->ForEachChunk(
          [&sealer](std::span<const std::uint8_t> chunk) { return sealer->Update(chunk); });
      !ok) {
    return ok;
  }
  if (auto ok = sealer->Finish(); !ok) return ok;
  return output->Commit();
}

Result<envelope::EnvelopeHeader> OpenRecordSectionFile(const fame::SecretKey& key,
                                                       const std::filesystem::path& envelope_path,
                                                       const std::filesystem::path& payload_path,
                                                       const envelope::Ed25519PublicKey& expected_author,
                                                       std::string_view expected_record_id,
                                                       std::uint64_t expected_version) {
  auto input = InputFile::Open(envelope_path);
  if (!input) return std::unexpected(input.error());
  // Unverified plaintext goes only to the temporary file, which is deleted unless Finish()
  // succeeds.
  auto output = AtomicFile::Create(payload_path);
  if (!output) return std::unexpected(output.error());
  const envelope::EnvelopeExpectation expected{std::string(expected_record_id), expected_version,
                                               expected_author};
  auto opener = envelope::EnvelopeOpener::Create(
      expected, FameResolver(key, nullptr),
      [&output](std::span<const std::uint8_t> bytes) { return output->Write(bytes); });
  if (!opener) return std::unexpected(opener.error());
  if (auto ok = input->ForEachChunk(
          [&opener](std::span<const std::uint8_t> chunk) { return opener->Update(chunk); });
      !ok) {
    return std::unexpected(ok.error());
  }
  if (auto ok = opener->Finish(); !ok) return std::unexpected(ok.error());
  const EnvelopeHeader* header = opener->header();
  if (header == nullptr) return Fail(ErrorCode::kInternal, "record: opened without a header");
  EnvelopeHeader out = *header;
  if (auto ok = output->Commit(); !ok) return std::unexpected(ok.error());
  return out;
}

}  // namespace cipherchart::abe
