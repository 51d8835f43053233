// Tests of RFC 9380 hashing to BLS12-381 G1 and G2: every known-answer vector of the draft
// repository (shared/data/kat/hash_to_curve, see shared/data/README.md), plus properties of
// the maps on many inputs and the error cases.
#include "cipherchart/pairing/hash_to_curve.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "src/pairing/test_util.h"

#ifndef CIPHERCHART_SHARED_DATA
#define CIPHERCHART_SHARED_DATA ""
#endif

namespace cipherchart::pairing {
namespace {

// ---------------------------------------------------------------------------------------------
// A small strict JSON reader (RFC 8259 minus \u escapes, which the vector files do not use).
// Anything malformed throws std::runtime_error, which GoogleTest reports as a failure.

struct Json {
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };
  Kind kind = Kind::kNull;
  std::string text;               // string value or literal (number, true, false)
  std::vector<Json> items;        // array elements
  std::vector<std::string> keys;  // object member names, in file order
  std::vector<Json> values;       // object member values (same order)

  const Json& At(std::string_view key) const {
    if (kind != Kind::kObject)
      throw std::runtime_error("JSON: looked up \"" + std::string(key) + "\" in a non-object");
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (keys[i] == key) return values[i];
    }
    throw std::runtime_error("JSON: missing member \"" + std::string(key) + "\"");
  }
  const std::string& Str(std::string_view key) const {
    const Json& v = At(key);
    if (v.kind != Kind::kString)
      throw std::runtime_error("JSON: member \"" + std::string(key) + "\" is not a string");
    return v.text;
  }
  const std::vector<Json>& Arr(std::string_view key) const {
    const Json& v = At(key);
    if (v.kind != Kind::kArray)
      throw std::runtime_error("JSON: member \"" + std::string(key) + "\" is not an array");
    return v.items;
  }
};

class JsonReader {
 public:
  static Json Parse(std::string_view text) {
    JsonReader r(text);
    Json v = r.Value(0);
    r.SkipSpace();
    if (r.pos_ != text.size()) r.Error("trailing characters");
    return v;
  }

 private:
  explicit JsonReader(std::string_view s) : s_(s) {}

