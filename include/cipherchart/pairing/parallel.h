// Splitting independent work over a small persistent thread pool (shared by FixedBaseSum, the
// multi-pairings and the ABE layer). Threads are created on first need and live for the
// process; concurrent callers share them and each waits for its own chunks only.
#pragma once

#include <cstddef>
#include <functional>

namespace cipherchart::pairing {

// Threads the library may use for one call: SetBatchThreads(n) (n >= 1; 0 restores the
// default: the environment variable CIPHERCHART_THREADS if it holds 1..64, else the hardware's
// thread count capped at 8). Process-wide; safe to call at any time.
void SetBatchThreads(unsigned threads);
unsigned BatchThreads();

// Calls fn(begin, end) on contiguous chunks covering [0, n), each index exactly once: up to
// BatchThreads() chunks of near-equal size (fewer if n is small), all but the first on pool
// threads, the first on the calling thread; returns when every chunk is done. Runs fn(0, n)
// inline when n <= 1, when BatchThreads() == 1, or when called from inside a chunk (nested
// calls never wait on the pool, so they cannot deadlock). fn must not throw.
void ParallelChunks(std::size_t n, const std::function<void(std::size_t begin, std::size_t end)>& fn);

// The number of chunks ParallelChunks(n, ...) would run concurrently for a large n right now:
// 1 inside a chunk, else BatchThreads(). For callers that size per-chunk buffers or decide
// whether splitting pays.
unsigned ParallelWidth();

}  // namespace cipherchart::pairing
