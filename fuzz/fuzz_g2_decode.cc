// libFuzzer target: the G2 decoders (G2Decompress, G2DecompressUnchecked, G2Deserialize) and
// the round trip through G2Compress / G2Serialize. See point_decode.h for the checks.
#include <cstddef>
#include <cstdint>

#include "point_decode.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace cipherchart::pairing;
  cipherchart::fuzz::FuzzPointDecoders<G2>(std::span<const std::uint8_t>(data, size), G2Decompress,
                                           G2DecompressUnchecked, G2Deserialize, G2Compress, G2Serialize);
  return 0;
}
