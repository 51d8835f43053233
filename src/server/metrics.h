// Prometheus text-format metrics: request counts by route pattern and status, a latency
// histogram, and gauges the server fills in (audit size, connections).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace cipherchart::server {

class Metrics {
 public:
  void Record(const std::string& route, int status, double seconds);
  void ConnectionOpened() { connections_.fetch_add(1); }
  void ConnectionClosed() { connections_.fetch_sub(1); }
  // Renders every metric; the caller supplies the gauges it owns.
  std::string Render(std::int64_t audit_entries, std::uint64_t audit_batches) const;

 private:
  static constexpr std::array<double, 12> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                      0.05,   0.1,   0.25,   0.5,   1.0,  5.0};
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, std::uint64_t> requests_;
  std::array<std::uint64_t, kBuckets.size() + 1> histogram_{};
  double latency_sum_ = 0;
  std::uint64_t latency_count_ = 0;
  std::atomic<std::int64_t> connections_{0};
};

}  // namespace cipherchart::server
