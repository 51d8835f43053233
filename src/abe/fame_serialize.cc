// Binary encodings of the FAME objects: see fame_serialize.h and docs/formats.md.
#include "cipherchart/abe/fame_serialize.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cipherchart/abe/policy.h"
#include "cipherchart/pairing/curve.h"
#include "cipherchart/pairing/gt.h"

namespace cipherchart::abe::fame {
namespace {

using Bytes = std::span<const std::uint8_t>;
using pairing::kG1CompressedSize;
using pairing::kG2CompressedSize;
using pairing::kGtSize;
constexpr std::size_t kFrSize = 32;
constexpr std::size_t kHeaderSize = 5;  // magic + version
constexpr std::size_t kMaxPolicyTextBytes = kMaxPolicyBytes;

// RFC 3629 UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF.
bool IsValidUtf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    if (b0 < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    unsigned lo = 0x80;
    unsigned hi = 0xBF;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
      len = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
      len = 3;
      if (b0 == 0xE0) lo = 0xA0;
      if (b0 == 0xED) hi = 0x9F;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      len = 4;
      if (b0 == 0xF0) lo = 0x90;
      if (b0 == 0xF4) hi = 0x8F;
    } else {
      return false;
    }
    if (s.size() - i < len) return false;
    const auto b1 = static_cast<unsigned char>(s[i + 1]);
    if (b1 < lo || b1 > hi) return false;
    for (std::size_t k = 2; k < len; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if (b < 0x80 || b > 0xBF) return false;
    }
    i += len;
  }
  return true;
}

// Writes into a buffer of exactly the precomputed size.
class Writer {
 public:
  explicit Writer(std::span<std::uint8_t> out) : out_(out) {}
  void Put(Bytes b) {
    std::copy(b.begin(), b.end(), out_.begin() + static_cast<std::ptrdiff_t>(pos_));
    pos_ += b.size();
  }
  void PutU8(std::uint8_t v) { out_[pos_++] = v; }
  void PutU16(std::uint16_t v) {
    PutU8(static_cast<std::uint8_t>(v >> 8));
    PutU8(static_cast<std::uint8_t>(v));
  }
  void PutU32(std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) PutU8(static_cast<std::uint8_t>(v >> shift));
  }
  void PutText(std::string_view s) { Put({reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}); }
  void PutHeader(std::string_view magic) {
    PutText(magic);
    PutU8(kSerializationVersion);
  }
  void PutG1(const G1& p) {
    auto b = pairing::G1Compress(p);
    Put(b);
    SecureWipe(b.data(), b.size());
  }
  void PutG2(const G2& p) {
    auto b = pairing::G2Compress(p);
    Put(b);
    SecureWipe(b.data(), b.size());
  }
  void PutFr(const Fr& s) {
    auto b = pairing::FrToBytes(s);
    Put(b);
    SecureWipe(b.data(), b.size());
  }
  std::size_t pos() const { return pos_; }

 private:
  std::span<std::uint8_t> out_;
  std::size_t pos_ = 0;
};

std::string Indexed(std::string_view name, std::size_t i) {
  return std::string(name) + "[" + std::to_string(i) + "]";
}
std::string Indexed(std::string_view name, std::size_t i, std::size_t j) {
  return Indexed(name, i) + "[" + std::to_string(j) + "]";
}

class Reader {
 public:
  Reader(Bytes in, std::string_view object) : in_(in), object_(object) {}

  Error MakeError(ErrorCode code, std::size_t offset, std::string_view field, std::string_view what) const {
    return Error(code, std::string(object_) + ": offset " + std::to_string(offset) + ": field " +
                           std::string(field) + ": " + std::string(what));
  }
  std::unexpected<Error> Failure(ErrorCode code, std::size_t offset, std::string_view field,
                                 std::string_view what) const {
    return std::unexpected<Error>(MakeError(code, offset, field, what));
  }

