// The audit log (docs/api.md, "Audit log"; docs/formats.md) through the real API and against the
// database, on both store backends:
//   - after a random history of API operations, the signed tree heads verify under the key of
//     /v1/server, inclusion proofs for random leaves and consistency proofs between heads kept
//     along the way verify (RFC 9162), and the patient owner's audit listing holds every list,
//     fetch and append of the patient's records done in the test, each matching its inclusion
//     proof's leaf hash;
//   - edits made directly in the database (an entry rewritten, a row deleted with or without
//     renumbering, two rows swapped, a patient_id column changed, the last rows deleted while
//     their heads stay) are found by CheckStoredLog (naming the seq or the tree size), by
//     `cipherchart server verify-log` (exit 1) and, when they touch signed entries, by the
//     server, which refuses to start (kIntegrity).
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <map>
#include <random>
#include <tuple>

#include "cipherchart/server/audit_entry.h"
#include "cipherchart/server/merkle.h"
#include "src/server/server_test_util.h"

#ifndef CIPHERCHART_BINARY
#error "CIPHERCHART_BINARY must be the path of the cipherchart executable"
#endif

namespace cipherchart::server {
namespace {

using namespace testing;  // NOLINT(google-build-using-namespace): the test utilities

std::span<const std::uint8_t> Bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

Hash LeafOf(std::string_view entry) {
  auto h = LeafHash(Bytes(entry));
  EXPECT_TRUE(h.has_value());
  return h ? *h : Hash{};
}

Hash HashFromHex(const json& j) {
  auto h = FixedFromHex<kMerkleHashSize>(j.is_string() ? j.get<std::string>() : "");
  EXPECT_TRUE(h.has_value()) << j;
  return h ? *h : Hash{};
}

std::vector<Hash> HashesFromHex(const json& j) {
  std::vector<Hash> out;
  for (const auto& h : j) out.push_back(HashFromHex(h));
  return out;
}

// GET /v1/audit/head as a SignedTreeHead.
SignedTreeHead GetHead(ApiUser& u) {
  auto r = u.Call("GET", "/v1/audit/head");
  EXPECT_EQ(r.status, 200) << r.body;
  const json j = Parse(r);
  SignedTreeHead head;
  head.tree_size = j.value("tree_size", std::uint64_t{0});
  head.timestamp_ms = j.value("timestamp", std::int64_t{0});
  head.root = HashFromHex(j["root"]);
  auto sig = FixedFromHex<64>(j.value("signature", ""));
  EXPECT_TRUE(sig.has_value()) << r.body;
  if (sig) head.signature = *sig;
  return head;
}

// An entry of a patient's audit log as the test expects it (time aside).
using Expected =
    std::tuple<std::string, std::string, std::string, std::string>;  // actor, action, target, outcome

// ---- random histories through the API ------------------------------------------------------

class AuditHistoryTest : public ::testing::TestWithParam<std::string> {};

TEST_P(AuditHistoryTest, HeadsProofsAndPatientLog) {
  const std::uint64_t seed = std::random_device{}();
  RecordProperty("seed", std::to_string(seed));
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  auto pick = [&rng](std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng); };

  TestServer server(GetParam());
  ApiUser admin = ServerAdmin(server);
  ApiUser authority = ApprovedAuthorityAdmin(server, admin, "hospital-a");
  ApiUser doctor1 = ApprovedPractitioner(server, authority, "doctor-1");
  ApiUser doctor2 = ApprovedPractitioner(server, authority, "doctor-2");
  ApiUser owner = RegisterAndLogin(server, "patient", "");
  ApiUser other = RegisterAndLogin(server, "patient", "");
  const std::string pid = CreatePatient(doctor1, &owner);
  ASSERT_FALSE(pid.empty());
  const std::string rec = "/v1/patients/" + pid + "/records";

  std::vector<Expected> expected = {{doctor1.user_id, "patient.create", "", "ok"}};
  std::map<std::string, int> versions;                    // record id -> latest version
  std::map<std::string, std::vector<std::string>> inbox;  // user id -> key packages
  std::vector<SignedTreeHead> heads;
  ApiUser* readers[] = {&owner, &doctor1, &doctor2};
  ApiUser* everyone[] = {&admin, &authority, &doctor1, &doctor2, &owner, &other};

