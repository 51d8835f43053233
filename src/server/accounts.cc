// Accounts and registrations: POST /v1/accounts, GET /v1/accounts/me and /{user_id}, and the
// admins' review of pending registrations (docs/api.md, "Accounts").
#include "src/server/handler.h"
#include "src/server/ids.h"

namespace cipherchart::server {
namespace {

namespace field = protocol::field;

// At most `max` bytes of UTF-8 `s`, cut at a character boundary (a cut inside a character
// would make the text invalid UTF-8, which the JSON encoder refuses).
std::string Prefix(const std::string& s, std::size_t max) {
  std::size_t n = std::min(s.size(), max);
  while (n > 0 && n < s.size() && (static_cast<unsigned char>(s[n]) & 0xc0) == 0x80) --n;
  return s.substr(0, n);
}

json AccountJson(const Account& a) {
  json details = json::parse(a.details_json.empty() ? std::string("{}") : a.details_json, nullptr, false);
  if (details.is_discarded()) details = json::object();
  return {{field::kUserId, a.user_id},
          {field::kRole, RoleName(a.role)},
          {field::kState, StateName(a.state)},
          {field::kOrganisation, a.organisation},
          {field::kDetails, details},
          {field::kIdentityKey, ToHex(a.identity_key)},
          {field::kDeliveryKey, ToHex(a.delivery_key)},
          {"decision_reason", a.decision_reason},
          {"decided_by", a.decided_by},
          {field::kCreatedAt, a.created_at}};
}

// What any approved account may learn about another (GET /v1/accounts/{user_id}): enough to
// check that an envelope's author key is that account's identity key, to show the author's
// name, and to encrypt a key package to the account's delivery key. A patient's organisation
// and details are not shown.
json PublicAccountJson(const Account& a) {
  json out = {{field::kUserId, a.user_id},
              {field::kRole, RoleName(a.role)},
              {field::kState, StateName(a.state)},
              {field::kIdentityKey, ToHex(a.identity_key)},
              {field::kDeliveryKey, ToHex(a.delivery_key)}};
  if (a.role == Role::kPatient) return out;
  std::string name;
  if (a.role == Role::kPractitioner || a.role == Role::kAuthorityAdmin) {
    const json details = json::parse(a.details_json, nullptr, false);
    if (details.is_object()) {
      if (const auto it = details.find(field::kName); it != details.end() && it->is_string())
        name = it->get<std::string>();
    }
  }
  out[field::kOrganisation] = a.organisation;
  out[field::kName] = name;
  return out;
}

// The registration body's fields, checked in the order docs/api.md lists them; the account is
// not stored yet (no user id, state or time).
ApiResult<Account> ReadRegistration(const json& j) {
  const Fields f(j);
  for (const auto& [k, v] : j.items()) {
    if (k != field::kRole && k != field::kIdentityKey && k != field::kDeliveryKey &&
        k != field::kOrganisation && k != field::kDetails && k != "password")
      return Reject(400, "bad_field", "unknown field '" + Prefix(k, 64) + "'");
  }
  auto role_name = f.Required(field::kRole, 32);
  if (!role_name) return std::unexpected(role_name.error());
  Account a;
  const auto role = protocol::ParseRole(*role_name);
  if (role == Role::kServerAdmin)
    return Reject(403, "forbidden", "server admins are created with 'cipherchart server add-admin'");
  if (!role)
    return Reject(400, "bad_field", "field 'role': expected patient, practitioner or authority-admin");
  a.role = *role;
  auto identity = f.Hex<32>(field::kIdentityKey);
  if (!identity) return std::unexpected(identity.error());
  auto delivery = f.Hex<32>(field::kDeliveryKey);
  if (!delivery) return std::unexpected(delivery.error());
  a.identity_key = *identity;
  a.delivery_key = *delivery;
  auto org_r = f.Str(field::kOrganisation, a.role != Role::kPatient, 128);
  if (!org_r) return std::unexpected(org_r.error());
  if (const std::optional<std::string>& org = *org_r; org.has_value()) {
    if (org->empty() || !IsPrintableText(*org))
      return Reject(400, "bad_field", "field 'organisation': must be non-empty printable text");
    a.organisation = *org;
  }
  json details = json::object();
  if (auto it = j.find(field::kDetails); it != j.end() && !it->is_null()) {
    if (!it->is_object()) return Reject(400, "bad_field", "field 'details': expected an object");
    details = *it;
  }
  if (a.role == Role::kPractitioner) {
    for (const char* k : {"name", "licence", "practice_start", "practice_end"}) {
      const auto it = details.find(k);
      if (it == details.end())
        return Reject(400, "missing_field",
                      std::string("field 'details.") + k + "' is required for practitioners");
      if (!it->is_string() || it->get_ref<const std::string&>().empty())
        return Reject(400, "bad_field",
                      std::string("field 'details.") + k + "': expected a non-empty string");
    }
  }
  a.details_json = details.dump();
  if (a.details_json.size() > 16 * 1024) return Reject(400, "bad_field", "field 'details': over 16 KiB");
  auto pw_r = f.Str("password", false, 1024);
  if (!pw_r) return std::unexpected(pw_r.error());
  if (const std::optional<std::string>& pw = *pw_r; pw.has_value()) {
    if (pw->size() < 8) return Reject(400, "bad_field", "field 'password': at least 8 bytes");
    auto hash = HashPassword(*pw);
    if (!hash) return Reject(hash.error());
    a.password_hash = std::move(*hash);
  }
  return a;
}

}  // namespace

asio::awaitable<HttpReply> Service::Register(const Call& call) {
  auto j = co_await ReadJsonObject(call.req, call.body, config_.max_json_body);
  if (!j) co_return ErrorReply(j.error());
  auto read = ReadRegistration(*j);
  if (!read) co_return ErrorReply(read.error());
  Account a = std::move(*read);
  a.state = a.role == Role::kPatient ? ApprovalState::kApproved : ApprovalState::kPending;
  a.created_at = NowSeconds();
  auto id = NewUserId();
  if (!id) co_return ErrorReply(id.error());
  a.user_id = *id;

  AuditedWriter::Request w;
  w.apply = [a](WriteTx& tx) { return tx.InsertAccount(a); };
  w.audit.push_back({NowMillis(), a.user_id, "register", "", std::string(RoleName(a.role)), "ok"});
  if (auto r = co_await Commit(std::move(w)); !r) {
    if (r.error().code() == ErrorCode::kConflict)
      co_return ErrorReply(409, "conflict", "this identity key is already registered");
    co_return ErrorReply(r.error());
  }
  co_return JsonReply(201, {{field::kUserId, a.user_id}, {field::kState, StateName(a.state)}});
}

asio::awaitable<HttpReply> Service::Me(const Call& call) {
  co_return JsonReply(200, AccountJson(call.caller().account));
}

asio::awaitable<HttpReply> Service::LookupAccount(const Call& call) {
  const std::string user_id = call.Param("user_id");
  if (!IsValidUserId(user_id)) co_return ErrorReply(400, "bad_path", "not a user id");
  auto account_r = CachedAccount(user_id);
  if (!account_r) co_return ErrorReply(account_r.error());
  const std::optional<Account>& account = *account_r;
  if (!account.has_value()) co_return ErrorReply(404, "not_found", "no such user");
  co_return JsonReply(200, PublicAccountJson(*account));
}

// Authority admins review their organisation's practitioners; server admins review authority
// admins. Pending ones unless ?state= says otherwise.
asio::awaitable<HttpReply> Service::ListRegistrations(const Call& call) {
  const Account& who = call.caller().account;
  std::optional<ApprovalState> state = ApprovalState::kPending;
  if (auto it = call.query.find(field::kState); it != call.query.end()) {
    state = protocol::ParseState(it->second);
    if (!state)
      co_return ErrorReply(400, "bad_request", "query 'state': expected pending, approved or rejected");
  }
  Role visible;
  std::string org;
  if (who.role == Role::kAuthorityAdmin) {
    visible = Role::kPractitioner;
    org = who.organisation;
  } else if (who.role == Role::kServerAdmin) {
    visible = Role::kAuthorityAdmin;
  } else {
    co_return ErrorReply(403, "forbidden", "only authority and server admins review registrations");
  }
  auto list = store_.ListAccounts(org, state);
  if (!list) co_return ErrorReply(list.error());
  json out = json::array();
  for (const auto& a : *list)
    if (a.role == visible) out.push_back(AccountJson(a));
  co_return JsonReply(200, {{"registrations", out}});
}

asio::awaitable<HttpReply> Service::ApproveRegistration(const Call& call) { return Decide(call, true); }

asio::awaitable<HttpReply> Service::RejectRegistration(const Call& call) { return Decide(call, false); }

asio::awaitable<HttpReply> Service::Decide(const Call& call, bool approve) {
  const Account& who = call.caller().account;
  auto j = co_await ReadJsonObject(call.req, call.body, config_.max_json_body);
  if (!j) co_return ErrorReply(j.error());
  auto reason_r = Fields(*j).Str("reason", !approve, 1024);
  if (!reason_r) co_return ErrorReply(reason_r.error());
  const std::optional<std::string>& reason = *reason_r;
  if (reason.has_value() && !IsPrintableText(*reason))
    co_return ErrorReply(400, "bad_field", "field 'reason': control characters are not allowed");
  const std::string user_id = call.Param("user_id");
  if (!IsValidUserId(user_id)) co_return ErrorReply(400, "bad_path", "not a user id");
  auto target_r = store_.GetAccount(user_id);
  if (!target_r) co_return ErrorReply(target_r.error());
  const char* action = approve ? "approve" : "reject";
  const std::optional<Account>& target = *target_r;
  if (!target.has_value()) co_return ErrorReply(404, "not_found", "no such registration");
  const Account& t = *target;
  const bool allowed = (who.role == Role::kAuthorityAdmin && t.role == Role::kPractitioner &&
                        t.organisation == who.organisation) ||
                       (who.role == Role::kServerAdmin && t.role == Role::kAuthorityAdmin);
  if (!allowed) {
    LogDetached({NowMillis(), who.user_id, action, "", t.user_id, "denied:403"});
    co_return ErrorReply(
        403, "forbidden",
        "practitioners are decided by their organisation's authority admins, authority admins by "
        "server admins");
  }
  AuditedWriter::Request w;
  const auto state = approve ? ApprovalState::kApproved : ApprovalState::kRejected;
  w.apply = [uid = t.user_id, state, r = reason.value_or(""), by = who.user_id](WriteTx& tx) {
    return tx.DecideRegistration(uid, state, r, by, NowSeconds());
  };
  w.audit.push_back({NowMillis(), who.user_id, action, "", t.user_id, "ok"});
  if (auto r = co_await Commit(std::move(w)); !r) {
    if (r.error().code() == ErrorCode::kConflict)
      co_return ErrorReply(409, "conflict", "the registration is not pending");
    co_return ErrorReply(r.error());
  }
  ForgetAccount(t.user_id);
  co_return JsonReply(200, {{field::kUserId, t.user_id}, {field::kState, StateName(state)}});
}

}  // namespace cipherchart::server