  Result<Bytes> Take(std::size_t n, std::string_view field) {
    if (in_.size() - pos_ < n) {
      return Failure(
          ErrorCode::kInvalidEncoding, pos_, field,
          "truncated: needs " + std::to_string(n) + " bytes, " + std::to_string(in_.size() - pos_) + " left");
    }
    Bytes b = in_.subspan(pos_, n);
    pos_ += n;
    return b;
  }
  Result<std::uint32_t> TakeUint(std::size_t n, std::string_view field) {
    auto b = Take(n, field);
    if (!b) return std::unexpected(b.error());
    std::uint32_t v = 0;
    for (const std::uint8_t x : *b) v = (v << 8) | x;
    return v;
  }

  Result<void> Header(std::string_view magic) {
    auto m = Take(4, "magic");
    if (!m) return std::unexpected(m.error());
    if (!std::equal(m->begin(), m->end(), magic.begin(), magic.end(),
                    [](std::uint8_t a, char b) { return a == static_cast<unsigned char>(b); })) {
      return Failure(ErrorCode::kInvalidEncoding, 0, "magic", "expected \"" + std::string(magic) + "\"");
    }
    auto v = TakeUint(1, "version");
    if (!v) return std::unexpected(v.error());
    if (*v != kSerializationVersion) {
      return Failure(
          ErrorCode::kUnsupported, 4, "version",
          "format version " + std::to_string(*v) + " is not supported (this build reads version 1)");
    }
    return {};
  }

  // Decodes a group element with `decode`, keeping the decoder's error code.
  template <class T, class Decode>
  Result<T> Element(std::size_t size, const std::string& field, Decode decode) {
    const std::size_t offset = pos_;
    auto b = Take(size, field);
    if (!b) return std::unexpected(b.error());
    auto v = decode(*b);
    if (!v) return Failure(v.error().code(), offset, field, v.error().message());
    return std::move(*v);
  }
  Result<G1> TakeG1(const std::string& field) {
    return Element<G1>(kG1CompressedSize, field, [](Bytes b) { return pairing::G1Decompress(b); });
  }
  Result<G2> TakeG2(const std::string& field) {
    return Element<G2>(kG2CompressedSize, field, [](Bytes b) { return pairing::G2Decompress(b); });
  }
  Result<Gt> TakeGt(const std::string& field) {
    return Element<Gt>(kGtSize, field, [](Bytes b) { return Gt::FromBytes(b); });
  }
  Result<Fr> TakeFr(const std::string& field) {
    return Element<Fr>(kFrSize, field, [](Bytes b) { return pairing::FrFromBytes(b); });
  }

  Result<void> End() const {
    if (pos_ != in_.size()) {
      return Failure(ErrorCode::kInvalidEncoding, pos_, "end",
                     std::to_string(in_.size() - pos_) + " trailing bytes after the object");
    }
    return {};
  }
  std::size_t pos() const { return pos_; }

 private:
  Bytes in_;
  std::string_view object_;
  std::size_t pos_ = 0;
};

// Declares `var` = expr and returns its error if it has one. (`var` names a declaration, so it
// cannot be parenthesised.)
// NOLINTBEGIN(bugprone-macro-parentheses)
#define CC_TRY(var, expr) \
  auto var = (expr);      \
  if (!(var)) return std::unexpected(std::move(var).error())
// NOLINTEND(bugprone-macro-parentheses)

