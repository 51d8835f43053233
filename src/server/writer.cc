#include "src/server/writer.h"

#include <cstdio>

#include "src/server/ids.h"

namespace cipherchart::server {

AuditedWriter::AuditedWriter(Store& store, envelope::Ed25519SigningKey key, int max_batch)
    : store_(store), key_(std::move(key)), max_batch_(max_batch < 1 ? 1 : max_batch) {}

Result<std::unique_ptr<AuditedWriter>> AuditedWriter::Start(Store& store, envelope::Ed25519SigningKey key,
                                                            int max_batch) {
  std::unique_ptr<AuditedWriter> w(new AuditedWriter(store, std::move(key), max_batch));
  if (auto r = w->Reload(); !r) return std::unexpected(r.error());
  // The latest stored head must match the entries: an edited, removed or reordered entry
  // before it changes the recomputed root. (`cipherchart server verify-log` checks every head.)
  auto latest = store.LatestTreeHead();
  if (!latest) return std::unexpected(latest.error());
  if (const std::optional<TreeHeadRow>& stored = *latest; stored.has_value()) {
    const TreeHeadRow& row = stored.value();
    auto head = FromTreeHeadRow(row);
    if (!head) return std::unexpected(head.error());
    if (auto v = VerifyTreeHead(w->key_.public_key(), *head); !v)
      return Fail(ErrorCode::kIntegrity, "audit log: the latest tree head (size " +
                                             std::to_string(row.tree_size) +
                                             ") is not signed by this server's audit key");
    if (static_cast<std::uint64_t>(row.tree_size) > w->tree_.size())
      return Fail(ErrorCode::kIntegrity,
                  "audit log: the latest tree head covers " + std::to_string(row.tree_size) +
                      " entries but the database holds " + std::to_string(w->tree_.size()));
    auto root = w->tree_.RootAt(static_cast<std::uint64_t>(row.tree_size));
    if (!root) return std::unexpected(root.error());
    if (*root != row.root)
      return Fail(ErrorCode::kIntegrity,
                  "audit log: entries before index " + std::to_string(row.tree_size) +
                      " do not match the signed tree head (edited, removed or reordered)");
    w->head_ = *head;
  }
  w->thread_ = std::thread([p = w.get()] { p->Run(); });
  return w;
}

AuditedWriter::~AuditedWriter() { Stop(); }

Result<void> AuditedWriter::Reload() {
  std::unique_lock lock(tree_mu_);
  tree_ = MerkleTree();
  auto size = store_.AuditSize();
  if (!size) return std::unexpected(size.error());
  constexpr std::int64_t kPage = 50'000;
  for (std::int64_t from = 0; from < *size; from += kPage) {
    auto rows = store_.ReadAudit(from, std::min(*size, from + kPage));
    if (!rows) return std::unexpected(rows.error());
    for (const auto& row : *rows) {
      if (row.seq != static_cast<std::int64_t>(tree_.size()))
        return Fail(ErrorCode::kIntegrity,
                    "audit log: entry " + std::to_string(tree_.size()) + " is missing");
      // The patient column indexes the entries a patient may list; it is not signed, so it
      // must agree with the (signed) entry or an edit could hide a read from the patient.
      auto entry = DecodeAuditEntry(row.entry);
      if (!entry || entry->patient_id != row.patient_id)
        return Fail(ErrorCode::kIntegrity, "audit log: entry " + std::to_string(row.seq) +
                                               " does not decode, or its patient index column was edited");
      auto leaf = LeafHash(row.entry);
      if (!leaf) return std::unexpected(leaf.error());
      if (auto r = tree_.Append(*leaf); !r) return r;
    }
  }
  return {};
}

void AuditedWriter::ReloadAfterFailure() {
  if (auto r = Reload(); !r) {
    // The tree no longer matches the database: signing heads over it would be wrong, so every
    // later request fails until the server restarts (and rebuilds the tree from what is durable).
    broken_ = true;
    std::fprintf(stderr, "{\"level\":\"error\",\"msg\":\"audit tree reload failed; writes disabled\"}\n");
  }
}

Result<void> AuditedWriter::CatchUp(std::int64_t db_size) {
  // Only this thread appends, so reading the size without the lock is safe.
  const auto have = static_cast<std::int64_t>(tree_.size());
  if (db_size < have)
    return Fail(ErrorCode::kIntegrity, "audit log: the database holds " + std::to_string(db_size) +
                                           " entries, fewer than the " + std::to_string(have) +
                                           " this server appended");
  if (db_size == have) return {};
  auto rows = store_.ReadAudit(have, db_size);
  if (rows && static_cast<std::int64_t>(rows->size()) != db_size - have)
    return Fail(ErrorCode::kIntegrity, "audit log: entries between " + std::to_string(have) + " and " +
                                           std::to_string(db_size) + " are missing");
  if (!rows) return std::unexpected(rows.error());
  std::unique_lock lock(tree_mu_);
  for (const auto& row : *rows) {
    auto leaf = LeafHash(row.entry);
    if (!leaf) return std::unexpected(leaf.error());
    if (auto r = tree_.Append(*leaf); !r) return r;
  }
  return {};
}

void AuditedWriter::Submit(Request request) {
  {
    std::lock_guard lock(queue_mu_);
    if (!stopping_) {
      queue_.push_back(std::move(request));
      queue_cv_.notify_one();
      return;
    }
  }
  if (request.done) request.done(Fail(ErrorCode::kUnsupported, "the server is shutting down"));
}

void AuditedWriter::Stop() {
  {
    std::lock_guard lock(queue_mu_);
    stopping_ = true;
    queue_cv_.notify_all();
  }
  // HttpServer::Run on its way out and the shutdown drain thread can both get here: joining
  // one thread twice is undefined (it hung the tests' TestServer::Stop).
  std::lock_guard lock(join_mu_);
  if (thread_.joinable()) thread_.join();
}

void AuditedWriter::Run() {
  std::vector<Request> batch;
  for (;;) {
    {
      std::unique_lock lock(queue_mu_);
      queue_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      while (!queue_.empty() && static_cast<int>(batch.size()) < max_batch_) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    ProcessBatch(batch);
    batch.clear();
  }
}

void AuditedWriter::ProcessBatch(std::vector<Request>& batch) {
  std::vector<Result<void>> results(batch.size(), Result<void>{});
  auto fail_all = [&](const Error& e) {
    for (auto& req : batch)
      if (req.done) req.done(std::unexpected(e));
  };
  if (broken_)
    return fail_all(Error(ErrorCode::kInternal, "audit log: writer disabled after a failed reload"));
  auto tx = store_.BeginWrite();
  if (!tx) return fail_all(tx.error());
  auto db_size = (*tx)->LockAuditHead();
  if (!db_size) return fail_all(db_size.error());
  if (auto r = CatchUp(*db_size); !r) return fail_all(r.error());

  std::vector<AuditRow> rows;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    auto& req = batch[i];
    if (req.apply) {
      if (auto sp = (*tx)->Savepoint(); !sp) return fail_all(sp.error());
      results[i] = req.apply(**tx);
      auto end = results[i] ? (*tx)->ReleaseSavepoint() : (*tx)->RollbackToSavepoint();
      if (!end) return fail_all(end.error());
    }
    for (auto& entry : req.audit) {
      if (!results[i]) entry.outcome = "failed";
      AuditRow row;
      row.seq = *db_size + static_cast<std::int64_t>(rows.size());
      row.patient_id = entry.patient_id;
      auto bytes = EncodeAuditEntry(entry);
      if (!bytes) return fail_all(bytes.error());
      row.entry = std::move(*bytes);
      rows.push_back(std::move(row));
    }
  }

  const std::uint64_t old_size = tree_.size();
  std::optional<SignedTreeHead> new_head;
  if (!rows.empty()) {
    if (auto r = (*tx)->AppendAudit(rows); !r) return fail_all(r.error());
    Result<Hash> root = Hash{};
    {
      std::unique_lock lock(tree_mu_);
      for (const auto& row : rows) {
        auto leaf = LeafHash(row.entry);
        if (!leaf || !tree_.Append(*leaf)) {
          lock.unlock();
          ReloadAfterFailure();
          return fail_all(Error(ErrorCode::kInternal, "audit log: hashing failed"));
        }
      }
      root = tree_.Root();
    }
    if (!root) return fail_all(root.error());
    auto head = SignTreeHead(key_, tree_.size(), NowMillis(), *root);
    if (!head) return fail_all(head.error());
    auto head_row = ToTreeHeadRow(*head);
    if (!head_row) return fail_all(head_row.error());
    if (auto r = (*tx)->InsertTreeHead(*head_row); !r) {
      ReloadAfterFailure();
      return fail_all(r.error());
    }
    new_head = *head;
  }
  if (auto r = (*tx)->Commit(); !r) {
    // The tree in memory got ahead of the database: rebuild it from what is durable.
    if (tree_.size() != old_size) ReloadAfterFailure();
    return fail_all(r.error());
  }
  if (new_head) {
    std::unique_lock lock(tree_mu_);
    head_ = new_head;
  }
  batches_.fetch_add(1);
  for (std::size_t i = 0; i < batch.size(); ++i)
    if (batch[i].done) batch[i].done(std::move(results[i]));
}

std::int64_t AuditedWriter::size() const {
  std::shared_lock lock(tree_mu_);
  return static_cast<std::int64_t>(tree_.size());
}

Result<SignedTreeHead> AuditedWriter::Head() const {
  {
    std::shared_lock lock(tree_mu_);
    if (head_ && head_->tree_size == tree_.size()) return *head_;
  }
  std::shared_lock lock(tree_mu_);
  auto root = tree_.Root();
  if (!root) return std::unexpected(root.error());
  return SignTreeHead(key_, tree_.size(), NowMillis(), *root);
}

Result<std::vector<Hash>> AuditedWriter::InclusionProof(std::uint64_t index, std::uint64_t tree_size) const {
  std::shared_lock lock(tree_mu_);
  return tree_.InclusionProof(index, tree_size);
}

Result<std::vector<Hash>> AuditedWriter::ConsistencyProof(std::uint64_t first, std::uint64_t second) const {
  std::shared_lock lock(tree_mu_);
  return tree_.ConsistencyProof(first, second);
}

Result<Hash> AuditedWriter::LeafAt(std::uint64_t index) const {
  std::shared_lock lock(tree_mu_);
  return tree_.LeafAt(index);
}

}  // namespace cipherchart::server
