// TEST ONLY. A seeded, deterministic RandomSource, so that sealing produces fixed bytes for the
// known-answer vectors in testdata/ and the fuzzers' seed corpora. Never use it to seal real
// data: anyone who knows the seed knows every salt, nonce and key it produced.
//
// Output: the concatenation of blocks B_i = SHA-256("cipherchart/test-rng/v1" || seed || i),
// i = 0, 1, ... as a u64 big-endian; bytes are taken from the blocks in order. Since the label
// and i are fixed-length, (seed, i) determine the hash input uniquely. check_vectors.py in
// testdata/ implements the same generator.
#pragma once

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cipherchart/envelope/random_source.h"

namespace cipherchart::envelope::testing {

class DeterministicRandom final : public RandomSource {
 public:
  explicit DeterministicRandom(std::string_view seed) : seed_(seed) {}

  Result<void> Fill(std::span<std::uint8_t> out) override {
    for (std::uint8_t& b : out) {
      if (used_ == block_.size()) NextBlock();
      b = block_[used_++];
    }
    return {};
  }

 private:
  void NextBlock() {
    static constexpr std::string_view kLabel = "cipherchart/test-rng/v1";
    std::vector<std::uint8_t> input(kLabel.begin(), kLabel.end());
    input.insert(input.end(), seed_.begin(), seed_.end());
    for (int shift = 56; shift >= 0; shift -= 8)
      input.push_back(static_cast<std::uint8_t>(counter_ >> shift));
    unsigned int len = 0;
    EVP_Digest(input.data(), input.size(), block_.data(), &len, EVP_sha256(), nullptr);
    ++counter_;
    used_ = 0;
  }

  std::string seed_;
  std::uint64_t counter_ = 0;
  std::array<std::uint8_t, 32> block_{};
  std::size_t used_ = 32;
};

// TEST ONLY. Hands out the given bytes in order, then fails with kRandomnessFailure: replays the
// salts and nonces of an existing sealed object, to check that re-sealing its plaintext gives
// the same bytes (the encoding is canonical).
class ReplayRandom final : public RandomSource {
 public:
  explicit ReplayRandom(std::vector<std::uint8_t> bytes) : bytes_(std::move(bytes)) {}

  Result<void> Fill(std::span<std::uint8_t> out) override {
    if (bytes_.size() - used_ < out.size()) {
      return Fail(ErrorCode::kRandomnessFailure, "ReplayRandom: out of bytes");
    }
    std::copy_n(bytes_.begin() + static_cast<std::ptrdiff_t>(used_), out.size(), out.begin());
    used_ += out.size();
    return {};
  }

 private:
  std::vector<std::uint8_t> bytes_;
  std::size_t used_ = 0;
};

}  // namespace cipherchart::envelope::testing
