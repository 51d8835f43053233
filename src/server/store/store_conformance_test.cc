// One suite, run unchanged against both backends: whatever a server relies on must hold for
// SQLite and PostgreSQL alike. The PostgreSQL runs share one throwaway cluster per test binary
// (PgCluster) and start each test from an empty schema.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cipherchart/common/random.h"
#include "cipherchart/server/store.h"
#include "src/server/store/pg_cluster.h"

namespace cipherchart::server {
namespace {

// NOLINTBEGIN(bugprone-macro-parentheses): `lhs` is a declaration, which cannot be parenthesised.
#define CC_CONCAT_INNER(a, b) a##b
#define CC_CONCAT(a, b) CC_CONCAT_INNER(a, b)
// `lhs = *expr`, failing the test (with the error) if `expr` holds an error.
#define ASSERT_OK_AND_ASSIGN(lhs, expr) ASSERT_OK_AND_ASSIGN_IMPL(CC_CONCAT(result_, __LINE__), lhs, expr)
#define ASSERT_OK_AND_ASSIGN_IMPL(tmp, lhs, expr)                          \
  auto tmp = (expr);                                                       \
  ASSERT_TRUE(tmp.has_value()) << #expr << ": " << tmp.error().ToString(); \
  lhs = std::move(*tmp)
// `lhs = **expr` for a Result<std::optional<T>> that must hold a value. The emptiness check is
// a plain `if`: clang-tidy's optional-access check cannot see through ASSERT_TRUE.
#define ASSERT_SOME_AND_ASSIGN(lhs, expr) \
  ASSERT_SOME_AND_ASSIGN_IMPL(CC_CONCAT(result_, __LINE__), CC_CONCAT(optional_, __LINE__), lhs, expr)
#define ASSERT_SOME_AND_ASSIGN_IMPL(tmp, opt, lhs, expr)                   \
  auto tmp = (expr);                                                       \
  ASSERT_TRUE(tmp.has_value()) << #expr << ": " << tmp.error().ToString(); \
  auto opt = std::move(*tmp);                                              \
  if (!opt.has_value()) FAIL() << #expr << " is empty";                    \
  lhs = std::move(*opt)
// NOLINTEND(bugprone-macro-parentheses)
#define ASSERT_OK(expr)                                                                  \
  do {                                                                                   \
    auto result_ok = (expr);                                                             \
    ASSERT_TRUE(result_ok.has_value()) << #expr << ": " << result_ok.error().ToString(); \
  } while (0)
#define EXPECT_ERROR_CODE(expr, expected_code)                                            \
  do {                                                                                    \
    auto result_err = (expr);                                                             \
    ASSERT_FALSE(result_err.has_value()) << #expr << " succeeded";                        \
    EXPECT_EQ(result_err.error().code(), expected_code) << result_err.error().ToString(); \
  } while (0)

// ---- the shared PostgreSQL cluster ------------------------------------------------------

struct SharedPg {
  std::once_flag once;
  std::unique_ptr<PgCluster> cluster;
  std::string error;
};

SharedPg& Pg() {
  static SharedPg pg;
  return pg;
}

// Started by the first PostgreSQL test (a SQLite-only run never starts it), stopped here.
class PgEnvironment : public ::testing::Environment {
 public:
  void TearDown() override { Pg().cluster.reset(); }
};
[[maybe_unused]] ::testing::Environment* const kPgEnvironment =
    ::testing::AddGlobalTestEnvironment(new PgEnvironment);

PgCluster* SharedCluster(std::string& error) {
  SharedPg& pg = Pg();
  std::call_once(pg.once, [&] {
    auto cluster = PgCluster::Start();
    if (cluster) {
      pg.cluster = std::move(*cluster);
    } else {
      pg.error = cluster.error().ToString();
    }
  });
  error = pg.error;
  return pg.cluster.get();
}

// ---- values -----------------------------------------------------------------------------

template <std::size_t N>
std::array<std::uint8_t, N> Filled(std::uint8_t seed) {
  std::array<std::uint8_t, N> a{};
  for (std::size_t i = 0; i < N; ++i) a[i] = static_cast<std::uint8_t>(seed + i * 7);
  return a;
}

std::vector<std::uint8_t> RandomBytes(std::size_t n) {
  std::vector<std::uint8_t> v(n);
  EXPECT_TRUE(FillRandom(v).has_value());
  return v;
}

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Account MakeAccount(const std::string& user_id, std::uint8_t key_seed, Role role = Role::kPractitioner,
                    const std::string& organisation = "hospital-a",
                    ApprovalState state = ApprovalState::kPending, std::int64_t created_at = 1000) {
  Account a;
  a.user_id = user_id;
  a.role = role;
  a.identity_key = Filled<32>(key_seed);
  a.delivery_key = Filled<32>(static_cast<std::uint8_t>(key_seed + 100));
  a.organisation = organisation;
  a.details_json = R"({"name":"Dr. Who"})";
  a.state = state;
  a.created_at = created_at;
  a.password_hash = "$argon2id$v=19$m=65536,t=3,p=1$c2FsdA$aGFzaA";
  return a;
}

Patient MakePatient(const std::string& patient_id, std::uint8_t code_seed = 1) {
  Patient p;
  p.patient_id = patient_id;
  p.created_by = "u-practitioner";
  p.enrolment_code_hash = Filled<32>(code_seed);
  p.created_at = 1234;
  return p;
}

RecordMeta MakeRecord(const std::string& patient_id, const std::string& record_id, std::int64_t version,
                      const std::string& blob_id) {
  RecordMeta m;
  m.patient_id = patient_id;
  m.record_id = record_id;
  m.version = version;
  m.section = "vital-signs";
  m.policy = "(doctor AND hospital-a)";
  m.author_id = "u-author";
  m.size = 3;
  m.sha256 = Filled<32>(static_cast<std::uint8_t>(version));
  m.created_at = 1700000000000 + version;
  m.blob_id = blob_id;
  return m;
}

void ExpectSameAccount(const Account& a, const Account& b) {
  EXPECT_EQ(a.user_id, b.user_id);
  EXPECT_EQ(a.role, b.role);
  EXPECT_EQ(a.identity_key, b.identity_key);
  EXPECT_EQ(a.delivery_key, b.delivery_key);
  EXPECT_EQ(a.organisation, b.organisation);
  EXPECT_EQ(a.details_json, b.details_json);
  EXPECT_EQ(a.state, b.state);
  EXPECT_EQ(a.decision_reason, b.decision_reason);
  EXPECT_EQ(a.decided_by, b.decided_by);
  EXPECT_EQ(a.created_at, b.created_at);
  EXPECT_EQ(a.decided_at, b.decided_at);
  EXPECT_EQ(a.password_hash, b.password_hash);
}

void ExpectSameRecord(const RecordMeta& a, const RecordMeta& b) {
  EXPECT_EQ(a.patient_id, b.patient_id);
  EXPECT_EQ(a.record_id, b.record_id);
  EXPECT_EQ(a.version, b.version);
  EXPECT_EQ(a.section, b.section);
  EXPECT_EQ(a.policy, b.policy);
  EXPECT_EQ(a.author_id, b.author_id);
  EXPECT_EQ(a.size, b.size);
  EXPECT_EQ(a.sha256, b.sha256);
  EXPECT_EQ(a.created_at, b.created_at);
  EXPECT_EQ(a.tombstone, b.tombstone);
  EXPECT_EQ(a.blob_id, b.blob_id);
}

// ---- the fixture ------------------------------------------------------------------------

class StoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "sqlite") {
      char pattern[] = "/tmp/cipherchart-store-test-XXXXXX";
      ASSERT_NE(::mkdtemp(pattern), nullptr);
      dir_ = pattern;
      url_ = "sqlite:" + (dir_ / "store.db").string();
    } else {
      std::string error;
      PgCluster* cluster = SharedCluster(error);
      ASSERT_NE(cluster, nullptr) << "cannot start PostgreSQL: " << error;
      ASSERT_OK(PgCluster::Execute(cluster->conninfo(), "DROP SCHEMA public CASCADE; CREATE SCHEMA public"));
      url_ = "postgresql:" + cluster->conninfo();
    }
    ASSERT_OK_AND_ASSIGN(store_, OpenStore(url_));
    ASSERT_OK(store_->Migrate());
  }

  void TearDown() override {
    store_.reset();
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }

  // Another store on the same database: a second server process.
  Result<std::unique_ptr<Store>> OpenAnother() { return OpenStore(url_); }

  // Runs `body` in a transaction and commits it.
  template <class Body>
  void InTx(Body body) {
    ASSERT_OK_AND_ASSIGN(auto tx, store_->BeginWrite());
    body(*tx);
    if (::testing::Test::HasFatalFailure()) return;
    ASSERT_OK(tx->Commit());
  }

  // A committed blob holding `bytes` in chunks of at most `chunk` bytes.
  std::string PutBlob(const std::vector<std::uint8_t>& bytes, std::size_t chunk = kMaxChunkSize) {
    std::string id;
    InTx([&](WriteTx& tx) {
      ASSERT_OK_AND_ASSIGN(id, tx.CreateBlob());
      std::int64_t index = 0;
      for (std::size_t at = 0; at < bytes.size(); at += chunk) {
        const std::size_t n = std::min(chunk, bytes.size() - at);
        ASSERT_OK(tx.AppendBlobChunk(id, index++,
                                     std::vector<std::uint8_t>(bytes.begin() + at, bytes.begin() + at + n)));
      }
    });
    return id;
  }

  std::filesystem::path dir_;
  std::string url_;
  std::unique_ptr<Store> store_;
};

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest, ::testing::Values("sqlite", "postgresql"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

// ---- tests ------------------------------------------------------------------------------

TEST_P(StoreTest, MigrateIsIdempotentAndNamesTheBackend) {
  EXPECT_EQ(store_->BackendName(), GetParam());
  ASSERT_OK(store_->Migrate());
  ASSERT_OK_AND_ASSIGN(auto other, OpenAnother());
  ASSERT_OK(other->Migrate());
  ASSERT_OK_AND_ASSIGN(const std::int64_t size, other->AuditSize());
  EXPECT_EQ(size, 0);
}

TEST_P(StoreTest, AccountsRoundTripAndList) {
  Account patient = MakeAccount("u-patient", 1, Role::kPatient, "", ApprovalState::kApproved, 10);
  Account a1 = MakeAccount("u-a1", 2, Role::kPractitioner, "hospital-a", ApprovalState::kPending, 30);
  Account a2 = MakeAccount("u-a2", 3, Role::kAuthorityAdmin, "hospital-a", ApprovalState::kApproved, 20);
  Account b1 = MakeAccount("u-b1", 4, Role::kPractitioner, "hospital-b", ApprovalState::kPending, 40);
  Account admin = MakeAccount("u-admin", 5, Role::kServerAdmin, "", ApprovalState::kApproved, 5);
  admin.password_hash = "";
  InTx([&](WriteTx& tx) {
    for (const Account* a : {&patient, &a1, &a2, &b1, &admin}) ASSERT_OK(tx.InsertAccount(*a));
  });

  ASSERT_SOME_AND_ASSIGN(auto got, store_->GetAccount("u-a2"));
  ExpectSameAccount(got, a2);
  ASSERT_OK_AND_ASSIGN(auto missing, store_->GetAccount("u-nobody"));
  EXPECT_FALSE(missing.has_value());

  auto ids = [](const std::vector<Account>& accounts) {
    std::vector<std::string> out;
    out.reserve(accounts.size());
    for (const Account& a : accounts) out.push_back(a.user_id);
    return out;
  };
  ASSERT_OK_AND_ASSIGN(auto all, store_->ListAccounts("", std::nullopt));
  EXPECT_EQ(ids(all), (std::vector<std::string>{"u-admin", "u-patient", "u-a2", "u-a1", "u-b1"}));
  ASSERT_OK_AND_ASSIGN(auto org_a, store_->ListAccounts("hospital-a", std::nullopt));
  EXPECT_EQ(ids(org_a), (std::vector<std::string>{"u-a2", "u-a1"}));
  ASSERT_OK_AND_ASSIGN(auto pending, store_->ListAccounts("", ApprovalState::kPending));
  EXPECT_EQ(ids(pending), (std::vector<std::string>{"u-a1", "u-b1"}));
  ASSERT_OK_AND_ASSIGN(auto org_a_pending, store_->ListAccounts("hospital-a", ApprovalState::kPending));
  EXPECT_EQ(ids(org_a_pending), (std::vector<std::string>{"u-a1"}));
  ASSERT_OK_AND_ASSIGN(auto rejected, store_->ListAccounts("", ApprovalState::kRejected));
  EXPECT_TRUE(rejected.empty());
  ASSERT_EQ(all.size(), 5U);
  ExpectSameAccount(all[0], admin);
}

TEST_P(StoreTest, AccountConflictsAreConflictsAndLeaveTheTransactionUsable) {
  InTx([&](WriteTx& tx) { ASSERT_OK(tx.InsertAccount(MakeAccount("u-1", 1))); });
  InTx([&](WriteTx& tx) {
    auto same_id = tx.InsertAccount(MakeAccount("u-1", 2));
    ASSERT_FALSE(same_id.has_value());
    EXPECT_EQ(same_id.error().code(), ErrorCode::kConflict);
    EXPECT_NE(same_id.error().message().find("user_id"), std::string::npos) << same_id.error().message();
    auto same_key = tx.InsertAccount(MakeAccount("u-2", 1));
    ASSERT_FALSE(same_key.has_value());
    EXPECT_EQ(same_key.error().code(), ErrorCode::kConflict);
    EXPECT_NE(same_key.error().message().find("identity key"), std::string::npos)
        << same_key.error().message();
    // No savepoint: the conflicts must not have aborted the transaction.
    ASSERT_OK(tx.InsertAccount(MakeAccount("u-3", 3)));
  });
  ASSERT_OK_AND_ASSIGN(auto all, store_->ListAccounts("", std::nullopt));
  ASSERT_EQ(all.size(), 2U);
  EXPECT_EQ(all[0].identity_key, Filled<32>(1));
  ASSERT_OK_AND_ASSIGN(auto u2, store_->GetAccount("u-2"));
  EXPECT_FALSE(u2.has_value());

  InTx([&](WriteTx& tx) {
    Account bad = MakeAccount("u-4", 4);
    bad.role = static_cast<Role>(9);
    EXPECT_ERROR_CODE(tx.InsertAccount(bad), ErrorCode::kInvalidArgument);
    EXPECT_ERROR_CODE(tx.InsertAccount(MakeAccount("", 5)), ErrorCode::kInvalidArgument);
  });
}

TEST_P(StoreTest, DecideRegistrationOnlyFromPending) {
  InTx([&](WriteTx& tx) {
    ASSERT_OK(tx.InsertAccount(MakeAccount("u-p", 1)));
    ASSERT_OK(tx.InsertAccount(MakeAccount("u-q", 2)));
  });
  InTx([&](WriteTx& tx) {
    ASSERT_OK(tx.DecideRegistration("u-p", ApprovalState::kApproved, "checked licence", "u-admin", 5000));
    ASSERT_OK(tx.DecideRegistration("u-q", ApprovalState::kRejected, "unknown", "u-admin", 6000));
    EXPECT_ERROR_CODE(tx.DecideRegistration("u-p", ApprovalState::kRejected, "again", "u-admin", 7000),
                      ErrorCode::kConflict);
    EXPECT_ERROR_CODE(tx.DecideRegistration("u-none", ApprovalState::kApproved, "", "u-admin", 7000),
                      ErrorCode::kInvalidArgument);
    EXPECT_ERROR_CODE(tx.DecideRegistration("u-q", ApprovalState::kPending, "", "u-admin", 7000),
                      ErrorCode::kInvalidArgument);
  });
  ASSERT_SOME_AND_ASSIGN(auto p, store_->GetAccount("u-p"));
  EXPECT_EQ(p.state, ApprovalState::kApproved);
  EXPECT_EQ(p.decision_reason, "checked licence");
  EXPECT_EQ(p.decided_by, "u-admin");
  EXPECT_EQ(p.decided_at, 5000);
  ASSERT_SOME_AND_ASSIGN(auto q, store_->GetAccount("u-q"));
  EXPECT_EQ(q.state, ApprovalState::kRejected);
  EXPECT_EQ(q.decided_at, 6000);
}

TEST_P(StoreTest, ChallengesAreSingleUse) {
  Challenge c{Filled<32>(9), "u-1", 1000};
  InTx([&](WriteTx& tx) {
    ASSERT_OK(tx.InsertChallenge(c));
    EXPECT_ERROR_CODE(tx.InsertChallenge(c), ErrorCode::kConflict);
  });
  InTx([&](WriteTx& tx) {
    ASSERT_SOME_AND_ASSIGN(auto got, tx.ConsumeChallenge(c.nonce));
    EXPECT_EQ(got.nonce, c.nonce);
    EXPECT_EQ(got.user_id, "u-1");
    EXPECT_EQ(got.expires_at, 1000);
    ASSERT_OK_AND_ASSIGN(auto again, tx.ConsumeChallenge(c.nonce));
    EXPECT_FALSE(again.has_value());
    ASSERT_OK_AND_ASSIGN(auto never, tx.ConsumeChallenge(Filled<32>(10)));
    EXPECT_FALSE(never.has_value());
  });
  InTx([&](WriteTx& tx) {
    ASSERT_OK_AND_ASSIGN(auto after_commit, tx.ConsumeChallenge(c.nonce));
    EXPECT_FALSE(after_commit.has_value());
  });
}

TEST_P(StoreTest, ConcurrentConsumptionHasExactlyOneWinner) {
  constexpr int kRounds = 4;
  constexpr int kThreads = 8;
  for (int round = 0; round < kRounds; ++round) {
    const auto nonce = Filled<32>(static_cast<std::uint8_t>(round + 1));
    InTx([&](WriteTx& tx) { ASSERT_OK(tx.InsertChallenge({nonce, "u-1", 99})); });
    // Each thread is a separate "server" for PostgreSQL; SQLite serialises on its writer.
    std::vector<std::unique_ptr<Store>> stores;
    for (int i = 0; i < kThreads; ++i) {
      if (GetParam() == "postgresql") {
        ASSERT_OK_AND_ASSIGN(auto s, OpenAnother());
        stores.push_back(std::move(s));
      }
    }
    std::atomic<int> winners{0};
    std::atomic<int> failures{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
      Store* store = stores.empty() ? store_.get() : stores[static_cast<std::size_t>(i)].get();
      threads.emplace_back([&, store] {
        while (!go.load()) std::this_thread::yield();
        auto tx = store->BeginWrite();
        if (!tx) {
          ++failures;
          return;
        }
        auto got = (*tx)->ConsumeChallenge(nonce);
        if (!got || !(*tx)->Commit()) {
          ++failures;
          return;
        }
        if (got->has_value()) ++winners;
      });
    }
    go = true;
    for (auto& t : threads) t.join();
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(winners.load(), 1) << "round " << round;
  }
}

TEST_P(StoreTest, SessionsAndExpiry) {
  const Session s1{Filled<32>(1), "u-1", 100};
  const Session s2{Filled<32>(2), "u-2", 200};
  InTx([&](WriteTx& tx) {
    ASSERT_OK(tx.InsertSession(s1));
    ASSERT_OK(tx.InsertSession(s2));
    EXPECT_ERROR_CODE(tx.InsertSession(s1), ErrorCode::kConflict);
    ASSERT_OK(tx.InsertChallenge({Filled<32>(3), "u-1", 100}));
    ASSERT_OK(tx.InsertChallenge({Filled<32>(4), "u-1", 300}));
  });
  ASSERT_SOME_AND_ASSIGN(auto got, store_->GetSession(s1.token_hash));
  EXPECT_EQ(got.token_hash, s1.token_hash);
  EXPECT_EQ(got.user_id, "u-1");
  EXPECT_EQ(got.expires_at, 100);

  InTx([&](WriteTx& tx) { ASSERT_OK(tx.DeleteExpired(150)); });
  ASSERT_OK_AND_ASSIGN(auto expired, store_->GetSession(s1.token_hash));
  EXPECT_FALSE(expired.has_value());
  ASSERT_OK_AND_ASSIGN(auto live, store_->GetSession(s2.token_hash));
  EXPECT_TRUE(live.has_value());
  InTx([&](WriteTx& tx) {
    ASSERT_OK_AND_ASSIGN(auto old_challenge, tx.ConsumeChallenge(Filled<32>(3)));
    EXPECT_FALSE(old_challenge.has_value());
    ASSERT_OK_AND_ASSIGN(auto new_challenge, tx.ConsumeChallenge(Filled<32>(4)));
    EXPECT_TRUE(new_challenge.has_value());
  });

  InTx([&](WriteTx& tx) {
    ASSERT_OK(tx.DeleteSession(s2.token_hash));
    ASSERT_OK(tx.DeleteSession(Filled<32>(77)));  // absent: not an error
  });
  ASSERT_OK_AND_ASSIGN(auto deleted, store_->GetSession(s2.token_hash));
  EXPECT_FALSE(deleted.has_value());
}

TEST_P(StoreTest, PatientsAndEnrolment) {
  InTx([&](WriteTx& tx) {
    ASSERT_OK(tx.InsertPatient(MakePatient("p-1", 1)));
    EXPECT_ERROR_CODE(tx.InsertPatient(MakePatient("p-1", 2)), ErrorCode::kConflict);
  });
  ASSERT_SOME_AND_ASSIGN(auto before, store_->GetPatient("p-1"));
  EXPECT_EQ(before.owner_user_id, "");
  EXPECT_EQ(before.created_by, "u-practitioner");
  EXPECT_EQ(before.enrolment_code_hash, Filled<32>(1));
  EXPECT_FALSE(before.enrolment_used);
  EXPECT_EQ(before.created_at, 1234);

  InTx([&](WriteTx& tx) {
    ASSERT_OK_AND_ASSIGN(const bool wrong_code, tx.EnrolPatient("p-1", Filled<32>(2), "u-thief"));
    EXPECT_FALSE(wrong_code);
    ASSERT_OK_AND_ASSIGN(const bool unknown, tx.EnrolPatient("p-404", Filled<32>(1), "u-owner"));
    EXPECT_FALSE(unknown);
    ASSERT_OK_AND_ASSIGN(const bool enrolled, tx.EnrolPatient("p-1", Filled<32>(1), "u-owner"));
    EXPECT_TRUE(enrolled);
    ASSERT_OK_AND_ASSIGN(const bool reused, tx.EnrolPatient("p-1", Filled<32>(1), "u-other"));
    EXPECT_FALSE(reused);
  });
  ASSERT_SOME_AND_ASSIGN(auto after, store_->GetPatient("p-1"));
  EXPECT_EQ(after.owner_user_id, "u-owner");
  EXPECT_TRUE(after.enrolment_used);
  ASSERT_OK_AND_ASSIGN(auto missing, store_->GetPatient("p-404"));
  EXPECT_FALSE(missing.has_value());
}

TEST_P(StoreTest, RecordVersionsFollowTheVersionRule) {
  const std::string b1 = PutBlob({1, 2, 3});
  const std::string b2 = PutBlob({4, 5, 6});
  const std::string b3 = PutBlob({7, 8, 9});
  InTx([&](WriteTx& tx) {
    EXPECT_ERROR_CODE(tx.InsertRecordVersion(MakeRecord("p-1", "r-1", 2, b1)), ErrorCode::kConflict);
    ASSERT_OK(tx.InsertRecordVersion(MakeRecord("p-1", "r-1", 1, b1)));
    EXPECT_ERROR_CODE(tx.InsertRecordVersion(MakeRecord("p-1", "r-1", 1, b2)), ErrorCode::kConflict);
    EXPECT_ERROR_CODE(tx.InsertRecordVersion(MakeRecord("p-1", "r-1", 3, b2)), ErrorCode::kConflict);
    ASSERT_OK(tx.InsertRecordVersion(MakeRecord("p-1", "r-1", 2, b2)));
    ASSERT_OK(tx.InsertRecordVersion(MakeRecord("p-1", "r-0", 1, b3)));
    ASSERT_OK(tx.InsertRecordVersion(MakeRecord("p-2", "r-1", 1, b3)));
  });
  InTx([&](WriteTx& tx) {
    EXPECT_ERROR_CODE(tx.InsertRecordVersion(MakeRecord("p-1", "r-1", 2, b3)), ErrorCode::kConflict);
    RecordMeta tombstone = MakeRecord("p-1", "r-1", 3, "");
    tombstone.tombstone = true;
    tombstone.size = 0;
    ASSERT_OK(tx.InsertRecordVersion(tombstone));
    // Deleted stays deleted: neither a new version nor a second tombstone follows a tombstone.
    EXPECT_ERROR_CODE(tx.InsertRecordVersion(MakeRecord("p-1", "r-1", 4, b3)), ErrorCode::kConflict);
    RecordMeta again = tombstone;
    again.version = 4;
    EXPECT_ERROR_CODE(tx.InsertRecordVersion(again), ErrorCode::kConflict);
    // Malformed versions.
    RecordMeta bad = MakeRecord("p-1", "r-1", 4, b1);
    bad.tombstone = true;
    EXPECT_ERROR_CODE(tx.InsertRecordVersion(bad), ErrorCode::kInvalidArgument);
    EXPECT_ERROR_CODE(tx.InsertRecordVersion(MakeRecord("p-1", "r-9", 0, b1)), ErrorCode::kInvalidArgument);
    EXPECT_ERROR_CODE(tx.InsertRecordVersion(MakeRecord("p-1", "r-9", 1, "")), ErrorCode::kInvalidArgument);
    RecordMeta long_section = MakeRecord("p-1", "r-9", 1, b1);
    long_section.section = std::string(65, 's');
    EXPECT_ERROR_CODE(tx.InsertRecordVersion(long_section), ErrorCode::kInvalidArgument);
    EXPECT_ERROR_CODE(tx.InsertRecordVersion(MakeRecord("p-1", "r-9", 1, "b-no-such-blob")),
                      ErrorCode::kConflict);
  });

  ASSERT_SOME_AND_ASSIGN(auto v1, store_->GetRecord("p-1", "r-1", 1));
  ExpectSameRecord(v1, MakeRecord("p-1", "r-1", 1, b1));
  ASSERT_SOME_AND_ASSIGN(auto v2, store_->GetRecord("p-1", "r-1", 2));
  EXPECT_EQ(v2.blob_id, b2);
  ASSERT_SOME_AND_ASSIGN(auto latest, store_->GetRecord("p-1", "r-1", std::nullopt));
  EXPECT_EQ(latest.version, 3);
  EXPECT_TRUE(latest.tombstone);
  EXPECT_EQ(latest.blob_id, "");
  EXPECT_EQ(latest.size, 0);
  ASSERT_OK_AND_ASSIGN(auto v4, store_->GetRecord("p-1", "r-1", 4));
  EXPECT_FALSE(v4.has_value());
  ASSERT_OK_AND_ASSIGN(auto none, store_->GetRecord("p-1", "r-404", std::nullopt));
  EXPECT_FALSE(none.has_value());

  ASSERT_OK_AND_ASSIGN(auto list, store_->ListRecords("p-1"));
  std::vector<std::pair<std::string, std::int64_t>> keys;
  for (const RecordMeta& m : list) keys.emplace_back(m.record_id, m.version);
  EXPECT_EQ(keys, (std::vector<std::pair<std::string, std::int64_t>>{
                      {"r-0", 1}, {"r-1", 1}, {"r-1", 2}, {"r-1", 3}}));
  ASSERT_OK_AND_ASSIGN(auto other_patient, store_->ListRecords("p-2"));
  EXPECT_EQ(other_patient.size(), 1U);
}

TEST_P(StoreTest, KeyPackages) {
  const std::string blob = PutBlob({1, 2});
  KeyPackage k1{"k-1", "u-r", "u-s", 2, 300, blob};
  KeyPackage k2{"k-2", "u-r", "u-s", 2, 100, blob};
  KeyPackage k3{"k-3", "u-other", "u-s", 2, 200, blob};
  InTx([&](WriteTx& tx) {
    for (const KeyPackage* k : {&k1, &k2, &k3}) ASSERT_OK(tx.InsertKeyPackage(*k));
    EXPECT_ERROR_CODE(tx.InsertKeyPackage(k1), ErrorCode::kConflict);
    EXPECT_ERROR_CODE(tx.InsertKeyPackage({"k-4", "u-r", "u-s", 2, 1, "b-missing"}), ErrorCode::kConflict);
    EXPECT_ERROR_CODE(tx.InsertKeyPackage({"k-5", "u-r", "u-s", 2, 1, ""}), ErrorCode::kInvalidArgument);
  });
  ASSERT_OK_AND_ASSIGN(auto list, store_->ListKeyPackages("u-r"));
  ASSERT_EQ(list.size(), 2U);
  EXPECT_EQ(list[0].package_id, "k-2");
  EXPECT_EQ(list[1].package_id, "k-1");
  ASSERT_SOME_AND_ASSIGN(auto got, store_->GetKeyPackage("k-3"));
  EXPECT_EQ(got.recipient_id, "u-other");
  EXPECT_EQ(got.sender_id, "u-s");
  EXPECT_EQ(got.size, 2);
  EXPECT_EQ(got.created_at, 200);
  EXPECT_EQ(got.blob_id, blob);
  ASSERT_OK_AND_ASSIGN(auto missing, store_->GetKeyPackage("k-404"));
  EXPECT_FALSE(missing.has_value());
  ASSERT_OK_AND_ASSIGN(auto nobody, store_->ListKeyPackages("u-nobody"));
  EXPECT_TRUE(nobody.empty());
}

TEST_P(StoreTest, DirectoryEntriesAreOwnedByTheFirstOrganisation) {
  auto row = [](const std::string& ns, const std::string& org, std::uint8_t tag, const std::string& publisher,
                std::int64_t at) {
    return DirectoryEntryRow{ns, org, {'C', 'C', 'M', 'D', tag}, publisher, at};
  };
  ASSERT_OK_AND_ASSIGN(auto empty, store_->ListDirectoryEntries());
  EXPECT_TRUE(empty.empty());
  constexpr std::int64_t kMax = 4;
  InTx([&](WriteTx& tx) {
    ASSERT_OK_AND_ASSIGN(const bool first,
                         tx.PutDirectoryEntry(row("hospital_a", "hospital-a", 1, "u-a1", 100), kMax));
    EXPECT_TRUE(first);
    ASSERT_OK_AND_ASSIGN(const bool board,
                         tx.PutDirectoryEntry(row("board", "board-org", 2, "u-b", 110), kMax));
    EXPECT_TRUE(board);
    // Replaced by an admin of the owning organisation...
    ASSERT_OK_AND_ASSIGN(const bool again,
                         tx.PutDirectoryEntry(row("hospital_a", "hospital-a", 3, "u-a2", 120), kMax));
    EXPECT_FALSE(again);
    // ...never by another organisation; the refusal leaves the transaction usable.
    EXPECT_ERROR_CODE(tx.PutDirectoryEntry(row("hospital_a", "hospital-b", 4, "u-x", 130), kMax),
                      ErrorCode::kConflict);
    ASSERT_OK_AND_ASSIGN(
        const bool sub,
        tx.PutDirectoryEntry(row("hospital_a.cardiology", "hospital-a", 5, "u-a1", 140), kMax));
    EXPECT_TRUE(sub);
    ASSERT_OK_AND_ASSIGN(const bool zeta, tx.PutDirectoryEntry(row("Zeta", "zeta-org", 6, "u-z", 150), kMax));
    EXPECT_TRUE(zeta);
    // Full: a new namespace is refused, a replacement is still accepted.
    EXPECT_ERROR_CODE(tx.PutDirectoryEntry(row("pharmacy", "pharma", 7, "u-p", 160), kMax),
                      ErrorCode::kConflict);
    ASSERT_OK_AND_ASSIGN(const bool rotated,
                         tx.PutDirectoryEntry(row("board", "board-org", 8, "u-b2", 170), kMax));
    EXPECT_FALSE(rotated);
    EXPECT_ERROR_CODE(tx.PutDirectoryEntry(row("", "org", 1, "u", 1), kMax), ErrorCode::kInvalidArgument);
    EXPECT_ERROR_CODE(tx.PutDirectoryEntry(row("x", "", 1, "u", 1), kMax), ErrorCode::kInvalidArgument);
    DirectoryEntryRow no_bytes = row("x", "org", 1, "u", 1);
    no_bytes.entry.clear();
    EXPECT_ERROR_CODE(tx.PutDirectoryEntry(no_bytes, kMax), ErrorCode::kInvalidArgument);
  });
  // Sorted bytewise (uppercase first), whatever the database locale.
  ASSERT_OK_AND_ASSIGN(auto all, store_->ListDirectoryEntries());
  std::vector<std::string> names;
  for (const auto& d : all) names.push_back(d.authority_namespace);
  EXPECT_EQ(names, (std::vector<std::string>{"Zeta", "board", "hospital_a", "hospital_a.cardiology"}));
  ASSERT_SOME_AND_ASSIGN(auto hospital, store_->GetDirectoryEntry("hospital_a"));
  EXPECT_EQ(hospital.organisation, "hospital-a");
  EXPECT_EQ(hospital.entry, (std::vector<std::uint8_t>{'C', 'C', 'M', 'D', 3}));
  EXPECT_EQ(hospital.publisher_id, "u-a2");
  EXPECT_EQ(hospital.updated_at, 120);
  ASSERT_SOME_AND_ASSIGN(auto board, store_->GetDirectoryEntry("board"));
  EXPECT_EQ(board.entry.back(), 8);
  EXPECT_EQ(board.publisher_id, "u-b2");
  ASSERT_OK_AND_ASSIGN(auto missing, store_->GetDirectoryEntry("pharmacy"));
  EXPECT_FALSE(missing.has_value());

  // Another server (connection) sees the same owner.
  ASSERT_OK_AND_ASSIGN(auto other, OpenAnother());
  ASSERT_OK_AND_ASSIGN(auto tx, other->BeginWrite());
  EXPECT_ERROR_CODE(tx->PutDirectoryEntry(row("Zeta", "hospital-a", 9, "u-a1", 180), kMax),
                    ErrorCode::kConflict);
  tx->Rollback();
}

TEST_P(StoreTest, SavepointRollbackDropsOnlyThatRequest) {
  InTx([&](WriteTx& tx) {
    ASSERT_OK(tx.Savepoint());
    ASSERT_OK(tx.InsertPatient(MakePatient("p-a")));
    ASSERT_OK(tx.ReleaseSavepoint());

    ASSERT_OK(tx.Savepoint());
    ASSERT_OK(tx.InsertPatient(MakePatient("p-b")));
    ASSERT_OK(tx.InsertAccount(MakeAccount("u-b", 2)));
    // A failed statement inside the request, as the HTTP layer would see before rolling back.
    EXPECT_ERROR_CODE(tx.InsertPatient(MakePatient("p-a")), ErrorCode::kConflict);
    ASSERT_OK(tx.RollbackToSavepoint());

    ASSERT_OK(tx.Savepoint());
    ASSERT_OK(tx.InsertPatient(MakePatient("p-c")));
    ASSERT_OK(tx.ReleaseSavepoint());
    EXPECT_ERROR_CODE(tx.ReleaseSavepoint(), ErrorCode::kInvalidArgument);  // none open
  });
  ASSERT_OK_AND_ASSIGN(auto a, store_->GetPatient("p-a"));
  EXPECT_TRUE(a.has_value());
  ASSERT_OK_AND_ASSIGN(auto b, store_->GetPatient("p-b"));
  EXPECT_FALSE(b.has_value());
  ASSERT_OK_AND_ASSIGN(auto ub, store_->GetAccount("u-b"));
  EXPECT_FALSE(ub.has_value());
  ASSERT_OK_AND_ASSIGN(auto c, store_->GetPatient("p-c"));
  EXPECT_TRUE(c.has_value());

  // An audit append rolled back with its savepoint gives its seqs back.
  InTx([&](WriteTx& tx) {
    ASSERT_OK_AND_ASSIGN(const std::int64_t head, tx.LockAuditHead());
    EXPECT_EQ(head, 0);
    ASSERT_OK(tx.Savepoint());
    ASSERT_OK(tx.AppendAudit({{0, "p-a", {1}}, {1, "p-a", {2}}}));
    ASSERT_OK(tx.RollbackToSavepoint());
    ASSERT_OK(tx.Savepoint());
    ASSERT_OK(tx.AppendAudit({{0, "p-c", {3}}}));
    ASSERT_OK(tx.ReleaseSavepoint());
  });
  ASSERT_OK_AND_ASSIGN(auto audit, store_->ReadAudit(0, 10));
  ASSERT_EQ(audit.size(), 1U);
  EXPECT_EQ(audit[0].patient_id, "p-c");
  ASSERT_OK_AND_ASSIGN(const std::int64_t size, store_->AuditSize());
  EXPECT_EQ(size, 1);
}

TEST_P(StoreTest, UncommittedWritesAreInvisibleAndDiscarded) {
  {
    ASSERT_OK_AND_ASSIGN(auto tx, store_->BeginWrite());
    ASSERT_OK(tx->InsertPatient(MakePatient("p-rolled-back")));
    ASSERT_OK_AND_ASSIGN(auto during, store_->GetPatient("p-rolled-back"));
    EXPECT_FALSE(during.has_value()) << "visible before commit";
    tx->Rollback();
    EXPECT_ERROR_CODE(tx->Commit(), ErrorCode::kInvalidArgument);
  }
  {
    ASSERT_OK_AND_ASSIGN(auto tx, store_->BeginWrite());
    ASSERT_OK(tx->InsertPatient(MakePatient("p-dropped")));
    ASSERT_OK_AND_ASSIGN(auto blob, tx->CreateBlob());
    ASSERT_OK(tx->AppendBlobChunk(blob, 0, {1, 2, 3}));
    ASSERT_OK_AND_ASSIGN(const std::int64_t chunks, store_->BlobChunkCount(blob));
    EXPECT_EQ(chunks, 0) << "uncommitted blob visible";
    ASSERT_OK_AND_ASSIGN(const std::int64_t head, tx->LockAuditHead());
    ASSERT_OK(tx->AppendAudit({{head, "", {9}}}));
  }  // destroyed without Commit
  ASSERT_OK_AND_ASSIGN(auto a, store_->GetPatient("p-rolled-back"));
  EXPECT_FALSE(a.has_value());
  ASSERT_OK_AND_ASSIGN(auto b, store_->GetPatient("p-dropped"));
  EXPECT_FALSE(b.has_value());
  ASSERT_OK_AND_ASSIGN(const std::int64_t size, store_->AuditSize());
  EXPECT_EQ(size, 0);
  // The writer is free again.
  InTx([&](WriteTx& tx) { ASSERT_OK(tx.InsertPatient(MakePatient("p-committed"))); });
  ASSERT_OK_AND_ASSIGN(auto c, store_->GetPatient("p-committed"));
  EXPECT_TRUE(c.has_value());
}

TEST_P(StoreTest, BlobsRoundTripInChunks) {
  const std::vector<std::uint8_t> body = RandomBytes(kMaxChunkSize * 7 / 2);  // 3.5 MiB
  const std::string id = PutBlob(body);
  EXPECT_EQ(id.size(), 27U);
  EXPECT_EQ(id[0], 'b');
  ASSERT_OK_AND_ASSIGN(const std::int64_t count, store_->BlobChunkCount(id));
  ASSERT_EQ(count, 4);
  std::vector<std::uint8_t> read;
  for (std::int64_t i = 0; i < count; ++i) {
    ASSERT_SOME_AND_ASSIGN(auto chunk, store_->ReadBlobChunk(id, i));
    EXPECT_EQ(chunk.size(), i < 3 ? kMaxChunkSize : kMaxChunkSize / 2);
    read.insert(read.end(), chunk.begin(), chunk.end());
  }
  EXPECT_TRUE(read == body);
  ASSERT_OK_AND_ASSIGN(auto past_end, store_->ReadBlobChunk(id, 4));
  EXPECT_FALSE(past_end.has_value());
  ASSERT_OK_AND_ASSIGN(const std::int64_t unknown, store_->BlobChunkCount("b-unknown"));
  EXPECT_EQ(unknown, 0);

  InTx([&](WriteTx& tx) {
    ASSERT_OK_AND_ASSIGN(auto other, tx.CreateBlob());
    EXPECT_NE(other, id);
    EXPECT_ERROR_CODE(tx.AppendBlobChunk(other, 1, {1}), ErrorCode::kConflict);  // gap
    ASSERT_OK(tx.AppendBlobChunk(other, 0, {}));                                 // empty chunk
    EXPECT_ERROR_CODE(tx.AppendBlobChunk(other, 0, {1}), ErrorCode::kConflict);  // duplicate
    EXPECT_ERROR_CODE(tx.AppendBlobChunk(other, 1, std::vector<std::uint8_t>(kMaxChunkSize + 1)),
                      ErrorCode::kInvalidArgument);
    EXPECT_ERROR_CODE(tx.AppendBlobChunk(other, -1, {1}), ErrorCode::kInvalidArgument);
    EXPECT_ERROR_CODE(tx.AppendBlobChunk("b-unknown", 0, {1}), ErrorCode::kConflict);
  });
}

TEST_P(StoreTest, DeleteOrphanBlobsRemovesOnlyOldUnreferencedBlobs) {
  const std::string for_record = PutBlob({1});
  const std::string for_package = PutBlob({2});
  const std::string orphan = PutBlob({3, 3}, 1);
  InTx([&](WriteTx& tx) {
    ASSERT_OK(tx.InsertRecordVersion(MakeRecord("p-1", "r-1", 1, for_record)));
    ASSERT_OK(tx.InsertKeyPackage({"k-1", "u-r", "u-s", 1, 1, for_package}));
  });
  InTx([&](WriteTx& tx) {
    ASSERT_OK_AND_ASSIGN(const std::int64_t too_new, tx.DeleteOrphanBlobs(NowMs() - 3'600'000));
    EXPECT_EQ(too_new, 0);
  });
  ASSERT_OK_AND_ASSIGN(const std::int64_t still, store_->BlobChunkCount(orphan));
  EXPECT_EQ(still, 2);
  InTx([&](WriteTx& tx) {
    ASSERT_OK_AND_ASSIGN(const std::int64_t deleted, tx.DeleteOrphanBlobs(NowMs() + 1000));
    EXPECT_EQ(deleted, 1);
  });
  ASSERT_OK_AND_ASSIGN(const std::int64_t gone, store_->BlobChunkCount(orphan));
  EXPECT_EQ(gone, 0);
  ASSERT_OK_AND_ASSIGN(auto gone_chunk, store_->ReadBlobChunk(orphan, 0));
  EXPECT_FALSE(gone_chunk.has_value());
  for (const std::string& kept : {for_record, for_package}) {
    ASSERT_OK_AND_ASSIGN(const std::int64_t n, store_->BlobChunkCount(kept));
    EXPECT_EQ(n, 1);
  }
}

TEST_P(StoreTest, AuditLogAndTreeHeads) {
  InTx([&](WriteTx& tx) {
    EXPECT_ERROR_CODE(tx.AppendAudit({{0, "", {1}}}), ErrorCode::kConflict);  // not locked
    ASSERT_OK_AND_ASSIGN(const std::int64_t head, tx.LockAuditHead());
    EXPECT_EQ(head, 0);
    ASSERT_OK(tx.AppendAudit({{0, "p-1", {0, 1}}, {1, "", {2}}}));
    ASSERT_OK(tx.AppendAudit({{2, "p-2", {3}}, {3, "p-1", {4}}}));
    EXPECT_ERROR_CODE(tx.AppendAudit({{5, "p-1", {5}}}), ErrorCode::kConflict);  // gap
    ASSERT_OK(tx.AppendAudit({}));
  });
  InTx([&](WriteTx& tx) {
    ASSERT_OK_AND_ASSIGN(const std::int64_t head, tx.LockAuditHead());
    EXPECT_EQ(head, 4);
    EXPECT_ERROR_CODE(tx.AppendAudit({{3, "p-1", {5}}}), ErrorCode::kConflict);  // taken
    ASSERT_OK(tx.AppendAudit({{4, "p-1", {5}}}));
    TreeHeadRow h1{2, 1000, Filled<32>(1), Filled<64>(2)};
    TreeHeadRow h2{5, 2000, Filled<32>(3), Filled<64>(4)};
    ASSERT_OK(tx.InsertTreeHead(h2));
    ASSERT_OK(tx.InsertTreeHead(h1));
    EXPECT_ERROR_CODE(tx.InsertTreeHead(h1), ErrorCode::kConflict);
  });
  ASSERT_OK_AND_ASSIGN(const std::int64_t size, store_->AuditSize());
  EXPECT_EQ(size, 5);
  ASSERT_OK_AND_ASSIGN(auto all, store_->ReadAudit(0, 100));
  ASSERT_EQ(all.size(), 5U);
  for (std::size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i].seq, static_cast<std::int64_t>(i));
  EXPECT_EQ(all[0].entry, (std::vector<std::uint8_t>{0, 1}));
  EXPECT_EQ(all[1].patient_id, "");
  ASSERT_OK_AND_ASSIGN(auto middle, store_->ReadAudit(1, 3));
  ASSERT_EQ(middle.size(), 2U);
  EXPECT_EQ(middle[0].seq, 1);
  EXPECT_EQ(middle[1].seq, 2);
  EXPECT_EQ(middle[1].patient_id, "p-2");
  ASSERT_OK_AND_ASSIGN(auto empty, store_->ReadAudit(3, 3));
  EXPECT_TRUE(empty.empty());
  EXPECT_ERROR_CODE(store_->ReadAudit(3, 2), ErrorCode::kInvalidArgument);
  EXPECT_ERROR_CODE(store_->ReadAudit(-1, 2), ErrorCode::kInvalidArgument);
  ASSERT_OK_AND_ASSIGN(auto p1, store_->ReadAuditForPatient("p-1"));
  std::vector<std::int64_t> seqs;
  for (const AuditRow& r : p1) seqs.push_back(r.seq);
  EXPECT_EQ(seqs, (std::vector<std::int64_t>{0, 3, 4}));

  ASSERT_OK_AND_ASSIGN(auto heads, store_->ReadTreeHeads());
  ASSERT_EQ(heads.size(), 2U);
  EXPECT_EQ(heads[0].tree_size, 2);
  EXPECT_EQ(heads[0].timestamp, 1000);
  EXPECT_EQ(heads[0].root, Filled<32>(1));
  EXPECT_EQ(heads[0].signature, Filled<64>(2));
  EXPECT_EQ(heads[1].tree_size, 5);
  ASSERT_SOME_AND_ASSIGN(auto latest, store_->LatestTreeHead());
  EXPECT_EQ(latest.tree_size, 5);
  EXPECT_EQ(latest.signature, Filled<64>(4));
}