template <std::size_t N>
Result<std::array<G1, N>> TakeG1s(Reader& r, std::string_view name) {
  std::array<G1, N> out;
  for (std::size_t i = 0; i < N; ++i) {
    CC_TRY(p, r.TakeG1(Indexed(name, i)));
    out[i] = *p;
  }
  return out;
}
template <std::size_t N>
Result<std::array<G2, N>> TakeG2s(Reader& r, std::string_view name) {
  std::array<G2, N> out;
  for (std::size_t i = 0; i < N; ++i) {
    CC_TRY(p, r.TakeG2(Indexed(name, i)));
    out[i] = *p;
  }
  return out;
}

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
  if (sk.k.size() > kMaxSerializedAttributes) {
    return Fail(ErrorCode::kInvalidArgument, std::string(object) + ": more than " +
                                                 std::to_string(kMaxSerializedAttributes) + " attributes");
  }
  std::size_t size = kHeaderSize + 3 * kG2CompressedSize + 3 * kG1CompressedSize + 2;
  std::size_t index = 0;
  for (const auto& [name, comps] : sk.k) {
    if (name.empty() || name.size() > kMaxSerializedAttributeBytes || !IsValidUtf8(name)) {
      return Fail(ErrorCode::kInvalidArgument,
                  std::string(object) + ": attribute " + std::to_string(index) + " is empty, longer than " +
                      std::to_string(kMaxSerializedAttributeBytes) + " bytes or not UTF-8");
    }
    size += 2 + name.size() + 3 * kG1CompressedSize;
    ++index;
  }
  size += 1 + sk.delegation.size() *
                  (3 * kG2CompressedSize + 3 * kG1CompressedSize + sk.k.size() * 3 * kG1CompressedSize);
  SecretBytes out(size);
  Writer w(out.span());
  w.PutHeader(magic);
  for (const auto& p : sk.k0) w.PutG2(p);
  for (const auto& p : sk.kp) w.PutG1(p);
  w.PutU16(static_cast<std::uint16_t>(sk.k.size()));
  for (const auto& [name, comps] : sk.k) {
    w.PutU16(static_cast<std::uint16_t>(name.size()));
    w.PutText(name);
    for (const auto& p : comps) w.PutG1(p);
  }
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
  CC_TRY(header, r.Header(magic));
  SecretKey sk;
  CC_TRY(k0, TakeG2s<3>(r, "k0"));
  sk.k0 = *k0;
  CC_TRY(kp, TakeG1s<3>(r, "kp"));
  sk.kp = *kp;
  const std::size_t count_offset = r.pos();
  CC_TRY(count, r.TakeUint(2, "attribute count"));
  if (*count > kMaxSerializedAttributes) {
    return r.Failure(
        ErrorCode::kInvalidEncoding, count_offset, "attribute count",
        std::to_string(*count) + " exceeds the bound " + std::to_string(kMaxSerializedAttributes));
  }
  const std::string* previous = nullptr;
  for (std::size_t i = 0; i < *count; ++i) {
    const std::string len_field = Indexed("attribute length", i);
    const std::size_t len_offset = r.pos();
    CC_TRY(len, r.TakeUint(2, len_field));
    if (*len == 0 || *len > kMaxSerializedAttributeBytes) {
      return r.Failure(ErrorCode::kInvalidEncoding, len_offset, len_field,
                       "length " + std::to_string(*len) +
                           " is outside 1 ..= " + std::to_string(kMaxSerializedAttributeBytes));
    }
    const std::string name_field = Indexed("attribute", i);
    const std::size_t name_offset = r.pos();
    CC_TRY(raw, r.Take(*len, name_field));
    std::string name(reinterpret_cast<const char*>(raw->data()), raw->size());
    if (!IsValidUtf8(name))
      return r.Failure(ErrorCode::kInvalidEncoding, name_offset, name_field, "not valid UTF-8");
    if (previous != nullptr && !(*previous < name)) {
      return r.Failure(ErrorCode::kInvalidEncoding, name_offset, name_field,
                       *previous == name ? "duplicate attribute name"
                                         : "attribute names are not in strictly increasing byte order");
    }
    CC_TRY(comps, TakeG1s<3>(r, Indexed("k", i)));
    auto [it, inserted] = sk.k.emplace(std::move(name), *comps);
    previous = &it->first;
  }
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

// ---- Public key: magic, version, h_a (3 x G2), t (2 x GT). ----
std::vector<std::uint8_t> Serialize(const PublicKey& pk) {
  std::vector<std::uint8_t> out(kSerializedPublicKeySize);
  Writer w(out);
  w.PutHeader(kPublicKeyMagic);
  for (const auto& p : pk.h_a) w.PutG2(p);
  for (const auto& t : pk.t) w.Put(t.ToBytes());
  return out;
}

Result<PublicKey> ParsePublicKey(Bytes bytes) {
  Reader r(bytes, "fame public key");
  CC_TRY(header, r.Header(kPublicKeyMagic));
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
  w.PutHeader(kMasterKeyMagic);
  for (const auto& s : msk.a) w.PutFr(s);
  for (const auto& s : msk.b) w.PutFr(s);
  for (const auto& p : msk.g_d) w.PutG1(p);
  return out;
}