  constexpr int kOps = 160;
  for (int op = 0; op < kOps; ++op) {
    if (op % 40 == 0) heads.push_back(GetHead(admin));
    const int kind = static_cast<int>(pick(10));
    ApiUser& reader = *readers[pick(3)];
    if (kind == 0) {  // a new session for anyone
      Login(*everyone[pick(6)]);
    } else if (kind <= 2 || versions.empty()) {  // append: a new record or a new version
      std::string rid = "r" + std::to_string(versions.size());
      if (!versions.empty() && pick(2) == 0) {
        auto it = versions.begin();
        std::advance(it, static_cast<std::ptrdiff_t>(pick(versions.size())));
        rid = it->first;
      }
      const int v = versions[rid] + 1;
      ASSERT_EQ(PutRecord(reader, pid, rid, v, std::string(1 + pick(2000), 'e')).status, 201);
      versions[rid] = v;
      expected.emplace_back(reader.user_id, "record.append", rid + "@" + std::to_string(v), "ok");
    } else if (kind == 3) {  // list
      ASSERT_EQ(reader.Call("GET", rec).status, 200);
      expected.emplace_back(reader.user_id, "record.list", "", "ok");
    } else if (kind == 4) {  // fetch the latest or a given version
      auto it = versions.begin();
      std::advance(it, static_cast<std::ptrdiff_t>(pick(versions.size())));
      const bool latest = pick(2) == 0;
      const int v = latest ? it->second : 1 + static_cast<int>(pick(static_cast<std::size_t>(it->second)));
      auto r = reader.Call("GET", rec + "/" + it->first + (latest ? "" : "/versions/" + std::to_string(v)));
      ASSERT_EQ(r.status, 200) << r.body;
      EXPECT_EQ(r.headers["x-cipherchart-version"], std::to_string(v));
      expected.emplace_back(reader.user_id, "record.fetch", it->first + "@" + std::to_string(v), "ok");
    } else if (kind == 5) {  // denied: someone without access, or a record that does not exist
      const int which = static_cast<int>(pick(3));
      if (which == 0) {
        ASSERT_EQ(other.Call("GET", rec).status, 403);
        expected.emplace_back(other.user_id, "record.list", "", "denied:403");
      } else if (which == 1) {
        ASSERT_EQ(authority.Call("GET", rec + "/r0").status, 403);
        expected.emplace_back(authority.user_id, "record.fetch", "r0@latest", "denied:403");
      } else {
        ASSERT_EQ(reader.Call("GET", rec + "/missing").status, 404);
        expected.emplace_back(reader.user_id, "record.fetch", "missing@latest", "denied:404");
      }
    } else if (kind == 6) {  // a key package: authority to a doctor, or patient to patient
      const bool from_authority = pick(2) == 0;
      ApiUser& from = from_authority ? authority : owner;
      ApiUser& to = from_authority ? (pick(2) == 0 ? doctor1 : doctor2) : other;
      auto r = from.http->Request("POST", "/v1/users/" + to.user_id + "/keys",
                                  "package-" + std::to_string(op), "application/octet-stream", from.Auth());
      ASSERT_TRUE(r && r->status == 201) << (r ? r->body : r.error().message());
      inbox[to.user_id].push_back(Parse(*r)["package_id"]);
    } else if (kind == 7) {  // key packages: list and fetch
      ApiUser& who = *everyone[2 + pick(4)];
      auto list = who.Call("GET", "/v1/keys");
      ASSERT_EQ(list.status, 200);
      EXPECT_EQ(Parse(list)["packages"].size(), inbox[who.user_id].size());
      if (!inbox[who.user_id].empty()) {
        const auto& package = inbox[who.user_id][pick(inbox[who.user_id].size())];
        EXPECT_EQ(who.Call("GET", "/v1/keys/" + package).status, 200);
      }
    } else if (kind == 8) {  // the owner reads the patient's audit log
      ASSERT_EQ(owner.Call("GET", "/v1/patients/" + pid + "/audit").status, 200);
      expected.emplace_back(owner.user_id, "audit.read", "", "ok");
    } else {
      EXPECT_EQ(everyone[pick(6)]->Call("GET", "/v1/accounts/me").status, 200);
    }
  }
  // A read waits for its audit entry, and the writer commits in order: once this list is
  // answered, the denied attempts' entries (logged without waiting) are durable too.
  ASSERT_EQ(owner.Call("GET", rec).status, 200);
  expected.emplace_back(owner.user_id, "record.list", "", "ok");
  auto patient_log = owner.Call("GET", "/v1/patients/" + pid + "/audit");
  ASSERT_EQ(patient_log.status, 200);
  heads.push_back(GetHead(admin));
  const SignedTreeHead& last = heads.back();
  const std::uint64_t n = last.tree_size;
  ASSERT_GT(n, static_cast<std::uint64_t>(kOps) / 2);