  [[noreturn]] void Error(const std::string& what) const {
    throw std::runtime_error("JSON: " + what + " at offset " + std::to_string(pos_));
  }
  void SkipSpace() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\r' || s_[pos_] == '\t'))
      ++pos_;
  }
  char Peek() {
    SkipSpace();
    if (pos_ >= s_.size()) Error("unexpected end");
    return s_[pos_];
  }
  void Expect(char c) {
    if (Peek() != c) Error(std::string("expected '") + c + "'");
    ++pos_;
  }

  Json Value(int depth) {
    if (depth > 32) Error("nesting too deep");
    Json v;
    const char c = Peek();
    if (c == '{') {  // members separated by commas, no trailing comma
      v.kind = Json::Kind::kObject;
      ++pos_;
      for (bool first = true; Peek() != '}'; first = false) {
        if (!first) Expect(',');
        std::string key = String();
        Expect(':');
        v.keys.push_back(std::move(key));
        v.values.push_back(Value(depth + 1));
      }
      ++pos_;
      return v;
    }
    if (c == '[') {
      v.kind = Json::Kind::kArray;
      ++pos_;
      for (bool first = true; Peek() != ']'; first = false) {
        if (!first) Expect(',');
        v.items.push_back(Value(depth + 1));
      }
      ++pos_;
      return v;
    }
    if (c == '"') {
      v.kind = Json::Kind::kString;
      v.text = String();
      return v;
    }
    for (std::string_view lit : {"true", "false", "null"}) {
      if (s_.substr(pos_, lit.size()) == lit) {
        v.kind = lit == "null" ? Json::Kind::kNull : Json::Kind::kBool;
        v.text = lit;
        pos_ += lit.size();
        return v;
      }
    }
    // Number: -?digits(.digits)?([eE][+-]?digits)?
    const std::size_t start = pos_;
    auto digits = [&] {
      const std::size_t from = pos_;
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
      if (pos_ == from) Error("malformed number");
    };
    if (s_[pos_] == '-') ++pos_;
    digits();
    if (pos_ < s_.size() && s_[pos_] == '.') ++pos_, digits();
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      digits();
    }
    v.kind = Json::Kind::kNumber;
    v.text = s_.substr(start, pos_ - start);
    return v;
  }

  std::string String() {
    Expect('"');
    std::string out;
    for (;;) {
      if (pos_ >= s_.size()) Error("unterminated string");
      const char c = s_[pos_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) Error("control character in string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= s_.size()) Error("unterminated escape");
      static constexpr std::string_view kEscaped = "\"\\/bfnrt", kMeaning = "\"\\/\b\f\n\r\t";
      const std::size_t k = kEscaped.find(s_[pos_++]);
      if (k == std::string_view::npos) Error("unsupported escape");
      out += kMeaning[k];
    }
  }

  std::string_view s_;
  std::size_t pos_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Vector files.

std::filesystem::path KatDir() {
  const char* env = std::getenv("CIPHERCHART_SHARED_DATA");
  const std::filesystem::path root = (env != nullptr && *env != '\0') ? env : CIPHERCHART_SHARED_DATA;
  return root / "kat" / "hash_to_curve";
}

// Reads and parses one vector file; a missing folder or file is a fatal failure, never a skip.
void LoadVectors(const std::string& name, Json* out) {
  const std::filesystem::path dir = KatDir();
  if (!std::filesystem::is_directory(dir)) {
    FAIL() << "RFC 9380 vector folder " << dir
           << " is missing: the shared data folder (CIPHERCHART_SHARED_DATA) must be present for these tests";
  }
  const std::filesystem::path file = dir / name;
  std::ifstream in(file, std::ios::binary);
  if (!in) FAIL() << "cannot read vector file " << file;
  std::stringstream buf;
  buf << in.rdbuf();
  *out = JsonReader::Parse(buf.str());
}

using testing::ToHex;

std::string Fp2Hex(const Fp2& a) { return a.c0.ToHex() + "," + a.c1.ToHex(); }

// The affine coordinates of p as the vector files write them.
template <class Point>
std::pair<std::string, std::string> AffineHex(const Point& p) {
  const auto a = p.ToAffine();
  if (a.infinity) return {"infinity", "infinity"};
  if constexpr (std::is_same_v<typename Point::Field, Fp>) {
    return {a.x.ToHex(), a.y.ToHex()};
  } else {
    return {Fp2Hex(a.x), Fp2Hex(a.y)};
  }
}

template <class Point>
void ExpectPoint(const Point& p, const Json& expected, const char* what) {
  const auto [x, y] = AffineHex(p);
  EXPECT_EQ(x, expected.Str("x")) << what << ".x";
  EXPECT_EQ(y, expected.Str("y")) << what << ".y";
}

// ---------------------------------------------------------------------------------------------
// Known answers: expand_message_xmd (RFC 9380 Appendices K.1 and K.2).

void CheckExpandFile(const std::string& name, std::size_t* checked) {
  Json doc;
  ASSERT_NO_FATAL_FAILURE(LoadVectors(name, &doc));
  ASSERT_EQ(doc.Str("name"), "expand_message_xmd");
  ASSERT_EQ(doc.Str("hash"), "SHA256");
  const std::string& dst = doc.Str("DST");
  const auto& tests = doc.Arr("tests");
  ASSERT_FALSE(tests.empty()) << name;
  for (const Json& t : tests) {
    const std::string& msg = t.Str("msg");
    const std::size_t len = std::stoul(t.Str("len_in_bytes"), nullptr, 16);
    SCOPED_TRACE(name + ": msg of " + std::to_string(msg.size()) + " bytes, len_in_bytes " +
                 std::to_string(len));
    auto out = ExpandMessageXmd(AsBytes(msg), AsBytes(dst), len);
    ASSERT_TRUE(out.has_value()) << out.error().ToString();
    EXPECT_EQ(ToHex(*out), t.Str("uniform_bytes"));
    ++*checked;
  }
}

TEST(HashToCurveKat, ExpandMessageXmd) {
  std::size_t checked = 0;
  // The long-DST file exercises section 5.3.3; the short one is checked when present.
  ASSERT_NO_FATAL_FAILURE(CheckExpandFile("expand_message_xmd_SHA256_256.json", &checked));
  if (std::filesystem::exists(KatDir() / "expand_message_xmd_SHA256_38.json")) {
    ASSERT_NO_FATAL_FAILURE(CheckExpandFile("expand_message_xmd_SHA256_38.json", &checked));
  }
  ::testing::Test::RecordProperty("vectors", static_cast<int>(checked));
}

// ---------------------------------------------------------------------------------------------
// Known answers: the four suites (RFC 9380 Appendices J.9 and J.10).

Fp ParseFp(const std::string& s) { return Fp::FromHex(s); }
Fp2 ParseFp2(const std::string& s) {
  const auto comma = s.find(',');
  if (comma == std::string::npos) throw std::runtime_error("Fp2 value without a comma: " + s);
  return {Fp::FromHex(s.substr(0, comma)), Fp::FromHex(s.substr(comma + 1))};
}

struct G1Suite {
  using Point = G1;
  using Field = Fp;
  static Field Parse(const std::string& s) { return ParseFp(s); }
  static std::string Hex(const Field& f) { return f.ToHex(); }
  static Result<std::vector<Field>> HashToField(std::span<const std::uint8_t> m,
                                                std::span<const std::uint8_t> d, std::size_t n) {
    return HashToFieldFp(m, d, n);
  }
  static Point Map(const Field& u) { return MapToCurveG1(u); }
  static Result<Point> Hash(std::span<const std::uint8_t> m, std::span<const std::uint8_t> d) {
    return HashToG1(m, d);
  }
  static Result<Point> Encode(std::span<const std::uint8_t> m, std::span<const std::uint8_t> d) {
    return EncodeToG1(m, d);
  }
};

struct G2Suite {
  using Point = G2;
  using Field = Fp2;
  static Field Parse(const std::string& s) { return ParseFp2(s); }
  static std::string Hex(const Field& f) { return Fp2Hex(f); }
  static Result<std::vector<Field>> HashToField(std::span<const std::uint8_t> m,
                                                std::span<const std::uint8_t> d, std::size_t n) {
    return HashToFieldFp2(m, d, n);
  }
  static Point Map(const Field& u) { return MapToCurveG2(u); }
  static Result<Point> Hash(std::span<const std::uint8_t> m, std::span<const std::uint8_t> d) {
    return HashToG2(m, d);
  }
  static Result<Point> Encode(std::span<const std::uint8_t> m, std::span<const std::uint8_t> d) {
    return EncodeToG2(m, d);
  }
};

// Checks u = hash_to_field(msg), each Q = map_to_curve(u) and P = hash_to_curve(msg) or
// encode_to_curve(msg) for every vector of one suite file.
template <class Suite>
void CheckSuiteFile(const std::string& name, bool random_oracle) {
  Json doc;
  ASSERT_NO_FATAL_FAILURE(LoadVectors(name, &doc));
  ASSERT_EQ(doc.At("randomOracle").text, random_oracle ? "true" : "false") << name;
  const std::string& dst = doc.Str("dst");
  const auto& vectors = doc.Arr("vectors");
  ASSERT_FALSE(vectors.empty()) << name;
  const std::size_t count = random_oracle ? 2 : 1;
  for (const Json& v : vectors) {
    const std::string& msg = v.Str("msg");
    SCOPED_TRACE(name + ": msg \"" + msg.substr(0, 20) + (msg.size() > 20 ? "...\"" : "\""));
    // hash_to_field
    const auto& u_hex = v.Arr("u");
    ASSERT_EQ(u_hex.size(), count);
    auto u = Suite::HashToField(AsBytes(msg), AsBytes(dst), count);
    ASSERT_TRUE(u.has_value()) << u.error().ToString();
    ASSERT_EQ(u->size(), count);
    for (std::size_t i = 0; i < count; ++i) {
      if (u_hex[i].kind != Json::Kind::kString) throw std::runtime_error("u[i] is not a string");
      EXPECT_EQ(Suite::Hex((*u)[i]), u_hex[i].text) << "u[" << i << "]";
    }
    // map_to_curve of the file's own u values (so a hash_to_field bug does not hide a map bug)
    if (random_oracle) {
      ExpectPoint(Suite::Map(Suite::Parse(u_hex[0].text)), v.At("Q0"), "Q0");
      ExpectPoint(Suite::Map(Suite::Parse(u_hex[1].text)), v.At("Q1"), "Q1");
    } else {
      ExpectPoint(Suite::Map(Suite::Parse(u_hex[0].text)), v.At("Q"), "Q");
    }
    // the whole encoding
    auto p =
        random_oracle ? Suite::Hash(AsBytes(msg), AsBytes(dst)) : Suite::Encode(AsBytes(msg), AsBytes(dst));
    ASSERT_TRUE(p.has_value()) << p.error().ToString();
    ExpectPoint(*p, v.At("P"), "P");
  }
  ::testing::Test::RecordProperty("vectors", static_cast<int>(vectors.size()));
}

TEST(HashToCurveKat, G1RandomOracle) { CheckSuiteFile<G1Suite>("BLS12381G1_XMD_SHA256_SSWU_RO_.json", true); }
TEST(HashToCurveKat, G1Nonuniform) { CheckSuiteFile<G1Suite>("BLS12381G1_XMD_SHA256_SSWU_NU_.json", false); }
TEST(HashToCurveKat, G2RandomOracle) { CheckSuiteFile<G2Suite>("BLS12381G2_XMD_SHA256_SSWU_RO_.json", true); }
TEST(HashToCurveKat, G2Nonuniform) { CheckSuiteFile<G2Suite>("BLS12381G2_XMD_SHA256_SSWU_NU_.json", false); }

// ---------------------------------------------------------------------------------------------
// Properties on many inputs (deterministic pseudo-random, so a failure reproduces).

std::vector<std::uint8_t> RandomMessage(std::mt19937_64& rng) {
  std::vector<std::uint8_t> m(rng() % 200);
  for (auto& b : m) b = static_cast<std::uint8_t>(rng());
  return m;
}

Fp RandomFp(std::mt19937_64& rng) {
  std::array<std::uint8_t, 64> wide;
  for (auto& b : wide) b = static_cast<std::uint8_t>(rng());
  return Fp::FromBytesWide(wide);
}

constexpr std::string_view kTestDst = "CIPHERCHART-V01-TEST-with-BLS12381_XMD:SHA-256_SSWU_RO_";

TEST(HashToCurveProperties, G1OutputsAreInTheSubgroup) {
  std::mt19937_64 rng(1);
  for (int i = 0; i < 300; ++i) {
    const auto msg = RandomMessage(rng);
    auto p = HashToG1(msg, AsBytes(kTestDst));
    auto q = EncodeToG1(msg, AsBytes(kTestDst));
    ASSERT_TRUE(p.has_value() && q.has_value());
    ASSERT_TRUE(p->IsOnCurve() && p->IsInSubgroup() && !p->IsIdentity()) << "message " << i;
    ASSERT_TRUE(q->IsOnCurve() && q->IsInSubgroup() && !q->IsIdentity()) << "message " << i;
  }
}

TEST(HashToCurveProperties, G2OutputsAreInTheSubgroup) {
  std::mt19937_64 rng(2);
  for (int i = 0; i < 300; ++i) {
    const auto msg = RandomMessage(rng);
    auto p = HashToG2(msg, AsBytes(kTestDst));
    auto q = EncodeToG2(msg, AsBytes(kTestDst));
    ASSERT_TRUE(p.has_value() && q.has_value());
    ASSERT_TRUE(p->IsOnCurve() && p->IsInSubgroup() && !p->IsIdentity()) << "message " << i;
    ASSERT_TRUE(q->IsOnCurve() && q->IsInSubgroup() && !q->IsIdentity()) << "message " << i;
  }
}

TEST(HashToCurveProperties, MapToCurveG1IsOnTheCurve) {
  std::mt19937_64 rng(3);
  // Special inputs first: u = 0 takes the exceptional branch of the map (tv2 = 0).
  std::vector<Fp> inputs = {Fp::Zero(), Fp::One(), -Fp::One(), Fp::FromU64(11)};
  for (int i = 0; i < 300; ++i) inputs.push_back(RandomFp(rng));
  for (const Fp& u : inputs) {
    const G1 q = MapToCurveG1(u);
    ASSERT_TRUE(q.IsOnCurve()) << "u = " << u.ToHex();
    // u and -u map to points with the same x and opposite y (the sign of y follows sgn0(u)).
    if (!u.IsZero()) {
      EXPECT_EQ(MapToCurveG1(-u), -q) << "u = " << u.ToHex();
    }
  }
}

TEST(HashToCurveProperties, MapToCurveG2IsOnTheCurve) {
  std::mt19937_64 rng(4);
  std::vector<Fp2> inputs = {Fp2::Zero(), Fp2::One(), -Fp2::One(), Fp2{Fp::Zero(), Fp::One()}};
  for (int i = 0; i < 300; ++i) {
    // Elements of Fp, of Fp * I and general ones: the first two reach the sqrt_ratio cases
    // where one coordinate of the radicand vanishes.
    const Fp a = RandomFp(rng);
    inputs.push_back(i % 3 == 0   ? Fp2{a, Fp::Zero()}
                     : i % 3 == 1 ? Fp2{Fp::Zero(), a}
                                  : Fp2{a, RandomFp(rng)});
  }
  for (const Fp2& u : inputs) {
    const G2 q = MapToCurveG2(u);
    ASSERT_TRUE(q.IsOnCurve()) << "u = " << Fp2Hex(u);
    if (!u.IsZero()) {
      EXPECT_EQ(MapToCurveG2(-u), -q) << "u = " << Fp2Hex(u);
    }
  }
}

TEST(HashToCurveProperties, ClearCofactorG1IsMultiplicationByHeff) {
  std::mt19937_64 rng(5);
  const std::array<u64, 4> h_eff = {0xd201000000010001ULL, 0, 0, 0};  // RFC 9380, 8.8.1
  for (int i = 0; i < 20; ++i) {
    const G1 q = MapToCurveG1(RandomFp(rng));
    const G1 p = ClearCofactorG1(q);
    EXPECT_EQ(p, q.MulVartime(h_eff));
    EXPECT_TRUE(p.IsInSubgroup());
  }
}

// Points of small order, whose multiples meet the exceptional cases of the addition law inside
// the multiplication by x (the running multiple k P equals -P or P).
TEST(HashToCurveProperties, ClearCofactorG1OnSmallOrderPoints) {
  const std::array<u64, 4> h_eff = {0xd201000000010001ULL, 0, 0, 0};
  // (0, 2) is a point of order 3 of y^2 = x^3 + 4.
  const G1 p3 = G1::FromAffineUnchecked(Fp::Zero(), Fp::FromU64(2));
  ASSERT_TRUE(p3.IsOnCurve());
  ASSERT_TRUE(p3.MulVartime(std::array<u64, 4>{3, 0, 0, 0}).IsIdentity());
  EXPECT_EQ(ClearCofactorG1(p3), p3.MulVartime(h_eff));
  // A point of order 11. #E1 = h1 r with h1 = (x - 1)^2 / 3 = 3 * 11^2 * ..., so (#E1 / 121) R
  // has order dividing 121 (11 if E1[11] lies in E1(Fp)); one more factor 11 if need be.
  constexpr detail::Limbs<1> kOneMinusX = {0xd201000000010001ULL};
  constexpr auto kH1 = detail::DivSmall(detail::MulPlain(kOneMinusX, kOneMinusX), 3);
  constexpr auto kOrder = detail::MulPlain(detail::Limbs<4>{kH1[0], kH1[1], 0, 0}, Fr::kModulus);
  constexpr auto kCofactor121 = detail::DivSmall(kOrder, 121);
  static_assert(kCofactor121[6] == 0 && kCofactor121[7] == 0);
  std::array<u64, 6> n{};
  std::copy(kCofactor121.begin(), kCofactor121.begin() + 6, n.begin());
  const std::array<u64, 4> eleven = {11, 0, 0, 0};
  G1 p11;
  for (u64 i = 1; p11.IsIdentity(); ++i) {
    ASSERT_LT(i, 50u);
    p11 = MapToCurveG1(Fp::FromU64(i)).MulVartime(n);
    if (!p11.MulVartime(eleven).IsIdentity()) p11 = p11.MulVartime(eleven);
  }
  ASSERT_TRUE(p11.MulVartime(eleven).IsIdentity());
  EXPECT_EQ(ClearCofactorG1(p11), p11.MulVartime(h_eff));
  const G1 p33 = p11 + p3;
  EXPECT_EQ(ClearCofactorG1(p33), p33.MulVartime(h_eff));
  EXPECT_TRUE(ClearCofactorG1(G1::Identity()).IsIdentity());
  EXPECT_TRUE(ClearCofactorG2(G2::Identity()).IsIdentity());
}

TEST(HashToCurveProperties, ClearCofactorG2IsMultiplicationByHeff) {
  // h_eff of RFC 9380, 8.8.2 (636 bits), split as hi * 2^384 + lo.
  constexpr auto h = detail::LimbsFromHex<12>(
      "bc69f08f2ee75b3584c6a0ea91b352888e2a8e9145ad7689986ff031508ffe1329c2f178731db956d82bf015d1212b02ec0ec6"
      "9d7477c1"
      "ae954cbc06689f6a359894c0adebbf6b4e8020005aaa95551");
  std::array<u64, 6> lo{}, hi{};
  std::copy(h.begin(), h.begin() + 6, lo.begin());
  std::copy(h.begin() + 6, h.end(), hi.begin());
  std::mt19937_64 rng(6);
  for (int i = 0; i < 5; ++i) {
    const G2 q = MapToCurveG2({RandomFp(rng), RandomFp(rng)});
    G2 expected = q.MulVartime(hi);
    for (int j = 0; j < 384; ++j) expected = expected.Double();
    expected += q.MulVartime(lo);
    const G2 p = ClearCofactorG2(q);
    EXPECT_EQ(p, expected);
    EXPECT_TRUE(p.IsInSubgroup());
  }
}

// ---------------------------------------------------------------------------------------------
// Errors and limits.

TEST(HashToCurveErrors, EmptyDstIsRejected) {
  const std::span<const std::uint8_t> empty;
  const auto msg = AsBytes("abc");
  auto is_invalid = [](const auto& r) {
    return !r.has_value() && r.error().code() == ErrorCode::kInvalidArgument;
  };
  EXPECT_TRUE(is_invalid(ExpandMessageXmd(msg, empty, 32)));
  EXPECT_TRUE(is_invalid(HashToFieldFp(msg, empty, 2)));
  EXPECT_TRUE(is_invalid(HashToFieldFp2(msg, empty, 2)));
  EXPECT_TRUE(is_invalid(HashToG1(msg, empty)));
  EXPECT_TRUE(is_invalid(HashToG2(msg, empty)));
  EXPECT_TRUE(is_invalid(EncodeToG1(msg, empty)));
  EXPECT_TRUE(is_invalid(EncodeToG2(msg, empty)));
}

TEST(HashToCurveErrors, OutputLengthLimits) {
  const auto msg = AsBytes("abc");
  const auto dst = AsBytes(kTestDst);
  auto code = [](const auto& r) {
    return r.has_value() ? std::string("ok") : std::string(ErrorCodeName(r.error().code()));
  };
  // ell = ceil(len / 32) must be at most 255, so 8160 bytes is the largest output...
  auto max = ExpandMessageXmd(msg, dst, 255 * 32);
  ASSERT_TRUE(max.has_value());
  EXPECT_EQ(max->size(), 255u * 32u);
  EXPECT_EQ(code(ExpandMessageXmd(msg, dst, 255 * 32 + 1)), "invalid_argument");
  // ...and len_in_bytes itself must fit in two bytes.
  EXPECT_EQ(code(ExpandMessageXmd(msg, dst, 65536)), "invalid_argument");
  EXPECT_EQ(code(ExpandMessageXmd(msg, dst, std::size_t(1) << 40)), "invalid_argument");
  // Any smaller length is fine, down to a single byte.
  auto small = ExpandMessageXmd(msg, dst, 1);
  ASSERT_TRUE(small.has_value());
  EXPECT_EQ(small->size(), 1u);
  // hash_to_field: count * m * 64 bytes.
  EXPECT_EQ(code(HashToFieldFp(msg, dst, 127)), "ok");
  EXPECT_EQ(code(HashToFieldFp(msg, dst, 128)), "invalid_argument");
  EXPECT_EQ(code(HashToFieldFp2(msg, dst, 63)), "ok");
  EXPECT_EQ(code(HashToFieldFp2(msg, dst, 64)), "invalid_argument");
  EXPECT_EQ(code(HashToFieldFp2(msg, dst, ~std::size_t(0))), "invalid_argument");
}

// Section 5.3.3: a DST of more than 255 bytes is replaced by H("H2C-OVERSIZE-DST-" || DST);
// one of 255 bytes is used as it is.
TEST(HashToCurveErrors, OversizeDstIsHashed) {
  auto sha256 = [](std::string_view data) {
    std::array<std::uint8_t, 32> out{};
    unsigned int n = 0;
    EXPECT_EQ(EVP_Digest(data.data(), data.size(), out.data(), &n, EVP_sha256(), nullptr), 1);
    return out;
  };
  const auto msg = AsBytes("message");
  for (std::size_t len : {255u, 256u, 1000u}) {
    const std::string dst(len, 'D');
    const auto hashed = sha256("H2C-OVERSIZE-DST-" + dst);
    auto direct = ExpandMessageXmd(msg, AsBytes(dst), 96);
    auto via_hash = ExpandMessageXmd(msg, hashed, 96);
    ASSERT_TRUE(direct.has_value() && via_hash.has_value());
    if (len > 255) {
      EXPECT_EQ(*direct, *via_hash) << "DST of " << len << " bytes";
    } else {
      EXPECT_NE(*direct, *via_hash) << "DST of " << len << " bytes";
    }
    EXPECT_TRUE(HashToG1(msg, AsBytes(dst)).has_value());
  }
}

}  // namespace
}  // namespace cipherchart::pairing
