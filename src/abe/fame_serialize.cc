// Binary encodings of the FAME objects: see fame_serialize.h and docs/formats.md.
#include "cipherchart/abe/fame_serialize.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cipherchart/abe/policy.h"
#include "src/abe/serialize_internal.h"

namespace cipherchart::abe::fame {
namespace {

using detail::Bytes;
using detail::Indexed;
using detail::kG1CompressedSize;
using detail::kG2CompressedSize;
using detail::kHeaderSize;
using detail::Reader;
using detail::TakeG1s;
using detail::TakeG2s;
using detail::Writer;

static_assert(kSerializedPublicKeySize == detail::kPublicKeySize &&
              kSerializedMasterKeySize == detail::kMasterKeySize);

// ---- Secret key body (shared by SecretKey and TransformKey) ----
// magic, version, k0 (3 x G2), kp (3 x G1), count (u16), then per attribute (strictly
// increasing byte order): name length (u16), name, k (3 x G1); then the number of delegation
// bases (u8: 0, or 2 for a delegable secret key; always 0 for a transformation key) and per
// basis k0 (3 x G2), kp (3 x G1) and k (3 x G1) per attribute in the same order.
Result<SecretBytes> SerializeKey(const SecretKey& sk, std::string_view magic, std::string_view object) {
  if (!sk.delegation.empty()) {
    bool same = sk.delegation.size() == 2 && magic == kSecretKeyMagic;
    for (const auto& d : sk.delegation) {
      same = same && d.k.size() == sk.k.size() &&
             std::equal(d.k.begin(), d.k.end(), sk.k.begin(),
                        [](const auto& x, const auto& y) { return x.first == y.first; });
    }
    if (!same) {
      return Fail(ErrorCode::kInvalidArgument,
                  std::string(object) + ": delegation bases must be two, over the key's own attributes");
    }
  }
  auto names = detail::NamedG1TriplesSize(sk.k, 0, object);
  if (!names) return std::unexpected(names.error());
  const std::size_t size = kHeaderSize + 3 * kG2CompressedSize + 3 * kG1CompressedSize + *names + 1 +
                           sk.delegation.size() * (3 * kG2CompressedSize + 3 * kG1CompressedSize +
                                                   sk.k.size() * 3 * kG1CompressedSize);
  SecretBytes out(size);
  Writer w(out.span());
  w.PutHeader(magic, kSerializationVersion);
  for (const auto& p : sk.k0) w.PutG2(p);
  for (const auto& p : sk.kp) w.PutG1(p);
  detail::PutNamedG1Triples(w, sk.k);
  w.PutU8(static_cast<std::uint8_t>(sk.delegation.size()));
  for (const auto& d : sk.delegation) {
    for (const auto& p : d.k0) w.PutG2(p);
    for (const auto& p : d.kp) w.PutG1(p);
    for (const auto& [name, comps] : d.k) {
      for (const auto& p : comps) w.PutG1(p);
    }
  }
  return out;
}

Result<SecretKey> ParseKey(Bytes bytes, std::string_view magic, std::string_view object) {
  Reader r(bytes, object);
  CC_TRY(header, r.Header(magic, kSerializationVersion));
  SecretKey sk;
  CC_TRY(k0, TakeG2s<3>(r, "k0"));
  sk.k0 = *k0;
  CC_TRY(kp, TakeG1s<3>(r, "kp"));
  sk.kp = *kp;
  CC_TRY(entries, detail::TakeNamedG1Triples(r, 0, "k", sk.k));
  const std::size_t bases_offset = r.pos();
  CC_TRY(bases, r.TakeUint(1, "delegation basis count"));
  const bool is_user_key = magic == kSecretKeyMagic;
  if (*bases != 0 && !(*bases == 2 && is_user_key)) {
    return r.Failure(ErrorCode::kInvalidEncoding, bases_offset, "delegation basis count",
                     std::to_string(*bases) +
                         (is_user_key ? " is neither 0 nor 2" : " is not 0 (a transformation key has none)"));
  }
  for (std::size_t j = 0; j < *bases; ++j) {
    DelegationBasis& d = sk.delegation.emplace_back();
    CC_TRY(dk0, TakeG2s<3>(r, Indexed("delegation k0", j)));
    d.k0 = *dk0;
    CC_TRY(dkp, TakeG1s<3>(r, Indexed("delegation kp", j)));
    d.kp = *dkp;
    std::size_t i = 0;
    for (const auto& [name, comps] : sk.k) {
      CC_TRY(dk, TakeG1s<3>(r, Indexed("delegation k", j, i)));
      d.k.emplace(name, *dk);
      ++i;
    }
  }
  CC_TRY(end, r.End());
  return sk;
}

}  // namespace

// ---- Public key and master key: laid out as KP-ABE's (serialize_internal.h). ----
std::vector<std::uint8_t> Serialize(const PublicKey& pk) {
  return detail::SerializePublicKey(pk, kPublicKeyMagic, kSerializationVersion);
}
Result<PublicKey> ParsePublicKey(Bytes bytes) {
  return detail::ParsePublicKey<PublicKey>(bytes, "fame public key", kPublicKeyMagic, kSerializationVersion);
}

SecretBytes Serialize(const MasterKey& msk) {
  return detail::SerializeMasterKey(msk, kMasterKeyMagic, kSerializationVersion);
}
Result<MasterKey> ParseMasterKey(Bytes bytes) {
  return detail::ParseMasterKey<MasterKey>(bytes, "fame master key", kMasterKeyMagic, kSerializationVersion);
}

Result<SecretBytes> Serialize(const SecretKey& sk) {
  return SerializeKey(sk, kSecretKeyMagic, "fame secret key");
}
Result<SecretKey> ParseSecretKey(Bytes bytes) { return ParseKey(bytes, kSecretKeyMagic, "fame secret key"); }

Result<SecretBytes> Serialize(const TransformKey& tk) {
  return SerializeKey(tk.blinded, kTransformKeyMagic, "fame transform key");
}
Result<TransformKey> ParseTransformKey(Bytes bytes) {
  auto sk = ParseKey(bytes, kTransformKeyMagic, "fame transform key");
  if (!sk) return std::unexpected(std::move(sk).error());
  TransformKey tk;
  tk.blinded = *sk;  // SecretKey is copy-only; *sk is wiped when sk goes out of scope
  return tk;
}

// ---- Ciphertext: magic, version, policy length (u32), policy text, c0 (3 x G2), row count
// (u32), rows (3 x G1 each). ----
Result<std::vector<std::uint8_t>> Serialize(const Ciphertext& ct) {
  if (auto ok = detail::CheckPolicyText(ct.policy, "fame ciphertext"); !ok)
    return std::unexpected(ok.error());
  if (ct.c.empty() || ct.c.size() > kMaxLsssRows) {
    return Fail(ErrorCode::kInvalidArgument,
                "fame ciphertext: the number of rows must be 1 ..= " + std::to_string(kMaxLsssRows));
  }
  std::vector<std::uint8_t> out(kHeaderSize + detail::PolicySize(ct.policy) + 3 * kG2CompressedSize +
                                detail::G1RowsSize(ct.c.size()));
  Writer w(out);
  w.PutHeader(kCiphertextMagic, kSerializationVersion);
  detail::PutPolicy(w, ct.policy);
  for (const auto& p : ct.c0) w.PutG2(p);
  detail::PutG1Rows(w, ct.c);
  return out;
}

Result<Ciphertext> ParseCiphertext(Bytes bytes) {
  Reader r(bytes, "fame ciphertext");
  CC_TRY(header, r.Header(kCiphertextMagic, kSerializationVersion));
  Ciphertext ct;
  CC_TRY(policy, detail::TakePolicy(r));
  ct.policy = std::move(policy->text);
  ct.matrix = std::move(policy->matrix);
  CC_TRY(c0, TakeG2s<3>(r, "c0"));
  ct.c0 = *c0;
  CC_TRY(rows, detail::TakeG1Rows(r, ct.matrix.rows.size(), "c", ct.c));
  CC_TRY(end, r.End());
  return ct;
}

#undef CC_TRY

}  // namespace cipherchart::abe::fame
