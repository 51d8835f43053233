// Encodings of the multi-authority ABE objects (maabe_serialize.h, docs/formats.md).
#include "cipherchart/abe/maabe_serialize.h"

#include <string>
#include <utility>

#include "cipherchart/abe/authority.h"
#include "cipherchart/abe/fame_serialize.h"
#include "src/abe/serialize_internal.h"

namespace cipherchart::abe::maabe {
namespace {

using detail::Bytes;
using detail::Indexed;
using detail::Reader;
using detail::Writer;

// Counts what a Writer would write, so that each encoder is written once (as a generic lambda)
// and run twice: to size the buffer, then to fill it.
class SizeCounter {
 public:
  void Put(Bytes b) { n_ += b.size(); }
  void PutU8(std::uint8_t) { n_ += 1; }
  void PutU16(std::uint16_t) { n_ += 2; }
  void PutU32(std::uint32_t) { n_ += 4; }
  void PutText(std::string_view s) { n_ += s.size(); }
  void PutHeader(std::string_view magic, std::uint8_t) { n_ += magic.size() + 1; }
  void PutG1(const G1&) { n_ += pairing::kG1CompressedSize; }
  void PutG2(const G2&) { n_ += pairing::kG2CompressedSize; }
  void PutFr(const Fr&) { n_ += detail::kFrSize; }
  std::size_t pos() const { return n_; }

