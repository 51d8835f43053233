// Attribute keys through the server's mailbox (docs/formats.md, "Key package"): an authority
// (or a patient, for its personal domain) sends keys sealed to the recipient's delivery key and
// signed by its certified key; the recipient installs only keys whose sender is the verified
// key of the authority they are for.
#pragma once

#include <string>
#include <vector>

#include "cipherchart/abe/authority.h"
#include "cipherchart/abe/maabe.h"
#include "cipherchart/chart/server_port.h"
#include "cipherchart/chart/wallet.h"

namespace cipherchart::chart {

struct InstalledKeys {
  std::vector<std::string> attributes;  // installed, canonical
  std::vector<std::string> warnings;    // packages ignored, and why
};

// Installs into `identity.wallet` every attribute-key package in the mailbox whose sender is
// the signing key of the authority the keys are for, as the directory verified against `roots`
// says; with `personal_domain`, also patient_<id> keys sent by the patient account of that id.
// Keys from an authority replace the ones it issued before. The caller saves the wallet.
Result<InstalledKeys> InstallKeys(ServerPort& server, Identity& identity,
                                  const std::vector<abe::TrustedRoot>& roots, bool personal_domain);

// Seals `keys` to `recipient`'s delivery key, signed by `signer` (the issuing authority's
// certified key, or a patient's identity key), and posts them. Returns the package id.
Result<std::string> SendAttributeKeys(ServerPort& server, const AccountInfo& recipient,
                                      const abe::maabe::AuthorityKeys& keys,
                                      const envelope::Ed25519SigningKey& signer);

}  // namespace cipherchart::chart
