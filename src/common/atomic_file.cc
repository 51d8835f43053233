#include "cipherchart/common/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace cipherchart {
namespace {

std::string OsMessage(int err) { return std::strerror(err); }

// write() until done, across short writes and EINTR.
bool WriteAll(int fd, std::span<const std::uint8_t> bytes, int& err) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      err = errno;
      return false;
    }
    bytes = bytes.subspan(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace

Error AtomicFile::IoError(std::string_view what, const std::filesystem::path& path, int err) const {
  return Error(ErrorCode::kInvalidArgument,
               "cannot " + std::string(what) + " " + path.string() + ": " + OsMessage(err));
}

Result<AtomicFile> AtomicFile::Create(const std::filesystem::path& target) {
  if (target.filename().empty()) {
    return Fail(ErrorCode::kInvalidArgument, "cannot write " + target.string() + ": not a file name");
  }
  std::string pattern = target.string() + ".tmp-XXXXXX";
  const int fd = ::mkostemp(pattern.data(), O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    return Fail(ErrorCode::kInvalidArgument,
                "cannot create a temporary file beside " + target.string() + ": " + OsMessage(err));
  }
  AtomicFile file(target, pattern, fd);
  // mkostemp already creates the file 0600 (less under a strict umask); make it exactly 0600.
  if (::fchmod(fd, S_IRUSR | S_IWUSR) != 0) return std::unexpected(file.IoError("chmod", file.temp_, errno));
  return file;
}

AtomicFile::AtomicFile(AtomicFile&& other) noexcept
    : target_(std::move(other.target_)),
      temp_(std::move(other.temp_)),
      fd_(std::exchange(other.fd_, -1)),
      committed_(std::exchange(other.committed_, true)) {}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_ && !temp_.empty()) ::unlink(temp_.c_str());
}

Result<void> AtomicFile::Write(std::span<const std::uint8_t> bytes) {
  if (fd_ < 0 || committed_) return Fail(ErrorCode::kInvalidArgument, "AtomicFile: written after Commit()");
  int err = 0;
  if (!WriteAll(fd_, bytes, err)) return std::unexpected(IoError("write", temp_, err));
  return {};
}

Result<void> AtomicFile::Commit() {
  if (fd_ < 0 || committed_) return Fail(ErrorCode::kInvalidArgument, "AtomicFile: Commit() called twice");
  if (::fsync(fd_) != 0) return std::unexpected(IoError("fsync", temp_, errno));
  const int fd = std::exchange(fd_, -1);
  if (::close(fd) != 0) return std::unexpected(IoError("close", temp_, errno));
  if (::rename(temp_.c_str(), target_.c_str()) != 0)
    return std::unexpected(IoError("rename onto", target_, errno));
  committed_ = true;
  // The rename is durable once the directory entry is.
  std::filesystem::path dir = target_.parent_path();
  if (dir.empty()) dir = ".";
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) return std::unexpected(IoError("open directory", dir, errno));
  const int rc = ::fsync(dir_fd);
  const int err = errno;
  ::close(dir_fd);
  if (rc != 0) return std::unexpected(IoError("fsync directory", dir, err));
  return {};
}

Result<void> WriteFileAtomically(const std::filesystem::path& target, std::span<const std::uint8_t> bytes) {
  auto file = AtomicFile::Create(target);
  if (!file) return std::unexpected(file.error());
  if (auto ok = file->Write(bytes); !ok) return ok;
  return file->Commit();
}

Result<std::vector<std::uint8_t>> ReadSmallFile(const std::filesystem::path& path, std::size_t max_size) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    return Fail(ErrorCode::kInvalidArgument, "cannot open " + path.string() + ": " + OsMessage(err));
  }
  // Refuse an oversized file before reading it; the loop below still stops at the bound if the
  // file grows meanwhile.
  struct stat st{};
  if (::fstat(fd, &st) == 0 && st.st_size > 0 && static_cast<std::uint64_t>(st.st_size) > max_size) {
    ::close(fd);
    return Fail(ErrorCode::kInvalidArgument,
                "cannot read " + path.string() + ": larger than " + std::to_string(max_size) + " bytes");
  }
  std::vector<std::uint8_t> out;
  std::uint8_t buffer[16384];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return Fail(ErrorCode::kInvalidArgument, "cannot read " + path.string() + ": " + OsMessage(err));
    }
    if (n == 0) break;
    if (out.size() + static_cast<std::size_t>(n) > max_size) {
      ::close(fd);
      return Fail(ErrorCode::kInvalidArgument,
                  "cannot read " + path.string() + ": larger than " + std::to_string(max_size) + " bytes");
    }
    out.insert(out.end(), buffer, buffer + n);
  }
  ::close(fd);
  return out;
}

}  // namespace cipherchart