Result<MasterKey> ParseMasterKey(Bytes bytes) {
  Reader r(bytes, "fame master key");
  CC_TRY(header, r.Header(kMasterKeyMagic));
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
  if (ct.policy.empty() || ct.policy.size() > kMaxPolicyTextBytes) {
    return Fail(ErrorCode::kInvalidArgument, "fame ciphertext: the policy text must be 1 ..= " +
                                                 std::to_string(kMaxPolicyTextBytes) + " bytes");
  }
  if (ct.c.empty() || ct.c.size() > kMaxLsssRows) {
    return Fail(ErrorCode::kInvalidArgument,
                "fame ciphertext: the number of rows must be 1 ..= " + std::to_string(kMaxLsssRows));
  }
  const std::size_t size =
      kHeaderSize + 4 + ct.policy.size() + 3 * kG2CompressedSize + 4 + ct.c.size() * 3 * kG1CompressedSize;
  std::vector<std::uint8_t> out(size);
  Writer w(out);
  w.PutHeader(kCiphertextMagic);
  w.PutU32(static_cast<std::uint32_t>(ct.policy.size()));
  w.PutText(ct.policy);
  for (const auto& p : ct.c0) w.PutG2(p);
  w.PutU32(static_cast<std::uint32_t>(ct.c.size()));
  for (const auto& row : ct.c) {
    for (const auto& p : row) w.PutG1(p);
  }
  return out;
}

Result<Ciphertext> ParseCiphertext(Bytes bytes) {
  Reader r(bytes, "fame ciphertext");
  CC_TRY(header, r.Header(kCiphertextMagic));
  Ciphertext ct;
  const std::size_t len_offset = r.pos();
  CC_TRY(len, r.TakeUint(4, "policy length"));
  if (*len == 0 || *len > kMaxPolicyTextBytes) {
    return r.Failure(
        ErrorCode::kInvalidEncoding, len_offset, "policy length",
        "length " + std::to_string(*len) + " is outside 1 ..= " + std::to_string(kMaxPolicyTextBytes));
  }
  const std::size_t text_offset = r.pos();
  CC_TRY(text, r.Take(*len, "policy"));
  ct.policy.assign(reinterpret_cast<const char*>(text->data()), text->size());
  if (!IsValidUtf8(ct.policy))
    return r.Failure(ErrorCode::kInvalidEncoding, text_offset, "policy", "not valid UTF-8");
  // Never trust structure from the wire: re-parse and recompile the policy.
  auto policy = ParsePolicy(ct.policy);
  if (!policy) {
    return r.Failure(ErrorCode::kInvalidEncoding, text_offset, "policy",
                     "does not parse (" + policy.error().message() + ")");
  }
  if (PolicyToString(**policy) != ct.policy) {
    return r.Failure(ErrorCode::kInvalidEncoding, text_offset, "policy", "not in canonical form");
  }
  auto matrix = CompileToLsss(**policy);
  if (!matrix) {
    return r.Failure(ErrorCode::kInvalidEncoding, text_offset, "policy",
                     "does not compile (" + matrix.error().message() + ")");
  }
  ct.matrix = std::move(*matrix);
  CC_TRY(c0, TakeG2s<3>(r, "c0"));
  ct.c0 = *c0;
  const std::size_t rows_offset = r.pos();
  CC_TRY(rows, r.TakeUint(4, "row count"));
  if (*rows != ct.matrix.rows.size()) {
    return r.Failure(
        ErrorCode::kInvalidEncoding, rows_offset, "row count",
        std::to_string(*rows) + " rows, but the policy compiles to " + std::to_string(ct.matrix.rows.size()));
  }
  ct.c.reserve(*rows);
  for (std::size_t i = 0; i < *rows; ++i) {
    std::array<G1, 3> row;
    for (std::size_t j = 0; j < 3; ++j) {
      CC_TRY(p, r.TakeG1(Indexed("c", i, j)));
      row[j] = *p;
    }
    ct.c.push_back(row);
  }
  CC_TRY(end, r.End());
  return ct;
}

#undef CC_TRY

}  // namespace cipherchart::abe::fame
