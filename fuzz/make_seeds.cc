// fuzz_make_seeds DIR: writes a small seed corpus for every fuzz target into DIR/<target>/
// (valid encodings of a few points, scalars and GT elements, well-formed hash-to-curve inputs,
// FAME objects, authority certificates and chains, keystore plaintexts, envelopes, server
// requests), so that the fuzzers start from inputs that pass the decoders' cheap checks. The
// corpus is generated at run time by scripts/fuzz-smoke and never committed.
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "abe_seeds.h"
#include "cipherchart/pairing/curve.h"
#include "cipherchart/pairing/gt.h"
#include "cipherchart/pairing/pairing.h"
#include "envelope_seeds.h"
#include "fame_kp_seeds.h"
#include "maabe_seeds.h"
#include "seed_writer.h"
#include "server_seeds.h"

namespace {

using namespace cipherchart::pairing;
using cipherchart::fuzz::SeedWriter;
namespace fs = std::filesystem;

std::vector<std::uint8_t> Concat(std::initializer_list<std::span<const std::uint8_t>> parts) {
  std::vector<std::uint8_t> out;
  for (auto p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// A point on the curve outside the prime-order subgroup: the first x = 1, 2, ... that the
// unchecked decoder accepts and the checked one rejects.
template <class Point, std::size_t N>
std::array<std::uint8_t, N> NonSubgroupEncoding(
    cipherchart::Result<Point> (*unchecked)(std::span<const std::uint8_t>)) {
  for (std::uint8_t x = 1;; ++x) {
    std::array<std::uint8_t, N> enc{};
    enc[0] = 0x80;
    enc[N - 1] = x;  // for G2 this is c0 = x, c1 = 0
    auto p = unchecked(enc);
    if (p && !p->IsInSubgroup()) return enc;
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz_make_seeds DIR\n");
    return 2;
  }
  const fs::path root = argv[1];
  const Fr two = Fr::FromU64(2),
           big = Fr::FromHex("0x1234567890abcdef1234567890abcdef1234567890abcdef1234567890abcdef");

  {
    SeedWriter w(root, "fuzz_g1_decode");
    for (const G1& p :
         {G1::Generator(), G1::Generator().Mul(two), G1::Generator().Mul(big), G1::Identity()}) {
      w.Add(G1Compress(p));
      w.Add(G1Serialize(p));
    }
    w.Add(NonSubgroupEncoding<G1, kG1CompressedSize>(G1DecompressUnchecked));
  }
  {
    SeedWriter w(root, "fuzz_g2_decode");
    for (const G2& p :
         {G2::Generator(), G2::Generator().Mul(two), G2::Generator().Mul(big), G2::Identity()}) {
      w.Add(G2Compress(p));
      w.Add(G2Serialize(p));
    }
    w.Add(NonSubgroupEncoding<G2, kG2CompressedSize>(G2DecompressUnchecked));
  }
  {
    SeedWriter w(root, "fuzz_scalar_field_decode");
    const auto r_minus_1 = (Fr::Zero() - Fr::One()).ToBytes();
    const auto p_minus_1 = (Fp::Zero() - Fp::One()).ToBytes();
    w.Add(r_minus_1);
    w.Add(p_minus_1);
    w.Add(FrToBytes(big));
    w.Add(Concat({p_minus_1, p_minus_1}));  // 96 bytes: the widest FromBytesWide input for Fp
    w.Add(Concat({r_minus_1, r_minus_1}));  // 64 bytes: the widest for Fr
  }
  {
    SeedWriter w(root, "fuzz_gt_decode");
    const Gt e = Pairing(G1::Generator(), G2::Generator());
    w.Add(e.ToBytes());
    w.Add(e.Pow(big).ToBytes());
    w.Add(Gt::Identity().ToBytes());
  }
  {
    SeedWriter w(root, "fuzz_hash_to_curve");
    auto h2c = [&](std::uint8_t flags, std::string_view dst, std::uint16_t len, std::string_view msg) {
      std::vector<std::uint8_t> in{flags, std::uint8_t(dst.size() & 0xff), std::uint8_t(len >> 8),
                                   std::uint8_t(len)};
      if (dst.size() > 255) in[0] |= 1;
      in.insert(in.end(), dst.begin(), dst.end());
      in.insert(in.end(), msg.begin(), msg.end());
      w.Add(in);
    };
    // RFC 9380 Appendix J.9.1 / J.10.1 test-vector DSTs, and the expand_message_xmd ones (K.1).
    h2c(2 << 1, "QUUX-V01-CS02-with-BLS12381G1_XMD:SHA-256_SSWU_RO_", 128, "abc");
    h2c(1 << 1, "QUUX-V01-CS02-with-BLS12381G2_XMD:SHA-256_SSWU_NU_", 32, "");
    h2c(0, "QUUX-V01-CS02-with-expander-SHA256-128", 0x20, "abcdef0123456789");
    h2c(3 << 1, std::string(300, 'D'), 8160, "q128_" + std::string(128, 'q'));
  }
  {
    // Policies (and key attribute sets, which the same target parses) using every construct.
    SeedWriter w(root, "fuzz_policy_parse");
    for (std::string_view text : {
             "hospital_a.role:doctor AND (board.years_practice >= 5 OR 2 of (a.x, b.y, c.z))",
             "\"hospital a\".role:\"head nurse\" OR board.licence_expiry > 2026-11-22",
             "3 of (a, b, c, d AND e, x <= 4294967295) and (p OR q) or \"caf\xc3\xa9\".k:\"or\"",
             "x == 7 AND y < 1 AND z >= 0 AND w > 2147483648 AND v <= 12",
             "((a OR b) AND (c OR 1 of (d))) OR icd.code:I21.4",
             "role:doctor, dept:cardiology, years_practice=12, board.licence_expiry=2027-03-31",
         }) {
      w.Add(std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
    }
  }
  {
    // fuzz_fhir: 0 + the shipped policy file; 1 + small FHIR resources and a bundle.
    SeedWriter w(root, "fuzz_fhir");
    auto add_file = [&w](std::uint8_t mode, const std::filesystem::path& path) {
      std::ifstream in(path, std::ios::binary);
      const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (text.empty() || text.size() > 64 * 1024) return;
      std::vector<std::uint8_t> seed(1, mode);
      seed.insert(seed.end(), text.begin(), text.end());
      w.Add(seed);
    };
    const std::filesystem::path src = CIPHERCHART_SOURCE_DIR;
    add_file(0, src / "config/policies.toml");
    for (const char* name : {"examples/prescription.json", "examples/ecg.json"}) add_file(1, src / name);
    const std::filesystem::path hl7 = src / "../shared/data/fhir/examples";
    for (const char* name :
         {"Procedure-example.json", "ImagingStudy-example.json", "RelatedPerson-peter.json",
          "DiagnosticReport-ultrasound.json", "Practitioner-example.json"})
      add_file(1, hl7 / name);
    const std::string_view bundle =
        "\x01{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[{\"resource\":"
        "{\"resourceType\":\"Patient\",\"id\":\"p1\",\"name\":[{\"family\":\"Doe\",\"given\":[\"Jo\"]}],"
        "\"birthDate\":\"1931-02-03\",\"address\":[{\"city\":\"X\",\"postalCode\":\"01234\"}]}},"
        "{\"resource\":{\"resourceType\":\"Observation\",\"status\":\"final\",\"category\":[{\"coding\":"
        "[{\"code\":\"vital-signs\"}]}],\"code\":{\"text\":\"Heart rate\"},\"effectiveDateTime\":"
        "\"2020-01-02T03:04:05Z\",\"valueQuantity\":{\"value\":72,\"unit\":\"/min\"}}}]}";
    w.Add(std::span(reinterpret_cast<const std::uint8_t*>(bundle.data()), bundle.size()));
  }
  cipherchart::fuzz::WriteAbeSeeds(root);
  cipherchart::fuzz::WriteFameKpSeeds(root);
  cipherchart::fuzz::WriteMaabeSeeds(root);
  cipherchart::fuzz::WriteEnvelopeSeeds(root);
  cipherchart::fuzz::WriteServerSeeds(root);
  std::printf("fuzz_make_seeds: wrote seed corpora under %s\n", root.c_str());
  return 0;
}
