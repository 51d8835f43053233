#include "src/server/tls.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "cipherchart/common/random.h"

namespace cipherchart::server {
namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct FileClose {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

Result<void> AddExtension(X509* cert, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (ext == nullptr) return Fail(ErrorCode::kInternal, "X509V3_EXT_conf_nid failed");
  const int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  if (ok != 1) return Fail(ErrorCode::kInternal, "X509_add_ext failed");
  return {};
}

}  // namespace

Result<void> EnsureCertificate(const std::string& cert_path, const std::string& key_path) {
  namespace fs = std::filesystem;
  const bool have_cert = fs::exists(cert_path), have_key = fs::exists(key_path);
  if (have_cert && have_key) return {};
  if (have_cert != have_key)
    return Fail(ErrorCode::kInvalidArgument,
                "TLS: " + (have_cert ? key_path : cert_path) +
                    " is missing while the other file exists; restore it or remove both");

  std::unique_ptr<EVP_PKEY, PkeyFree> key(EVP_EC_gen("P-256"));
  if (!key) return Fail(ErrorCode::kInternal, "TLS: EC key generation failed");
  std::unique_ptr<X509, X509Free> cert(X509_new());
  if (!cert) return Fail(ErrorCode::kInternal, "TLS: X509_new failed");
  X509_set_version(cert.get(), 2);
  std::array<std::uint8_t, 16> serial{};
  if (auto ok = FillRandom(serial); !ok)
    return Fail(ok.error().code(), "TLS: serial number: " + ok.error().message());
  serial[0] &= 0x7f;  // a positive serial
  BIGNUM* bn = BN_bin2bn(serial.data(), static_cast<int>(serial.size()), nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 825L * 24 * 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("CipherChart local"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("localhost"),
                             -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  if (auto r = AddExtension(cert.get(), NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1"); !r)
    return r;
  if (auto r = AddExtension(cert.get(), NID_basic_constraints, "critical,CA:FALSE"); !r) return r;
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) <= 0)
    return Fail(ErrorCode::kInternal, "TLS: X509_sign failed");

  std::error_code ec;
  fs::create_directories(fs::path(key_path).parent_path(), ec);
  // The key file is created 0600 before any byte is written.
  const std::string key_tmp = key_path + ".tmp";
  {
    const mode_t old = umask(077);
    std::unique_ptr<std::FILE, FileClose> f(std::fopen(key_tmp.c_str(), "wb"));
    umask(old);
    if (!f) return Fail(ErrorCode::kInternal, "TLS: cannot create " + key_tmp);
    if (PEM_write_PrivateKey(f.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
      return Fail(ErrorCode::kInternal, "TLS: writing the key failed");
  }
  const std::string cert_tmp = cert_path + ".tmp";
  {
    std::unique_ptr<std::FILE, FileClose> f(std::fopen(cert_tmp.c_str(), "wb"));
    if (!f) return Fail(ErrorCode::kInternal, "TLS: cannot create " + cert_tmp);
    if (PEM_write_X509(f.get(), cert.get()) != 1)
      return Fail(ErrorCode::kInternal, "TLS: writing the certificate failed");
  }
  fs::rename(key_tmp, key_path, ec);
  if (ec) return Fail(ErrorCode::kInternal, "TLS: rename to " + key_path + ": " + ec.message());
  fs::rename(cert_tmp, cert_path, ec);
  if (ec) return Fail(ErrorCode::kInternal, "TLS: rename to " + cert_path + ": " + ec.message());
  return {};
}

}  // namespace cipherchart::server