TEST_P(StoreTest, EmptyLogHasNoTreeHead) {
  ASSERT_OK_AND_ASSIGN(auto latest, store_->LatestTreeHead());
  EXPECT_FALSE(latest.has_value());
  ASSERT_OK_AND_ASSIGN(auto heads, store_->ReadTreeHeads());
  EXPECT_TRUE(heads.empty());
}

TEST_P(StoreTest, SqlMetacharactersRoundTripVerbatim) {
  const std::vector<std::string> nasty = {"it's",
                                          R"(say "hi")",
                                          "'; DROP TABLE accounts; --",
                                          "\\x00\\",
                                          "$1 ?1 :name @p %s",
                                          "Ærøskøbing \xE2\x9C\x93 \xF0\x9F\x98\x80 \xE6\xBC\xA2\xE5\xAD\x97",
                                          "line\nbreak\ttab\r",
                                          "%_*[]"};
  const std::vector<std::uint8_t> binary = {0, '\'', 0, ';', 0xFF, 0, '\\', 'x', 0};
  for (std::size_t i = 0; i < nasty.size(); ++i) {
    const std::string& s = nasty[i];
    const std::string tag = std::to_string(i);
    Account account = MakeAccount(s, static_cast<std::uint8_t>(i * 11));
    account.organisation = s;
    account.details_json = s;
    account.password_hash = s;
    const Patient patient{s, s, s, Filled<32>(static_cast<std::uint8_t>(i)), false, 1};
    const std::string blob = PutBlob(binary);
    RecordMeta record = MakeRecord(s, s, 1, blob);
    record.section = s;
    record.policy = s;
    record.author_id = s;
    const KeyPackage package{s, s, s, 9, 1, blob};
    std::int64_t seq = 0;
    InTx([&](WriteTx& tx) {
      ASSERT_OK(tx.InsertAccount(account));
      ASSERT_OK(tx.DecideRegistration(s, ApprovalState::kApproved, s, s, 7));
      ASSERT_OK(tx.InsertChallenge({Filled<32>(static_cast<std::uint8_t>(i)), s, 5}));
      ASSERT_OK(tx.InsertSession({Filled<32>(static_cast<std::uint8_t>(i)), s, 5}));
      ASSERT_OK(tx.InsertPatient(patient));
      ASSERT_OK(tx.InsertRecordVersion(record));
      ASSERT_OK(tx.InsertKeyPackage(package));
      ASSERT_OK_AND_ASSIGN(seq, tx.LockAuditHead());
      ASSERT_OK(tx.AppendAudit({{seq, s, binary}}));
    });
    ASSERT_SOME_AND_ASSIGN(auto got, store_->GetAccount(s));
    account.state = ApprovalState::kApproved;
    account.decision_reason = s;
    account.decided_by = s;
    account.decided_at = 7;
    ExpectSameAccount(got, account);
    ASSERT_OK_AND_ASSIGN(auto by_org, store_->ListAccounts(s, ApprovalState::kApproved));
    ASSERT_EQ(by_org.size(), 1U) << tag;
    ASSERT_SOME_AND_ASSIGN(auto session, store_->GetSession(Filled<32>(static_cast<std::uint8_t>(i))));
    EXPECT_EQ(session.user_id, s);
    InTx([&](WriteTx& tx) {
      ASSERT_SOME_AND_ASSIGN(auto challenge, tx.ConsumeChallenge(Filled<32>(static_cast<std::uint8_t>(i))));
      EXPECT_EQ(challenge.user_id, s);
      ASSERT_OK_AND_ASSIGN(const bool enrolled, tx.EnrolPatient(s, patient.enrolment_code_hash, s));
      EXPECT_TRUE(enrolled);
    });
    ASSERT_SOME_AND_ASSIGN(auto p, store_->GetPatient(s));
    EXPECT_EQ(p.patient_id, s);
    EXPECT_EQ(p.owner_user_id, s);
    EXPECT_EQ(p.created_by, s);
    ASSERT_OK_AND_ASSIGN(auto records, store_->ListRecords(s));
    ASSERT_EQ(records.size(), 1U) << tag;
    ExpectSameRecord(records[0], record);
    ASSERT_SOME_AND_ASSIGN(auto r, store_->GetRecord(s, s, 1));
    ASSERT_OK_AND_ASSIGN(auto packages, store_->ListKeyPackages(s));
    ASSERT_EQ(packages.size(), 1U);
    EXPECT_EQ(packages[0].package_id, s);
    EXPECT_EQ(packages[0].sender_id, s);
    ASSERT_OK_AND_ASSIGN(auto package_by_id, store_->GetKeyPackage(s));
    EXPECT_TRUE(package_by_id.has_value());
    ASSERT_SOME_AND_ASSIGN(auto chunk, store_->ReadBlobChunk(blob, 0));
    EXPECT_EQ(chunk, binary);
    ASSERT_OK_AND_ASSIGN(auto audit, store_->ReadAuditForPatient(s));
    ASSERT_EQ(audit.size(), 1U) << tag;
    EXPECT_EQ(audit[0].seq, seq);
    EXPECT_EQ(audit[0].entry, binary);
  }
  ASSERT_OK_AND_ASSIGN(auto all, store_->ListAccounts("", std::nullopt));
  EXPECT_EQ(all.size(), nasty.size());  // the table survived
}

