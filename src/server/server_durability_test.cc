// Crash durability of the real server binary (docs/api.md: a 201 means the write is durable),
// against both store backends. Client threads stream uploads of 1 byte to 3 MiB while the
// server process is killed with SIGKILL at a random moment; after each restart on the same data
// every acknowledged upload must be there byte for byte, every listed version must download
// whole (nothing half-written is visible), and the audit log must verify (`cipherchart server
// verify-log`, and the restarted server itself, which refuses a log that does not match its
// latest signed tree head). The last round stops the server with SIGTERM under load instead:
// uploads in flight complete with 201 or fail cleanly, and every 201 is durable.
#include <gtest/gtest.h>

#include <condition_variable>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "src/server/server_test_util.h"

#ifndef CIPHERCHART_BINARY
#error "CIPHERCHART_BINARY must be the path of the cipherchart executable"
#endif

namespace cipherchart::server {
namespace {

using namespace testing;  // NOLINT(google-build-using-namespace): the test utilities

constexpr int kRounds = 8;  // 7 times SIGKILL, then SIGTERM

std::string Sha256Hex(std::string_view bytes) {
  auto d = envelope::internal::Sha256Of(
      std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
  EXPECT_TRUE(d.has_value());
  return d ? ToHex(*d) : "";
}

// The server process as the test helpers see it: something to connect to.
struct Remote {
  int port = 0;
  std::string cert;

  std::unique_ptr<client::HttpClient> Client() const {
    client::ClientOptions o;
    o.port = port;
    o.ca_file = cert;
    o.timeout_ms = 20'000;
    auto c = client::HttpClient::Connect(o);
    EXPECT_TRUE(c.has_value()) << (c ? "" : c.error().message());
    return c ? std::move(*c) : nullptr;
  }
};

// `cipherchart server run` on a free port of 127.0.0.1, on the given data directory and store.
class ServerProcess {
 public:
  ServerProcess(std::string log_dir, std::string data_dir, std::string store)
      : log_dir_(std::move(log_dir)), data_dir_(std::move(data_dir)), store_(std::move(store)) {}

  // Starts the server and reads the port from its "listening" line.
  void Start() {
    ++starts_;
    child_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{CIPHERCHART_BINARY, "server", "run", "--data-dir", data_dir_, "--store",
                                 store_, "--listen", "127.0.0.1:0"},
        std::vector<std::string>{"CIPHERCHART_LOG_REQUESTS=0", "CIPHERCHART_THREADS=2"}, StderrPath());
    auto line = child_->ReadLine(30'000);
    ASSERT_TRUE(line.has_value()) << "the server did not start (start " << starts_ << "): " << Stderr();
    const json j = json::parse(line.value_or(""), nullptr, false);
    ASSERT_TRUE(j.is_object() && j.value("msg", "") == "listening") << line.value_or("");
    remote_.port = j["port"];
    remote_.cert = data_dir_ + "/tls.crt";
    ASSERT_GT(remote_.port, 0);
  }
  // SIGKILL: no chance to flush or drain anything.
  void Kill() {
    child_->Signal(SIGKILL);
    auto status = child_->Wait(10'000);
    ASSERT_TRUE(status.has_value());
    EXPECT_TRUE(WIFSIGNALED(status.value_or(0)) && WTERMSIG(status.value_or(0)) == SIGKILL);
    child_.reset();
  }
  // SIGTERM (unless `signal` is false: already sent): the graceful shutdown; returns the exit
  // code (-1 if it did not exit normally). A second SIGTERM could arrive after the server
  // stopped handling signals, so there is only ever one.
  int Terminate(bool signal = true) {
    if (signal) child_->Signal(SIGTERM);
    auto status = child_->Wait(30'000);
    EXPECT_TRUE(status.has_value()) << "no exit within 30 s of SIGTERM";
    child_.reset();
    return status && WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
  }
  void Signal(int sig) const { child_->Signal(sig); }

  const Remote& remote() const { return remote_; }
  std::string Stderr() const {
    std::ifstream in(StderrPath());
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }

 private:
  std::string StderrPath() const { return log_dir_ + "/server-stderr-" + std::to_string(starts_) + ".log"; }

  std::string log_dir_, data_dir_, store_;
  std::unique_ptr<ChildProcess> child_;
  Remote remote_;
  int starts_ = 0;
};

struct Upload {
  std::string record_id;
  int version = 0;
  std::int64_t size = 0;
  std::string sha256;  // hex
};

struct Listed {
  std::int64_t size = 0;
  std::string sha256;
  bool tombstone = false;
};
using Listing = std::map<std::pair<std::string, int>, Listed>;

// What the uploading threads of one round share.
struct Round {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Upload> acknowledged;
  std::atomic<bool> stopping{false};  // set just before the server is signalled
  std::atomic<bool> graceful{false};  // SIGTERM rather than SIGKILL
  std::vector<std::string> problems;  // responses a crash or a drain does not explain
  std::atomic<int> cut{0};            // uploads the signal cut off (transport failure)
  std::atomic<int> refused{0};        // 503 shutting_down
  std::atomic<int> across{0};         // sent before the signal, 201 after it
};

// A body size: often at the 1 MiB chunk boundaries, otherwise tiny, medium or large (to 3 MiB).
std::size_t PickSize(std::mt19937_64& rng) {
  constexpr std::size_t kChunk = kMaxChunkSize;
  static constexpr std::array<std::size_t, 7> kEdges = {1,          kChunk - 1,     kChunk,    kChunk + 1,
                                                        2 * kChunk, 3 * kChunk - 1, 3 * kChunk};
  const int kind = std::uniform_int_distribution<int>(0, 99)(rng);
  if (kind < 15) return kEdges[std::uniform_int_distribution<std::size_t>(0, kEdges.size() - 1)(rng)];
  if (kind < 50) return std::uniform_int_distribution<std::size_t>(1, 4096)(rng);
  if (kind < 75) return std::uniform_int_distribution<std::size_t>(4097, kChunk)(rng);
  return std::uniform_int_distribution<std::size_t>(kChunk + 1, 3 * kChunk)(rng);
}

std::string RandomBytes(std::mt19937_64& rng, std::size_t n) {
  std::string s(n, '\0');
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const std::uint64_t v = rng();
    std::memcpy(s.data() + i, &v, 8);
  }
  for (; i < n; ++i) s[i] = static_cast<char>(rng());
  return s;
}

// One uploading client: new records and new versions of its own acknowledged ones, streamed,
// until the server goes away. Every 201 is recorded in `round`.
void UploadLoop(const Remote& remote, const std::string& token, const std::string& pid,
                const std::string& prefix, std::uint64_t seed, Round& round) {
  std::mt19937_64 rng(seed);
  auto http = remote.Client();
  if (!http) return;
  std::map<std::string, int> latest;  // record id -> latest acknowledged version
  for (int n = 0;; ++n) {
    std::string rid = prefix + "-" + std::to_string(n);
    int version = 1;
    if (!latest.empty() && std::uniform_int_distribution<int>(0, 2)(rng) == 0) {
      auto it = latest.begin();
      std::advance(it, std::uniform_int_distribution<std::size_t>(0, latest.size() - 1)(rng));
      rid = it->first;
      version = it->second + 1;
    }
    const std::string bytes = RandomBytes(rng, PickSize(rng));
    std::istringstream in(bytes);
    const client::Headers headers = {{"Authorization", "Bearer " + token},
                                     {"X-CipherChart-Section", "vital-signs"},
                                     {"X-CipherChart-Policy", "doctor or nurse"}};
    std::string target = "/v1/patients/" + pid;
    target += "/records/" + rid;
    target += "/versions/" + std::to_string(version);
    const bool before_signal = !round.stopping.load();
    auto r = http->Upload("PUT", target, in, bytes.size(), headers);
    if (!r) {
      // The server went away: expected only once it was signalled.
      if (!round.stopping.load()) {
        std::lock_guard lock(round.mu);
        round.problems.push_back("transport failure before the signal: " + r.error().message());
      }
      round.cut.fetch_add(1);
      return;
    }
    if (r->status == 503 && round.graceful.load() && ErrorCodeOf(*r) == "shutting_down") {
      round.refused.fetch_add(1);
      return;
    }
    if (r->status != 201) {
      std::lock_guard lock(round.mu);
      round.problems.push_back("PUT " + target + ": " + std::to_string(r->status) + " " + r->body);
      return;
    }
    const json j = Parse(*r);
    const std::string sha = Sha256Hex(bytes);
    if (j.value("sha256", "") != sha ||
        j.value("size", std::int64_t{-1}) != static_cast<std::int64_t>(bytes.size())) {
      std::lock_guard lock(round.mu);
      round.problems.push_back("PUT " + target + " acknowledged other bytes: " + r->body);
    }
    latest[rid] = version;
    if (before_signal && round.stopping.load()) round.across.fetch_add(1);
    std::lock_guard lock(round.mu);
    round.acknowledged.push_back({rid, version, static_cast<std::int64_t>(bytes.size()), sha});
    round.cv.notify_all();
  }
}

class DurabilityTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    data_dir_ = dir_.path() + "/data";
    store_ = StoreUrl(GetParam(), data_dir_);
    seed_ = std::random_device{}();
    RecordProperty("seed", std::to_string(seed_));
    std::printf("seed %llu\n", static_cast<unsigned long long>(seed_));
    rng_.seed(seed_);
  }

  // `cipherchart server verify-log` on the stored log: exit 0 and "ok": true.
  void ExpectLogVerifies(const std::string& when) {
    auto r = RunCommand(
        {CIPHERCHART_BINARY, "server", "verify-log", "--data-dir", data_dir_, "--store", store_, "--json"});
    EXPECT_EQ(r.exit_code, 0) << when << ": " << r.out << r.err;
    const json j = json::parse(r.out, nullptr, false);
    EXPECT_TRUE(j.is_object() && j.value("ok", false)) << when << ": " << r.out;
  }

  // Logs `u` in again over a new connection to the (re)started server.
  void Reconnect(ApiUser& u) {
    u.http = server_->remote().Client();
    ASSERT_NE(u.http, nullptr);
    Login(u);
    ASSERT_FALSE(u.token.empty());
  }

  Listing List(ApiUser& u) {
    Listing out;
    auto r = u.Call("GET", "/v1/patients/" + pid_ + "/records");
    EXPECT_EQ(r.status, 200) << r.body;
    const json j = Parse(r);  // not in the range-for: the temporary would die before the loop
    for (const auto& rec : j["records"]) {
      out[{rec["record_id"].get<std::string>(), rec["version"].get<int>()}] = {
          rec["size"].get<std::int64_t>(), rec["sha256"].get<std::string>(), rec["tombstone"].get<bool>()};
    }
    return out;
  }

  // Downloads one version whole and checks it against the listing.
  void ExpectDownloads(ApiUser& u, const std::string& rid, int version, const Listed& listed) {
    std::ostringstream body;
    auto r = u.http->Download(
        "/v1/patients/" + pid_ + "/records/" + rid + "/versions/" + std::to_string(version), body, u.Auth());
    ASSERT_TRUE(r.has_value()) << rid << "@" << version << ": " << r.error().message();
    ASSERT_EQ(r->status, 200) << rid << "@" << version << ": " << r->body;
    const std::string bytes = body.str();
    EXPECT_EQ(static_cast<std::int64_t>(bytes.size()), listed.size) << rid << "@" << version;
    EXPECT_EQ(Sha256Hex(bytes), listed.sha256) << rid << "@" << version;
    EXPECT_EQ(r->headers["x-cipherchart-sha256"], listed.sha256) << rid << "@" << version;
  }

  // After a restart: every acknowledged upload is listed with its size and hash, every version
  // listed so far is still listed unchanged, versions are 1..n without gaps, and each version
  // seen for the first time downloads whole and matches its listing.
  void CheckStored(ApiUser& u, const std::vector<Upload>& acknowledged, const std::string& when) {
    SCOPED_TRACE(when);
    const Listing now = List(u);
    for (const auto& [key, listed] : seen_) {
      auto it = now.find(key);
      ASSERT_NE(it, now.end()) << key.first << "@" << key.second << " was listed before and is gone";
      EXPECT_EQ(it->second.size, listed.size);
      EXPECT_EQ(it->second.sha256, listed.sha256);
    }
    for (const Upload& a : acknowledged) {
      auto it = now.find({a.record_id, a.version});
      ASSERT_NE(it, now.end()) << a.record_id << "@" << a.version
                               << " was acknowledged (201) and is not listed";
      EXPECT_EQ(it->second.size, a.size) << a.record_id << "@" << a.version;
      EXPECT_EQ(it->second.sha256, a.sha256) << a.record_id << "@" << a.version;
      EXPECT_FALSE(it->second.tombstone);
    }
    std::set<std::pair<std::string, int>> acked;
    for (const Upload& a : acknowledged) acked.insert({a.record_id, a.version});
    int unacknowledged = 0;  // committed, but the 201 was lost with the server
    std::map<std::string, int> versions;
    for (const auto& [key, listed] : now) {
      EXPECT_EQ(key.second, ++versions[key.first]) << key.first << ": versions are not 1..n";
      if (seen_.contains(key)) continue;
      ExpectDownloads(u, key.first, key.second, listed);
      seen_[key] = listed;
      unacknowledged += acked.contains(key) ? 0 : 1;
    }
    std::printf("  %s: %zu versions listed, %d committed without a 201 reaching the client\n", when.c_str(),
                now.size(), unacknowledged);
    // An acknowledged upload is new in its round, so it was downloaded just now and matched its
    // listing, which matched what was sent.
  }

  // Runs 2..4 uploading threads, waits for the first acknowledgement plus a random 50..600 ms,
  // then signals the server and collects what was acknowledged.
  std::vector<Upload> UploadAndSignal(int round_no, bool graceful) {
    Round round;
    round.graceful = graceful;
    const int threads = std::uniform_int_distribution<int>(2, 4)(rng_);
    std::vector<std::thread> pool;
    pool.reserve(static_cast<std::size_t>(threads));
    const Remote remote = server_->remote();
    for (int t = 0; t < threads; ++t) {
      // Built with += : GCC 12 reports a false -Wrestrict inside libstdc++ for "r" + to_string(...).
      std::string prefix = "r";
      prefix += std::to_string(round_no);
      prefix += "-t";
      prefix += std::to_string(t);
      pool.emplace_back(UploadLoop, remote, doctor_.token, pid_, prefix, rng_(), std::ref(round));
    }
    {
      std::unique_lock lock(round.mu);
      EXPECT_TRUE(round.cv.wait_for(lock, std::chrono::seconds(30), [&] {
        return !round.acknowledged.empty();
      })) << "no upload was acknowledged within 30 s";
    }
    const int delay_ms = std::uniform_int_distribution<int>(50, 600)(rng_);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));  // the random crash moment
    round.stopping = true;
    if (graceful) {
      server_->Signal(SIGTERM);
    } else {
      server_->Kill();
    }
    for (auto& t : pool) t.join();
    for (const auto& p : round.problems) ADD_FAILURE() << "round " << round_no << ": " << p;
    std::printf(
        "round %d: %d threads, %s after %d ms: %zu uploads acknowledged, %d cut off, %d refused (503), %d "
        "201s after the signal\n",
        round_no, threads, graceful ? "SIGTERM" : "SIGKILL", delay_ms, round.acknowledged.size(),
        round.cut.load(), round.refused.load(), round.across.load());
    return std::move(round.acknowledged);
  }

