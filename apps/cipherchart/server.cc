// cipherchart server: run the storage server, create the first admin, verify the audit log
// (docs/operations.md). Settings: defaults, then --config FILE, then CIPHERCHART_* variables,
// then flags.
#include "apps/cipherchart/common.h"
#include "cipherchart/common/hex.h"
#include "src/server/admin_tasks.h"
#include "src/server/http_server.h"

namespace cipherchart::app {
namespace {

struct Args {
  std::string config_file, data_dir, store, listen, identity_key, delivery_key;
  bool json = false;
} a;

// The server's settings: defaults, the config file, the environment, then the flags.
Result<server::ServerConfig> Config() {
  server::ServerConfig cfg;
  if (!a.config_file.empty())
    if (auto r = server::LoadConfigFile(a.config_file, cfg); !r) return std::unexpected(r.error());
  if (auto r = server::ApplyEnvironment(cfg); !r) return std::unexpected(r.error());
  if (!a.data_dir.empty()) cfg.data_dir = a.data_dir;
  if (!a.store.empty()) cfg.store = a.store;
  if (!a.listen.empty()) {
    const auto colon = a.listen.rfind(':');
    cfg.listen_address = a.listen;
    if (colon != std::string::npos && a.listen.find(']') == std::string::npos) {
      cfg.listen_address = a.listen.substr(0, colon);
      try {
        cfg.port = std::stoi(a.listen.substr(colon + 1));
      } catch (...) {
        return Fail(ErrorCode::kInvalidArgument, "--listen: the port is not a number");
      }
    }
  }
  return cfg;
}

CLI::App* Task(CLI::App& role, Common& c, const std::string& name, const std::string& help,
               std::function<int(server::ServerConfig&, const cli::Output&)> body) {
  CLI::App* v = role.add_subcommand(name, help);
  v->add_option("--config", a.config_file, "TOML settings (docs/operations.md)");
  v->add_option("--data-dir", a.data_dir,
                "SQLite file, TLS certificate and audit key (default ./cipherchart-data)");
  v->add_option("--store", a.store,
                "sqlite:PATH or postgresql:CONNINFO (default sqlite:DATA_DIR/cipherchart.db)");
  v->add_flag("--json", a.json, "machine-readable output");
  v->callback([&c, name, body = std::move(body)] {
    const cli::Output out("server " + name, a.json);
    auto cfg = Config();
    c.exit_code = cfg ? body(*cfg, out) : out.Die(cli::kUsage, cfg.error().message());
  });
  return v;
}

}  // namespace

void AddServer(CLI::App& app, Common& c) {
  CLI::App* role = app.add_subcommand("server", "the storage server: run, add-admin, verify-log");
  role->require_subcommand(1);
  auto* run = Task(*role, c, "run", "serve the /v1 API over TLS until SIGINT/SIGTERM (graceful)",
                   [](auto& cfg, auto& out) {
                     auto srv = server::HttpServer::Start(cfg);
                     if (!srv) return out.Die(cli::kFailed, srv.error().message());
                     // One line that scripts and tests read to learn the port (port 0 picks a free one).
                     std::printf("{\"msg\":\"listening\",\"port\":%d,\"tls\":%s}\n", (*srv)->port(),
                                 cfg.tls ? "true" : "false");
                     std::fflush(stdout);
                     (*srv)->Run(/*handle_signals=*/true);
                     std::fprintf(stderr, "{\"level\":\"info\",\"msg\":\"stopped\"}\n");
                     return int{cli::kOk};
                   });
  run->add_option("--listen", a.listen, "ADDR[:PORT] to bind (default 127.0.0.1:8443; port 0 = any free)");
  auto* add =
      Task(*role, c, "add-admin", "create an approved server-admin account", [](auto& cfg, auto& out) {
        auto identity = FixedFromHex<32>(a.identity_key);
        auto delivery = FixedFromHex<32>(a.delivery_key);
        if (!identity || !delivery)
          return out.Die(cli::kUsage, "add-admin needs --identity-key and --delivery-key as 64 hex digits");
        auto id = server::CreateServerAdmin(cfg, *identity, *delivery);
        if (!id) return out.Die(cli::kFailed, id.error().message());
        out.Emit("created server admin " + *id + "\n", {{"user_id", *id}, {"role", "server-admin"}});
        return int{cli::kOk};
      });
  add->add_option("--identity-key", a.identity_key, "64 hex digits (from 'admin keygen')")->required();
  add->add_option("--delivery-key", a.delivery_key, "64 hex digits (from 'admin keygen')")->required();
  Task(*role, c, "verify-log",
       "check every signed tree head of the stored audit log; exit 1 if it does not verify",
       [](auto& cfg, auto& out) {
         auto summary = server::VerifyLogOnDisk(cfg);
         if (!summary) {
           out.Emit("audit log does NOT verify: " + summary.error().message() + "\n",
                    {{"ok", false}, {"error", summary.error().message()}});
           return int{cli::kFailed};
         }
         out.Emit("audit log verifies: " + std::to_string(summary->entries) + " entries, " +
                      std::to_string(summary->tree_heads) + " signed tree heads, " +
                      std::to_string(summary->unsigned_tail) + " entries after the latest head\n",
                  {{"ok", true},
                   {"entries", summary->entries},
                   {"tree_heads", summary->tree_heads},
                   {"signed_size", summary->signed_size},
                   {"unsigned_tail", summary->unsigned_tail}});
         return int{cli::kOk};
       });
}

}  // namespace cipherchart::app
