#include "apps/cipherchart/server_command.h"

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <string>
#include <string_view>

#include "cipherchart/common/secret.h"
#include "cipherchart/server/merkle.h"
#include "cipherchart/server/store.h"
#include "src/server/config.h"
#include "src/server/http_server.h"
#include "src/server/ids.h"
#include "src/server/writer.h"

namespace cipherchart::app {
namespace {

using server::ServerConfig;

constexpr const char* kServerUsage =
    "usage: cipherchart server <run|add-admin|verify-log> [options]\n"
    "\n"
    "  run          serve the /v1 API over TLS until SIGINT/SIGTERM (graceful: requests in flight\n"
    "               finish and every acknowledged write is committed)\n"
    "  add-admin    create an approved server-admin account (the first admin cannot register\n"
    "               through the API): --identity-key HEX --delivery-key HEX\n"
    "  verify-log   recompute the audit log's Merkle tree from the database and check every\n"
    "               signed tree head; exit 1 if anything was modified, removed or reordered\n"
    "\n"
    "options (all subcommands):\n"
    "  --config FILE     TOML settings (docs/operations.md); CIPHERCHART_* variables override it\n"
    "  --data-dir DIR    SQLite file, TLS certificate and audit key (default ./cipherchart-data)\n"
    "  --store URL       sqlite:PATH or postgresql:CONNINFO (default sqlite:DATA_DIR/cipherchart.db)\n"
    "  --listen ADDR[:PORT]  (run) address to bind (default 127.0.0.1:8443; port 0 = any free)\n"
    "  --json            machine-readable output\n"
    "\n"
    "exit codes: 0 success, 1 failure (verify-log: the log does not verify), 2 usage error\n";

struct Options {
  ServerConfig config;
  std::string config_file;
  std::string identity_key, delivery_key;
  bool json = false;
  bool help = false;
};

int Usage(const char* message) {
  std::fprintf(stderr, "cipherchart server: %s (see 'cipherchart server --help')\n", message);
  return 2;
}

int Report(const Error& e, const char* what) {
  std::fprintf(stderr, "cipherchart server %s: %s\n", what, e.message().c_str());
  return 1;
}

int Run(Options& o) {
  auto srv = server::HttpServer::Start(o.config);
  if (!srv) return Report(srv.error(), "run");
  // One line that scripts and tests read to learn the port (port 0 picks a free one).
  std::printf("{\"msg\":\"listening\",\"port\":%d,\"tls\":%s}\n", (*srv)->port(),
              o.config.tls ? "true" : "false");
  std::fflush(stdout);
  (*srv)->Run(/*handle_signals=*/true);
  std::fprintf(stderr, "{\"level\":\"info\",\"msg\":\"stopped\"}\n");
  return 0;
}

int AddAdmin(Options& o) {
  auto identity = server::FixedFromHex<32>(o.identity_key);
  auto delivery = server::FixedFromHex<32>(o.delivery_key);
  if (!identity || !delivery)
    return Usage("add-admin needs --identity-key and --delivery-key as 64 hex digits");
  auto cfg = o.config;
  if (auto r = server::Finalise(cfg); !r) return Report(r.error(), "add-admin");
  // The first admin is made before the server ever ran: the data directory (where the SQLite
  // file goes) may not exist yet, as `run` would create it.
  std::error_code dir_ec;
  std::filesystem::create_directories(cfg.data_dir, dir_ec);
  if (dir_ec)
    return Report(Error(ErrorCode::kInvalidArgument, "data_dir " + cfg.data_dir + ": " + dir_ec.message()),
                  "add-admin");
  auto store = server::OpenStore(cfg.store);
  if (!store) return Report(store.error(), "add-admin");
  if (auto r = (*store)->Migrate(); !r) return Report(r.error(), "add-admin");
  if (auto r = server::EnsureAuditKey(cfg.audit_key); !r) return Report(r.error(), "add-admin");
  std::ifstream in(cfg.audit_key, std::ios::binary);
  SecretBytes seed(32);
  in.read(reinterpret_cast<char*>(seed.data()), 32);
  auto key = envelope::Ed25519SigningKey::FromSeed(seed);
  if (!key) return Report(key.error(), "add-admin");
  auto writer = server::AuditedWriter::Start(**store, std::move(*key), 16);
  if (!writer) return Report(writer.error(), "add-admin");
  server::Account a;
  auto id = server::NewUserId();
  if (!id) return Report(id.error(), "add-admin");
  a.user_id = *id;
  a.role = server::Role::kServerAdmin;
  a.identity_key = *identity;
  a.delivery_key = *delivery;
  a.details_json = "{}";
  a.state = server::ApprovalState::kApproved;
  a.created_at = server::NowSeconds();
  std::promise<Result<void>> done;
  server::AuditedWriter::Request req;
  req.apply = [a](server::WriteTx& tx) { return tx.InsertAccount(a); };
  req.audit.push_back({server::NowMillis(), "", "admin.create", "", a.user_id, "ok"});
  req.done = [&done](Result<void> r) { done.set_value(std::move(r)); };
  auto fut = done.get_future();
  (*writer)->Submit(std::move(req));
  auto r = fut.get();
  (*writer)->Stop();
  if (!r) return Report(r.error(), "add-admin");
  if (o.json)
    std::printf("{\"user_id\":\"%s\",\"role\":\"server-admin\"}\n", a.user_id.c_str());
  else
    std::printf("created server admin %s\n", a.user_id.c_str());
  return 0;
}

int VerifyLog(Options& o) {
  auto cfg = o.config;
  if (auto r = server::Finalise(cfg); !r) return Report(r.error(), "verify-log");
  auto store = server::OpenStore(cfg.store);
  if (!store) return Report(store.error(), "verify-log");
  std::ifstream in(cfg.audit_key, std::ios::binary);
  SecretBytes seed(32);
  if (!in.read(reinterpret_cast<char*>(seed.data()), 32))
    return Report(Error(ErrorCode::kInvalidArgument, "cannot read the audit key " + cfg.audit_key),
                  "verify-log");
  auto key = envelope::Ed25519SigningKey::FromSeed(seed);
  if (!key) return Report(key.error(), "verify-log");
  auto size = (*store)->AuditSize();
  if (!size) return Report(size.error(), "verify-log");
  auto rows = (*store)->ReadAudit(0, *size);
  if (!rows) return Report(rows.error(), "verify-log");
  auto heads = (*store)->ReadTreeHeads();
  if (!heads) return Report(heads.error(), "verify-log");
  auto summary = server::CheckStoredLog(*rows, *heads, key->public_key());
  if (!summary) {
    if (o.json)
      std::printf("{\"ok\":false,\"error\":\"%s\"}\n", summary.error().message().c_str());
    else
      std::printf("audit log does NOT verify: %s\n", summary.error().message().c_str());
    return 1;
  }
  if (o.json)
    std::printf(
        "{\"ok\":true,\"entries\":%llu,\"tree_heads\":%llu,\"signed_size\":%llu,\"unsigned_tail\":%llu}\n",
        static_cast<unsigned long long>(summary->entries),
        static_cast<unsigned long long>(summary->tree_heads),
        static_cast<unsigned long long>(summary->signed_size),
        static_cast<unsigned long long>(summary->unsigned_tail));
  else
    std::printf(
        "audit log verifies: %llu entries, %llu signed tree heads, %llu entries after the latest head\n",
        static_cast<unsigned long long>(summary->entries),
        static_cast<unsigned long long>(summary->tree_heads),
        static_cast<unsigned long long>(summary->unsigned_tail));
  return 0;
}

}  // namespace

int ServerCommand(int argc, char** argv) {
  if (argc < 2) return Usage("missing subcommand");
  const std::string_view sub = argv[1];
  if (sub == "--help" || sub == "-h" || sub == "help") {
    std::fputs(kServerUsage, stdout);
    return 0;
  }
  Options o;
  // Settings apply in order: defaults, config file, environment, flags.
  for (int i = 2; i < argc; ++i)
    if (std::strcmp(argv[i], "--config") == 0 && i + 1 < argc) o.config_file = argv[i + 1];
  if (!o.config_file.empty()) {
    if (auto r = server::LoadConfigFile(o.config_file, o.config); !r) return Report(r.error(), "config");
  }
  if (auto r = server::ApplyEnvironment(o.config); !r) return Report(r.error(), "environment");
  for (int i = 2; i < argc; ++i) {
    const std::string_view a = argv[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= argc) return false;
      out = argv[++i];
      return true;
    };
    std::string v;
    if (a == "--help" || a == "-h")
      o.help = true;
    else if (a == "--json")
      o.json = true;
    else if (a == "--config")
      ++i;
    else if (a == "--data-dir") {
      if (!value(o.config.data_dir)) return Usage("--data-dir needs a value");
    } else if (a == "--store") {
      if (!value(o.config.store)) return Usage("--store needs a value");
    } else if (a == "--listen") {
      if (!value(v)) return Usage("--listen needs a value");
      const auto colon = v.rfind(':');
      if (colon != std::string::npos && v.find(']') == std::string::npos) {
        o.config.listen_address = v.substr(0, colon);
        try {
          o.config.port = std::stoi(v.substr(colon + 1));
        } catch (...) {
          return Usage("--listen: the port is not a number");
        }
      } else {
        o.config.listen_address = v;
      }
    } else if (a == "--identity-key") {
      if (!value(o.identity_key)) return Usage("--identity-key needs a value");
    } else if (a == "--delivery-key") {
      if (!value(o.delivery_key)) return Usage("--delivery-key needs a value");
    } else {
      std::fprintf(stderr, "cipherchart server: unknown option '%s' (see --help)\n", argv[i]);
      return 2;
    }
  }
  if (o.help) {
    std::fputs(kServerUsage, stdout);
    return 0;
  }
  if (sub == "run") return Run(o);
  if (sub == "add-admin") return AddAdmin(o);
  if (sub == "verify-log") return VerifyLog(o);
  return Usage("unknown subcommand");
}

}  // namespace cipherchart::app