  // The heads are signed by the server's audit key, and sizes and times never go back.
  auto info = admin.Call("GET", "/v1/server");
  ASSERT_EQ(info.status, 200);
  auto audit_key = FixedFromHex<32>(Parse(info).value("audit_key", ""));
  ASSERT_TRUE(audit_key.has_value()) << info.body;
  const envelope::Ed25519PublicKey key = audit_key.value_or(envelope::Ed25519PublicKey{});
  for (std::size_t i = 0; i < heads.size(); ++i) {
    EXPECT_TRUE(VerifyTreeHead(key, heads[i]).has_value()) << "head " << i;
    if (i > 0) {
      EXPECT_GE(heads[i].tree_size, heads[i - 1].tree_size);
      EXPECT_GE(heads[i].timestamp_ms, heads[i - 1].timestamp_ms);
    }
  }
  SignedTreeHead forged = last;
  forged.tree_size += 1;
  EXPECT_FALSE(VerifyTreeHead(key, forged).has_value());

  // Every entry (read as a server admin), hashed into a tree of our own, gives the heads' roots.
  std::vector<std::string> entries;
  for (std::uint64_t start = 0; start < n; start += 1000) {
    auto r = admin.Call("GET", "/v1/audit/entries?start=" + std::to_string(start) +
                                   "&end=" + std::to_string(std::min<std::uint64_t>(n, start + 1000)));
    ASSERT_EQ(r.status, 200) << r.body;
    const json page = Parse(r);  // not in the range-for: the temporary would die before the loop
    for (const auto& e : page["entries"]) {
      EXPECT_EQ(e["index"].get<std::uint64_t>(), entries.size());
      entries.push_back(e["entry"].get<std::string>());
    }
  }
  ASSERT_EQ(entries.size(), n);
  MerkleTree tree;
  for (const auto& e : entries) {
    ASSERT_TRUE(DecodeAuditEntry(Bytes(e)).has_value()) << e;
    ASSERT_TRUE(tree.Append(LeafOf(e)).has_value());
  }
  for (const auto& h : heads) EXPECT_EQ(*tree.RootAt(h.tree_size), h.root) << "head of size " << h.tree_size;

  // Inclusion proofs for random leaves (and both ends) against the last head, and against an
  // earlier one.
  auto inclusion = [&](std::uint64_t index, const SignedTreeHead& head) {
    auto r = admin.Call("GET", "/v1/audit/inclusion?index=" + std::to_string(index) +
                                   "&tree_size=" + std::to_string(head.tree_size));
    EXPECT_EQ(r.status, 200) << r.body;
    const json j = Parse(r);
    const Hash leaf = HashFromHex(j["leaf_hash"]);
    const std::vector<Hash> path = HashesFromHex(j["path"]);
    EXPECT_TRUE(VerifyInclusion(leaf, index, head.tree_size, path, head.root).has_value())
        << "leaf " << index << " of " << head.tree_size;
    return std::make_pair(leaf, path);
  };
  std::vector<std::uint64_t> indices = {0, n - 1};
  for (int i = 0; i < 60; ++i) indices.push_back(pick(n));
  for (const std::uint64_t i : indices) {
    auto [leaf, path] = inclusion(i, last);
    EXPECT_EQ(leaf, LeafOf(entries[i])) << "leaf " << i;
    // A proof for one leaf proves nothing about another, nor with a changed hash.
    const std::uint64_t wrong = (i + 1) % n;
    if (wrong != i && LeafOf(entries[wrong]) != leaf) {
      EXPECT_FALSE(VerifyInclusion(LeafOf(entries[wrong]), i, n, path, last.root).has_value());
    }
    if (!path.empty()) {
      path[pick(path.size())][pick(kMerkleHashSize)] ^= 1;
      EXPECT_FALSE(VerifyInclusion(leaf, i, n, path, last.root).has_value()) << "leaf " << i;
    }
  }
  const SignedTreeHead& earlier = heads[heads.size() / 2];
  for (int i = 0; i < 10 && earlier.tree_size > 0; ++i) (void)inclusion(pick(earlier.tree_size), earlier);

