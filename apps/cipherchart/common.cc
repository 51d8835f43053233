#include "apps/cipherchart/common.h"

#include <nlohmann/json.hpp>

#include "cipherchart/common/hex.h"

namespace cipherchart::app {

CLI::App* Verb(CLI::App& role, Common& c, const std::string& name, const std::string& help, Body body) {
  CLI::App* v = role.add_subcommand(name, help);
  v->add_option("--home", c.home, "this identity's directory (CIPHERCHART_HOME; default ~/.cipherchart)");
  v->add_option("--server", c.server, "HOST:PORT of the storage server (CIPHERCHART_SERVER)");
  v->add_option("--ca-file", c.ca_file, "PEM the server's certificate must chain to (CIPHERCHART_CA_FILE)");
  v->add_option("--trust-file", c.trust_file, "TOML [roots] of trusted authorities (CIPHERCHART_TRUST_FILE)");
  v->add_option("--policy-file", c.policy_file, "section policies (CIPHERCHART_POLICY_FILE)");
  v->add_option("--passphrase-file", c.passphrase_file, "the wallet passphrase (or CIPHERCHART_PASSPHRASE)");
  v->add_option("--device-key", c.device_key, "patients: the second factor (default HOME/device.key)");
  v->add_flag("--json", c.json, "machine-readable output");
  v->footer(cli::kExitCodesHelp);
  const std::string command = role.get_name() + " " + name;
  v->callback([&c, command, body = std::move(body)] {
    cli::Settings flags{c.home,        c.server,          c.ca_file,    c.trust_file,
                        c.policy_file, c.passphrase_file, c.device_key, c.json};
    const cli::Output out(command, c.json);
    auto s = cli::ResolveSettings(flags);
    if (!s) {
      c.exit_code = out.Die(s.error());
      return;
    }
    try {
      c.exit_code = body(*s, out);
    } catch (const nlohmann::json::exception& e) {
      c.exit_code =
          out.Die(cli::kFailed, std::string("malformed JSON (from the server or a file): ") + e.what());
    }
  });
  return v;
}

nlohmann::json AccountJson(const chart::Registration& r) {
  nlohmann::json details = nlohmann::json::parse(r.details_json, nullptr, false);
  return {{"user_id", r.user_id},
          {"role", r.role},
          {"state", r.state},
          {"organisation", r.organisation},
          {"details", details.is_object() ? details : nlohmann::json::object()},
          {"identity_key", ToHex(r.identity_key)},
          {"delivery_key", ToHex(r.delivery_key)},
          {"decision_reason", r.decision_reason},
          {"decided_by", r.decided_by},
          {"created_at", r.created_at}};
}

}  // namespace cipherchart::app
