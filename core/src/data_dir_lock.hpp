// A lock on a node's data directory, so that two running nodes never share
// one (and with it one identity).
#pragma once

#include <filesystem>
#include <string>
#include <utility>

namespace p2pnet {

// Holds an exclusive lock on data_dir/node.lock for its lifetime.
class DataDirLock {
 public:
  DataDirLock() = default;
  explicit DataDirLock(const std::filesystem::path& data_dir);  // throws StartupError
  ~DataDirLock();
  DataDirLock(DataDirLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  DataDirLock& operator=(DataDirLock&& other) noexcept;

 private:
  int fd_ = -1;
};

}  // namespace p2pnet
