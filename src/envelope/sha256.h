// Internal: the envelope layer's own name for the public SHA-256 (cipherchart/envelope/hash.h).
#pragma once

#include "cipherchart/envelope/hash.h"

namespace cipherchart::envelope::internal {

using envelope::Sha256Digest;
using envelope::Sha256Hasher;
using envelope::Sha256Of;

}  // namespace cipherchart::envelope::internal
