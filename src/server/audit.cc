// The audit log through the API (docs/api.md, "Audit log"): the signed tree head (anyone),
// inclusion and consistency proofs (any approved account), and raw entry ranges (server
// admins). A patient's own entries are in patients.cc.
#include "src/server/handler.h"
#include "src/server/ids.h"

namespace cipherchart::server {
namespace {

namespace field = protocol::field;

json HashList(const std::vector<Hash>& hashes) {
  json out = json::array();
  for (const auto& h : hashes) out.push_back(ToHex(h));
  return out;
}

}  // namespace

asio::awaitable<HttpReply> Service::AuditHead(const Call&) {
  auto head = writer_.Head();
  if (!head) co_return ErrorReply(head.error());
  co_return JsonReply(200, {{field::kTreeSize, head->tree_size},
                            {field::kTimestamp, head->timestamp_ms},
                            {field::kRoot, ToHex(head->root)},
                            {field::kSignature, ToHex(head->signature)},
                            {"key", ToHex(writer_.public_key())}});
}

asio::awaitable<HttpReply> Service::Inclusion(const Call& call) {
  const auto index = QueryCount(call.query, field::kIndex), size = QueryCount(call.query, field::kTreeSize);
  if (!index || !size)
    co_return ErrorReply(400, "bad_request", "query needs index=I&tree_size=N (non-negative integers)");
  if (*size > writer_.size() || *index >= *size)
    co_return ErrorReply(400, "bad_request", "need index < tree_size <= the current log size");
  auto proof = writer_.InclusionProof(static_cast<std::uint64_t>(*index), static_cast<std::uint64_t>(*size));
  auto leaf = writer_.LeafAt(static_cast<std::uint64_t>(*index));
  if (!proof || !leaf) co_return ErrorReply(400, "bad_request", "no proof for these sizes");
  co_return JsonReply(200, {{field::kIndex, *index},
                            {field::kTreeSize, *size},
                            {"leaf_hash", ToHex(*leaf)},
                            {field::kPath, HashList(*proof)}});
}

asio::awaitable<HttpReply> Service::Consistency(const Call& call) {
  const auto first = QueryCount(call.query, "first"), second = QueryCount(call.query, "second");
  if (!first || !second)
    co_return ErrorReply(400, "bad_request", "query needs first=M&second=N (non-negative integers)");
  if (*second > writer_.size() || *first > *second)
    co_return ErrorReply(400, "bad_request", "need first <= second <= the current log size");
  auto proof =
      writer_.ConsistencyProof(static_cast<std::uint64_t>(*first), static_cast<std::uint64_t>(*second));
  if (!proof) co_return ErrorReply(400, "bad_request", "no proof for these sizes");
  co_return JsonReply(200, {{"first", *first}, {"second", *second}, {field::kProof, HashList(*proof)}});
}

asio::awaitable<HttpReply> Service::AuditEntries(const Call& call) {
  if (call.caller().account.role != Role::kServerAdmin)
    co_return ErrorReply(403, "forbidden", "only server admins read arbitrary audit ranges");
  const auto start = QueryCount(call.query, "start"), end = QueryCount(call.query, "end");
  if (!start || !end || *start > *end || *end - *start > 1000)
    co_return ErrorReply(400, "bad_request", "query needs start=A&end=B with A <= B <= A + 1000");
  // Clamped to the log: a range starting past its end is empty, not an error.
  const std::int64_t to = std::max(*start, std::min<std::int64_t>(*end, writer_.size()));
  auto rows = store_.ReadAudit(*start, to);
  if (!rows) co_return ErrorReply(rows.error());
  json out = json::array();
  for (const auto& row : *rows)
    out.push_back(
        {{field::kIndex, row.seq}, {field::kEntry, std::string(row.entry.begin(), row.entry.end())}});
  co_return JsonReply(200, {{field::kEntries, out}});
}

}  // namespace cipherchart::server
