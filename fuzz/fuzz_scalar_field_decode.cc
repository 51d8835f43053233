// libFuzzer target: the prime-field decoders FrFromBytes, Fr/Fp::FromBytes (strict, canonical
// encodings only) and Fr/Fp::FromBytesWide (reduction of up to 2N limbs of bytes).
//
// Checks (any failure aborts):
//   - strict decoders accept exactly the inputs of the right length whose big-endian value is
//     below the modulus (compared here byte-wise against the modulus), and ToBytes gives back
//     the accepted bytes; FrFromBytes and Fr::FromBytes agree;
//   - FromBytesWide equals a byte-at-a-time Horner evaluation (acc = 256 acc + byte) of the
//     same input, and equals the strict decoder on canonical inputs;
//   - arithmetic on decoded values stays canonical (ToBytes -> FromBytes round-trips) and obeys
//     a few identities: commutativity, (a + b) - b = a, a * a^-1 = 1 for a != 0.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "cipherchart/pairing/curve.h"
#include "fuzz_check.h"

namespace {

using namespace cipherchart::pairing;
using cipherchart::ErrorCode;
using cipherchart::fuzz::SameBytes;
using Bytes = std::span<const std::uint8_t>;

template <class F>
std::array<std::uint8_t, F::kBytes> ModulusBytes() {
  std::array<std::uint8_t, F::kBytes> out{};
  for (std::size_t i = 0; i < F::kBytes; ++i) {
    const std::size_t bit = 8 * (F::kBytes - 1 - i);
    out[i] = std::uint8_t(F::kModulus[bit / 64] >> (bit % 64));
  }
  return out;
}

template <class F>
F Horner(Bytes in) {
  const F k256 = F::FromU64(256);
  F acc = F::Zero();
  for (auto b : in) acc = acc * k256 + F::FromU64(b);
  return acc;
}

// The value is canonical: its encoding decodes back to it.
template <class F>
void CheckCanonical(const F& v, Bytes input) {
  const auto enc = v.ToBytes();
  auto back = F::FromBytes(enc);
  FUZZ_CHECK(back.has_value(), input);
  FUZZ_CHECK(*back == v, input);
  FUZZ_CHECK(SameBytes(back->ToBytes(), enc), input);
}

template <class F>
void CheckStrict(Bytes in, Bytes input) {
  static const auto kModulusBytes = ModulusBytes<F>();
  auto v = F::FromBytes(in);
  if (in.size() != F::kBytes) {
    FUZZ_CHECK(!v && v.error().code() == ErrorCode::kInvalidEncoding, input);
    return;
  }
  const bool below =
      std::lexicographical_compare(in.begin(), in.end(), kModulusBytes.begin(), kModulusBytes.end());
  FUZZ_CHECK(v.has_value() == below, input);
  if (!v) {
    FUZZ_CHECK(v.error().code() == ErrorCode::kNonCanonical, input);
    return;
  }
  FUZZ_CHECK(SameBytes(v->ToBytes(), in), input);
  FUZZ_CHECK(*v == F::FromBytesWide(in), input);
  FUZZ_CHECK(*v == Horner<F>(in), input);
}

template <class F>
void CheckWide(Bytes in, Bytes input) {
  const F v = F::FromBytesWide(in);
  FUZZ_CHECK(v == Horner<F>(in), input);
  CheckCanonical(v, input);
}

template <class F>
void CheckArithmetic(const F& a, const F& b, Bytes input) {
  const F sum = a + b, diff = a - b, prod = a * b;
  CheckCanonical(sum, input);
  CheckCanonical(diff, input);
  CheckCanonical(prod, input);
  CheckCanonical(-a, input);
  FUZZ_CHECK(sum == b + a, input);
  FUZZ_CHECK(prod == b * a, input);
  FUZZ_CHECK(sum - b == a, input);
  FUZZ_CHECK(diff + b == a, input);
  FUZZ_CHECK(a.Square() == a * a, input);
  const F inv = a.Inverse();
  CheckCanonical(inv, input);
  FUZZ_CHECK(a.IsZero() ? inv.IsZero() : (a * inv).IsOne(), input);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Bytes input(data, size);

  // Whole input (mostly: the length checks), then the prefixes of the sizes each decoder wants.
  auto s = FrFromBytes(input);
  auto s2 = Fr::FromBytes(input);
  FUZZ_CHECK(s.has_value() == s2.has_value(), input);
  if (s) {
    FUZZ_CHECK(*s == *s2, input);
    FUZZ_CHECK(SameBytes(FrToBytes(*s), input), input);
  } else {
    FUZZ_CHECK(s.error().code() == s2.error().code(), input);
  }
  CheckStrict<Fr>(input, input);
  CheckStrict<Fp>(input, input);
  if (size > Fr::kBytes) {
    const Bytes head = input.first(Fr::kBytes);
    auto h = FrFromBytes(head);
    if (h) FUZZ_CHECK(SameBytes(FrToBytes(*h), head), input);
    CheckStrict<Fr>(head, input);
  }
  if (size > Fp::kBytes) CheckStrict<Fp>(input.first(Fp::kBytes), input);

  // FromBytesWide accepts up to 2 * 8 * kLimbs bytes.
  CheckWide<Fr>(input.first(std::min<std::size_t>(size, 2 * 8 * Fr::kLimbs)), input);
  CheckWide<Fp>(input.first(std::min<std::size_t>(size, 2 * 8 * Fp::kLimbs)), input);

  // Arithmetic on two values taken from the two halves of the input.
  const Bytes lo = input.first(size / 2), hi = input.subspan(size / 2);
  CheckArithmetic(Fr::FromBytesWide(lo.first(std::min<std::size_t>(lo.size(), 64))),
                  Fr::FromBytesWide(hi.first(std::min<std::size_t>(hi.size(), 64))), input);
  CheckArithmetic(Fp::FromBytesWide(lo.first(std::min<std::size_t>(lo.size(), 96))),
                  Fp::FromBytesWide(hi.first(std::min<std::size_t>(hi.size(), 96))), input);
  return 0;
}
