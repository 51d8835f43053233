// The key mailbox (docs/api.md, "Key packages"): authority admins post key packages to
// accounts (and a patient to a patient account); a recipient lists and fetches their own. The
// packages are sealed to the recipient's delivery key: the server stores opaque bytes.
#include "src/server/handler.h"
#include "src/server/ids.h"

namespace cipherchart::server {
namespace {

namespace field = protocol::field;

}  // namespace

asio::awaitable<HttpReply> Service::PostKeyPackage(const Call& call) {
  const Account& who = call.caller().account;
  const std::string recipient_id = call.Param("user_id");
  if (!IsValidUserId(recipient_id)) co_return ErrorReply(400, "bad_path", "not a user id");
  auto recipient_r = CachedAccount(recipient_id);
  if (!recipient_r) co_return ErrorReply(recipient_r.error());
  const std::optional<Account>& recipient = *recipient_r;
  if (!recipient.has_value()) co_return ErrorReply(404, "not_found", "no such user");
  const Account& r = *recipient;
  const bool sender_ok =
      who.role == Role::kAuthorityAdmin || (who.role == Role::kPatient && r.role == Role::kPatient);
  if (!sender_ok) {
    LogDetached({NowMillis(), who.user_id, "key.post", "", r.user_id, "denied:403"});
    co_return ErrorReply(403, "forbidden",
                         "key packages come from authority admins, or from a patient to a patient account");
  }
  if (r.state != ApprovalState::kApproved || r.role == Role::kServerAdmin) {
    LogDetached({NowMillis(), who.user_id, "key.post", "", r.user_id, "denied:403"});
    co_return ErrorReply(403, "forbidden", "the recipient is not an approved account that can hold keys");
  }
  auto pid = NewPackageId();
  if (!pid) co_return ErrorReply(pid.error());
  KeyPackage pkg;
  pkg.package_id = *pid;
  pkg.recipient_id = r.user_id;
  pkg.sender_id = who.user_id;
  pkg.created_at = NowMillis();
  auto finish = [pkg](WriteTx& tx, const Streamed& s) mutable {
    pkg.size = s.size;
    pkg.blob_id = s.blob_id;
    return tx.InsertKeyPackage(pkg);
  };
  std::vector<AuditEntry> audit{
      {NowMillis(), who.user_id, "key.post", "", r.user_id + "/" + pkg.package_id, "ok"}};
  auto stored = co_await StreamToBlob(call.req, call.body, config_.max_key_package, finish, std::move(audit));
  if (!stored) co_return ErrorReply(stored.error());
  co_return JsonReply(201, {{field::kPackageId, pkg.package_id}, {"size", stored->size}});
}

asio::awaitable<HttpReply> Service::ListKeyPackages(const Call& call) {
  auto list = store_.ListKeyPackages(call.caller().account.user_id);
  if (!list) co_return ErrorReply(list.error());
  json out = json::array();
  for (const auto& k : *list) {
    out.push_back({{field::kPackageId, k.package_id},
                   {field::kSenderId, k.sender_id},
                   {"size", k.size},
                   {field::kCreatedAt, k.created_at}});
  }
  co_return JsonReply(200, {{field::kPackages, out}});
}

// Someone else's package is "not found" too, so ids cannot be probed; the attempt is logged.
asio::awaitable<HttpReply> Service::FetchKeyPackage(const Call& call) {
  const Account& who = call.caller().account;
  const std::string package_id = call.Param("package_id");
  if (!IsValidPackageId(package_id)) co_return ErrorReply(400, "bad_path", "not a key package id");
  auto pkg_r = store_.GetKeyPackage(package_id);
  if (!pkg_r) co_return ErrorReply(pkg_r.error());
  const std::optional<KeyPackage>& pkg = *pkg_r;
  if (!pkg.has_value() || pkg->recipient_id != who.user_id) {
    if (pkg.has_value()) LogDetached({NowMillis(), who.user_id, "key.fetch", "", package_id, "denied:404"});
    co_return ErrorReply(404, "not_found", "no such key package for this account");
  }
  AuditedWriter::Request w;
  w.audit.push_back({NowMillis(), who.user_id, "key.fetch", "", package_id, "ok"});
  if (auto r = co_await Commit(std::move(w)); !r) co_return ErrorReply(r.error());
  HttpReply reply;
  reply.content_type = "application/octet-stream";
  reply.blob_id = pkg->blob_id;
  reply.blob_size = pkg->size;
  co_return reply;
}

}  // namespace cipherchart::server
