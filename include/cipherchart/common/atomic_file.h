// Files that appear complete or not at all (keystores, opened record sections, wallets).
//
// AtomicFile writes to a fresh temporary file beside the target (same directory, so the rename
// stays on one file system), mode 0600 from the start (keys and health data are never
// group- or world-readable, not even half-written); Commit() fsyncs it, renames it over the
// target and fsyncs the directory, so after a crash the target holds either its old or its new
// contents. Destroying an uncommitted AtomicFile deletes the temporary file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "cipherchart/common/error.h"

namespace cipherchart {

class AtomicFile {
 public:
  // Creates the temporary file. Fails with kInvalidArgument (naming the path and the OS error).
  static Result<AtomicFile> Create(const std::filesystem::path& target);
  AtomicFile(AtomicFile&& other) noexcept;
  AtomicFile& operator=(AtomicFile&&) = delete;
  ~AtomicFile();

  Result<void> Write(std::span<const std::uint8_t> bytes);
  // Makes the contents durable and visible under the target name. No call is valid afterwards.
  Result<void> Commit();

 private:
  AtomicFile(std::filesystem::path target, std::filesystem::path temp, int fd)
      : target_(std::move(target)), temp_(std::move(temp)), fd_(fd) {}
  Error IoError(std::string_view what, const std::filesystem::path& path, int err) const;
  std::filesystem::path target_;
  std::filesystem::path temp_;
  int fd_ = -1;
  bool committed_ = false;
};

// Writes `bytes` to `target` through an AtomicFile.
Result<void> WriteFileAtomically(const std::filesystem::path& target, std::span<const std::uint8_t> bytes);

// Reads a whole file of at most `max_size` bytes (kInvalidArgument if it cannot be read or is
// larger).
Result<std::vector<std::uint8_t>> ReadSmallFile(const std::filesystem::path& path, std::size_t max_size);

}  // namespace cipherchart
