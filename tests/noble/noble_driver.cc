// Our side of the differential test against @noble/curves (see check.mjs and run.sh).
//
//   noble_driver cases SEED N   generate N random cases per category from SEED, compute our
//                               results, print one JSON object per line (inputs and our outputs
//                               in hex) for check.mjs to recompute with noble and compare.
//   noble_driver decode         read lines "g1 HEX" / "g2 HEX" (compressed encodings made by
//                               noble, see `check.mjs gen`), decode each with our library and
//                               print a JSON line with our re-encodings (or our error).
//
// Every line carries "t" (the category) and "id" (its index), so a mismatch names its input.
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cipherchart/common/error.h"
#include "cipherchart/pairing/curve.h"
#include "cipherchart/pairing/field.h"
#include "cipherchart/pairing/gt.h"
#include "cipherchart/pairing/hash_to_curve.h"
#include "cipherchart/pairing/pairing.h"

namespace {

using namespace cipherchart;
using namespace cipherchart::pairing;

constexpr std::string_view kDstG1 = "QUUX-V01-CS02-with-BLS12381G1_XMD:SHA-256_SSWU_RO_";
constexpr std::string_view kDstG2 = "QUUX-V01-CS02-with-BLS12381G2_XMD:SHA-256_SSWU_RO_";
constexpr std::string_view kDstG1Nu = "QUUX-V01-CS02-with-BLS12381G1_XMD:SHA-256_SSWU_NU_";
constexpr std::string_view kDstG2Nu = "QUUX-V01-CS02-with-BLS12381G2_XMD:SHA-256_SSWU_NU_";

std::string Hex(std::span<const std::uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (std::uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

bool FromHex(std::string_view hex, std::vector<std::uint8_t>& out) {
  if (hex.size() % 2 != 0) return false;
  out.clear();
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out.push_back(static_cast<std::uint8_t>(hi << 4 | lo));
  }
  return true;
}

[[noreturn]] void Die(const std::string& what) {
  std::cerr << "noble_driver: " << what << "\n";
  std::exit(2);
}

template <class T>
T Must(Result<T> r, std::string_view what) {
  if (!r) Die(std::string(what) + ": " + r.error().ToString());
  return std::move(*r);
}

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : gen_(seed) {}
  std::uint64_t Next() { return gen_(); }
  std::uint64_t Below(std::uint64_t n) { return Next() % n; }  // bias irrelevant here
  std::vector<std::uint8_t> Bytes(std::size_t n) {
    std::vector<std::uint8_t> out(n);
    for (auto& b : out) b = static_cast<std::uint8_t>(Next());
    return out;
  }

 private:
  std::mt19937_64 gen_;
};

// Scalar number i of a category: a few edge cases first, then uniform scalars (64 random bytes
// reduced mod r), with every 8th one short (8..31 bytes) so that scalars of small bit length
// and leading zero windows are exercised as well.
Fr Scalar(Rng& rng, int i, bool allow_zero) {
  const Fr minus_one = -Fr::One();
  switch (i) {
    case 0:
      return allow_zero ? Fr::Zero() : Fr::FromU64(3);
    case 1:
      return Fr::One();
    case 2:
      return Fr::FromU64(2);
    case 3:
      return minus_one;
    case 4:
      return minus_one - Fr::One();
    case 5:
      return Fr::FromU64(kBlsX);  // |x|, the Miller loop length
    default:
      break;
  }
  if (i % 8 == 7) return Fr::FromBytesWide(rng.Bytes(8 + rng.Below(24)));
  for (;;) {
    const Fr k = Fr::FromBytesWide(rng.Bytes(64));
    if (allow_zero || !k.IsZero()) return k;
  }
}

std::vector<std::uint8_t> Message(Rng& rng, int i) {
  if (i == 0) return {};
  return rng.Bytes(rng.Below(201));  // 0..200 bytes
}

// DST for hash case i: mostly the suite's RFC 9380 test DST; every 10th a random one of 1..300
// bytes (over 255 bytes exercises the oversize-DST rule of RFC 9380 section 5.3.3).
std::vector<std::uint8_t> Dst(Rng& rng, int i, std::string_view standard) {
  if (i % 10 == 9) return rng.Bytes(1 + rng.Below(300));
  return {standard.begin(), standard.end()};
}

struct Line {
  std::string s = "{";
  Line& Add(std::string_view key, std::string_view value) {
    if (s.size() > 1) s += ',';
    s += '"';
    s += key;
    s += "\":\"";
    s += value;
    s += '"';
    return *this;
  }
  Line& Add(std::string_view key, int value) {
    if (s.size() > 1) s += ',';
    s += '"';
    s += key;
    s += "\":";
    s += std::to_string(value);
    return *this;
  }
  void Print() {
    s += "}\n";
    std::fwrite(s.data(), 1, s.size(), stdout);
  }
};

int Cases(std::uint64_t seed, int n) {
  const G1 g1 = G1::Generator();
  const G2 g2 = G2::Generator();
  const FixedBaseTable<G1> g1_table(g1);
  const FixedBaseTable<G2> g2_table(g2);

  // Each category has its own stream so that changing N for one does not shift the others.
  std::uint64_t stream = 0;
  auto rng_for = [&](std::uint64_t& s) { return Rng(seed * 0x9e3779b97f4a7c15ULL + ++s); };

  {  // 1. k * G1 (constant-time, variable-time and fixed-base paths) and k * P for random P.
    Rng rng = rng_for(stream);
    for (int i = 0; i < n; ++i) {
      const Fr k = Scalar(rng, i, true);
      Line()
          .Add("t", "g1gen")
          .Add("id", i)
          .Add("k", Hex(FrToBytes(k)))
          .Add("out", Hex(G1Compress(g1.Mul(k))))
          .Add("out_vt", Hex(G1Compress(g1.MulVartime(k))))
          .Add("out_fb", Hex(G1Compress(g1_table.Mul(k))))
          .Print();
    }
    for (int i = 0; i < n; ++i) {
      const G1 p = g1.Mul(Scalar(rng, 100, false));
      const Fr k = Scalar(rng, i, true);
      Line()
          .Add("t", "g1mul")
          .Add("id", i)
          .Add("p", Hex(G1Compress(p)))
          .Add("k", Hex(FrToBytes(k)))
          .Add("out", Hex(G1Compress(p.Mul(k))))
          .Add("out_vt", Hex(G1Compress(p.MulVartime(k))))
          .Print();
    }
  }
  {  // 2. The same on G2.
    Rng rng = rng_for(stream);
    for (int i = 0; i < n; ++i) {
      const Fr k = Scalar(rng, i, true);
      Line()
          .Add("t", "g2gen")
          .Add("id", i)
          .Add("k", Hex(FrToBytes(k)))
          .Add("out", Hex(G2Compress(g2.Mul(k))))
          .Add("out_vt", Hex(G2Compress(g2.MulVartime(k))))
          .Add("out_fb", Hex(G2Compress(g2_table.Mul(k))))
          .Print();
    }
    for (int i = 0; i < n; ++i) {
      const G2 p = g2.Mul(Scalar(rng, 100, false));
      const Fr k = Scalar(rng, i, true);
      Line()
          .Add("t", "g2mul")
          .Add("id", i)
          .Add("p", Hex(G2Compress(p)))
          .Add("k", Hex(FrToBytes(k)))
          .Add("out", Hex(G2Compress(p.Mul(k))))
          .Add("out_vt", Hex(G2Compress(p.MulVartime(k))))
          .Print();
    }
  }
  {  // 3. Hash to curve (RO), plus the NU encodings.
    Rng rng = rng_for(stream);
    for (int i = 0; i < n; ++i) {
      const auto msg = Message(rng, i);
      const auto dst = Dst(rng, i, kDstG1);
      Line()
          .Add("t", "h2g1")
          .Add("id", i)
          .Add("msg", Hex(msg))
          .Add("dst", Hex(dst))
          .Add("out", Hex(G1Compress(Must(HashToG1(msg, dst), "HashToG1"))))
          .Print();
    }
    for (int i = 0; i < n; ++i) {
      const auto msg = Message(rng, i);
      const auto dst = Dst(rng, i, kDstG2);
      Line()
          .Add("t", "h2g2")
          .Add("id", i)
          .Add("msg", Hex(msg))
          .Add("dst", Hex(dst))
          .Add("out", Hex(G2Compress(Must(HashToG2(msg, dst), "HashToG2"))))
          .Print();
    }
    for (int i = 0; i < n / 4; ++i) {
      const auto msg = Message(rng, i);
      const auto dst = Dst(rng, i, kDstG1Nu);
      Line()
          .Add("t", "e2g1")
          .Add("id", i)
          .Add("msg", Hex(msg))
          .Add("dst", Hex(dst))
          .Add("out", Hex(G1Compress(Must(EncodeToG1(msg, dst), "EncodeToG1"))))
          .Print();
    }
    for (int i = 0; i < n / 4; ++i) {
      const auto msg = Message(rng, i);
      const auto dst = Dst(rng, i, kDstG2Nu);
      Line()
          .Add("t", "e2g2")
          .Add("id", i)
          .Add("msg", Hex(msg))
          .Add("dst", Hex(dst))
          .Add("out", Hex(G2Compress(Must(EncodeToG2(msg, dst), "EncodeToG2"))))
          .Print();
    }
  }
  {  // 4. e(a G1, b G2). noble refuses the identity, so a, b != 0.
    Rng rng = rng_for(stream);
    for (int i = 0; i < n; ++i) {
      const Fr a = Scalar(rng, i, false);
      const Fr b = Scalar(rng, i + 1, false);
      Line()
          .Add("t", "pair")
          .Add("id", i)
          .Add("a", Hex(FrToBytes(a)))
          .Add("b", Hex(FrToBytes(b)))
          .Add("out", Hex(Pairing(g1.Mul(a), g2.Mul(b)).ToBytes()))
          .Print();
    }
  }
  std::fflush(stdout);
  return std::ferror(stdout) ? 1 : 0;
}

// 5. Decompression of noble's encodings. On success we print our compressed and uncompressed
// re-encodings (check.mjs compares them with noble's); on failure our error code.
int Decode() {
  std::string line;
  std::vector<std::uint8_t> bytes;
  int n1 = 0, n2 = 0;
  while (std::getline(std::cin, line)) {
    if (line.empty()) continue;
    const bool is_g1 = line.starts_with("g1 ");
    const bool is_g2 = line.starts_with("g2 ");
    const bool junk = line.starts_with("j1 ") || line.starts_with("j2 ");
    if (!(is_g1 || is_g2 || junk)) Die("decode: bad input line: " + line);
    const bool g1 = is_g1 || line.starts_with("j1 ");
    const std::string_view hex = std::string_view(line).substr(3);
    if (!FromHex(hex, bytes)) Die("decode: bad hex: " + line);
    Line out;
    out.Add("t", std::string(junk ? "junk" : "dec") + (g1 ? "1" : "2"))
        .Add("id", g1 ? n1++ : n2++)
        .Add("in", hex);
    if (g1) {
      const auto p = G1Decompress(bytes);
      if (p) {
        out.Add("out_c", Hex(G1Compress(*p))).Add("out_u", Hex(G1Serialize(*p)));
      } else {
        out.Add("err", ErrorCodeName(p.error().code()));
      }
    } else {
      const auto p = G2Decompress(bytes);
      if (p) {
        out.Add("out_c", Hex(G2Compress(*p))).Add("out_u", Hex(G2Serialize(*p)));
      } else {
        out.Add("err", ErrorCodeName(p.error().code()));
      }
    }
    out.Print();
  }
  std::fflush(stdout);
  return std::ferror(stdout) ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string_view mode = argc > 1 ? argv[1] : "";
  if (mode == "cases" && argc == 4) {
    char* end = nullptr;
    const std::uint64_t seed = std::strtoull(argv[2], &end, 10);
    if (*end != '\0') Die("seed must be a decimal integer");
    const int n = std::atoi(argv[3]);
    if (n < 8) Die("count must be at least 8");
    return Cases(seed, n);
  }
  if (mode == "decode" && argc == 2) return Decode();
  std::cerr << "usage: noble_driver cases SEED N | noble_driver decode < lines\n";
  return 2;
}