  // Consistency between every pair of heads kept along the way.
  for (std::size_t a = 0; a < heads.size(); ++a) {
    for (std::size_t b = a; b < heads.size(); ++b) {
      const auto& m = heads[a];
      const auto& h = heads[b];
      auto r = admin.Call("GET", "/v1/audit/consistency?first=" + std::to_string(m.tree_size) +
                                     "&second=" + std::to_string(h.tree_size));
      ASSERT_EQ(r.status, 200) << r.body;
      const std::vector<Hash> proof = HashesFromHex(Parse(r)["proof"]);
      EXPECT_TRUE(VerifyConsistency(m.tree_size, h.tree_size, m.root, h.root, proof).has_value())
          << m.tree_size << " -> " << h.tree_size;
      if (m.tree_size > 0 && m.tree_size < h.tree_size) {
        Hash wrong = m.root;
        wrong[0] ^= 1;
        EXPECT_FALSE(VerifyConsistency(m.tree_size, h.tree_size, wrong, h.root, proof).has_value());
      }
    }
  }

  // The owner's view: every entry is the patient's, is leaf `index` of the log (its inclusion
  // proof has its leaf hash), and the entries are exactly the operations on the patient's
  // records done above (plus the enrolment).
  std::vector<Expected> seen;
  const json listed = Parse(patient_log);
  for (const auto& item : listed["entries"]) {
    const std::string entry = item["entry"];
    const std::uint64_t index = item["index"];
    ASSERT_LT(index, n);
    EXPECT_EQ(entry, entries[index]);
    auto [leaf, path] = inclusion(index, last);
    EXPECT_EQ(leaf, LeafOf(entry)) << "entry " << index;
    auto decoded = DecodeAuditEntry(Bytes(entry));
    ASSERT_TRUE(decoded.has_value()) << entry;
    EXPECT_EQ(decoded->patient_id, pid);
    if (decoded->action == "patient.enrol") {
      EXPECT_EQ(decoded->actor, owner.user_id);
      continue;
    }
    seen.emplace_back(decoded->actor, decoded->action, decoded->target, decoded->outcome);
  }
  EXPECT_GT(expected.size(), static_cast<std::size_t>(kOps) / 3);
  std::sort(seen.begin(), seen.end());
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(seen, expected);
  // And no entry of the patient's is missing from the listing.
  std::size_t of_patient = 0;
  for (const auto& e : entries) of_patient += DecodeAuditEntry(Bytes(e))->patient_id == pid ? 1 : 0;
  EXPECT_EQ(of_patient, listed["entries"].size() + 1);  // + the final audit.read
}

INSTANTIATE_TEST_SUITE_P(Backends, AuditHistoryTest, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

// ---- edits of the stored log ---------------------------------------------------------------

// Runs SQL on the server's database, behind its back (the server is stopped).
void ExecSql(const std::string& store_url, const std::string& sql) {
  if (store_url.rfind("sqlite:", 0) == 0) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open_v2(store_url.substr(7).c_str(), &db, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
    char* error = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
    EXPECT_EQ(rc, SQLITE_OK) << (error ? error : "") << "\n" << sql;
    sqlite3_free(error);
    sqlite3_close(db);
    return;
  }
  ASSERT_EQ(store_url.rfind("postgresql:", 0), 0u) << store_url;
  auto r = PgCluster::Execute(store_url.substr(11), sql);
  ASSERT_TRUE(r.has_value()) << r.error().message() << "\n" << sql;
}

// A bytes literal in the backend's dialect.
std::string BytesSql(const std::string& backend, std::span<const std::uint8_t> bytes) {
  if (backend == "sqlite") return "X'" + ToHex(bytes) + "'";
  return "'\\x" + ToHex(bytes) + "'::bytea";
}

struct StoredLog {
  std::vector<AuditRow> rows;
  std::vector<TreeHeadRow> heads;
};

StoredLog ReadStoredLog(const std::string& store_url) {
  StoredLog log;
  auto store = OpenStore(store_url);
  EXPECT_TRUE(store.has_value()) << (store ? "" : store.error().message());
  if (!store) return log;
  auto size = (*store)->AuditSize();
  EXPECT_TRUE(size.has_value());
  auto rows = (*store)->ReadAudit(0, size ? *size : 0);
  auto heads = (*store)->ReadTreeHeads();
  EXPECT_TRUE(rows && heads);
  if (rows) log.rows = std::move(*rows);
  if (heads) log.heads = std::move(*heads);
  return log;
}

class AuditTamperTest : public ::testing::TestWithParam<std::string> {};

TEST_P(AuditTamperTest, DatabaseEditsAreDetected) {
  const std::string backend = GetParam();
  TestServer server(backend);
  const std::string url = server.config().store;
  ApiUser admin = ServerAdmin(server);
  ApiUser authority = ApprovedAuthorityAdmin(server, admin, "hospital-a");
  ApiUser doctor = ApprovedPractitioner(server, authority, "doctor");
  ApiUser owner = RegisterAndLogin(server, "patient", "");
  const std::string pid = CreatePatient(doctor, &owner);
  const std::string rec = "/v1/patients/" + pid + "/records";
  for (int i = 0; i < 12; ++i) {
    ASSERT_EQ(PutRecord(i % 2 == 0 ? doctor : owner, pid, "r" + std::to_string(i % 4), 1 + i / 4,
                        "bytes-" + std::to_string(i))
                  .status,
              201);
    ASSERT_EQ(owner.Call("GET", rec).status, 200);
    ASSERT_EQ(doctor.Call("GET", rec + "/r" + std::to_string(i % 4)).status, 200);
    Login(i % 2 == 0 ? doctor : owner);
  }
  auto info = admin.Call("GET", "/v1/server");
  auto audit_key = FixedFromHex<32>(Parse(info).value("audit_key", ""));
  ASSERT_TRUE(audit_key.has_value()) << info.body;
  const envelope::Ed25519PublicKey key = audit_key.value_or(envelope::Ed25519PublicKey{});
  server.Stop();

  const StoredLog original = ReadStoredLog(url);
  const auto n = static_cast<std::int64_t>(original.rows.size());
  ASSERT_GE(n, 40);
  ASSERT_GE(original.heads.size(), 10u);
  {
    auto summary = CheckStoredLog(original.rows, original.heads, key);
    ASSERT_TRUE(summary.has_value()) << summary.error().message();
    EXPECT_EQ(summary->entries, static_cast<std::uint64_t>(n));
    EXPECT_EQ(summary->signed_size, static_cast<std::uint64_t>(n));  // every batch signs
    EXPECT_EQ(summary->unsigned_tail, 0u);
  }
  // The smallest head that covers seq `k`, and the largest that does not: a change at k is
  // reported as "tree head for size S: ... seq M to S-1".
  auto covering = [&](std::int64_t k) {
    std::int64_t below = 0, above = -1;
    for (const auto& h : original.heads) {
      if (h.tree_size <= k) below = std::max(below, h.tree_size);
      if (h.tree_size > k && (above < 0 || h.tree_size < above)) above = h.tree_size;
    }
    return "tree head for size " + std::to_string(above) + ": the signed root differs from the root of the " +
           "stored entries; seq " + std::to_string(below) + " to " + std::to_string(above - 1);
  };
  // Rows to edit: the middle, a third and two thirds in, one of the patient's and one that is not.
  const std::int64_t mid = n / 2, third = n / 3, two_thirds = 2 * n / 3;
  ASSERT_NE(original.rows[third].entry, original.rows[two_thirds].entry);
  std::int64_t of_patient = -1, of_nobody = -1;
  for (const auto& row : original.rows) {
    if (row.patient_id == pid && of_patient < 0 && row.seq > 2) of_patient = row.seq;
    if (row.patient_id.empty() && of_nobody < 0 && row.seq > 2) of_nobody = row.seq;
  }
  ASSERT_GE(of_patient, 0);
  ASSERT_GE(of_nobody, 0);
  auto set_row = [&](std::int64_t seq, const AuditRow& from) {
    return "UPDATE audit SET entry = " + BytesSql(backend, from.entry) + ", patient_id = '" +
           from.patient_id + "' WHERE seq = " + std::to_string(seq) + ";";
  };
  // Another valid canonical entry in place of the middle one (same patient, other outcome).
  auto decoded = DecodeAuditEntry(original.rows[mid].entry);
  ASSERT_TRUE(decoded.has_value());
  AuditEntry changed = *decoded;
  changed.outcome = changed.outcome == "ok" ? "denied:403" : "ok";
  AuditRow rewritten = original.rows[mid];
  rewritten.entry = *EncodeAuditEntry(changed);

  struct Case {
    std::string name;
    std::string sql;
    std::string message;  // what CheckStoredLog's error must contain
    bool start_fails;     // the edit touches entries the latest head signs
  };
  const std::string m = std::to_string(mid);
  const std::vector<Case> cases = {
      {"an entry rewritten as another valid entry", set_row(mid, rewritten), covering(mid), true},
      {"a middle row deleted and the rest renumbered",
       "DELETE FROM audit WHERE seq = " + m + "; UPDATE audit SET seq = seq + 1000000 WHERE seq > " + m +
           "; UPDATE audit SET seq = seq - 1000001 WHERE seq > 1000000; UPDATE audit_head SET size = size - "
           "1;",
       covering(mid), true},
      {"a middle row deleted", "DELETE FROM audit WHERE seq = " + m + ";", "seq " + m + " is missing", true},
      {"two rows swapped",
       set_row(third, original.rows[two_thirds]) + set_row(two_thirds, original.rows[third]), covering(third),
       true},
      {"a patient's row hidden from the patient",
       "UPDATE audit SET patient_id = '' WHERE seq = " + std::to_string(of_patient) + ";",
       "seq " + std::to_string(of_patient) + ": the patient_id column differs", false},
      {"a row planted in a patient's listing",
       "UPDATE audit SET patient_id = '" + pid + "' WHERE seq = " + std::to_string(of_nobody) + ";",
       "seq " + std::to_string(of_nobody) + ": the patient_id column differs", false},
      {"the last rows deleted, their heads kept",
       "DELETE FROM audit WHERE seq >= " + std::to_string(n - 3) +
           "; UPDATE audit_head SET size = " + std::to_string(n - 3) + ";",
       "exceeds the " + std::to_string(n - 3) + " stored entries: seq " + std::to_string(n - 3) + " to",
       true},
  };

  // Each case edits the database, is checked, and is undone from a copy of the three audit
  // tables taken now, so every case starts from the untouched log.
  ExecSql(url,
          "CREATE TABLE audit_copy AS SELECT * FROM audit; CREATE TABLE tree_heads_copy AS SELECT * FROM "
          "tree_heads; CREATE TABLE audit_head_copy AS SELECT * FROM audit_head;");
  const std::string restore =
      "DELETE FROM audit; INSERT INTO audit SELECT * FROM audit_copy; DELETE FROM tree_heads; INSERT INTO "
      "tree_heads SELECT * FROM tree_heads_copy; UPDATE audit_head SET size = (SELECT size FROM "
      "audit_head_copy);";
  const std::vector<std::string> verify_log = {CIPHERCHART_BINARY, "server",  "verify-log", "--data-dir",
                                               server.data_dir(),  "--store", url,          "--json"};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ASSERT_NO_FATAL_FAILURE(ExecSql(url, c.sql));

    const StoredLog edited = ReadStoredLog(url);
    auto check = CheckStoredLog(edited.rows, edited.heads, key);
    ASSERT_FALSE(check.has_value());
    EXPECT_EQ(check.error().code(), ErrorCode::kIntegrity);
    EXPECT_NE(check.error().message().find(c.message), std::string::npos)
        << check.error().message() << "\nwanted: " << c.message;

    auto cli = RunCommand(verify_log);
    EXPECT_EQ(cli.exit_code, 1) << cli.out << cli.err;
    const json j = json::parse(cli.out, nullptr, false);
    EXPECT_TRUE(j.is_object() && !j.value("ok", true)) << cli.out;

    if (c.start_fails) {
      auto started = HttpServer::Start(server.config());
      ASSERT_FALSE(started.has_value()) << "the server started on an edited log";
      EXPECT_EQ(started.error().code(), ErrorCode::kIntegrity) << started.error().message();
    }

    ASSERT_NO_FATAL_FAILURE(ExecSql(url, restore));
    const StoredLog restored = ReadStoredLog(url);
    ASSERT_TRUE(VerifyStoredLog(restored.rows, restored.heads, key).has_value());
  }

  // The untouched log verifies, offline and by a server that starts on it.
  auto cli = RunCommand(verify_log);
  EXPECT_EQ(cli.exit_code, 0) << cli.out << cli.err;
  ASSERT_NO_FATAL_FAILURE(server.Start());
  owner.http = server.Client();  // the port changed
  Login(owner);
  EXPECT_EQ(owner.Call("GET", rec).status, 200);
  auto patient_log = owner.Call("GET", "/v1/patients/" + pid + "/audit");
  ASSERT_EQ(patient_log.status, 200);
  std::size_t expected = 0;
  for (const auto& row : original.rows) expected += row.patient_id == pid ? 1 : 0;
  EXPECT_EQ(Parse(patient_log)["entries"].size(), expected + 1);  // + the list just now
}

INSTANTIATE_TEST_SUITE_P(Backends, AuditTamperTest, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace cipherchart::server