TEST_P(StoreTest, TextWithNulOrInvalidUtf8IsRefused) {
  const std::string with_nul("u-1\0evil", 8);
  const std::string not_utf8 = "u-\xC0\xAF";  // overlong '/'
  InTx([&](WriteTx& tx) { ASSERT_OK(tx.InsertAccount(MakeAccount("u-1", 1))); });
  InTx([&](WriteTx& tx) {
    EXPECT_ERROR_CODE(tx.InsertAccount(MakeAccount(with_nul, 2)), ErrorCode::kInvalidArgument);
    EXPECT_ERROR_CODE(tx.InsertAccount(MakeAccount(not_utf8, 3)), ErrorCode::kInvalidArgument);
    Account bad_json = MakeAccount("u-2", 4);
    bad_json.details_json = std::string("{\0}", 3);
    EXPECT_ERROR_CODE(tx.InsertAccount(bad_json), ErrorCode::kInvalidArgument);
    EXPECT_ERROR_CODE(tx.InsertPatient(MakePatient("p\xED\xA0\x80")),
                      ErrorCode::kInvalidArgument);  // surrogate
    EXPECT_ERROR_CODE(tx.AppendAudit({}), ErrorCode::kConflict);
    ASSERT_OK(tx.InsertPatient(MakePatient("p-fine")));  // the transaction is still good
  });
  // A lookup must not match "u-1" by stopping at the NUL.
  EXPECT_ERROR_CODE(store_->GetAccount(with_nul), ErrorCode::kInvalidArgument);
  EXPECT_ERROR_CODE(store_->GetPatient(not_utf8), ErrorCode::kInvalidArgument);
  ASSERT_OK_AND_ASSIGN(auto fine, store_->GetPatient("p-fine"));
  EXPECT_TRUE(fine.has_value());
}

