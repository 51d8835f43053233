// libFuzzer target: the G1 decoders (G1Decompress, G1DecompressUnchecked, G1Deserialize) and
// the round trip through G1Compress / G1Serialize. See point_decode.h for the checks.
#include <cstddef>
#include <cstdint>

#include "point_decode.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace cipherchart::pairing;
  cipherchart::fuzz::FuzzPointDecoders<G1>(std::span<const std::uint8_t>(data, size), G1Decompress,
                                           G1DecompressUnchecked, G1Deserialize, G1Compress, G1Serialize);
  return 0;
}