 private:
  std::size_t n_ = 0;
};

template <class Body>
std::vector<std::uint8_t> EncodePublic(Body body) {
  SizeCounter c;
  body(c);
  std::vector<std::uint8_t> out(c.pos());
  Writer w(out);
  body(w);
  return out;
}
template <class Body>
SecretBytes EncodeSecret(Body body) {
  SizeCounter c;
  body(c);
  SecretBytes out(c.pos());
  Writer w(out.span());
  body(w);
  return out;
}

template <class W>
void PutName(W& w, std::string_view s) {
  w.PutU16(static_cast<std::uint16_t>(s.size()));
  w.PutText(s);
}

// ---- field checks shared by encoders (kInvalidArgument) and decoders (kInvalidEncoding) ----

Result<void> CheckNamespaceField(std::string_view ns, std::string_view object) {
  if (auto ok = ValidateNamespace(ns); !ok)
    return Fail(ErrorCode::kInvalidArgument, std::string(object) + ": " + ok.error().message());
  return {};
}
Result<void> CheckGidField(std::string_view gid, std::string_view object) {
  if (gid.empty() || gid.size() > kMaxGidBytes || !detail::IsValidUtf8(gid)) {
    return Fail(ErrorCode::kInvalidArgument, std::string(object) + ": the identity must be 1 ..= " +
                                                 std::to_string(kMaxGidBytes) + " bytes of UTF-8");
  }
  return {};
}
Result<void> CheckAttributeField(std::string_view name, std::string_view ns, std::string_view object) {
  if (name.empty() || name.size() > fame::kMaxSerializedAttributeBytes || !detail::IsValidUtf8(name)) {
    return Fail(ErrorCode::kInvalidArgument, std::string(object) + ": attribute \"" + std::string(name) +
                                                 "\" is empty, too long or not UTF-8");
  }
  if (!IsBelowNamespace(name, ns)) {
    return Fail(ErrorCode::kInvalidArgument, std::string(object) + ": attribute \"" + std::string(name) +
                                                 "\" is not in namespace \"" + std::string(ns) + "\"");
  }
  return {};
}
Result<void> CheckAuthorityKeysFields(const AuthorityKeys& keys, std::string_view gid,
                                      std::string_view object) {
  if (keys.gid != gid) {
    return Fail(ErrorCode::kInvalidArgument, std::string(object) + ": keys of authority \"" +
                                                 keys.authority_namespace + "\" are for another identity");
  }
  if (auto ok = CheckNamespaceField(keys.authority_namespace, object); !ok) return ok;
  if (keys.attributes.empty() || keys.attributes.size() > fame::kMaxSerializedAttributes) {
    return Fail(ErrorCode::kInvalidArgument, std::string(object) +
                                                 ": 1 ..= " + std::to_string(fame::kMaxSerializedAttributes) +
                                                 " attributes per authority");
  }
  for (const auto& [name, key] : keys.attributes) {
    if (auto ok = CheckAttributeField(name, keys.authority_namespace, object); !ok) return ok;
  }
  return {};
}
Result<void> CheckUserKeyFields(const UserKey& user, std::string_view object) {
  if (auto ok = CheckGidField(user.gid, object); !ok) return ok;
  if (user.by_authority.empty() || user.by_authority.size() > kMaxSerializedAuthorities) {
    return Fail(ErrorCode::kInvalidArgument, std::string(object) + ": 1 ..= " +
                                                 std::to_string(kMaxSerializedAuthorities) + " authorities");
  }
  for (const auto& [ns, keys] : user.by_authority) {
    if (ns != keys.authority_namespace)
      return Fail(ErrorCode::kInvalidArgument, std::string(object) + ": authority map entry \"" + ns +
                                                   "\" holds keys of \"" + keys.authority_namespace + "\"");
    if (auto ok = CheckAuthorityKeysFields(keys, user.gid, object); !ok) return ok;
  }
  return {};
}

// ---- readers ----

// u16 length (min ..= max), then that many bytes of UTF-8.
Result<std::string> TakeName(Reader& r, std::string_view field, std::size_t max) {
  const std::size_t len_offset = r.pos();
  CC_TRY(len, r.TakeUint(2, std::string(field) + " length"));
  if (*len == 0 || *len > max) {
    return r.Failure(ErrorCode::kInvalidEncoding, len_offset, std::string(field) + " length",
                     "length " + std::to_string(*len) + " is outside 1 ..= " + std::to_string(max));
  }
  const std::size_t offset = r.pos();
  CC_TRY(raw, r.Take(*len, field));
  std::string s(reinterpret_cast<const char*>(raw->data()), raw->size());
  if (!detail::IsValidUtf8(s))
    return r.Failure(ErrorCode::kInvalidEncoding, offset, field, "not valid UTF-8");
  return s;
}
Result<std::string> TakeNamespace(Reader& r, std::string_view field) {
  const std::size_t offset = r.pos() + 2;
  CC_TRY(ns, TakeName(r, field, kMaxNamespaceSize));
  if (auto ok = ValidateNamespace(*ns); !ok)
    return r.Failure(ErrorCode::kInvalidEncoding, offset, field, ok.error().message());
  return std::move(*ns);
}
Result<PublicParamsId> TakeId(Reader& r, std::string_view field) {
  CC_TRY(raw, r.Take(envelope::kPublicParamsIdSize, field));
  PublicParamsId id{};
  std::copy(raw->begin(), raw->end(), id.begin());
  return id;
}
Result<std::size_t> TakeCount(Reader& r, std::string_view field, std::size_t min, std::size_t max) {
  const std::size_t offset = r.pos();
  CC_TRY(n, r.TakeUint(2, field));
  if (*n < min || *n > max) {
    return r.Failure(
        ErrorCode::kInvalidEncoding, offset, field,
        std::to_string(*n) + " is outside " + std::to_string(min) + " ..= " + std::to_string(max));
  }
  return static_cast<std::size_t>(*n);
}

// The body shared by CMAK (after the gid) and CMUK (per authority): namespace, authority id,
// u16 attribute count, then per attribute (strictly increasing): name, K (G2), K' (G1).
template <class W>
void PutAuthorityKeysBody(W& w, const AuthorityKeys& keys) {
  PutName(w, keys.authority_namespace);
  w.Put(keys.authority_id);
  w.PutU16(static_cast<std::uint16_t>(keys.attributes.size()));
  for (const auto& [name, key] : keys.attributes) {
    PutName(w, name);
    w.PutG2(key.k);
    w.PutG1(key.kp);
  }
}
// `previous`: the namespace of the entry before (a user key's entries are strictly increasing).
Result<void> TakeAuthorityKeysBody(Reader& r, std::string_view prefix, AuthorityKeys& out,
                                   const std::string* previous_namespace = nullptr) {
  const std::string p(prefix);
  const std::size_t ns_offset = r.pos() + 2;
  CC_TRY(ns, TakeNamespace(r, p + "namespace"));
  if (previous_namespace != nullptr && !(*previous_namespace < *ns)) {
    return r.Failure(ErrorCode::kInvalidEncoding, ns_offset, p + "namespace",
                     "authority namespaces are not in strictly increasing byte order");
  }
  out.authority_namespace = std::move(*ns);
  CC_TRY(id, TakeId(r, p + "authority id"));
  out.authority_id = *id;
  CC_TRY(count, TakeCount(r, p + "attribute count", 1, fame::kMaxSerializedAttributes));
  const std::string* previous = nullptr;
  for (std::size_t i = 0; i < *count; ++i) {
    const std::string field = p + Indexed("attribute", i);
    const std::size_t offset = r.pos() + 2;
    CC_TRY(name, TakeName(r, field, fame::kMaxSerializedAttributeBytes));
    if (previous != nullptr && !(*previous < *name)) {
      return r.Failure(ErrorCode::kInvalidEncoding, offset, field,
                       *previous == *name ? "duplicate attribute name"
                                          : "attribute names are not in strictly increasing byte order");
    }
    if (!IsBelowNamespace(*name, out.authority_namespace)) {
      return r.Failure(ErrorCode::kInvalidEncoding, offset, field,
                       "not in the authority's namespace \"" + out.authority_namespace + "\"");
    }
    CC_TRY(k, r.TakeG2(p + Indexed("K", i)));
    CC_TRY(kp, r.TakeG1(p + Indexed("K'", i)));
    auto [it, inserted] = out.attributes.emplace(std::move(*name), AttributeKey{*k, *kp});
    *k = G2{};
    *kp = G1{};
    previous = &it->first;
  }
  return {};
}

// The body shared by CMUK and CMTK: gid, u16 authority count, then per authority (namespaces
// strictly increasing) the authority-keys body.
template <class W>
void PutUserKeyBody(W& w, const UserKey& user) {
  PutName(w, user.gid);
  w.PutU16(static_cast<std::uint16_t>(user.by_authority.size()));
  for (const auto& [ns, keys] : user.by_authority) PutAuthorityKeysBody(w, keys);
}
Result<void> TakeUserKeyBody(Reader& r, UserKey& out) {
  CC_TRY(gid, TakeName(r, "gid", kMaxGidBytes));
  out.gid = std::move(*gid);
  CC_TRY(count, TakeCount(r, "authority count", 1, kMaxSerializedAuthorities));
  for (std::size_t i = 0; i < *count; ++i) {
    AuthorityKeys keys;
    keys.gid = out.gid;
    const std::string* previous = out.by_authority.empty() ? nullptr : &out.by_authority.rbegin()->first;
    if (auto ok = TakeAuthorityKeysBody(r, Indexed("authority", i) + ".", keys, previous); !ok) return ok;
    const std::string ns = keys.authority_namespace;
    out.by_authority.emplace(ns, std::move(keys));
  }
  return {};
}

}  // namespace

// ---- CMPK: namespace, e_alpha (GT), g_y (G1) ----
Result<std::vector<std::uint8_t>> Serialize(const AuthorityPublicKey& pk) {
  if (auto ok = CheckNamespaceField(pk.authority_namespace, "multi-authority public key"); !ok)
    return std::unexpected(ok.error());
  return EncodePublic([&](auto& w) {
    w.PutHeader(kPublicKeyMagic, kSerializationVersion);
    PutName(w, pk.authority_namespace);
    w.Put(pk.e_alpha.ToBytes());
    w.PutG1(pk.g_y);
  });
}

Result<AuthorityPublicKey> ParsePublicKey(std::span<const std::uint8_t> bytes) {
  Reader r(bytes, "multi-authority public key");
  CC_TRY(header, r.Header(kPublicKeyMagic, kSerializationVersion));
  AuthorityPublicKey pk;
  CC_TRY(ns, TakeNamespace(r, "namespace"));
  pk.authority_namespace = std::move(*ns);
  CC_TRY(e, r.TakeGt("e_alpha"));
  pk.e_alpha = *e;
  CC_TRY(gy, r.TakeG1("g_y"));
  pk.g_y = *gy;
  CC_TRY(end, r.End());
  return pk;
}

// ---- CMMK: namespace, alpha, y ----
Result<SecretBytes> Serialize(const AuthorityMasterKey& msk) {
  if (auto ok = CheckNamespaceField(msk.authority_namespace, "multi-authority master key"); !ok)
    return std::unexpected(ok.error());
  return EncodeSecret([&](auto& w) {
    w.PutHeader(kMasterKeyMagic, kSerializationVersion);
    PutName(w, msk.authority_namespace);
    w.PutFr(msk.alpha);
    w.PutFr(msk.y);
  });
}

Result<AuthorityMasterKey> ParseMasterKey(std::span<const std::uint8_t> bytes) {
  Reader r(bytes, "multi-authority master key");
  CC_TRY(header, r.Header(kMasterKeyMagic, kSerializationVersion));
  AuthorityMasterKey msk;
  CC_TRY(ns, TakeNamespace(r, "namespace"));
  msk.authority_namespace = std::move(*ns);
  for (auto [field, into] : {std::pair{"alpha", &msk.alpha}, std::pair{"y", &msk.y}}) {
    const std::size_t offset = r.pos();
    CC_TRY(s, r.TakeFr(field));
    if (s->IsZero()) return r.Failure(ErrorCode::kInvalidEncoding, offset, field, "is zero");
    *into = *s;
    *s = Fr::Zero();
  }
  CC_TRY(end, r.End());
  return msk;
}

// ---- CMAK: gid, then the authority-keys body ----
Result<SecretBytes> Serialize(const AuthorityKeys& keys) {
  if (auto ok = CheckGidField(keys.gid, "multi-authority authority keys"); !ok)
    return std::unexpected(ok.error());
  if (auto ok = CheckAuthorityKeysFields(keys, keys.gid, "multi-authority authority keys"); !ok)
    return std::unexpected(ok.error());
  return EncodeSecret([&](auto& w) {
    w.PutHeader(kAuthorityKeysMagic, kSerializationVersion);
    PutName(w, keys.gid);
    PutAuthorityKeysBody(w, keys);
  });
}

Result<AuthorityKeys> ParseAuthorityKeys(std::span<const std::uint8_t> bytes) {
  Reader r(bytes, "multi-authority authority keys");
  CC_TRY(header, r.Header(kAuthorityKeysMagic, kSerializationVersion));
  AuthorityKeys keys;
  CC_TRY(gid, TakeName(r, "gid", kMaxGidBytes));
  keys.gid = std::move(*gid);
  if (auto ok = TakeAuthorityKeysBody(r, "", keys); !ok) return std::unexpected(ok.error());
  CC_TRY(end, r.End());
  return keys;
}

// ---- CMUK: the user-key body ----
Result<SecretBytes> Serialize(const UserKey& user) {
  if (auto ok = CheckUserKeyFields(user, "multi-authority user key"); !ok) return std::unexpected(ok.error());
  return EncodeSecret([&](auto& w) {
    w.PutHeader(kUserKeyMagic, kSerializationVersion);
    PutUserKeyBody(w, user);
  });
}

Result<UserKey> ParseUserKey(std::span<const std::uint8_t> bytes) {
  Reader r(bytes, "multi-authority user key");
  CC_TRY(header, r.Header(kUserKeyMagic, kSerializationVersion));
  UserKey user;
  if (auto ok = TakeUserKeyBody(r, user); !ok) return std::unexpected(ok.error());
  CC_TRY(end, r.End());
  return user;
}

// ---- CMTK: H(GID)^(1/b) (G2), then the user-key body of the blinded key ----
Result<SecretBytes> Serialize(const TransformKey& tk) {
  if (auto ok = CheckUserKeyFields(tk.blinded, "multi-authority transformation key"); !ok)
    return std::unexpected(ok.error());
  return EncodeSecret([&](auto& w) {
    w.PutHeader(kTransformKeyMagic, kSerializationVersion);
    w.PutG2(tk.h_gid);
    PutUserKeyBody(w, tk.blinded);
  });
}

Result<TransformKey> ParseTransformKey(std::span<const std::uint8_t> bytes) {
  Reader r(bytes, "multi-authority transformation key");
  CC_TRY(header, r.Header(kTransformKeyMagic, kSerializationVersion));
  TransformKey tk;
  CC_TRY(h, r.TakeG2("h_gid"));
  tk.h_gid = *h;
  if (auto ok = TakeUserKeyBody(r, tk.blinded); !ok) return std::unexpected(ok.error());
  CC_TRY(end, r.End());
  return tk;
}

// ---- CMCT: policy, u16 authority count, per authority (namespaces strictly increasing)
// namespace and id, u32 row count, per row C1 (GT), C2 (G1), C3 (G1), C4 (G2) ----
Result<std::vector<std::uint8_t>> Serialize(const Ciphertext& ct) {
  constexpr std::string_view kObject = "multi-authority ciphertext";
  if (auto ok = detail::CheckPolicyText(ct.policy, kObject); !ok) return std::unexpected(ok.error());
  if (ct.authorities.empty() || ct.authorities.size() > kMaxSerializedAuthorities) {
    return Fail(ErrorCode::kInvalidArgument, std::string(kObject) + ": 1 ..= " +
                                                 std::to_string(kMaxSerializedAuthorities) + " authorities");
  }
  for (std::size_t i = 0; i < ct.authorities.size(); ++i) {
    if (auto ok = CheckNamespaceField(ct.authorities[i].authority_namespace, kObject); !ok)
      return std::unexpected(ok.error());
    if (i > 0 && !(ct.authorities[i - 1].authority_namespace < ct.authorities[i].authority_namespace))
      return Fail(ErrorCode::kInvalidArgument,
                  std::string(kObject) + ": authorities not sorted by namespace");
  }
  // Refuse what the decoder would: a non-canonical policy, a matrix that is not the policy's,
  // authorities that do not own exactly the rows.
  auto policy = ParsePolicy(ct.policy);
  if (!policy || PolicyToString(**policy) != ct.policy) {
    return Fail(ErrorCode::kInvalidArgument,
                std::string(kObject) + ": the policy text is not canonical policy text");
  }
  auto matrix = CompileToLsss(**policy);
  if (!matrix || matrix->rows != ct.matrix.rows || matrix->rho != ct.matrix.rho) {
    return Fail(ErrorCode::kInvalidArgument, std::string(kObject) + ": the matrix is not the policy's");
  }
  if (auto owners = RowAuthorities(ct); !owners) {
    return Fail(ErrorCode::kInvalidArgument, std::string(kObject) + ": " + owners.error().message());
  }
  if (ct.rows.size() != ct.matrix.rows.size()) {
    return Fail(ErrorCode::kInvalidArgument, std::string(kObject) + ": " + std::to_string(ct.rows.size()) +
                                                 " rows for a matrix of " +
                                                 std::to_string(ct.matrix.rows.size()));
  }
  return EncodePublic([&](auto& w) {
    w.PutHeader(kCiphertextMagic, kSerializationVersion);
    w.PutU32(static_cast<std::uint32_t>(ct.policy.size()));
    w.PutText(ct.policy);
    w.PutU16(static_cast<std::uint16_t>(ct.authorities.size()));
    for (const auto& a : ct.authorities) {
      PutName(w, a.authority_namespace);
      w.Put(a.id);
    }
    w.PutU32(static_cast<std::uint32_t>(ct.rows.size()));
    for (const auto& row : ct.rows) {
      w.Put(row.c1.ToBytes());
      w.PutG1(row.c2);
      w.PutG1(row.c3);
      w.PutG2(row.c4);
    }
  });
}

Result<Ciphertext> ParseCiphertext(std::span<const std::uint8_t> bytes) {
  Reader r(bytes, "multi-authority ciphertext");
  CC_TRY(header, r.Header(kCiphertextMagic, kSerializationVersion));
  Ciphertext ct;
  CC_TRY(policy, detail::TakePolicy(r));
  ct.policy = std::move(policy->text);
  ct.matrix = std::move(policy->matrix);
  const std::size_t authorities_offset = r.pos();
  CC_TRY(count, TakeCount(r, "authority count", 1, kMaxSerializedAuthorities));
  for (std::size_t i = 0; i < *count; ++i) {
    const std::string field = Indexed("authority", i);
    const std::size_t offset = r.pos() + 2;
    CC_TRY(ns, TakeNamespace(r, field + ".namespace"));
    if (!ct.authorities.empty() && !(ct.authorities.back().authority_namespace < *ns)) {
      return r.Failure(ErrorCode::kInvalidEncoding, offset, field + ".namespace",
                       "authority namespaces are not in strictly increasing byte order");
    }
    CC_TRY(id, TakeId(r, field + ".id"));
    ct.authorities.push_back({std::move(*ns), *id});
  }
  if (auto owners = RowAuthorities(ct); !owners) {
    return r.Failure(ErrorCode::kInvalidEncoding, authorities_offset, "authorities",
                     owners.error().message());
  }
  const std::size_t rows_offset = r.pos();
  CC_TRY(rows, r.TakeUint(4, "row count"));
  if (*rows != ct.matrix.rows.size()) {
    return r.Failure(
        ErrorCode::kInvalidEncoding, rows_offset, "row count",
        std::to_string(*rows) + " rows, but the policy compiles to " + std::to_string(ct.matrix.rows.size()));
  }
  ct.rows.resize(*rows);
  for (std::size_t x = 0; x < *rows; ++x) {
    CC_TRY(c1, r.TakeGt(Indexed("C1", x)));
    CC_TRY(c2, r.TakeG1(Indexed("C2", x)));
    CC_TRY(c3, r.TakeG1(Indexed("C3", x)));
    CC_TRY(c4, r.TakeG2(Indexed("C4", x)));
    ct.rows[x] = {*c1, *c2, *c3, *c4};
  }
  CC_TRY(end, r.End());
  return ct;
}

// ---- CMPD: C1 product (GT), blinded pairing product (GT) ----
std::vector<std::uint8_t> Serialize(const PartialDecryption& pd) {
  return EncodePublic([&](auto& w) {
    w.PutHeader(kPartialDecryptionMagic, kSerializationVersion);
    w.Put(pd.c1_product.ToBytes());
    w.Put(pd.blinded_pairs.ToBytes());
  });
}

Result<PartialDecryption> ParsePartialDecryption(std::span<const std::uint8_t> bytes) {
  Reader r(bytes, "multi-authority partial decryption");
  CC_TRY(header, r.Header(kPartialDecryptionMagic, kSerializationVersion));
  PartialDecryption pd;
  CC_TRY(c1, r.TakeGt("c1_product"));
  pd.c1_product = *c1;
  CC_TRY(pairs, r.TakeGt("blinded_pairs"));
  pd.blinded_pairs = *pairs;
  CC_TRY(end, r.End());
  return pd;
}

}  // namespace cipherchart::abe::maabe

#undef CC_TRY