TEST_P(StoreTest, TwoServersAppendAuditWithoutGaps) {
  constexpr int kThreadsPerServer = 3;
  constexpr int kTxPerThread = 15;
  constexpr int kRowsPerTx = 3;
  ASSERT_OK_AND_ASSIGN(auto second, OpenAnother());
  std::vector<Store*> servers = {store_.get(), second.get()};
  std::atomic<int> failures{0};
  std::mutex error_mutex;
  std::string first_error;
  std::vector<std::thread> threads;
  for (std::size_t s = 0; s < servers.size(); ++s) {
    for (int t = 0; t < kThreadsPerServer; ++t) {
      threads.emplace_back([&, s, t] {
        for (int n = 0; n < kTxPerThread; ++n) {
          auto fail = [&](const Error& e) {
            ++failures;
            const std::lock_guard lock(error_mutex);
            if (first_error.empty()) first_error = e.ToString();
          };
          auto tx = servers[s]->BeginWrite();
          if (!tx) return fail(tx.error());
          auto head = (*tx)->LockAuditHead();
          if (!head) return fail(head.error());
          std::vector<AuditRow> rows;
          for (int r = 0; r < kRowsPerTx; ++r) {
            const std::string tag = std::to_string(s) + "/" + std::to_string(t) + "/" + std::to_string(n) +
                                    "/" + std::to_string(r);
            rows.push_back(
                {*head + r, "p-" + std::to_string(s), std::vector<std::uint8_t>(tag.begin(), tag.end())});
          }
          if (auto ok = (*tx)->AppendAudit(rows); !ok) return fail(ok.error());
          if (auto ok = (*tx)->Commit(); !ok) return fail(ok.error());
        }
      });
    }
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0) << first_error;
  const std::int64_t total = 2 * kThreadsPerServer * kTxPerThread * kRowsPerTx;
  ASSERT_OK_AND_ASSIGN(const std::int64_t size, store_->AuditSize());
  EXPECT_EQ(size, total);
  ASSERT_OK_AND_ASSIGN(auto rows, second->ReadAudit(0, total + 10));
  ASSERT_EQ(static_cast<std::int64_t>(rows.size()), total);
  std::set<std::string> entries;
  for (std::int64_t i = 0; i < total; ++i) {
    const AuditRow& row = rows[static_cast<std::size_t>(i)];
    EXPECT_EQ(row.seq, i);
    entries.emplace(row.entry.begin(), row.entry.end());
  }
  EXPECT_EQ(static_cast<std::int64_t>(entries.size()), total);  // no row lost or written twice
}

