// libFuzzer target: the chart layer's own binary formats from the server: key packages
// (cipherchart/chart/key_package.h), the bytes a user's mailbox hands to `fetch-keys`, and the
// owner-authority record (cipherchart/chart/enrolment.h) a patient opens at enrolment; and the
// terminal filter every server-supplied string passes through (src/cli/output.h). Checks (any
// failure aborts):
//   - ParseOwnerAuthority on the raw input fails with a message or parses to two keystores that
//     re-encode to an input of the same form (new form: byte for byte);
//   - TerminalSafe output is valid UTF-8 with no control character but newline and tab;
//   - OpenKeyPackage on the raw input either fails with a message or opens (only possible for a
//     package genuinely made for the fixed recipient below);
//   - structured mode: the input's tail sealed as a payload to the fixed recipient opens to the
//     same payload and sender, and the same package with one byte flipped (position chosen by
//     the input) never opens.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "cipherchart/chart/enrolment.h"
#include "cipherchart/chart/key_package.h"
#include "cipherchart/common/bytes.h"
#include "fuzz_check.h"
#include "src/cli/output.h"

namespace {

using namespace cipherchart;

const chart::DeliveryKey& Recipient() {
  static const chart::DeliveryKey key = [] {
    SecretBytes priv(32);
    for (std::size_t i = 0; i < priv.size(); ++i) priv.data()[i] = static_cast<std::uint8_t>(7 * i + 1);
    return *chart::DeliveryKey::FromPrivate(priv);
  }();
  return key;
}

const envelope::Ed25519SigningKey& Sender() {
  static const envelope::Ed25519SigningKey key = [] {
    SecretBytes seed(32);
    for (std::size_t i = 0; i < seed.size(); ++i) seed.data()[i] = static_cast<std::uint8_t>(i + 3);
    return *envelope::Ed25519SigningKey::FromSeed(seed);
  }();
  return key;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> input(data, size);
  if (auto owner = chart::ParseOwnerAuthority(input); owner) {
    const auto again = chart::EncodeOwnerAuthority(*owner);
    if (size >= 4 && data[0] == 'C')
      FUZZ_CHECK(std::vector<std::uint8_t>(input.begin(), input.end()) == again, input);
  } else {
    FUZZ_CHECK(!owner.error().message().empty(), input);
  }
  const std::string safe = cli::TerminalSafe(AsText(input));
  FUZZ_CHECK(IsValidUtf8(AsBytes(safe)), input);
  for (unsigned char c : safe) FUZZ_CHECK(c >= 0x20 ? c != 0x7F : (c == '\n' || c == '\t'), input);
  auto opened = chart::OpenKeyPackage(input, Recipient());
  if (!opened) FUZZ_CHECK(!opened.error().message().empty(), input);

  if (size < 3 || (data[0] & 1) == 0) return 0;
  const SecretBytes payload(input.subspan(2));
  auto sealed =
      chart::SealKeyPackage(chart::PackageKind::kAttributeKeys, payload, Recipient().public_key, Sender());
  FUZZ_CHECK(sealed.has_value(), input);
  auto back = chart::OpenKeyPackage(*sealed, Recipient());
  FUZZ_CHECK(back.has_value() && back->payload == payload && back->sender == Sender().public_key(), input);
  std::vector<std::uint8_t> flipped = *sealed;
  flipped[data[1] % flipped.size()] ^= 0x01;
  FUZZ_CHECK(!chart::OpenKeyPackage(flipped, Recipient()).has_value(), input);
  return 0;
}
