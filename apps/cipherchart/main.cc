// cipherchart: one binary, subcommands like git (each has --help); docs/user-guide.md.
#include <algorithm>
#include <cstdio>

#include "apps/cipherchart/common.h"
#include "cipherchart/pairing/selftest.h"
#include "cipherchart/version.h"

namespace {

int Main(int argc, char** argv) {
  using namespace cipherchart;
  CLI::App app("End-to-end encrypted health records with attribute-based encryption.", "cipherchart");
  app.require_subcommand(1);
  app.footer(cli::kExitCodesHelp);
  app.set_version_flag("--version", std::string("cipherchart ") + kVersion);
  app::Common c;
  app::AddServer(app, c);
  app::AddAuthority(app, c);
  app::AddAdmin(app, c);
  app::AddDoctor(app, c);
  app::AddPatient(app, c);
  app::AddPersonal(app, c);
  bool json = false;
  CLI::App* selftest = app.add_subcommand("selftest", "run the BLS12-381 known-answer self-test");
  selftest->add_flag("--json", json, "machine-readable output");
  selftest->callback([&] {
    const auto report = pairing::RunSelfTest();
    nlohmann::json checks = nlohmann::json::array();
    std::string human;
    for (const auto& k : report.checks) {
      checks.push_back({{"name", k.name}, {"ok", k.ok}});
      human += k.name + std::string(k.name.size() < 40 ? 41 - k.name.size() : 1, ' ') +
               (k.ok ? "ok\n" : "FAILED\n");
    }
    human += report.ok ? "all self-checks passed\n" : "SELF-CHECK FAILED\n";
    cli::Output("selftest", json).Emit(human, {{"ok", report.ok}, {"checks", checks}});
    c.exit_code = report.ok ? cli::kOk : cli::kFailed;
  });
  CLI::App* version = app.add_subcommand("version", "print the version");
  version->add_flag("--json", json, "machine-readable output");
  version->callback([&] {
    cli::Output("version", json).Emit(std::string("cipherchart ") + kVersion + "\n", {{"version", kVersion}});
  });
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {  // --help, --version
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);  // prints the message and the usage line
    if (std::find(argv, argv + argc, std::string_view("--json")) != argv + argc)
      std::printf("%s\n", nlohmann::json{{"error", e.what()}, {"exit_code", cli::kUsage}}.dump().c_str());
    return cli::kUsage;
  }
  return c.exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return Main(argc, argv);
  } catch (const std::exception& e) {
    // Nothing the libraries report is an exception (errors are values); this is a bug.
    std::fprintf(stderr, "cipherchart: internal error: %s\n", e.what());
  } catch (...) {
    std::fputs("cipherchart: internal error\n", stderr);
  }
  return cipherchart::cli::kFailed;
}
