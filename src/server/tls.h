// TLS material for the server: a configured certificate and key, or a self-signed pair made
// on first start for local use.
#pragma once

#include <string>

#include "cipherchart/common/error.h"

namespace cipherchart::server {

// If neither file exists, writes a fresh ECDSA P-256 key (mode 0600) and a self-signed
// certificate for CN=localhost with subjectAltName DNS:localhost, IP:127.0.0.1, IP:::1, valid
// for 825 days. If both exist, leaves them alone. One without the other is an error.
Result<void> EnsureCertificate(const std::string& cert_path, const std::string& key_path);

}  // namespace cipherchart::server
