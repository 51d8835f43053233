#include "src/server/admin_tasks.h"

#include <filesystem>
#include <future>

#include "cipherchart/common/secret.h"
#include "cipherchart/server/store.h"
#include "src/server/http_server.h"
#include "src/server/ids.h"
#include "src/server/writer.h"

namespace cipherchart::server {
Result<std::string> CreateServerAdmin(ServerConfig cfg, const envelope::Ed25519PublicKey& identity_key,
                                      const std::array<std::uint8_t, 32>& delivery_key) {
  if (auto r = Finalise(cfg); !r) return std::unexpected(r.error());
  // The first admin is made before the server ever ran: the data directory (where the SQLite
  // file goes) may not exist yet, as `run` would create it.
  std::error_code ec;
  std::filesystem::create_directories(cfg.data_dir, ec);
  if (ec) return Fail(ErrorCode::kInvalidArgument, "data_dir " + cfg.data_dir + ": " + ec.message());
  auto store = OpenStore(cfg.store);
  if (!store) return std::unexpected(store.error());
  if (auto r = (*store)->Migrate(); !r) return std::unexpected(r.error());
  if (auto r = EnsureAuditKey(cfg.audit_key); !r) return std::unexpected(r.error());
  auto key = LoadAuditKey(cfg.audit_key);
  if (!key) return std::unexpected(key.error());
  auto writer = AuditedWriter::Start(**store, std::move(*key), 16);
  if (!writer) return std::unexpected(writer.error());
  Account a;
  auto id = NewUserId();
  if (!id) return std::unexpected(id.error());
  a.user_id = *id;
  a.role = Role::kServerAdmin;
  a.identity_key = identity_key;
  a.delivery_key = delivery_key;
  a.details_json = "{}";
  a.state = ApprovalState::kApproved;
  a.created_at = NowSeconds();
  std::promise<Result<void>> done;
  AuditedWriter::Request req;
  req.apply = [a](WriteTx& tx) { return tx.InsertAccount(a); };
  req.audit.push_back({NowMillis(), "", "admin.create", "", a.user_id, "ok"});
  req.done = [&done](Result<void> r) { done.set_value(std::move(r)); };
  auto fut = done.get_future();
  (*writer)->Submit(std::move(req));
  auto r = fut.get();
  (*writer)->Stop();
  if (!r) return std::unexpected(r.error());
  return a.user_id;
}

Result<StoredLogSummary> VerifyLogOnDisk(ServerConfig cfg) {
  if (auto r = Finalise(cfg); !r) return std::unexpected(r.error());
  auto store = OpenStore(cfg.store);
  if (!store) return std::unexpected(store.error());
  auto key = LoadAuditKey(cfg.audit_key);
  if (!key) return std::unexpected(key.error());
  auto size = (*store)->AuditSize();
  if (!size) return std::unexpected(size.error());
  auto rows = (*store)->ReadAudit(0, *size);
  if (!rows) return std::unexpected(rows.error());
  auto heads = (*store)->ReadTreeHeads();
  if (!heads) return std::unexpected(heads.error());
  return CheckStoredLog(*rows, *heads, key->public_key());
}

}  // namespace cipherchart::server
