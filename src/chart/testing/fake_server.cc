// The in-memory fake of the storage server: see fake_server.h. Its state and shared helpers are in
// fake_state.h, its ServerPort in fake_port.cc.
#include "src/chart/testing/fake_server.h"

#include "src/chart/testing/fake_state.h"

namespace cipherchart::chart::testing {

// ---- FakeServer ----------------------------------------------------------------------------------

FakeServer::FakeServer() : FakeServer(Options{}) {}

FakeServer::FakeServer(Options options) {
  auto key = envelope::Ed25519SigningKey::Generate();
  if (!key) std::abort();  // the OS RNG failed: no test can run
  state_ = std::make_shared<State>(std::move(options), std::move(*key));
}

FakeServer::~FakeServer() = default;

std::unique_ptr<ServerPort> FakeServer::Connect() { return NewPort(state_); }

Result<std::string> FakeServer::AddServerAdmin(const envelope::Ed25519PublicKey& identity_key) {
  std::lock_guard lock(state_->mu);
  if (std::ranges::any_of(state_->accounts,
                          [&](const auto& kv) { return kv.second.identity_key == identity_key; }))
    return Fail(ErrorCode::kConflict, "add-admin: this identity key is already registered");
  auto id = protocol::NewUserId();
  if (!id) return std::unexpected(id.error());
  AccountRow a;
  a.user_id = *id;
  a.role = Role::kServerAdmin;
  a.identity_key = identity_key;
  a.state = Approval::kApproved;
  a.created_at = state_->NowMs() / 1000;
  state_->accounts[*id] = std::move(a);
  return *id;
}

const envelope::Ed25519PublicKey& FakeServer::audit_key() const { return state_->audit_key.public_key(); }

Result<void> FakeServer::FailNth(std::string_view operation, std::uint64_t nth, Fault fault) {
  if (std::ranges::find(kOperations, operation) == std::end(kOperations))
    return Fail(ErrorCode::kInvalidArgument,
                "FailNth: ServerPort has no operation '" + std::string(operation) + "'");
  if (nth < 1) return Fail(ErrorCode::kInvalidArgument, "FailNth: nth counts from 1");
  std::lock_guard lock(state_->mu);
  const auto it = state_->calls.find(operation);
  const std::uint64_t target = (it == state_->calls.end() ? 0 : it->second) + nth;
  state_->rules.push_back({[op = std::string(operation), target](const CallInfo& c) {
                             return c.operation == op && c.count == target;
                           },
                           std::move(fault), 1});
  return {};
}

void FakeServer::FailWhen(std::function<bool(const CallInfo&)> predicate, Fault fault, int times) {
  if (times == 0) return;
  std::lock_guard lock(state_->mu);
  state_->rules.push_back({std::move(predicate), std::move(fault), times});
}

void FakeServer::ClearFaults() {
  std::lock_guard lock(state_->mu);
  state_->rules.clear();
}

std::uint64_t FakeServer::Calls(std::string_view operation) const {
  std::lock_guard lock(state_->mu);
  const auto it = state_->calls.find(operation);
  return it == state_->calls.end() ? 0 : it->second;
}

Result<std::vector<std::uint8_t>> FakeServer::Stored(const std::string& patient_id,
                                                     const std::string& record_id,
                                                     std::uint64_t version) const {
  std::lock_guard lock(state_->mu);
  const Version* v = state_->FindVersion(patient_id, record_id, version);
  if (v == nullptr) return Fail(ErrorCode::kNotFound, "Stored: no such record version");
  return v->bytes;
}

Result<void> FakeServer::Tamper(const std::string& patient_id, const std::string& record_id,
                                std::uint64_t version,
                                const std::function<void(std::vector<std::uint8_t>&)>& mutate) {
  std::lock_guard lock(state_->mu);
  Version* v = state_->FindVersion(patient_id, record_id, version);
  if (v == nullptr) return Fail(ErrorCode::kNotFound, "Tamper: no such record version");
  if (v->info.tombstone) return Fail(ErrorCode::kInvalidArgument, "Tamper: a tombstone has no bytes");
  mutate(v->bytes);
  v->info.size = v->bytes.size();
  return {};
}

Result<void> FakeServer::TamperListing(const std::string& patient_id, const std::string& record_id,
                                       std::uint64_t version,
                                       const std::function<void(RecordInfo&)>& mutate) {
  std::lock_guard lock(state_->mu);
  Version* v = state_->FindVersion(patient_id, record_id, version);
  if (v == nullptr) return Fail(ErrorCode::kNotFound, "TamperListing: no such record version");
  RecordInfo info = v->info;
  mutate(info);
  info.record_id = v->info.record_id;
  info.version = v->info.version;
  v->info = std::move(info);
  return {};
}

Result<void> FakeServer::TamperPackage(const std::string& package_id,
                                       const std::function<void(std::vector<std::uint8_t>&)>& mutate) {
  std::lock_guard lock(state_->mu);
  const auto it = state_->packages.find(package_id);
  if (it == state_->packages.end()) return Fail(ErrorCode::kNotFound, "TamperPackage: no such key package");
  mutate(it->second.bytes);
  return {};
}

void FakeServer::ExpireSessions() {
  std::lock_guard lock(state_->mu);
  state_->sessions.clear();
}

std::vector<server::AuditEntry> FakeServer::AuditLog() const {
  std::lock_guard lock(state_->mu);
  std::vector<server::AuditEntry> out;
  out.reserve(state_->audit_rows.size());
  for (const auto& row : state_->audit_rows) {
    auto e = server::DecodeAuditEntry(row.entry);
    if (e) out.push_back(std::move(*e));
  }
  return out;
}

}  // namespace cipherchart::chart::testing