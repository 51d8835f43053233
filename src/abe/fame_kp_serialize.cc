// Binary encodings of the FAME KP-ABE objects: see fame_kp_serialize.h and docs/formats.md.
#include "cipherchart/abe/fame_kp_serialize.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cipherchart/abe/policy.h"
#include "src/abe/serialize_internal.h"

namespace cipherchart::abe::fame_kp {
namespace {

using detail::Bytes;
using detail::kG2CompressedSize;
using detail::kHeaderSize;
using detail::Reader;
using detail::TakeG2s;
using detail::Writer;

static_assert(kSerializedPublicKeySize == detail::kPublicKeySize &&
              kSerializedMasterKeySize == detail::kMasterKeySize);

}  // namespace

// ---- Public key and master key: laid out as CP-ABE's (serialize_internal.h). ----
std::vector<std::uint8_t> Serialize(const PublicKey& pk) {
  return detail::SerializePublicKey(pk, kPublicKeyMagic, kSerializationVersion);
}
Result<PublicKey> ParsePublicKey(Bytes bytes) {
  return detail::ParsePublicKey<PublicKey>(bytes, "fame-kp public key", kPublicKeyMagic,
                                           kSerializationVersion);
}

SecretBytes Serialize(const MasterKey& msk) {
  return detail::SerializeMasterKey(msk, kMasterKeyMagic, kSerializationVersion);
}
Result<MasterKey> ParseMasterKey(Bytes bytes) {
  return detail::ParseMasterKey<MasterKey>(bytes, "fame-kp master key", kMasterKeyMagic,
                                           kSerializationVersion);
}

// ---- Secret key: magic, version, policy length (u32), policy text, k0 (3 x G2), row count
// (u32), rows (3 x G1 each). ----
Result<SecretBytes> Serialize(const SecretKey& sk) {
  if (auto ok = detail::CheckPolicyText(sk.policy, "fame-kp secret key"); !ok)
    return std::unexpected(ok.error());
  if (sk.k.empty() || sk.k.size() > kMaxLsssRows || sk.k.size() != sk.matrix.rows.size()) {
    return Fail(ErrorCode::kInvalidArgument,
                "fame-kp secret key: " + std::to_string(sk.k.size()) + " row components for a matrix of " +
                    std::to_string(sk.matrix.rows.size()) +
                    " rows (must be equal, 1 ..= " + std::to_string(kMaxLsssRows) + ")");
  }
  SecretBytes out(kHeaderSize + detail::PolicySize(sk.policy) + 3 * kG2CompressedSize +
                  detail::G1RowsSize(sk.k.size()));
  Writer w(out.span());
  w.PutHeader(kSecretKeyMagic, kSerializationVersion);
  detail::PutPolicy(w, sk.policy);
  for (const auto& p : sk.k0) w.PutG2(p);
  detail::PutG1Rows(w, sk.k);
  return out;
}

Result<SecretKey> ParseSecretKey(Bytes bytes) {
  Reader r(bytes, "fame-kp secret key");
  CC_TRY(header, r.Header(kSecretKeyMagic, kSerializationVersion));
  SecretKey sk;
  CC_TRY(policy, detail::TakePolicy(r));
  sk.policy = std::move(policy->text);
  sk.matrix = std::move(policy->matrix);
  CC_TRY(k0, TakeG2s<3>(r, "k0"));
  sk.k0 = *k0;
  CC_TRY(rows, detail::TakeG1Rows(r, sk.matrix.rows.size(), "k", sk.k));
  CC_TRY(end, r.End());
  return sk;
}

// ---- Ciphertext: magic, version, c0 (3 x G2), attribute count (u16), then per attribute
// (strictly increasing byte order): name length (u16), name, c (3 x G1). ----
Result<std::vector<std::uint8_t>> Serialize(const Ciphertext& ct) {
  auto names = detail::NamedG1TriplesSize(ct.c, 1, "fame-kp ciphertext");
  if (!names) return std::unexpected(names.error());
  std::vector<std::uint8_t> out(kHeaderSize + 3 * kG2CompressedSize + *names);
  Writer w(out);
  w.PutHeader(kCiphertextMagic, kSerializationVersion);
  for (const auto& p : ct.c0) w.PutG2(p);
  detail::PutNamedG1Triples(w, ct.c);
  return out;
}

Result<Ciphertext> ParseCiphertext(Bytes bytes) {
  Reader r(bytes, "fame-kp ciphertext");
  CC_TRY(header, r.Header(kCiphertextMagic, kSerializationVersion));
  Ciphertext ct;
  CC_TRY(c0, TakeG2s<3>(r, "c0"));
  ct.c0 = *c0;
  CC_TRY(entries, detail::TakeNamedG1Triples(r, 1, "c", ct.c));
  CC_TRY(end, r.End());
  return ct;
}

#undef CC_TRY

}  // namespace cipherchart::abe::fame_kp
