// What an attribute authority's admin does (docs/user-guide.md, "Authorities"): make or adopt
// the authority's keys, publish its signed key statement, issue attribute keys to approved
// practitioners, certify sub-authorities. The keys live sealed in the admin's home
// (authority/authority.sealed: FAME authority with its certificate chain and signing key;
// authority/maabe.sealed: the RW15 master key).
#pragma once

#include <cstdint>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "cipherchart/abe/authority.h"
#include "cipherchart/abe/maabe.h"
#include "cipherchart/chart/server_port.h"
#include "cipherchart/chart/wallet.h"

namespace cipherchart::chart {

// Validity of what an authority signs (seconds), each back-dated by kClockSkewSeconds.
inline constexpr std::uint64_t kRootAuthorityValiditySeconds = 5ULL * 365 * 86400;
inline constexpr std::uint64_t kSubAuthorityValiditySeconds = 2ULL * 365 * 86400;
inline constexpr std::uint64_t kKeyStatementValiditySeconds = 365ULL * 86400;

struct AuthorityKeys {
  abe::Authority authority;
  abe::maabe::AuthorityKeyPair ma;
};

// A new root authority for `ns` (FAME authority + RW15 key pair).
Result<AuthorityKeys> CreateAuthorityKeys(const std::string& ns, std::uint64_t now);
bool HasAuthorityKeys(const Home& home);
Result<AuthorityKeys> OpenAuthorityKeys(const Home& home, const SecretBytes& passphrase);
Result<void> SealAuthorityKeys(const Home& home, const AuthorityKeys& keys, const SecretBytes& passphrase);

// Puts the authority's signed key statement in the server's directory.
Result<void> PublishAuthority(ServerPort& server, const AuthorityKeys& keys, std::uint64_t now);

// The attributes a registration earns from authority `ns`: NS.staff, NS.role:ROLE,
// NS.department:DEPT, and NS.licence:active when `today` (YYYY-MM-DD) lies in the practice term.
std::set<std::string> AttributesFromRegistration(const std::string& ns, const std::string& details_json,
                                                 const std::string& today);

struct Issued {
  std::set<std::string> attributes;
  std::string package_id;
};
// Issues keys for `attributes` (names with or without the authority's namespace; empty: from
// the user's approved registration) to approved account `user_id`, sealed to its delivery key,
// signed by the authority's certified key. kPermissionDenied for an account that is not
// approved, or not a registration this authority approved when no attributes are given.
Result<Issued> IssueKeys(ServerPort& server, const AuthorityKeys& keys, const std::string& user_id,
                         const std::vector<std::string>& attributes, std::uint64_t now);

// Certifies a sub-authority `ns` (strictly below this one) and seals its keys into
// `out_home`'s authority/ folder under `passphrase`; its admin then runs `authority init` there.
Result<void> CreateSubAuthority(const AuthorityKeys& parent, const std::string& ns, const Home& out_home,
                                const SecretBytes& passphrase, std::uint64_t now);

}  // namespace cipherchart::chart
