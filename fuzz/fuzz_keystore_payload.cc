// libFuzzer target: the keystore plaintext decoders (src/abe/keystore_internal.h), the "CCAS"
// authority secrets and the "CCUK" user key that keystore.h seals under a passphrase, on
// arbitrary bytes (in the library they run only after the passphrase check; here they are
// reached directly). Checks (any failure aborts):
//   - ParseAuthoritySecrets / ParseUserKeyPayload either fail with a documented code (a decoder
//     code, or kInvalidArgument from Authority::FromParts for parts that do not belong together)
//     and a non-empty message, or return objects whose encoding is byte-identical to the input
//     (the formats are canonical);
//   - an accepted authority has a chain of 1 ..= kMaxChainLength certificates whose last one names
//     its signing key; an accepted user key has a valid namespace;
//   - no input is both (distinct magics).
// Seeds: fuzz_make_seeds (abe_seeds.cc) writes the plaintexts of fixed authorities and user keys.
#include <cstddef>
#include <cstdint>
#include <span>

#include "cipherchart/abe/authority.h"
#include "fuzz_check.h"
#include "src/abe/keystore_internal.h"

namespace {

using namespace cipherchart;
using namespace cipherchart::abe;
using cipherchart::fuzz::SameBytes;
using Bytes = std::span<const std::uint8_t>;

bool DecoderCode(ErrorCode c) {
  return c == ErrorCode::kInvalidEncoding || c == ErrorCode::kUnsupported || c == ErrorCode::kBadFlags ||
         c == ErrorCode::kNonCanonical || c == ErrorCode::kNotOnCurve || c == ErrorCode::kNotInSubgroup;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Bytes input(data, size);

  auto authority = internal::ParseAuthoritySecrets(input);
  if (authority) {
    const auto& chain = authority->chain();
    FUZZ_CHECK(!chain.empty() && chain.size() <= kMaxChainLength, input);
    FUZZ_CHECK(chain.back().signing_key == authority->signing_key().public_key(), input);
    FUZZ_CHECK(ValidateNamespace(authority->authority_namespace()).has_value(), input);
    auto again = internal::SerializeAuthoritySecrets(*authority);
    FUZZ_CHECK(again.has_value() && SameBytes(again->span(), input), input);
  } else {
    const ErrorCode code = authority.error().code();
    FUZZ_CHECK(DecoderCode(code) || code == ErrorCode::kInvalidArgument, input);
    FUZZ_CHECK(!authority.error().message().empty(), input);
  }

  auto user = internal::ParseUserKeyPayload(input);
  if (user) {
    FUZZ_CHECK(!authority.has_value(), input);
    FUZZ_CHECK(ValidateNamespace(user->authority_namespace).has_value(), input);
    auto again = internal::SerializeUserKeyPayload(*user);
    FUZZ_CHECK(again.has_value() && SameBytes(again->span(), input), input);
  } else {
    FUZZ_CHECK(DecoderCode(user.error().code()), input);
    FUZZ_CHECK(!user.error().message().empty(), input);
  }
  return 0;
}
