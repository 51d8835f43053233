// Internal to the ABE layer: the multi-authority scheme (maabe.h) with its randomness supplied
// by the caller, for the known-answer vectors and the fuzz seeds (as fame_kp_internal.h).
// Never call these with anything but a CSPRNG outside tests.
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "cipherchart/abe/maabe.h"

namespace cipherchart::abe::maabe::internal {

// Returns a uniformly random scalar (or the CSPRNG's failure); called in a fixed order.
using ScalarSource = std::function<Result<Fr>()>;

Result<AuthorityKeyPair> AuthoritySetupWith(std::string_view authority_namespace, const ScalarSource& random);
Result<AuthorityKeys> KeyGenWith(const AuthorityKeyPair& authority, std::string_view gid,
                                 const std::set<std::string>& attributes, const ScalarSource& random);
Result<Encapsulation> EncapsulateWith(std::span<const AuthorityPublicKey> authorities,
                                      const PolicyNode& policy, const ScalarSource& random);
Result<TransformKeyPair> MakeTransformKeyWith(const UserKey& user, const ScalarSource& random);

// The random-oracle inputs: tag || u32be(len) || text, tag 'G' (generators), 'I' (identities),
// 'U' (attributes).
std::vector<std::uint8_t> HashInput(std::uint8_t tag, std::string_view text);

}  // namespace cipherchart::abe::maabe::internal
