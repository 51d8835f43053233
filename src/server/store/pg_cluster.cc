#include "src/server/store/pg_cluster.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <vector>

namespace cipherchart::server {
namespace {

namespace fs = std::filesystem;

constexpr const char* kPgRoot = "/usr/lib/postgresql";

// The bin directory of the highest installed major version (Debian: /usr/lib/postgresql/N/bin).
Result<fs::path> FindBinDir() {
  std::error_code ec;
  fs::path best;
  int best_version = -1;
  for (const auto& entry : fs::directory_iterator(kPgRoot, ec)) {
    const std::string name = entry.path().filename().string();
    int version = 0;
    const auto [end, err] = std::from_chars(name.data(), name.data() + name.size(), version);
    if (err != std::errc() || end == name.data()) continue;
    const fs::path bin = entry.path() / "bin";
    if (::access((bin / "initdb").c_str(), X_OK) != 0 || ::access((bin / "pg_ctl").c_str(), X_OK) != 0)
      continue;
    if (version > best_version) {
      best_version = version;
      best = bin;
    }
  }
  if (best_version < 0) {
    return Fail(ErrorCode::kUnsupported,
                std::string("PostgreSQL server binaries (initdb, pg_ctl) not found under ") + kPgRoot +
                    "/*/bin: install the postgresql package (scripts/install-deps) "
                    "or set CIPHERCHART_TEST_PG_CONNINFO to a running server");
  }
  return best;
}

// A TCP port of 127.0.0.1 that was free a moment ago (the kernel's choice for port 0).
Result<int> FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Fail(ErrorCode::kInternal, std::string("socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    const int err = errno;
    ::close(fd);
    return Fail(ErrorCode::kInternal, std::string("bind 127.0.0.1:0: ") + std::strerror(err));
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

// The uid and gid the server runs as under root.
Result<std::pair<uid_t, gid_t>> ServerUser() {
  const passwd* pw = ::getpwnam("postgres");
  if (pw == nullptr) {
    return Fail(ErrorCode::kUnsupported,
                "running as root, and there is no \"postgres\" user to run the PostgreSQL server as");
  }
  return std::pair{pw->pw_uid, pw->pw_gid};
}

std::string CpPath() { return ::access("/bin/cp", X_OK) == 0 ? "/bin/cp" : "/usr/bin/cp"; }

std::string RunuserPath() {
  for (const char* p : {"/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser", "/bin/runuser"}) {
    if (::access(p, X_OK) == 0) return p;
  }
  return "runuser";
}

// The last part of a log file, for an error message.
std::string LogTail(const fs::path& log) {
  std::ifstream in(log, std::ios::binary);
  if (!in) return "(none)";
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  constexpr std::size_t kTail = 2000;
  return text.size() > kTail ? text.substr(text.size() - kTail) : text;
}

}  // namespace

Result<std::unique_ptr<PgCluster>> PgCluster::Start() {
  auto cluster = std::unique_ptr<PgCluster>(new PgCluster());
  if (const char* external = std::getenv("CIPHERCHART_TEST_PG_CONNINFO");
      external != nullptr && *external != 0) {
    cluster->conninfo_ = external;
    if (auto ok = Execute(cluster->conninfo_, "SELECT 1"); !ok) {
      return Fail(ErrorCode::kInternal, "CIPHERCHART_TEST_PG_CONNINFO: " + ok.error().message());
    }
    return cluster;
  }

  auto bin = FindBinDir();
  if (!bin) return std::unexpected(bin.error());
  auto template_dir = EnsureTemplate(*bin);
  if (!template_dir) return std::unexpected(template_dir.error());
  auto made = NewDirectory(*bin, "cipherchart-pg");
  if (!made) return std::unexpected(made.error());
  cluster = std::move(*made);
  if (auto ok = cluster->Run({CpPath(), "-a", template_dir->string(), (cluster->dir_ / "data").string()},
                             "copy the template cluster");
      !ok) {
    return std::unexpected(ok.error());
  }
  auto port = cluster->StartServer();
  if (!port) return std::unexpected(port.error());
  cluster->conninfo_ = "host=127.0.0.1 port=" + std::to_string(*port) + " user=postgres dbname=cipherchart";
  return cluster;
}

Result<std::unique_ptr<PgCluster>> PgCluster::NewDirectory(const std::filesystem::path& bin,
                                                           const std::string& prefix) {
  auto cluster = std::unique_ptr<PgCluster>(new PgCluster());
  cluster->bin_ = bin;
  std::string pattern = "/tmp/" + prefix + "-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    return Fail(ErrorCode::kInternal, "mkdtemp " + pattern + ": " + std::strerror(errno));
  }
  cluster->dir_ = pattern;
  // initdb and postgres refuse to run as root: hand the directory to the postgres user.
  if (::geteuid() == 0) {
    auto owner = ServerUser();
    if (!owner) return std::unexpected(owner.error());
    if (::chown(pattern.c_str(), owner->first, owner->second) != 0) {
      return Fail(ErrorCode::kInternal, "chown " + pattern + ": " + std::strerror(errno));
    }
    cluster->as_postgres_ = true;
  }
  if (auto ok = cluster->StartWatchdog(); !ok) return std::unexpected(ok.error());
  return cluster;
}

Result<int> PgCluster::StartServer() {
  // The port can be taken between FreePort and the server's bind: try a few.
  Result<void> started = Fail(ErrorCode::kInternal, "pg_ctl start: not attempted");
  int port = 0;
  for (int attempt = 0; attempt < 5 && !started; ++attempt) {
    auto free_port = FreePort();
    if (!free_port) return std::unexpected(free_port.error());
    port = *free_port;
    const std::string options = "-c listen_addresses=127.0.0.1 -p " + std::to_string(port) + " -k " +
                                dir_.string() + " -c fsync=on -c shared_buffers=16MB";
    started = Run({(bin_ / "pg_ctl").string(), "-D", (dir_ / "data").string(), "-l",
                   (dir_ / "server.log").string(), "-w", "-t", "60", "-o", options, "start"},
                  "pg_ctl start");
  }
  if (!started) return std::unexpected(started.error());
  running_ = true;
  return port;
}

Result<void> PgCluster::StopServer() {
  if (!running_) return {};
  running_ = false;
  return Run({(bin_ / "pg_ctl").string(), "-D", (dir_ / "data").string(), "-m", "fast", "-w", "stop"},
             "pg_ctl stop");
}

// initdb and CREATE DATABASE take seconds, copying their result a tenth of one: the first
// start on a machine builds a stopped cluster holding database "cipherchart" and renames it
// into place (atomically, so concurrent test processes agree on one); later starts copy it.
Result<std::filesystem::path> PgCluster::EnsureTemplate(const std::filesystem::path& bin) {
  const std::string major = bin.parent_path().filename().string();
  fs::path path = "/tmp/cipherchart-pg" + major + "-template-v2-" + std::to_string(::geteuid());
  std::optional<uid_t> owner;
  if (::geteuid() == 0) {
    auto user = ServerUser();
    if (!user) return std::unexpected(user.error());
    owner = user->first;
  } else {
    owner = ::geteuid();
  }
  // /tmp is shared: use only a directory this user (or postgres, under root) made.
  const auto usable = [&]() -> Result<bool> {
    struct stat st{};
    if (::lstat(path.c_str(), &st) != 0) return false;
    if (!S_ISDIR(st.st_mode) || st.st_uid != *owner || !fs::exists(path / "PG_VERSION")) {
      return Fail(ErrorCode::kInternal,
                  path.string() + " is not a PostgreSQL template cluster made by this user: remove it");
    }
    return true;
  };
  auto ready = usable();
  if (!ready) return std::unexpected(ready.error());
  if (*ready) return path;

  auto staging = NewDirectory(bin, "cipherchart-pg-staging");
  if (!staging) return std::unexpected(staging.error());
  PgCluster& c = **staging;
  // --no-sync: a test cluster does not need initdb's files on disk (the server runs fsync=on).
  if (auto ok = c.Run({(bin / "initdb").string(), "-D", (c.dir_ / "data").string(), "-U", "postgres", "-A",
                       "trust", "-E", "UTF8", "--locale=C", "--no-sync"},
                      "initdb");
      !ok) {
    return std::unexpected(ok.error());
  }
  auto port = c.StartServer();
  if (!port) return std::unexpected(port.error());
  // Then only "cipherchart" stays: each database is ~300 files, and creating files is most of
  // what a copy costs. (DROP DATABASE refuses to run in a transaction: one call each.)
  const std::string server = "host=127.0.0.1 port=" + std::to_string(*port) + " user=postgres dbname=";
  const std::pair<const char*, const char*> steps[] = {
      {"postgres", "CREATE DATABASE cipherchart"},
      {"cipherchart", "DROP DATABASE postgres"},
      {"cipherchart", "ALTER DATABASE template0 WITH ALLOW_CONNECTIONS false IS_TEMPLATE false"},
      {"cipherchart", "DROP DATABASE template0"},
      {"cipherchart", "ALTER DATABASE template1 WITH IS_TEMPLATE false"},
      {"cipherchart", "DROP DATABASE template1"},
  };
  for (const auto& [database, sql] : steps) {
    if (auto ok = Execute(server + database, sql); !ok) return std::unexpected(ok.error());
  }
  if (auto ok = c.StopServer(); !ok) return std::unexpected(ok.error());
  // A concurrent process that renamed its template first wins; this one's is discarded with
  // the staging directory.
  if (::rename((c.dir_ / "data").c_str(), path.c_str()) != 0 && errno != EEXIST && errno != ENOTEMPTY) {
    return Fail(ErrorCode::kInternal,
                "rename the template cluster to " + path.string() + ": " + std::strerror(errno));
  }
  ready = usable();
  if (!ready) return std::unexpected(ready.error());
  if (!*ready) return Fail(ErrorCode::kInternal, path.string() + " vanished after it was made");
  return path;
}

PgCluster::~PgCluster() {
  if (watchdog_pid_ > 0) {
    // EOF on its stdin: the watchdog stops the server and deletes the directory.
    ::close(watchdog_fd_);
    int status = 0;
    while (::waitpid(watchdog_pid_, &status, 0) < 0 && errno == EINTR) {
    }
  } else if (!dir_.empty()) {
    // No watchdog, so no server was started (NewDirectory starts the watchdog first).
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
}

Result<void> PgCluster::Execute(const std::string& conninfo, const std::string& sql) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  if (conn == nullptr) return Fail(ErrorCode::kInternal, "postgresql: connect: out of memory");
  PQsetNoticeProcessor(conn, [](void*, const char*) {}, nullptr);
  Result<void> out;
  if (PQstatus(conn) != CONNECTION_OK) {
    out = Fail(ErrorCode::kInternal, std::string("postgresql: connect: ") + PQerrorMessage(conn));
  } else {
    PGresult* result = PQexec(conn, sql.c_str());
    const ExecStatusType status = PQresultStatus(result);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      out = Fail(ErrorCode::kInternal, std::string("postgresql: ") + PQerrorMessage(conn));
    }
    PQclear(result);
  }
  PQfinish(conn);
  return out;
}

Result<void> PgCluster::StartWatchdog() {
  // Single-quoted: mkdtemp and the package paths hold no quote characters.
  const auto quote = [](const std::string& s) { return "'" + s + "'"; };
  std::string stop =
      quote((bin_ / "pg_ctl").string()) + " -D " + quote((dir_ / "data").string()) + " -m fast -w stop";
  if (as_postgres_) stop = quote(RunuserPath()) + " -u postgres -- " + stop;
  std::string script = "read _; if [ -d " + quote((dir_ / "data").string()) + " ]; then " + stop +
                       "; fi; rm -rf " + quote(dir_.string());
  std::string sh = "/bin/sh";
  std::string dash_c = "-c";
  std::vector<char*> args = {sh.data(), dash_c.data(), script.data(), nullptr};

  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0)
    return Fail(ErrorCode::kInternal, std::string("pipe: ") + std::strerror(errno));
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int err = errno;
    ::close(fds[0]);
    ::close(fds[1]);
    return Fail(ErrorCode::kInternal, std::string("fork: ") + std::strerror(err));
  }
  if (pid == 0) {
    // Own session: a signal to the test's process group does not take the watchdog along.
    ::setsid();
    const int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (null < 0 || ::dup2(fds[0], 0) < 0 || ::dup2(null, 1) < 0 || ::dup2(null, 2) < 0) ::_exit(126);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(fds[0]);
  watchdog_fd_ = fds[1];
  watchdog_pid_ = pid;
  return {};
}

