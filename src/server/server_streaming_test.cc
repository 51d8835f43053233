// Streaming in constant memory (a 256 MiB envelope up and down through TLS) and stateless
// servers: two servers on one PostgreSQL share sessions, records and one audit log.
#include <gtest/gtest.h>

#include <fstream>
#include <istream>
#include <ostream>
#include <streambuf>

#include "cipherchart/server/merkle.h"
#include "src/envelope/sha256.h"
#include "src/server/server_test_util.h"

namespace cipherchart::server {
namespace {

using namespace testing;  // NOLINT(google-build-using-namespace): the test utilities

// Peak resident memory of this process (the server runs in it), in KiB.
long PeakRssKib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

// An endless deterministic byte stream (xorshift), so the test holds no copy of the body.
class PatternBuf : public std::streambuf {
 public:
  int_type underflow() override {
    for (auto& c : buf_) {
      state_ ^= state_ << 13;
      state_ ^= state_ >> 7;
      state_ ^= state_ << 17;
      c = static_cast<char>(state_ >> 32);
    }
    setg(buf_.data(), buf_.data(), buf_.data() + buf_.size());
    return traits_type::to_int_type(buf_[0]);
  }

 private:
  std::array<char, 64 * 1024> buf_{};
  std::uint64_t state_ = 0x9e3779b97f4a7c15ULL;
};

// Hashes what is written to it.
class HashingBuf : public std::streambuf {
 public:
  HashingBuf() : hasher_(*envelope::internal::Sha256Hasher::Create()) {}
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    EXPECT_TRUE(
        hasher_.Update(std::span(reinterpret_cast<const std::uint8_t*>(s), static_cast<std::size_t>(n))));
    size_ += n;
    return n;
  }
  int_type overflow(int_type c) override {
    if (c != traits_type::eof()) {
      const char ch = traits_type::to_char_type(c);
      xsputn(&ch, 1);
    }
    return c;
  }
  std::string Hex() { return ToHex(*hasher_.Finish()); }
  std::streamsize size() const { return size_; }

 private:
  envelope::internal::Sha256Hasher hasher_;
  std::streamsize size_ = 0;
};

TEST(StreamingTest, LargeEnvelopeUpAndDownInBoundedMemory) {
  TestServer server("sqlite");
  ApiUser admin = ServerAdmin(server);
  ApiUser authority = ApprovedAuthorityAdmin(server, admin, "hospital-a");
  ApiUser doctor = ApprovedPractitioner(server, authority, "doctor");
  const std::string pid = CreatePatient(doctor, nullptr);

#ifdef __SANITIZE_ADDRESS__
  // ASan's quarantine keeps freed memory resident, so peak RSS says nothing there: the size
  // is smaller and only correctness is checked.
  constexpr std::uint64_t kSize = 48ull << 20;
  constexpr bool kCheckMemory = false;
#else
  constexpr std::uint64_t kSize = 256ull << 20;
  constexpr bool kCheckMemory = true;
#endif
  const long before = PeakRssKib();
  PatternBuf pattern;
  std::istream body(&pattern);
  auto headers = doctor.Auth();
  headers.emplace_back("X-CipherChart-Section", "imaging");
  auto up =
      doctor.http->Upload("PUT", "/v1/patients/" + pid + "/records/scan/versions/1", body, kSize, headers);
  ASSERT_TRUE(up.has_value()) << up.error().message();
  ASSERT_EQ(up->status, 201) << up->body;
  const std::string sent_sha = Parse(*up)["sha256"];

  HashingBuf sink;
  std::ostream out(&sink);
  auto down = doctor.http->Download("/v1/patients/" + pid + "/records/scan", out, doctor.Auth());
  ASSERT_TRUE(down.has_value()) << down.error().message();
  ASSERT_EQ(down->status, 200);
  EXPECT_EQ(sink.size(), static_cast<std::streamsize>(kSize));
  EXPECT_EQ(sink.Hex(), sent_sha);
  EXPECT_EQ(down->headers["x-cipherchart-sha256"], sent_sha);
  // The body went through in 1 MiB pieces: the process (server and client) grew by far less
  // than the body's size.
  const long grown_mib = (PeakRssKib() - before) / 1024;
  if (kCheckMemory) {
    EXPECT_LT(grown_mib, 64) << "peak RSS grew by " << grown_mib << " MiB for a 256 MiB body";
  }
}

TEST(StatelessServersTest, TwoServersShareOnePostgres) {
  TempDir shared;
  ServerConfig config;
  config.store = "postgresql:" + FreshPostgresDatabase();
  config.audit_key = shared.path() + "/audit.key";
  config.account_cache_ms = 0;
  TestServer a("postgresql", config);
  TestServer b("postgresql", config);

  ApiUser admin = ServerAdmin(a);
  ApiUser authority = ApprovedAuthorityAdmin(a, admin, "hospital-a");
  ApiUser doctor = ApprovedPractitioner(a, authority, "doctor");
  ApiUser patient = RegisterAndLogin(a, "patient", "");
  const std::string pid = CreatePatient(doctor, &patient);

  // A session made on A is valid on B (sessions live in the database).
  ApiUser doctor_on_b;
  doctor_on_b.http = b.Client();
  doctor_on_b.token = doctor.token;
  doctor_on_b.user_id = doctor.user_id;
  EXPECT_EQ(doctor_on_b.Call("GET", "/v1/accounts/me").status, 200);

  // Appends alternate between the servers; versions stay consecutive.
  for (int v = 1; v <= 6; ++v) {
    ApiUser& via = v % 2 ? doctor : doctor_on_b;
    ASSERT_EQ(PutRecord(via, pid, "vitals", v, "v" + std::to_string(v)).status, 201) << v;
  }
  // A conflicting version through the other server is refused.
  EXPECT_EQ(PutRecord(doctor_on_b, pid, "vitals", 6, "again").status, 409);
  auto fetched = doctor_on_b.Call("GET", "/v1/patients/" + pid + "/records/vitals");
  EXPECT_EQ(fetched.status, 200);
  EXPECT_EQ(fetched.body, "v6");
  // Logout on B kills the token on A too (A caches nothing here: account_cache_ms = 0).
  EXPECT_EQ(doctor_on_b.Call("POST", "/v1/auth/logout").status, 200);
  EXPECT_EQ(doctor.Call("GET", "/v1/accounts/me").status, 401);

  // One log: both servers' entries, one gap-free sequence, every stored head valid.
  a.Stop();
  b.Stop();
  auto store = OpenStore(config.store);
  ASSERT_TRUE(store.has_value());
  auto size = (*store)->AuditSize();
  ASSERT_TRUE(size.has_value());
  auto rows = (*store)->ReadAudit(0, *size);
  auto heads = (*store)->ReadTreeHeads();
  ASSERT_TRUE(rows && heads);
  std::ifstream key_file(config.audit_key, std::ios::binary);
  SecretBytes seed(32);
  key_file.read(reinterpret_cast<char*>(seed.data()), 32);
  auto key = envelope::Ed25519SigningKey::FromSeed(seed);
  ASSERT_TRUE(key.has_value());
  auto summary = CheckStoredLog(*rows, *heads, key->public_key());
  ASSERT_TRUE(summary.has_value()) << summary.error().message();
  EXPECT_GT(summary->entries, 15u);
  EXPECT_EQ(summary->unsigned_tail, 0u);
  // Both servers restart on the shared log.
  a.Start();
  b.Start();
  EXPECT_EQ(a.Client()->Request("GET", "/healthz")->status, 200);
}

}  // namespace
}  // namespace cipherchart::server