TEST_P(StoreTest, ReadsRunConcurrentlyWithAWriter) {
  constexpr int kVersions = 40;
  constexpr int kReaders = 4;
  const std::string blob = PutBlob({1, 2, 3});
  std::atomic<bool> done{false};
  std::atomic<int> problems{0};
  std::atomic<int> reads{0};
  std::vector<std::thread> readers;
  readers.reserve(kReaders);
  for (int r = 0; r < kReaders; ++r) {
    readers.emplace_back([&] {
      std::int64_t seen = 0;
      while (!done.load()) {
        auto latest = store_->GetRecord("p-1", "r-1", std::nullopt);
        auto list = store_->ListRecords("p-1");
        if (!latest || !list) {
          ++problems;
          return;
        }
        const std::int64_t v = latest->has_value() ? (*latest)->version : 0;
        // Committed versions only, never going back; the list (read later) has at least as many.
        if (v < seen || static_cast<std::int64_t>(list->size()) < v) ++problems;
        for (std::size_t i = 0; i < list->size(); ++i) {
          if ((*list)[i].version != static_cast<std::int64_t>(i) + 1) ++problems;
        }
        seen = v;
        ++reads;
      }
    });
  }
  for (int v = 1; v <= kVersions; ++v) {
    InTx([&](WriteTx& tx) { ASSERT_OK(tx.InsertRecordVersion(MakeRecord("p-1", "r-1", v, blob))); });
  }
  done = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(problems.load(), 0);
  EXPECT_GT(reads.load(), 0);
  ASSERT_SOME_AND_ASSIGN(auto latest, store_->GetRecord("p-1", "r-1", std::nullopt));
  EXPECT_EQ(latest.version, kVersions);
}

