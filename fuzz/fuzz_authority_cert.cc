// libFuzzer target: the authority certificate and chain decoders and chain verification
// (src/abe/authority.cc) on arbitrary bytes, against the fixed trusted root and time of
// authority_fuzz_keys.h. Checks (any failure aborts):
//   - ParseCertificate / ParseChain either fail with a documented code and a non-empty message,
//     or return objects whose encoding is byte-identical to the input (the formats are
//     canonical), with valid namespaces and a public-parameter id that is the FAME key's;
//   - no input is both a certificate and a chain (distinct magics);
//   - VerifyChain fails only with its documented codes; when it succeeds, every link is a
//     namespace strictly below the previous one, the first is the trusted root and the result is
//     the last certificate's.
// Seeds: fuzz_make_seeds (abe_seeds.cc) signs certificates and chains under the fuzz root.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "authority_fuzz_keys.h"
#include "cipherchart/abe/authority.h"
#include "fuzz_check.h"

namespace {

using namespace cipherchart;
using namespace cipherchart::abe;
using cipherchart::fuzz::SameBytes;
using Bytes = std::span<const std::uint8_t>;

bool DecoderCode(ErrorCode c) {
  return c == ErrorCode::kInvalidEncoding || c == ErrorCode::kUnsupported || c == ErrorCode::kBadFlags ||
         c == ErrorCode::kNonCanonical || c == ErrorCode::kNotOnCurve || c == ErrorCode::kNotInSubgroup;
}

bool VerifyCode(ErrorCode c) {
  return c == ErrorCode::kInvalidArgument || c == ErrorCode::kSignerMismatch || c == ErrorCode::kIntegrity ||
         c == ErrorCode::kContextMismatch;
}

void CheckCertificate(const Certificate& cert, Bytes input) {
  FUZZ_CHECK(ValidateNamespace(cert.authority_namespace).has_value(), input);
  FUZZ_CHECK(ValidateNamespace(cert.issuer_namespace).has_value(), input);
  FUZZ_CHECK(cert.not_before <= cert.not_after, input);
  auto id = FamePublicParamsId(cert.fame_public_key);
  FUZZ_CHECK(id.has_value() && *id == cert.public_params_id, input);
}

void Verify(const std::vector<Certificate>& chain, Bytes input) {
  auto v = VerifyChain(chain, fuzz::FuzzTrustedRoots(), fuzz::kFuzzNow);
  if (!v) {
    FUZZ_CHECK(VerifyCode(v.error().code()), input);
    FUZZ_CHECK(!v.error().message().empty(), input);
    return;
  }
  FUZZ_CHECK(chain.front().self_signed(), input);
  FUZZ_CHECK(chain.front().authority_namespace == fuzz::kFuzzRootNamespace, input);
  for (std::size_t i = 1; i < chain.size(); ++i) {
    FUZZ_CHECK(IsBelowNamespace(chain[i].authority_namespace, chain[i - 1].authority_namespace), input);
    FUZZ_CHECK(chain[i].issuer_namespace == chain[i - 1].authority_namespace, input);
  }
  for (const Certificate& c : chain)
    FUZZ_CHECK(c.not_before <= fuzz::kFuzzNow && fuzz::kFuzzNow <= c.not_after, input);
  FUZZ_CHECK(v->authority_namespace == chain.back().authority_namespace, input);
  FUZZ_CHECK(v->public_params_id == chain.back().public_params_id, input);
  FUZZ_CHECK(v->signing_key == chain.back().signing_key, input);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Bytes input(data, size);

  auto cert = ParseCertificate(input);
  if (cert) {
    CheckCertificate(*cert, input);
    auto again = EncodeCertificate(*cert);
    FUZZ_CHECK(again.has_value() && SameBytes(*again, input), input);
    Verify({*cert}, input);
  } else {
    FUZZ_CHECK(DecoderCode(cert.error().code()), input);
    FUZZ_CHECK(!cert.error().message().empty(), input);
  }

  auto chain = ParseChain(input);
  if (chain) {
    FUZZ_CHECK(!cert.has_value(), input);
    FUZZ_CHECK(!chain->empty() && chain->size() <= kMaxChainLength, input);
    for (const Certificate& c : *chain) CheckCertificate(c, input);
    auto again = EncodeChain(*chain);
    FUZZ_CHECK(again.has_value() && SameBytes(*again, input), input);
    Verify(*chain, input);
  } else {
    FUZZ_CHECK(DecoderCode(chain.error().code()), input);
    FUZZ_CHECK(!chain.error().message().empty(), input);
  }
  return 0;
}
