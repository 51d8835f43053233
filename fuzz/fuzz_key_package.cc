// libFuzzer target: key packages (src/cli/key_package.h), the bytes a user's mailbox hands to
// `fetch-keys`. Checks (any failure aborts):
//   - OpenKeyPackage on the raw input either fails with a message or opens (only possible for a
//     package genuinely made for the fixed recipient below);
//   - structured mode: the input's tail sealed as a payload to the fixed recipient opens to the
//     same payload and sender, and the same package with one byte flipped (position chosen by
//     the input) never opens.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "fuzz_check.h"
#include "src/cli/key_package.h"

namespace {

using namespace cipherchart;

const cli::DeliveryKey& Recipient() {
  static const cli::DeliveryKey key = [] {
    SecretBytes priv(32);
    for (std::size_t i = 0; i < priv.size(); ++i) priv.data()[i] = static_cast<std::uint8_t>(7 * i + 1);
    return *cli::DeliveryKey::FromPrivate(priv);
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
  auto opened = cli::OpenKeyPackage(input, Recipient());
  if (!opened) FUZZ_CHECK(!opened.error().message().empty(), input);

  if (size < 3 || (data[0] & 1) == 0) return 0;
  const SecretBytes payload(input.subspan(2));
  auto sealed =
      cli::SealKeyPackage(cli::PackageKind::kAttributeKeys, payload, Recipient().public_key, Sender());
  FUZZ_CHECK(sealed.has_value(), input);
  auto back = cli::OpenKeyPackage(*sealed, Recipient());
  FUZZ_CHECK(back.has_value() && back->payload == payload && back->sender == Sender().public_key(), input);
  std::vector<std::uint8_t> flipped = *sealed;
  flipped[data[1] % flipped.size()] ^= 0x01;
  FUZZ_CHECK(!cli::OpenKeyPackage(flipped, Recipient()).has_value(), input);
  return 0;
}
