// Internal to the ABE layer: the plaintexts that keystore.h seals with the passphrase box, encoded
// and decoded on their own (docs/formats.md, "Keystores"):
//   "CCAS" authority secrets: magic, version, u32 k, FAME master key (k bytes), Ed25519 seed
//          (32 bytes), u32 c, certificate chain (c bytes)
//   "CCUK" user key:          magic, version, u16 n, namespace (n bytes), public-parameter id
//          (32 bytes), u32 s, FAME secret key (s bytes)
//
// Why an internal header and not keystore.h: these plaintexts are never meant to exist outside a
// passphrase seal, so the public API offers only Seal*/Open* (which keeps callers from writing
// unsealed keys to disk and keeps the inner layout free of API promises). The functions are
// exposed here for what has to reach the decoders without the passphrase and Argon2 step: the
// known-answer vectors and mutation tests (keystore_test.cc, testdata/keystore_vectors.txt), the
// fuzz target fuzz/fuzz_keystore_payload.cc and its seeds (fuzz/abe_seeds.cc).
//
// Encodings are canonical: a decoder accepts exactly the bytes the encoder produces for the
// decoded object, so parse-then-serialise is the identity on accepted inputs. Decoders fail with
// the field and offset in the message: kInvalidEncoding (wrong magic, truncation, a length out of
// bounds, an invalid namespace, trailing bytes), kUnsupported (another version), a nested FAME or
// chain decoder's own code (message prefixed "<format>: <field> at offset <n>: "), and for the
// authority secrets Authority::FromParts's kInvalidArgument when the parts do not belong together.
// Plaintexts are built in SecretBytes (wiped); the decoders keep no copy of their input.
#pragma once

#include <cstdint>
#include <span>

#include "cipherchart/abe/authority.h"
#include "cipherchart/common/error.h"
#include "cipherchart/common/secret.h"

namespace cipherchart::abe::internal {

// The "CCAS" plaintext of an authority keystore. Fails like EncodeChain for a chain out of bounds.
Result<SecretBytes> SerializeAuthoritySecrets(const Authority& authority);
Result<Authority> ParseAuthoritySecrets(std::span<const std::uint8_t> bytes);

// The "CCUK" plaintext of a user keystore. kInvalidArgument for an invalid namespace, or like
// fame::Serialize for a key out of bounds.
Result<SecretBytes> SerializeUserKeyPayload(const UserKey& key);
Result<UserKey> ParseUserKeyPayload(std::span<const std::uint8_t> bytes);

}  // namespace cipherchart::abe::internal
