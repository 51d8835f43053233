// Internal: RAII owners for OpenSSL objects, and the algorithm handles the envelope layer
// fetches once per process (EVP_*_fetch takes a lock and searches the provider tables, which
// would dominate small operations if repeated).
#pragma once

#include <openssl/evp.h>
#include <openssl/kdf.h>

#include <memory>
#include <string>

namespace cipherchart::envelope::internal {

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* p) const { EVP_CIPHER_CTX_free(p); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
struct KdfCtxFree {
  void operator()(EVP_KDF_CTX* p) const { EVP_KDF_CTX_free(p); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};

using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;
using KdfCtxPtr = std::unique_ptr<EVP_KDF_CTX, KdfCtxFree>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

// Process-wide algorithm handles, fetched on first use (thread-safe static initialisation) and
// never freed. Each is null only if the default provider lacks the algorithm.
const EVP_CIPHER* Aes256Gcm();
const EVP_MD* Sha256();
EVP_KDF* Hkdf();

// Drops whatever OpenSSL queued on this thread's error stack, so a failure we have already
// turned into an Error does not linger and confuse a later, unrelated caller.
void ClearOpensslErrors();

}  // namespace cipherchart::envelope::internal
