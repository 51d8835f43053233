// Test support: a throwaway PostgreSQL server. Start() puts a cluster holding an empty database
// "cipherchart" into a new temporary directory and runs pg_ctl start on a free port of
// 127.0.0.1; the destructor stops the server and deletes the directory.
//
// The cluster is a copy of a template that the first Start on the machine makes with initdb and
// keeps, stopped, in /tmp/cipherchart-pgN-template-v2-UID: ctest runs each test as its own
// process, and copying is far faster than initdb. To keep the copy small the template holds
// database "cipherchart" only (postgres, template0 and template1 are dropped, so CREATE DATABASE
// does not work there).
//
// Root may not run PostgreSQL, so under root the tools run as the "postgres" system user
// (runuser). With the environment variable CIPHERCHART_TEST_PG_CONNINFO set, that server is used
// instead and nothing starts (store_conformance_test drops and recreates its public schema: point
// it at a scratch database).
//
// A test binary that crashes or is killed (a ctest timeout) never runs the destructor, so a
// watchdog shell holds a pipe from this process and stops the server and deletes the directory
// when the pipe closes, whichever way this process ends.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "cipherchart/common/error.h"

namespace cipherchart::server {

class PgCluster {
 public:
  // kUnsupported if the PostgreSQL server binaries are not installed; kInternal if a tool fails
  // (the message quotes the end of its log).
  static Result<std::unique_ptr<PgCluster>> Start();
  ~PgCluster();
  PgCluster(const PgCluster&) = delete;
  PgCluster& operator=(const PgCluster&) = delete;

  // libpq conninfo of database "cipherchart" (or CIPHERCHART_TEST_PG_CONNINFO).
  const std::string& conninfo() const { return conninfo_; }

  // Runs parameterless SQL (one or more statements) on a fresh connection, e.g. to reset the
  // schema between tests.
  static Result<void> Execute(const std::string& conninfo, const std::string& sql);

 private:
  PgCluster() = default;
  // A new empty /tmp/PREFIX-XXXXXX owned by the server's user, with its watchdog.
  static Result<std::unique_ptr<PgCluster>> NewDirectory(const std::filesystem::path& bin,
                                                         const std::string& prefix);
  // The stopped template cluster that Start copies, made on first use.
  static Result<std::filesystem::path> EnsureTemplate(const std::filesystem::path& bin);
  Result<int> StartServer();  // pg_ctl start on a free port of 127.0.0.1; returns the port
  Result<void> StopServer();
  Result<void> Run(const std::vector<std::string>& argv, const std::string& what) const;
  Result<void> StartWatchdog();

  std::string conninfo_;
  std::filesystem::path dir_;  // empty for an external server
  std::filesystem::path bin_;  // .../postgresql/N/bin
  bool as_postgres_ = false;   // run the tools through runuser -u postgres
  bool running_ = false;
  int watchdog_fd_ = -1;  // write end of the watchdog's stdin
  pid_t watchdog_pid_ = -1;
};

}  // namespace cipherchart::server
