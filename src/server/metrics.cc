#include "src/server/metrics.h"

#include <cstdio>

namespace cipherchart::server {

void Metrics::Record(const std::string& route, int status, double seconds) {
  std::lock_guard lock(mu_);
  ++requests_[{route, status}];
  std::size_t b = 0;
  while (b < kBuckets.size() && seconds > kBuckets[b]) ++b;
  ++histogram_[b];
  latency_sum_ += seconds;
  ++latency_count_;
}

std::string Metrics::Render(std::int64_t audit_entries, std::uint64_t audit_batches) const {
  std::lock_guard lock(mu_);
  std::string out;
  char line[256];
  out += "# HELP cipherchart_requests_total HTTP requests by route pattern and status.\n";
  out += "# TYPE cipherchart_requests_total counter\n";
  for (const auto& [key, n] : requests_) {
    std::snprintf(line, sizeof line, "cipherchart_requests_total{route=\"%s\",status=\"%d\"} %llu\n",
                  key.first.c_str(), key.second, static_cast<unsigned long long>(n));
    out += line;
  }
  out += "# HELP cipherchart_request_seconds Request latency from the end of the headers to the reply.\n";
  out += "# TYPE cipherchart_request_seconds histogram\n";
  std::uint64_t cumulative = 0;
  for (std::size_t b = 0; b < kBuckets.size(); ++b) {
    cumulative += histogram_[b];
    std::snprintf(line, sizeof line, "cipherchart_request_seconds_bucket{le=\"%g\"} %llu\n", kBuckets[b],
                  static_cast<unsigned long long>(cumulative));
    out += line;
  }
  cumulative += histogram_[kBuckets.size()];
  std::snprintf(line, sizeof line,
                "cipherchart_request_seconds_bucket{le=\"+Inf\"} %llu\ncipherchart_request_seconds_sum %.6f\n"
                "cipherchart_request_seconds_count %llu\n",
                static_cast<unsigned long long>(cumulative), latency_sum_,
                static_cast<unsigned long long>(latency_count_));
  out += line;
  // One line per snprintf: the three gauges together overflowed `line` and were cut off.
  out +=
      "# HELP cipherchart_audit_entries Entries in the audit log.\n# TYPE cipherchart_audit_entries gauge\n";
  std::snprintf(line, sizeof line, "cipherchart_audit_entries %lld\n", static_cast<long long>(audit_entries));
  out += line;
  out +=
      "# HELP cipherchart_audit_batches_total Group commits by this server.\n"
      "# TYPE cipherchart_audit_batches_total counter\n";
  std::snprintf(line, sizeof line, "cipherchart_audit_batches_total %llu\n",
                static_cast<unsigned long long>(audit_batches));
  out += line;
  out += "# HELP cipherchart_connections Open client connections.\n# TYPE cipherchart_connections gauge\n";
  std::snprintf(line, sizeof line, "cipherchart_connections %lld\n",
                static_cast<long long>(connections_.load()));
  out += line;
  return out;
}

}  // namespace cipherchart::server
