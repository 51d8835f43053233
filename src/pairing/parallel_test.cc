// ParallelChunks: every index covered exactly once by contiguous chunks, for several thread
// counts; nested calls run inline (no deadlock), including a threaded FixedBaseSum inside.
#include "cipherchart/pairing/parallel.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "cipherchart/pairing/fixed_base.h"
#include "src/pairing/test_util.h"

namespace cipherchart::pairing {
namespace {

// Restores the default thread count when a test ends (also on a failed assertion).
struct ThreadCountGuard {
  ~ThreadCountGuard() { SetBatchThreads(0); }
};

TEST(ParallelChunksTest, CoversEveryIndexOnceInContiguousChunks) {
  ThreadCountGuard guard;
  for (unsigned threads : {1u, 2u, 3u}) {
    SetBatchThreads(threads);
    EXPECT_EQ(ParallelWidth(), threads);
    for (std::size_t n : {0, 1, 2, 7, 1000}) {
      SCOPED_TRACE(::testing::Message() << threads << " threads, n = " << n);
      std::vector<std::atomic<int>> hits(n);
      std::mutex mu;
      std::vector<std::pair<std::size_t, std::size_t>> chunks;
      ParallelChunks(n, [&](std::size_t begin, std::size_t end) {
        for (std::size_t i = begin; i < end; ++i) hits[i].fetch_add(1);
        std::lock_guard lock(mu);
        chunks.emplace_back(begin, end);
      });
      for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(hits[i].load(), 1) << "index " << i;
      // min(threads, n) chunks (one empty chunk for n = 0), tiling [0, n) with sizes that
      // differ by at most one.
      ASSERT_EQ(chunks.size(), std::max<std::size_t>(1, std::min<std::size_t>(threads, n)));
      std::sort(chunks.begin(), chunks.end());
      EXPECT_EQ(chunks.front().first, 0u);
      EXPECT_EQ(chunks.back().second, n);
      std::size_t lo = n, hi = 0;
      for (std::size_t c = 0; c < chunks.size(); ++c) {
        if (c > 0) {
          EXPECT_EQ(chunks[c].first, chunks[c - 1].second);
        }
        lo = std::min(lo, chunks[c].second - chunks[c].first);
        hi = std::max(hi, chunks[c].second - chunks[c].first);
      }
      EXPECT_LE(hi - lo, 1u);
    }
  }
}

TEST(ParallelChunksTest, CallerRunsOneChunkAndThePoolTheOthers) {
  ThreadCountGuard guard;
  SetBatchThreads(3);
  std::mutex mu;
  std::vector<std::thread::id> ids;
  ParallelChunks(3, [&](std::size_t, std::size_t) {
    std::lock_guard lock(mu);
    ids.push_back(std::this_thread::get_id());
  });
  // Which pool thread takes which job is up to the pool (one may take both).
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), std::this_thread::get_id()), 1);
}

TEST(ParallelChunksTest, NestedCallsRunInline) {
  ThreadCountGuard guard;
  for (unsigned threads : {1u, 2u, 3u}) {
    SetBatchThreads(threads);
    constexpr std::size_t kOuter = 5, kInner = 100;
    std::vector<std::atomic<int>> hits(kOuter * kInner);
    std::atomic<int> inner_calls{0};
    ParallelChunks(kOuter, [&](std::size_t begin, std::size_t end) {
      EXPECT_EQ(ParallelWidth(), threads == 1 ? threads : 1u);
      for (std::size_t o = begin; o < end; ++o) {
        ParallelChunks(kInner, [&](std::size_t b, std::size_t e) {
          EXPECT_EQ(b, 0u);  // inline: one chunk with everything
          EXPECT_EQ(e, kInner);
          inner_calls.fetch_add(1);
          for (std::size_t i = b; i < e; ++i) hits[o * kInner + i].fetch_add(1);
        });
      }
    });
    EXPECT_EQ(inner_calls.load(), static_cast<int>(kOuter)) << threads << " threads";
    for (std::size_t i = 0; i < hits.size(); ++i) EXPECT_EQ(hits[i].load(), 1) << "index " << i;
    EXPECT_EQ(ParallelWidth(), threads);  // the caller's flag is cleared again
  }
}

TEST(ParallelChunksTest, FixedBaseSumInsideAChunk) {
  // A batch large enough to be split, run from every chunk of an outer split: the inner
  // splits run inline, and every result is right.
  ThreadCountGuard guard;
  testing::TestRng rng(105);
  const G1FixedBase table(rng.RandomG1());
  std::vector<G1FixedBaseTerm> terms;
  terms.reserve(200);
  for (int i = 0; i < 200; ++i) terms.push_back({&table, rng.RandomFr(), static_cast<std::size_t>(i % 3)});
  std::vector<G1> want(3);
  for (const auto& t : terms) want[t.slot] += table.base().MulVartime(t.scalar);
  SetBatchThreads(2);
  std::vector<std::vector<G1>> outs(2, std::vector<G1>(3));
  ParallelChunks(2, [&](std::size_t begin, std::size_t end) {
    for (std::size_t c = begin; c < end; ++c) FixedBaseSum(terms, outs[c]);
  });
  for (const auto& out : outs) EXPECT_EQ(out, want);
}

}  // namespace
}  // namespace cipherchart::pairing