// fork + exec (no shell), output to DIR/tools.log; as the postgres user under root.
Result<void> PgCluster::Run(const std::vector<std::string>& argv, const std::string& what) const {
  std::vector<std::string> full;
  if (as_postgres_) full = {RunuserPath(), "-u", "postgres", "--"};
  full.insert(full.end(), argv.begin(), argv.end());
  std::vector<char*> args;
  args.reserve(full.size() + 1);
  for (std::string& a : full) args.push_back(a.data());
  args.push_back(nullptr);
  const fs::path log = dir_ / "tools.log";
  const std::string log_path = log.string();
  const std::string cwd = dir_.string();

  // Everything the child needs is prepared before fork: the test binary may have threads.
  const pid_t pid = ::fork();
  if (pid < 0) return Fail(ErrorCode::kInternal, what + ": fork: " + std::strerror(errno));
  if (pid == 0) {
    // The postgres user may not be able to read the test's working directory.
    if (::chdir(cwd.c_str()) != 0) ::_exit(126);
    const int out = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    const int in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (out < 0 || in < 0 || ::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(out, 2) < 0) ::_exit(126);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return Fail(ErrorCode::kInternal, what + ": waitpid: " + std::strerror(errno));
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
  const std::string how = WIFEXITED(status) ? "exited with status " + std::to_string(WEXITSTATUS(status))
                                            : "was killed by signal " + std::to_string(WTERMSIG(status));
  return Fail(ErrorCode::kInternal, what + " " + how + "; end of " + log_path + ":\n" + LogTail(log) +
                                        "\nend of server log:\n" + LogTail(dir_ / "server.log"));
}

}  // namespace cipherchart::server
