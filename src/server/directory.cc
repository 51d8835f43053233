// The authority directory: GET /v1/directory (every published entry as one directory file)
// and PUT /v1/directory/{namespace} (docs/api.md, "Authority directory"). The server parses
// entries but verifies no signature: it has no trust roots, and clients verify against theirs.
#include "cipherchart/abe/authority_directory.h"
#include "src/server/handler.h"
#include "src/server/ids.h"

namespace cipherchart::server {
namespace {

// A directory entry is a certificate chain and a key statement: kilobytes, far below this.
constexpr std::int64_t kMaxDirectoryEntryBody = 1 << 20;
static_assert(kMaxDirectoryNamespaces <= static_cast<std::int64_t>(abe::kMaxDirectoryEntries),
              "GET /v1/directory must be able to encode every stored namespace");

// `s` with every byte outside printable ASCII written as \xNN, unless it is printable UTF-8
// already: for messages that may quote request bytes (a parser's error naming a bad field), which
// the JSON encoder would refuse if they were not UTF-8.
std::string PrintableMessage(const std::string& s) {
  if (IsPrintableText(s)) return s;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (const unsigned char c : s) {
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

ApiError BadEntry(const std::string& message) {
  return {400, "bad_directory_entry", PrintableMessage(message)};
}

// The one entry a PUT for `ns` may publish, parsed and checked against the path (400
// bad_directory_entry otherwise).
ApiResult<std::vector<abe::DirectoryEntry>> ParseEntryFor(const std::string& ns,
                                                          const std::vector<std::uint8_t>& bytes) {
  auto parsed = abe::ParseDirectory(bytes);
  if (!parsed)
    return std::unexpected(
        BadEntry("the body is not an authority directory file (CCMD): " + parsed.error().message()));
  if (parsed->size() != 1) {
    return std::unexpected(BadEntry("the directory file holds " + std::to_string(parsed->size()) +
                                    " entries; a PUT publishes exactly one"));
  }
  const abe::DirectoryEntry& entry = parsed->front();
  const std::string& certified = entry.chain.back().authority_namespace;
  if (certified != ns) {
    return std::unexpected(BadEntry("the entry's certificate chain is for \"" + certified +
                                    "\", not for the path's namespace \"" + ns + "\""));
  }
  const std::string& stated = entry.statement.public_key.authority_namespace;
  if (stated != ns) {
    return std::unexpected(BadEntry("the entry's key statement is for \"" + stated +
                                    "\", not for the path's namespace \"" + ns + "\""));
  }
  return std::move(*parsed);
}

}  // namespace

asio::awaitable<HttpReply> Service::Directory(const Call&) {
  auto rows = store_.ListDirectoryEntries();
  if (!rows) co_return ErrorReply(rows.error());
  std::vector<abe::DirectoryEntry> entries;
  entries.reserve(rows->size());
  for (const auto& row : *rows) {
    // Each row holds the one entry its PUT was checked to hold; anything else is a damaged
    // database, not something to serve.
    auto parsed = abe::ParseDirectory(row.entry);
    if (!parsed || parsed->size() != 1) co_return ErrorReply(InternalError());
    entries.push_back(std::move(parsed->front()));
  }
  auto file = abe::EncodeDirectory(entries);
  if (!file) co_return ErrorReply(InternalError());
  HttpReply reply;
  reply.content_type = "application/octet-stream";
  reply.body.assign(file->begin(), file->end());
  co_return reply;
}

asio::awaitable<HttpReply> Service::PublishDirectoryEntry(const Call& call) {
  const Account& who = call.caller().account;
  const std::string ns = call.Param("namespace");
  // The namespace is echoed in messages only once it is known to be printable UTF-8.
  if (!IsPrintableText(ns)) co_return ErrorReply(400, "bad_path", "not an authority namespace");
  if (auto ok = abe::ValidateNamespace(ns); !ok) co_return ErrorReply(400, "bad_path", ok.error().message());
  if (who.role != Role::kAuthorityAdmin) {
    LogDetached({NowMillis(), who.user_id, "directory.publish", "", ns, "denied:403"});
    co_return ErrorReply(403, "forbidden", "only approved authority admins publish directory entries");
  }
  auto bytes = co_await ReadBinaryBody(call.req, call.body, kMaxDirectoryEntryBody);
  if (!bytes) co_return ErrorReply(bytes.error());
  auto parsed = ParseEntryFor(ns, *bytes);
  if (!parsed) co_return ErrorReply(parsed.error());
  const std::string owned_message =
      "namespace \"" + ns + "\" is published by another organisation's authority admins";
  auto owner_of = [&]() -> Result<std::optional<std::string>> {
    auto stored = store_.GetDirectoryEntry(ns);
    if (!stored) return std::unexpected(stored.error());
    const std::optional<DirectoryEntryRow>& row = *stored;
    if (!row.has_value()) return std::optional<std::string>();
    return std::optional<std::string>(row->organisation);
  };
  auto owner_r = owner_of();
  if (!owner_r) co_return ErrorReply(owner_r.error());
  const std::optional<std::string>& owner = *owner_r;
  if (owner.has_value() && *owner != who.organisation) {
    LogDetached({NowMillis(), who.user_id, "directory.publish", "", ns, "denied:403"});
    co_return ErrorReply(403, "namespace_owned", owned_message);
  }
  // Stored canonically re-encoded: GET re-parses every row.
  auto canonical = abe::EncodeDirectory(*parsed);
  if (!canonical) co_return ErrorReply(BadEntry(canonical.error().message()));
  DirectoryEntryRow row;
  row.authority_namespace = ns;
  row.organisation = who.organisation;
  row.entry = std::move(*canonical);
  row.publisher_id = who.user_id;
  row.updated_at = NowMillis();
  auto inserted = std::make_shared<bool>(false);
  AuditedWriter::Request w;
  w.apply = [row, inserted](WriteTx& tx) -> Result<void> {
    auto r = tx.PutDirectoryEntry(row, kMaxDirectoryNamespaces);
    if (!r) return std::unexpected(r.error());
    *inserted = *r;
    return {};
  };
  w.audit.push_back({NowMillis(), who.user_id, "directory.publish", "", ns, "ok"});
  if (auto r = co_await Commit(std::move(w)); !r) {
    if (r.error().code() != ErrorCode::kConflict) co_return ErrorReply(r.error());
    // Another organisation published the namespace first, or the directory is full.
    auto now_owner = owner_of();
    if (!now_owner) co_return ErrorReply(now_owner.error());
    const std::optional<std::string>& current = *now_owner;
    if (current.has_value() && *current != who.organisation)
      co_return ErrorReply(403, "namespace_owned", owned_message);
    co_return ErrorReply(409, "directory_full",
                         "the directory already holds the maximum of " +
                             std::to_string(kMaxDirectoryNamespaces) + " namespaces");
  }
  co_return JsonReply(*inserted ? 201 : 200, {{"namespace", ns},
                                              {"organisation", row.organisation},
                                              {"publisher", row.publisher_id},
                                              {"updated_at", row.updated_at},
                                              {"size", row.entry.size()}});
}

}  // namespace cipherchart::server
