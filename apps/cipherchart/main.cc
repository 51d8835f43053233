// cipherchart: one binary, subcommands like git (each has --help).
#include <cstdio>
#include <cstring>
#include <string_view>

#include "apps/cipherchart/flows_common.h"
#include "apps/cipherchart/server_command.h"
#include "cipherchart/pairing/selftest.h"
#include "cipherchart/version.h"

namespace {

constexpr const char* kUsage =
    "usage: cipherchart <command> [options]\n"
    "\n"
    "End-to-end encrypted health records with attribute-based encryption.\n"
    "\n"
    "commands:\n"
    "  server <run|add-admin|verify-log>  the storage server (see 'cipherchart server --help')\n"
    "  authority ...       an attribute authority: init, publish, approve, issue keys\n"
    "  admin ...           the server admin: approve authority admins\n"
    "  doctor ...          practitioners: register, fetch keys, register patients, view, add\n"
    "  patient ...         patients: enrol, view, share a personal view, access log\n"
    "  personal ...        family and friends: read what a patient shares\n"
    "  selftest [--json]   run the BLS12-381 known-answer self-test (pairing of the generators,\n"
    "                      hash-to-curve vector, encodings); exit 0 if all pass, 1 otherwise\n"
    "  version             print the version\n"
    "  help                show this help\n"
    "\n"
    "exit codes: 0 success, 1 failure, 2 usage error, 3 refused, 4 tampered record, 5 wrong\n"
    "passphrase or second factor\n";

int RunSelftest(bool json) {
  const auto report = cipherchart::pairing::RunSelfTest();
  if (json) {
    std::printf("{\"ok\": %s, \"checks\": [", report.ok ? "true" : "false");
    for (std::size_t i = 0; i < report.checks.size(); ++i) {
      std::printf("%s{\"name\": \"%s\", \"ok\": %s}", i ? ", " : "", report.checks[i].name.c_str(),
                  report.checks[i].ok ? "true" : "false");
    }
    std::printf("]}\n");
  } else {
    for (const auto& c : report.checks) std::printf("%-40s %s\n", c.name.c_str(), c.ok ? "ok" : "FAILED");
    std::printf("%s\n", report.ok ? "all self-checks passed" : "SELF-CHECK FAILED");
  }
  return report.ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  const std::string_view cmd = argv[1];
  if (cmd == "server") return cipherchart::app::ServerCommand(argc - 1, argv + 1);
  if (cmd == "authority") return cipherchart::app::AuthorityCommand(argc, argv);
  if (cmd == "admin") return cipherchart::app::AdminCommand(argc, argv);
  if (cmd == "doctor" || cmd == "practitioner") return cipherchart::app::DoctorCommand(argc, argv);
  if (cmd == "patient") return cipherchart::app::PatientCommand(argc, argv);
  if (cmd == "personal") return cipherchart::app::PersonalCommand(argc, argv);
  bool json = false, help = false;
  for (int i = 2; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--json")
      json = true;
    else if (a == "--help" || a == "-h")
      help = true;
    else {
      std::fprintf(stderr, "cipherchart %s: unknown option '%s' (see --help)\n", argv[1], argv[i]);
      return 2;
    }
  }
  if (cmd == "help" || cmd == "--help" || cmd == "-h") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (cmd == "version" || cmd == "--version") {
    if (help) {
      std::puts("usage: cipherchart version [--json]");
      return 0;
    }
    if (json)
      std::printf("{\"version\": \"%s\"}\n", cipherchart::kVersion);
    else
      std::printf("cipherchart %s\n", cipherchart::kVersion);
    return 0;
  }
  if (cmd == "selftest") {
    if (help) {
      std::puts("usage: cipherchart selftest [--json]\n\nRuns the built-in BLS12-381 known-answer checks.");
      return 0;
    }
    return RunSelftest(json);
  }
  std::fprintf(stderr, "cipherchart: unknown command '%.*s' (see 'cipherchart help')\n",
               static_cast<int>(cmd.size()), cmd.data());
  return 2;
}