  TempDir dir_;
  std::string data_dir_, store_;
  std::uint64_t seed_ = 0;
  std::mt19937_64 rng_;
  std::unique_ptr<ServerProcess> server_;
  ApiUser doctor_;
  std::string pid_;
  std::map<std::pair<std::string, int>, Listed> seen_;  // every version listed so far
};

TEST_P(DurabilityTest, AcknowledgedUploadsSurviveKillAndTerm) {
  ASSERT_NE(store_, "postgresql:");
  // The first server admin, offline, before the server ever ran.
  ApiUser admin;
  admin.key.emplace(*envelope::Ed25519SigningKey::Generate());
  std::array<std::uint8_t, 32> delivery{};
  delivery[0] = 9;
  auto added = RunCommand({CIPHERCHART_BINARY, "server", "add-admin", "--data-dir", data_dir_, "--store",
                           store_, "--identity-key", ToHex(admin.key->public_key()), "--delivery-key",
                           ToHex(delivery), "--json"});
  ASSERT_EQ(added.exit_code, 0) << added.out << added.err;
  const json made = json::parse(added.out, nullptr, false);
  ASSERT_TRUE(made.is_object()) << added.out;
  admin.user_id = made.value("user_id", "");
  ASSERT_FALSE(admin.user_id.empty()) << added.out;

  server_ = std::make_unique<ServerProcess>(dir_.path(), data_dir_, store_);
  ASSERT_NO_FATAL_FAILURE(server_->Start());
  ASSERT_NO_FATAL_FAILURE(Reconnect(admin));
  const Remote remote = server_->remote();
  ApiUser authority = ApprovedAuthorityAdmin(remote, admin, "hospital-a");
  doctor_ = ApprovedPractitioner(remote, authority, "doctor");
  ApiUser owner = RegisterAndLogin(remote, "patient", "");
  pid_ = CreatePatient(doctor_, &owner);
  ASSERT_FALSE(pid_.empty());

  std::vector<Upload> all;
  for (int round_no = 1; round_no <= kRounds; ++round_no) {
    const bool graceful = round_no == kRounds;
    auto acknowledged = UploadAndSignal(round_no, graceful);
    if (graceful) {
      EXPECT_EQ(server_->Terminate(/*signal=*/false), 0) << server_->Stderr();
    }
    if (HasFatalFailure()) return;
    all.insert(all.end(), acknowledged.begin(), acknowledged.end());
    ExpectLogVerifies("after round " + std::to_string(round_no));
    // The restart itself checks the log against the latest signed head.
    ASSERT_NO_FATAL_FAILURE(server_->Start());
    ASSERT_NO_FATAL_FAILURE(Reconnect(doctor_));
    ASSERT_NO_FATAL_FAILURE(CheckStored(doctor_, acknowledged, "after round " + std::to_string(round_no)));
  }
  EXPECT_GE(all.size(), static_cast<std::size_t>(kRounds));

  // The owner sees the same records; then a last graceful stop with nothing in flight.
  ASSERT_NO_FATAL_FAILURE(Reconnect(owner));
  const Listing by_owner = List(owner);
  for (const Upload& a : all) EXPECT_TRUE(by_owner.contains({a.record_id, a.version})) << a.record_id;
  EXPECT_EQ(server_->Terminate(), 0) << server_->Stderr();
  ExpectLogVerifies("at the end");
}

INSTANTIATE_TEST_SUITE_P(Backends, DurabilityTest, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace cipherchart::server
