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
using detail::Indexed;
using detail::kG1CompressedSize;
using detail::kG2CompressedSize;
using detail::kHeaderSize;
using detail::Reader;
using detail::TakeG1s;
using detail::TakeG2s;
using detail::Writer;

}  // namespace

// ---- Public key: magic, version, h_a (3 x G2), t (2 x GT). ----
std::vector<std::uint8_t> Serialize(const PublicKey& pk) {
  std::vector<std::uint8_t> out(kSerializedPublicKeySize);
  Writer w(out);
  w.PutHeader(kPublicKeyMagic, kSerializationVersion);
  for (const auto& p : pk.h_a) w.PutG2(p);
  for (const auto& t : pk.t) w.Put(t.ToBytes());
  return out;
}

Result<PublicKey> ParsePublicKey(Bytes bytes) {
  Reader r(bytes, "fame-kp public key");
  CC_TRY(header, r.Header(kPublicKeyMagic, kSerializationVersion));
  PublicKey pk;
  CC_TRY(h_a, TakeG2s<3>(r, "h_a"));
  pk.h_a = *h_a;
  for (std::size_t i = 0; i < 2; ++i) {
    CC_TRY(t, r.TakeGt(Indexed("t", i)));
    pk.t[i] = *t;
  }
  CC_TRY(end, r.End());
  return pk;
}

// ---- Master key: magic, version, a (2 x Fr), b (2 x Fr), g_d (3 x G1). ----
SecretBytes Serialize(const MasterKey& msk) {
  SecretBytes out(kSerializedMasterKeySize);
  Writer w(out.span());
  w.PutHeader(kMasterKeyMagic, kSerializationVersion);
  for (const auto& s : msk.a) w.PutFr(s);
  for (const auto& s : msk.b) w.PutFr(s);
  for (const auto& p : msk.g_d) w.PutG1(p);
  return out;
}

Result<MasterKey> ParseMasterKey(Bytes bytes) {
  Reader r(bytes, "fame-kp master key");
  CC_TRY(header, r.Header(kMasterKeyMagic, kSerializationVersion));
  MasterKey msk;
  for (std::size_t i = 0; i < 2; ++i) {
    CC_TRY(s, r.TakeFr(Indexed("a", i)));
    msk.a[i] = *s;
    *s = Fr::Zero();
  }
  for (std::size_t i = 0; i < 2; ++i) {
    CC_TRY(s, r.TakeFr(Indexed("b", i)));
    msk.b[i] = *s;
    *s = Fr::Zero();
  }
  CC_TRY(g_d, TakeG1s<3>(r, "g_d"));
  msk.g_d = *g_d;
  *g_d = {};
  CC_TRY(end, r.End());
  return msk;
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
  SecretBytes out(kHeaderSize + detail::PolicySize(sk.policy) + 3 * kG2CompressedSize + 4 +
                  sk.k.size() * 3 * kG1CompressedSize);
  Writer w(out.span());
  w.PutHeader(kSecretKeyMagic, kSerializationVersion);
  detail::PutPolicy(w, sk.policy);
  for (const auto& p : sk.k0) w.PutG2(p);
  w.PutU32(static_cast<std::uint32_t>(sk.k.size()));
  for (const auto& row : sk.k) {
    for (const auto& p : row) w.PutG1(p);
  }
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
  const std::size_t rows_offset = r.pos();
  CC_TRY(rows, r.TakeUint(4, "row count"));
  if (*rows != sk.matrix.rows.size()) {
    return r.Failure(
        ErrorCode::kInvalidEncoding, rows_offset, "row count",
        std::to_string(*rows) + " rows, but the policy compiles to " + std::to_string(sk.matrix.rows.size()));
  }
  sk.k.resize(*rows);
  for (std::size_t i = 0; i < *rows; ++i) {
    CC_TRY(row, TakeG1s<3>(r, Indexed("k", i)));
    sk.k[i] = *row;
    *row = {};
  }
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
