// Request bodies: JSON objects and small binary bodies read into memory, and uploads streamed
// into the database chunk by chunk (Service::StreamToBlob).
#include <algorithm>
#include <array>

#include "cipherchart/envelope/hash.h"
#include "src/server/handler.h"

namespace cipherchart::server {
namespace {

using protocol::kMaxJsonDepth;

ApiResult<json> ParseObject(const std::string& text) {
  if (protocol::JsonNestingDepth(text) > kMaxJsonDepth) {
    return Reject(
        400, "bad_json",
        "the body nests arrays and objects deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  }
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Reject(400, "bad_json", "the body is not valid JSON");
  if (!j.is_object()) return Reject(400, "bad_json", "the body must be a JSON object");
  return j;
}

std::unexpected<ApiError> OverLimit(std::int64_t limit) {
  return Reject(413, "too_large",
                "the body is over this route's limit of " + std::to_string(limit) + " bytes");
}

}  // namespace

ApiError BodyReadError(const BodySource& body, const Error& error) {
  const int status = body.failure_status();
  return {status, status == 408 ? "timeout" : "bad_request", error.message()};
}

asio::awaitable<ApiResult<json>> ReadJsonObject(const HttpRequest& req, BodySource& body,
                                                std::int64_t limit) {
  const auto too_large = [limit] {
    return Reject(413, "too_large", "JSON bodies are limited to " + std::to_string(limit) + " bytes");
  };
  if (!req.content_type.starts_with("application/json"))
    co_return Reject(415, "unsupported_media_type", "this route takes Content-Type: application/json");
  if (req.content_length && static_cast<std::int64_t>(*req.content_length) > limit) co_return too_large();
  std::string text;
  std::array<std::uint8_t, 16 * 1024> buf{};
  for (;;) {
    auto n = co_await body.Read(buf);
    if (!n) co_return std::unexpected(BodyReadError(body, n.error()));
    if (*n == 0) break;
    text.append(reinterpret_cast<const char*>(buf.data()), *n);
    if (static_cast<std::int64_t>(text.size()) > limit) co_return too_large();
  }
  co_return ParseObject(text);
}

asio::awaitable<ApiResult<std::vector<std::uint8_t>>> ReadBinaryBody(const HttpRequest& req, BodySource& body,
                                                                     std::int64_t limit) {
  if (!req.content_type.starts_with("application/octet-stream"))
    co_return Reject(415, "unsupported_media_type",
                     "this route takes Content-Type: application/octet-stream");
  if (!req.content_length && !req.has_body)
    co_return Reject(411, "length_required", "uploads need Content-Length or chunked transfer encoding");
  if (req.content_length && static_cast<std::int64_t>(*req.content_length) > limit)
    co_return OverLimit(limit);
  std::vector<std::uint8_t> out;
  std::array<std::uint8_t, 16 * 1024> buf{};
  for (;;) {
    auto n = co_await body.Read(buf);
    if (!n) co_return std::unexpected(BodyReadError(body, n.error()));
    if (*n == 0) break;
    if (static_cast<std::int64_t>(out.size() + *n) > limit) co_return OverLimit(limit);
    out.insert(out.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(*n));
  }
  co_return out;
}

asio::awaitable<ApiResult<Service::Streamed>> Service::StreamToBlob(
    const HttpRequest& req, BodySource& body, std::int64_t limit,
    std::function<Result<void>(WriteTx&, const Streamed&)> finish, std::vector<AuditEntry> audit) {
  if (!req.content_type.starts_with("application/octet-stream"))
    co_return Reject(415, "unsupported_media_type", "uploads take Content-Type: application/octet-stream");
  if (!req.content_length && !req.has_body)
    co_return Reject(411, "length_required", "uploads need Content-Length or chunked transfer encoding");
  if (req.content_length && static_cast<std::int64_t>(*req.content_length) > limit)
    co_return OverLimit(limit);
  auto hasher = envelope::Sha256Hasher::Create();
  if (!hasher) co_return Reject(hasher.error());
  // The outcome, filled in by the last chunk's transaction (which the writer thread runs).
  auto out = std::make_shared<Streamed>();
  auto blob = std::make_shared<std::string>();  // created by the first chunk's transaction
  std::vector<std::uint8_t> chunk;
  chunk.reserve(64 * 1024);
  std::int64_t index = 0, total = 0;
  std::array<std::uint8_t, 64 * 1024> buf{};
  for (;;) {
    auto n = co_await body.Read(buf);
    if (!n) co_return std::unexpected(BodyReadError(body, n.error()));
    total += static_cast<std::int64_t>(*n);
    if (total > limit) co_return OverLimit(limit);
    if (*n > 0) {
      if (auto u = hasher->Update(std::span<const std::uint8_t>(buf.data(), *n)); !u)
        co_return Reject(u.error());
      chunk.insert(chunk.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(*n));
    }
    const bool last = *n == 0;
    if (chunk.size() < kMaxChunkSize && !last) continue;
    // Committed chunk by chunk so a 1 GiB body never sits in memory; until `finish` commits,
    // the blob is an orphan that no reader can reach.
    std::vector<std::uint8_t> part;
    const std::size_t take = std::min(chunk.size(), kMaxChunkSize);
    part.assign(chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(take));
    chunk.erase(chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(take));
    const bool final_write = last && chunk.empty();
    if (final_write) {
      auto digest = hasher->Finish();
      if (!digest) co_return Reject(digest.error());
      out->size = total;
      out->sha256 = *digest;
    }
    AuditedWriter::Request w;
    w.apply = [blob, index, part = std::move(part), final_write, finish, out](WriteTx& tx) -> Result<void> {
      if (blob->empty()) {
        auto id = tx.CreateBlob();
        if (!id) return std::unexpected(id.error());
        *blob = *id;
      }
      if (!part.empty() || index == 0) {
        if (auto r = tx.AppendBlobChunk(*blob, index, part); !r) return r;
      }
      if (!final_write) return {};
      out->blob_id = *blob;
      return finish(tx, *out);
    };
    if (final_write) w.audit.swap(audit);
    if (auto r = co_await Commit(std::move(w)); !r) {
      // A chunk that does not commit is the server's failure; the last one can also meet the
      // request's own conflict (the version was taken meanwhile).
      if (!final_write) co_return std::unexpected(InternalError());
      if (r.error().code() == ErrorCode::kInvalidArgument)
        co_return Reject(404, "not_found", r.error().message());
      co_return Reject(r.error());
    }
    ++index;
    if (final_write) co_return std::move(*out);
  }
}

}  // namespace cipherchart::server
