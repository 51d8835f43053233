// Internal: the envelope header parser with the extra output the incremental opener needs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "cipherchart/envelope/envelope.h"

namespace cipherchart::envelope::internal {

// Parses the header and the stream header. When it fails because `bytes` ends too early,
// *needed (if not null) is set to the smallest length that would get past the failed read;
// for any other failure it is set to 0.
Result<EnvelopeHeader> ParseEnvelopeHeader(std::span<const std::uint8_t> bytes, std::size_t* needed);

}  // namespace cipherchart::envelope::internal
