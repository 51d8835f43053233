#include "cipherchart/common/secret.h"

#include <openssl/crypto.h>

#include <cstring>
#include <utility>

#include "cipherchart/common/random.h"

namespace cipherchart {

void SecureWipe(void* data, std::size_t size) {
  if (data != nullptr && size != 0) OPENSSL_cleanse(data, size);
}

bool ConstantTimeEqual(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) {
  if (a.size() != b.size()) return false;  // lengths are public
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

SecretBytes::SecretBytes(std::size_t size) : data_(size ? new std::uint8_t[size]() : nullptr), size_(size) {}

SecretBytes::SecretBytes(std::span<const std::uint8_t> bytes) : SecretBytes(bytes.size()) {
  if (size_ != 0) std::memcpy(data_, bytes.data(), size_);
}

SecretBytes::~SecretBytes() { Clear(); }

SecretBytes::SecretBytes(const SecretBytes& other) : SecretBytes(other.span()) {}

SecretBytes& SecretBytes::operator=(const SecretBytes& other) {
  if (this != &other) {
    SecretBytes copy(other);
    *this = std::move(copy);
  }
  return *this;
}

SecretBytes::SecretBytes(SecretBytes&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    Clear();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

void SecretBytes::Clear() {
  SecureWipe(data_, size_);
  delete[] data_;
  data_ = nullptr;
  size_ = 0;
}

Result<SecretBytes> SecretBytes::Random(std::size_t size) {
  SecretBytes out(size);
  if (auto ok = FillRandom(out.span()); !ok) return std::unexpected(ok.error());
  return out;
}

std::string SecretBytes::Redacted() const { return "<secret: " + std::to_string(size_) + " bytes>"; }

bool operator==(const SecretBytes& a, const SecretBytes& b) { return ConstantTimeEqual(a.span(), b.span()); }

}  // namespace cipherchart
