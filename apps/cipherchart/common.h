// What every role command shares: the common options, and running one verb (settings
// resolved, output named "<role> <verb>", exit code kept). Each role's verbs are in its file.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>

#include "src/cli/output.h"
#include "src/cli/settings.h"

namespace cipherchart::app {

struct Common {
  std::string home, server, ca_file, trust_file, policy_file, passphrase_file, device_key;
  bool json = false;
  int exit_code = cli::kOk;
};

using Body = std::function<int(const cli::Settings&, const cli::Output&)>;
// A verb of `role` that takes the common options and runs `body`.
CLI::App* Verb(CLI::App& role, Common& c, const std::string& name, const std::string& help, Body body);

// An account as `GET /v1/accounts/me` and the registrations listing show it (their --json rows).
nlohmann::json AccountJson(const chart::Registration& r);

// Shared by doctor, patient and personal: the verbs that read a chart or install keys.
int View(const cli::Settings& s, const cli::Output& out, const std::string& pid, bool outsourced,
         const std::vector<std::string>& sections, bool patient_view);
int Attachment(const cli::Settings& s, const cli::Output& out, const std::string& pid, const std::string& id,
               const std::string& path);
int FetchKeys(const cli::Settings& s, const cli::Output& out, bool personal_domain);

void AddAuthority(CLI::App& app, Common& c);
void AddAdmin(CLI::App& app, Common& c);
void AddDoctor(CLI::App& app, Common& c);
void AddPatient(CLI::App& app, Common& c);
void AddPersonal(CLI::App& app, Common& c);
void AddServer(CLI::App& app, Common& c);

}  // namespace cipherchart::app
