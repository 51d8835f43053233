// Template definitions for field.h. Not a public entry point: include field.h.
#pragma once

#include <cstring>
#include <vector>

#include "cipherchart/common/random.h"
#include "cipherchart/common/secret.h"

namespace cipherchart::pairing {

template <class P>
Result<MontField<P>> MontField<P>::FromBytes(std::span<const std::uint8_t> bytes) {
  if (bytes.size() != kBytes) {
    return Fail(ErrorCode::kInvalidEncoding, "field element must be " + std::to_string(kBytes) +
                                                 " bytes, got " + std::to_string(bytes.size()));
  }
  Limbs l{};
  for (std::size_t i = 0; i < kBytes; ++i) {
    const std::size_t bit = 8 * (kBytes - 1 - i);
    l[bit / 64] |= u64(bytes[i]) << (bit % 64);
  }
  // l < modulus  <=>  l - modulus borrows.
  u64 borrow = 0;
  for (std::size_t i = 0; i < kLimbs; ++i) {
    const u128 d = u128(l[i]) - kModulus[i] - borrow;
    borrow = u64(d >> 64) & 1;
  }
  if (!borrow) return Fail(ErrorCode::kNonCanonical, "field element is not less than the modulus");
  return FromCanonical(l);
}

template <class P>
MontField<P> MontField<P>::FromBytesWide(std::span<const std::uint8_t> bytes) {
  // Split the big-endian input into chunks of (64N - 8) bits, each below the modulus (so
  // MontMul's precondition holds), and sum chunk_i * 2^(i * chunk_bits) in Montgomery form:
  // MontMul(chunk_i, 2^(i * chunk_bits) * R^2) = chunk_i * 2^(i * chunk_bits) * R.
  static constexpr std::size_t kChunkBytes = 8 * kLimbs - 1;
  static constexpr std::size_t kMaxBytes = 2 * 8 * kLimbs;
  static constexpr std::size_t kChunks = (kMaxBytes + kChunkBytes - 1) / kChunkBytes;
  static constexpr auto kScale = [] {
    std::array<Limbs, kChunks> s{};
    for (std::size_t i = 0; i < kChunks; ++i)
      s[i] = detail::PowerOfTwoMod<kLimbs>(8 * kChunkBytes * i + 128 * kLimbs, kModulus);
    return s;
  }();
  const std::size_t n = bytes.size() < kMaxBytes ? bytes.size() : kMaxBytes;
  const std::uint8_t* end = bytes.data() + bytes.size();  // the least significant byte is last
  MontField out = Zero();
  for (std::size_t c = 0; c < kChunks; ++c) {
    Limbs chunk{};
    for (std::size_t k = 0; k < kChunkBytes; ++k) {
      const std::size_t pos = c * kChunkBytes + k;  // byte index from the least significant end
      if (pos >= n) break;                          // depends on the public length only
      chunk[k / 8] |= u64(end[-1 - static_cast<std::ptrdiff_t>(pos)]) << (8 * (k % 8));
    }
    out += FromRaw(chunk) * FromRaw(kScale[c]);
    SecureWipe(chunk.data(), sizeof(chunk));
  }
  return out;
}

template <class P>
Result<MontField<P>> MontField<P>::Random() {
  std::array<std::uint8_t, kBytes + 16> buf{};
  if (auto ok = FillRandom(buf); !ok) return std::unexpected(ok.error());
  MontField out = FromBytesWide(buf);
  SecureWipe(buf.data(), buf.size());
  return out;
}

template <class P>
Result<void> MontField<P>::RandomMany(std::span<MontField> out) {
  constexpr std::size_t kEach = kBytes + 16;  // 128 extra bits: bias below 2^-128, as Random()
  std::vector<std::uint8_t> buf(out.size() * kEach);
  if (auto ok = FillRandom(buf); !ok) return std::unexpected(ok.error());
  for (std::size_t i = 0; i < out.size(); ++i)
    out[i] = FromBytesWide(std::span(buf).subspan(i * kEach, kEach));
  SecureWipe(buf.data(), buf.size());
  return {};
}

template <class P>
void MontField<P>::ToBytes(std::span<std::uint8_t> out) const {
  const Limbs l = ToCanonical();
  for (std::size_t i = 0; i < kBytes && i < out.size(); ++i) {
    const std::size_t bit = 8 * (kBytes - 1 - i);
    out[i] = std::uint8_t(l[bit / 64] >> (bit % 64));
  }
}

template <class P>
std::string MontField<P>::ToHex() const {
  static constexpr char kDigits[] = "0123456789abcdef";
  const auto bytes = ToBytes();
  std::string s = "0x";
  for (auto b : bytes) {
    s += kDigits[b >> 4];
    s += kDigits[b & 15];
  }
  return s;
}

template <class P>
template <std::size_t M>
MontField<P> MontField<P>::Pow(const detail::Limbs<M>& e) const {
  // Fixed 4-bit window, left to right. The exponent is public; the base may be secret.
  MontField table[16];
  table[0] = One();
  for (int i = 1; i < 16; ++i) table[i] = table[i - 1] * *this;
  MontField acc = One();
  const std::size_t bits = detail::BitLength(e);
  const std::size_t windows = (bits + 3) / 4;
  for (std::size_t w = windows; w-- > 0;) {
    for (int k = 0; k < 4; ++k) acc = acc.Square();
    const unsigned digit = unsigned(e[(4 * w) / 64] >> ((4 * w) % 64)) & 15;
    if (digit) acc *= table[digit];  // branch on the public exponent only
  }
  return acc;
}

template <class P>
MontField<P> MontField<P>::Inverse() const {
  static constexpr Limbs kExp = detail::SubSmall(kModulus, 2);
  return Pow(kExp);
}

template <class P>
u64 MontField<P>::IsLargestMask() const {
  // value > (m-1)/2  <=>  (m-1)/2 - value borrows.
  static constexpr Limbs kHalf = detail::DivSmall(detail::SubSmall(kModulus, 1), 2);
  const Limbs l = ToCanonical();
  u64 borrow = 0;
  for (std::size_t i = 0; i < kLimbs; ++i) {
    const u128 d = u128(kHalf[i]) - l[i] - borrow;
    borrow = u64(d >> 64) & 1;
  }
  return detail::MaskFromBit(borrow);
}

}  // namespace cipherchart::pairing
