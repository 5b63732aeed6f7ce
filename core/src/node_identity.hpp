// Who a node is across restarts: its id, kept in the data directory, and a
// lock so that two running nodes never share one data directory.
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

std::string random_node_id();

// The configured id if given; else the one stored in data_dir/node_id; else a
// new random one, stored there. Throws StartupError on a malformed file.
std::string resolve_node_id(const std::filesystem::path& data_dir, const std::string& configured);

}  // namespace p2pnet
