// Internal to the ABE layer: the reader and writer behind the binary encodings of the FAME
// CP-ABE and KP-ABE objects (fame_serialize.cc, fame_kp_serialize.cc; docs/formats.md), so that
// both schemes share one set of conventions: 4-byte magic + version byte, big-endian integers,
// compressed group elements, and errors that name the object, the offset and the field. Also
// the pieces whose layout the two schemes share (public and master keys, policy texts, named
// G1 triples).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cipherchart/abe/fame_serialize.h"
#include "cipherchart/abe/policy.h"
#include "cipherchart/common/error.h"
#include "cipherchart/common/secret.h"
#include "cipherchart/pairing/curve.h"
#include "cipherchart/pairing/gt.h"

namespace cipherchart::abe::detail {

using Bytes = std::span<const std::uint8_t>;
using pairing::Fr;
using pairing::G1;
using pairing::G2;
using pairing::Gt;
using pairing::kG1CompressedSize;
using pairing::kG2CompressedSize;
using pairing::kGtSize;
inline constexpr std::size_t kFrSize = 32;
inline constexpr std::size_t kHeaderSize = 5;  // magic + version

// RFC 3629 UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF.
inline bool IsValidUtf8(std::string_view s) {
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
  void PutHeader(std::string_view magic, std::uint8_t version) {
    PutText(magic);
    PutU8(version);
  }
  // Points and scalars may be secret: the temporaries are wiped.
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

inline std::string Indexed(std::string_view name, std::size_t i) {
  return std::string(name) + "[" + std::to_string(i) + "]";
}
inline std::string Indexed(std::string_view name, std::size_t i, std::size_t j) {
  return Indexed(name, i) + "[" + std::to_string(j) + "]";
}

// Reads one object; every error is "<object>: offset N: field F: what".
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

  // The magic (kInvalidEncoding if wrong) and the version (kUnsupported unless `version`).
  Result<void> Header(std::string_view magic, std::uint8_t version) {
    auto m = Take(4, "magic");
    if (!m) return std::unexpected(m.error());
    if (!std::equal(m->begin(), m->end(), magic.begin(), magic.end(),
                    [](std::uint8_t a, char b) { return a == static_cast<unsigned char>(b); })) {
      return Failure(ErrorCode::kInvalidEncoding, 0, "magic", "expected \"" + std::string(magic) + "\"");
    }
    auto v = TakeUint(1, "version");
    if (!v) return std::unexpected(v.error());
    if (*v != version) {
      return Failure(ErrorCode::kUnsupported, 4, "version",
                     "format version " + std::to_string(*v) + " is not supported (this build reads version " +
                         std::to_string(version) + ")");
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
// cannot be parenthesised.) Only for the serialisation sources, which #undef it at their end.
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

// ---- Public key: magic, version, h_a (3 x G2), t (2 x GT); master key: magic, version,
// a (2 x Fr), b (2 x Fr), g_d (3 x G1). The two schemes' key types have the same fields. ----
inline constexpr std::size_t kPublicKeySize = kHeaderSize + 3 * kG2CompressedSize + 2 * kGtSize;
inline constexpr std::size_t kMasterKeySize = kHeaderSize + 4 * kFrSize + 3 * kG1CompressedSize;

template <class PublicKey>
std::vector<std::uint8_t> SerializePublicKey(const PublicKey& pk, std::string_view magic,
                                             std::uint8_t version) {
  std::vector<std::uint8_t> out(kPublicKeySize);
  Writer w(out);
  w.PutHeader(magic, version);
  for (const auto& p : pk.h_a) w.PutG2(p);
  for (const auto& t : pk.t) w.Put(t.ToBytes());
  return out;
}

template <class PublicKey>
Result<PublicKey> ParsePublicKey(Bytes bytes, std::string_view object, std::string_view magic,
                                 std::uint8_t version) {
  Reader r(bytes, object);
  CC_TRY(header, r.Header(magic, version));
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

template <class MasterKey>
SecretBytes SerializeMasterKey(const MasterKey& msk, std::string_view magic, std::uint8_t version) {
  SecretBytes out(kMasterKeySize);
  Writer w(out.span());
  w.PutHeader(magic, version);
  for (const auto& s : msk.a) w.PutFr(s);
  for (const auto& s : msk.b) w.PutFr(s);
  for (const auto& p : msk.g_d) w.PutG1(p);
  return out;
}

// The scalars and points are secret: the temporaries are wiped.
template <class MasterKey>
Result<MasterKey> ParseMasterKey(Bytes bytes, std::string_view object, std::string_view magic,
                                 std::uint8_t version) {
  Reader r(bytes, object);
  CC_TRY(header, r.Header(magic, version));
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

// ---- Policy text: u32 length (1 ..= kMaxPolicyBytes), then the policy in canonical form ----
// (a CP ciphertext's policy, a KP key's policy). The LSSS matrix is never read from the wire:
// the reader re-parses and recompiles the text.

// Fails (kInvalidArgument, "<object>: ...") for a text the reader would refuse by its length.
inline Result<void> CheckPolicyText(std::string_view text, std::string_view object) {
  if (text.empty() || text.size() > kMaxPolicyBytes) {
    return Fail(ErrorCode::kInvalidArgument, std::string(object) + ": the policy text must be 1 ..= " +
                                                 std::to_string(kMaxPolicyBytes) + " bytes");
  }
  return {};
}
inline std::size_t PolicySize(std::string_view text) { return 4 + text.size(); }
inline void PutPolicy(Writer& w, std::string_view text) {
  w.PutU32(static_cast<std::uint32_t>(text.size()));
  w.PutText(text);
}

struct WirePolicy {
  std::string text;
  LsssMatrix matrix;
};
inline Result<WirePolicy> TakePolicy(Reader& r) {
  WirePolicy out;
  const std::size_t len_offset = r.pos();
  CC_TRY(len, r.TakeUint(4, "policy length"));
  if (*len == 0 || *len > kMaxPolicyBytes) {
    return r.Failure(
        ErrorCode::kInvalidEncoding, len_offset, "policy length",
        "length " + std::to_string(*len) + " is outside 1 ..= " + std::to_string(kMaxPolicyBytes));
  }
  const std::size_t text_offset = r.pos();
  CC_TRY(text, r.Take(*len, "policy"));
  out.text.assign(reinterpret_cast<const char*>(text->data()), text->size());
  if (!IsValidUtf8(out.text))
    return r.Failure(ErrorCode::kInvalidEncoding, text_offset, "policy", "not valid UTF-8");
  // Never trust structure from the wire: re-parse and recompile the policy.
  auto policy = ParsePolicy(out.text);
  if (!policy) {
    return r.Failure(ErrorCode::kInvalidEncoding, text_offset, "policy",
                     "does not parse (" + policy.error().message() + ")");
  }
  if (PolicyToString(**policy) != out.text) {
    return r.Failure(ErrorCode::kInvalidEncoding, text_offset, "policy", "not in canonical form");
  }
  auto matrix = CompileToLsss(**policy);
  if (!matrix) {
    return r.Failure(ErrorCode::kInvalidEncoding, text_offset, "policy",
                     "does not compile (" + matrix.error().message() + ")");
  }
  out.matrix = std::move(*matrix);
  return out;
}

// ---- G1 rows: u32 count, then 3 x G1 per row of the policy's matrix (a CP ciphertext's rows,
// a KP key's rows). ----
inline std::size_t G1RowsSize(std::size_t rows) { return 4 + rows * 3 * kG1CompressedSize; }
inline void PutG1Rows(Writer& w, const std::vector<std::array<G1, 3>>& rows) {
  w.PutU32(static_cast<std::uint32_t>(rows.size()));
  for (const auto& row : rows) {
    for (const auto& p : row) w.PutG1(p);
  }
}

// Reads the rows into `out` (which the caller owns, so that secret rows land in a wiping
// container); the count must be `expected` (what the policy compiles to), and the components of
// row i are the fields `component`[i][0..2].
inline Result<void> TakeG1Rows(Reader& r, std::size_t expected, std::string_view component,
                               std::vector<std::array<G1, 3>>& out) {
  const std::size_t rows_offset = r.pos();
  CC_TRY(rows, r.TakeUint(4, "row count"));
  if (*rows != expected) {
    return r.Failure(ErrorCode::kInvalidEncoding, rows_offset, "row count",
                     std::to_string(*rows) + " rows, but the policy compiles to " + std::to_string(expected));
  }
  out.resize(*rows);
  for (std::size_t i = 0; i < *rows; ++i) {
    CC_TRY(row, TakeG1s<3>(r, Indexed(component, i)));
    out[i] = *row;
    *row = {};
  }
  return {};
}

// ---- Named G1 triples: u16 count, then per name (strictly increasing byte order) ----
// u16 length (1 ..= fame::kMaxSerializedAttributeBytes), UTF-8 name, 3 x G1: a CP key's
// per-attribute components, a KP ciphertext's per-attribute components.
using NamedG1Triples = std::map<std::string, std::array<G1, 3>>;

// The encoded size, or kInvalidArgument ("<object>: ...") for a map outside
// min_count ..= fame::kMaxSerializedAttributes entries or with a name the reader would refuse.
inline Result<std::size_t> NamedG1TriplesSize(const NamedG1Triples& m, std::size_t min_count,
                                              std::string_view object) {
  if (m.size() < min_count) {
    return Fail(ErrorCode::kInvalidArgument,
                std::string(object) + ": fewer than " + std::to_string(min_count) + " attributes");
  }
  if (m.size() > fame::kMaxSerializedAttributes) {
    return Fail(ErrorCode::kInvalidArgument, std::string(object) + ": more than " +
                                                 std::to_string(fame::kMaxSerializedAttributes) +
                                                 " attributes");
  }
  std::size_t size = 2;
  std::size_t index = 0;
  for (const auto& [name, comps] : m) {
    if (name.empty() || name.size() > fame::kMaxSerializedAttributeBytes || !IsValidUtf8(name)) {
      return Fail(ErrorCode::kInvalidArgument,
                  std::string(object) + ": attribute " + std::to_string(index) + " is empty, longer than " +
                      std::to_string(fame::kMaxSerializedAttributeBytes) + " bytes or not UTF-8");
    }
    size += 2 + name.size() + 3 * kG1CompressedSize;
    ++index;
  }
  return size;
}

inline void PutNamedG1Triples(Writer& w, const NamedG1Triples& m) {
  w.PutU16(static_cast<std::uint16_t>(m.size()));
  for (const auto& [name, comps] : m) {
    w.PutU16(static_cast<std::uint16_t>(name.size()));
    w.PutText(name);
    for (const auto& p : comps) w.PutG1(p);
  }
}

// Reads the entries into `out` (which the caller owns, so that secret components land in a
// wiping container); the components of entry i are the fields `component`[i][0..2].
inline Result<void> TakeNamedG1Triples(Reader& r, std::size_t min_count, std::string_view component,
                                       NamedG1Triples& out) {
  const std::size_t count_offset = r.pos();
  CC_TRY(count, r.TakeUint(2, "attribute count"));
  if (*count > fame::kMaxSerializedAttributes) {
    return r.Failure(
        ErrorCode::kInvalidEncoding, count_offset, "attribute count",
        std::to_string(*count) + " exceeds the bound " + std::to_string(fame::kMaxSerializedAttributes));
  }
  if (*count < min_count) {
    return r.Failure(ErrorCode::kInvalidEncoding, count_offset, "attribute count",
                     std::to_string(*count) + " is below the minimum " + std::to_string(min_count));
  }
  const std::string* previous = nullptr;
  for (std::size_t i = 0; i < *count; ++i) {
    const std::string len_field = Indexed("attribute length", i);
    const std::size_t len_offset = r.pos();
    CC_TRY(len, r.TakeUint(2, len_field));
    if (*len == 0 || *len > fame::kMaxSerializedAttributeBytes) {
      return r.Failure(ErrorCode::kInvalidEncoding, len_offset, len_field,
                       "length " + std::to_string(*len) +
                           " is outside 1 ..= " + std::to_string(fame::kMaxSerializedAttributeBytes));
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
    CC_TRY(comps, TakeG1s<3>(r, Indexed(component, i)));
    auto [it, inserted] = out.emplace(std::move(name), *comps);
    *comps = {};
    previous = &it->first;
  }
  return {};
}

}  // namespace cipherchart::abe::detail
