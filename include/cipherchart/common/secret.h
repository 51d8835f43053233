// SecretBytes: the one type that holds secret byte strings (keys, seeds, shared secrets).
//
// - The buffer is wiped with OPENSSL_cleanse (which the compiler cannot elide) when the object
//   is destroyed, moved from, resized or assigned over.
// - Equality is constant-time in the contents (CRYPTO_memcmp); only the lengths, which are
//   public, may be compared with a branch.
// - There is no operator<< and no implicit conversion to a string: printing a secret takes an
//   explicit, grep-able call to Redacted() (which prints only the length).
// - Raw access goes through data()/span(); callers that copy out are responsible for wiping.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "cipherchart/common/error.h"

namespace cipherchart {

class SecretBytes {
 public:
  SecretBytes() = default;
  // A zero-filled secret of `size` bytes.
  explicit SecretBytes(std::size_t size);
  // Copies `bytes`; the caller still owns (and must wipe) the source.
  explicit SecretBytes(std::span<const std::uint8_t> bytes);
  ~SecretBytes();

  SecretBytes(const SecretBytes& other);
  SecretBytes& operator=(const SecretBytes& other);
  SecretBytes(SecretBytes&& other) noexcept;
  SecretBytes& operator=(SecretBytes&& other) noexcept;

  // `size` fresh bytes from the OS CSPRNG; fails only if the CSPRNG does.
  static Result<SecretBytes> Random(std::size_t size);

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::uint8_t* data() { return data_; }
  const std::uint8_t* data() const { return data_; }
  std::span<std::uint8_t> span() { return {data_, size_}; }
  std::span<const std::uint8_t> span() const { return {data_, size_}; }

  // Wipes the contents and releases the buffer.
  void Clear();

  // "<secret: 32 bytes>": the only text form of a secret.
  std::string Redacted() const;

  // Constant-time in the contents for equal lengths.
  friend bool operator==(const SecretBytes& a, const SecretBytes& b);

 private:
  std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};

// Constant-time comparison of two equally long byte strings (false if the lengths differ; the
// lengths themselves are treated as public).
bool ConstantTimeEqual(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b);

// Wipes a buffer that held secret data, in a way the optimiser keeps.
void SecureWipe(void* data, std::size_t size);

}  // namespace cipherchart