TEST_P(StoreTest, ConcurrentServersRaceForTheSameVersion) {
  const std::string blob = PutBlob({1});
  ASSERT_OK_AND_ASSIGN(auto second, OpenAnother());
  std::vector<Store*> servers = {store_.get(), second.get()};
  std::atomic<int> ok_count{0};
  std::atomic<int> conflicts{0};
  std::atomic<int> other{0};
  std::vector<std::thread> threads;
  threads.reserve(servers.size());
  for (Store* server : servers) {
    threads.emplace_back([&, server] {
      for (int v = 1; v <= 20; ++v) {
        auto tx = server->BeginWrite();
        if (!tx) {
          ++other;
          return;
        }
        auto inserted = (*tx)->InsertRecordVersion(MakeRecord("p-1", "r-1", v, blob));
        if (inserted) {
          if ((*tx)->Commit()) {
            ++ok_count;
          } else {
            ++other;
          }
        } else if (inserted.error().code() == ErrorCode::kConflict) {
          ++conflicts;
        } else {
          ++other;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(ok_count.load(), 20);
  EXPECT_EQ(conflicts.load(), 20);
  ASSERT_OK_AND_ASSIGN(auto list, store_->ListRecords("p-1"));
  ASSERT_EQ(list.size(), 20U);
  for (std::size_t i = 0; i < list.size(); ++i) EXPECT_EQ(list[i].version, static_cast<std::int64_t>(i) + 1);
}

TEST_P(StoreTest, CommittedDataSurvivesReopening) {
  InTx([&](WriteTx& tx) {
    ASSERT_OK(tx.InsertPatient(MakePatient("p-durable")));
    ASSERT_OK_AND_ASSIGN(const std::int64_t head, tx.LockAuditHead());
    ASSERT_OK(tx.AppendAudit({{head, "p-durable", {1, 2}}}));
  });
  store_.reset();
  ASSERT_OK_AND_ASSIGN(store_, OpenStore(url_));
  ASSERT_OK(store_->Migrate());  // a restarted server migrates again
  ASSERT_SOME_AND_ASSIGN(auto patient, store_->GetPatient("p-durable"));
  EXPECT_EQ(patient.created_by, "u-practitioner");
  ASSERT_OK_AND_ASSIGN(const std::int64_t size, store_->AuditSize());
  EXPECT_EQ(size, 1);
}

TEST_P(StoreTest, ReadsDoNotWaitForAnOpenWriteTx) {
  InTx([&](WriteTx& tx) { ASSERT_OK(tx.InsertPatient(MakePatient("p-1"))); });
  ASSERT_OK_AND_ASSIGN(auto tx, store_->BeginWrite());
  ASSERT_OK(tx->InsertPatient(MakePatient("p-2")));
  // The writer thread itself, and other threads, read committed data meanwhile.
  ASSERT_SOME_AND_ASSIGN(auto p1, store_->GetPatient("p-1"));
  EXPECT_EQ(p1.patient_id, "p-1");
  std::thread reader([&] {
    auto p2 = store_->GetPatient("p-2");
    EXPECT_TRUE(p2.has_value() && !p2->has_value());
  });
  reader.join();
  ASSERT_OK(tx->Commit());
  ASSERT_SOME_AND_ASSIGN(auto p2, store_->GetPatient("p-2"));
  EXPECT_EQ(p2.patient_id, "p-2");
}

TEST_P(StoreTest, FinishedTransactionRefusesWork) {
  ASSERT_OK_AND_ASSIGN(auto tx, store_->BeginWrite());
  ASSERT_OK(tx->Commit());
  EXPECT_ERROR_CODE(tx->InsertPatient(MakePatient("p-late")), ErrorCode::kInvalidArgument);
  EXPECT_ERROR_CODE(tx->Commit(), ErrorCode::kInvalidArgument);
  EXPECT_ERROR_CODE(tx->Savepoint(), ErrorCode::kInvalidArgument);
  tx->Rollback();  // harmless
}

TEST(OpenStoreTest, RefusesUnknownSchemes) {
  for (const std::string url : {"", "mysql:host=x", "postgres:dbname=x", "sqlite", "/tmp/x.db"}) {
    auto store = OpenStore(url);
    ASSERT_FALSE(store.has_value()) << url;
    EXPECT_EQ(store.error().code(), ErrorCode::kInvalidArgument) << url;
  }
  auto secret = OpenStore("mysql:password=hunter2");
  ASSERT_FALSE(secret.has_value());
  EXPECT_EQ(secret.error().message().find("hunter2"), std::string::npos) << secret.error().message();
  EXPECT_ERROR_CODE(OpenPostgresStore("host=127.0.0.1", 0), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace cipherchart::server
