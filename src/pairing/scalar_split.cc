// Constant-time base-|x| decomposition of scalars (see field.h, detail::SplitScalarBaseX).
#include "cipherchart/pairing/field.h"

namespace cipherchart::pairing::detail {
namespace {

// n <- n / d, returns n mod d. Long division one bit at a time; the remainder stays below
// 2d < 2^65, so it is held in 128 bits. No branch or index depends on n.
u64 DivModConstantTime(std::array<u64, 4>& n, u64 d) {
  u128 rem = 0;
  std::array<u64, 4> q{};
  for (int i = 255; i >= 0; --i) {
    rem = (rem << 1) | ((n[i / 64] >> (i % 64)) & 1);
    const u128 diff = rem - d;
    const u64 ge = 1 ^ u64(diff >> 127);  // rem >= d (rem < 2^65, so no false wrap)
    const u64 mask = ValueBarrier(0 - ge);
    const u64 lo = (u64(diff) & mask) | (u64(rem) & ~mask);
    const u64 hi = (u64(diff >> 64) & mask) | (u64(rem >> 64) & ~mask);
    rem = (u128(hi) << 64) | lo;
    q[i / 64] |= ge << (i % 64);
  }
  n = q;
  return u64(rem);
}

}  // namespace

std::array<u64, 4> SplitScalarBaseX(const std::array<u64, 4>& k) {
  std::array<u64, 4> n = k, digits{};
  digits[0] = DivModConstantTime(n, kBlsX);
  digits[1] = DivModConstantTime(n, kBlsX);
  digits[2] = DivModConstantTime(n, kBlsX);
  digits[3] = n[0];  // k < |x|^4, so what is left is below |x|
  n = {};
  __asm__ __volatile__("" : : "r"(n.data()) : "memory");
  return digits;
}

}  // namespace cipherchart::pairing::detail
