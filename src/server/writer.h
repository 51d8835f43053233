// The server's single writer: every mutation and every audit entry goes through one queue, and
// one thread turns whatever has queued up into one database transaction with one fsync (group
// commit). Each request runs inside its own savepoint, so one failing request rolls back alone.
// Each batch appends its audit entries to the Merkle log and stores a signed tree head in the
// same transaction, so a head is durable exactly when the entries it covers are.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <thread>
#include <vector>

#include "cipherchart/envelope/signature.h"
#include "cipherchart/server/audit_entry.h"
#include "cipherchart/server/merkle.h"
#include "cipherchart/server/store.h"

namespace cipherchart::server {

class AuditedWriter {
 public:
  struct Request {
    std::function<Result<void>(WriteTx&)> apply;  // the request's writes; may be empty (audit only)
    std::vector<AuditEntry> audit;                // logged whether or not apply succeeds
    // Called on the writer thread once the batch is durable (or failed); must only hand off.
    std::function<void(Result<void>)> done;
  };

  // Loads the audit tree from `store` and checks it against the latest stored tree head (a
  // mismatch means the log was edited: kIntegrity, and the server does not start).
  static Result<std::unique_ptr<AuditedWriter>> Start(Store& store, envelope::Ed25519SigningKey key,
                                                      int max_batch);
  ~AuditedWriter();

  void Submit(Request request);
  // Finishes every queued request, then stops the thread. Later Submit calls fail at once.
  // Callable from several threads at once (HttpServer::Run and its shutdown drain both call it).
  void Stop();

  const envelope::Ed25519PublicKey& public_key() const { return key_.public_key(); }
  std::int64_t size() const;
  // The head of the current tree, signed now if no batch has signed it yet (empty log).
  Result<SignedTreeHead> Head() const;
  Result<std::vector<Hash>> InclusionProof(std::uint64_t index, std::uint64_t tree_size) const;
  Result<std::vector<Hash>> ConsistencyProof(std::uint64_t first, std::uint64_t second) const;
  Result<Hash> LeafAt(std::uint64_t index) const;

  std::uint64_t batches() const { return batches_.load(); }

 private:
  AuditedWriter(Store& store, envelope::Ed25519SigningKey key, int max_batch);
  void Run();
  void ProcessBatch(std::vector<Request>& batch);
  Result<void> CatchUp(std::int64_t db_size);  // appends rows other servers wrote
  Result<void> Reload();
  void ReloadAfterFailure();

  Store& store_;
  envelope::Ed25519SigningKey key_;
  const int max_batch_;

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<Request> queue_;
  bool stopping_ = false;

  mutable std::shared_mutex tree_mu_;
  MerkleTree tree_;
  std::optional<SignedTreeHead> head_;

  std::atomic<std::uint64_t> batches_{0};
  bool broken_ = false;  // writer thread only
  std::mutex join_mu_;   // Stop may be called from several threads at once; one joins
  std::thread thread_;
};

}  // namespace cipherchart::server
