#include "data_dir_lock.hpp"

#include "p2pnet/node.hpp"

#include <fmt/core.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace p2pnet {

DataDirLock::DataDirLock(const std::filesystem::path& data_dir) {
  std::error_code error;
  std::filesystem::create_directories(data_dir, error);
  if (error) throw StartupError(fmt::format("data dir {}: cannot create: {}", data_dir.string(), error.message()));
  auto lock_file = data_dir / "node.lock";
  fd_ = ::open(lock_file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw StartupError(fmt::format("data dir {}: cannot open {}: {}", data_dir.string(), lock_file.string(), std::strerror(errno)));
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd_);
    fd_ = -1;
    throw StartupError(fmt::format("data dir {} is in use by another running node; give each node its own --data-dir",
                                   data_dir.string()));
  }
}

DataDirLock::~DataDirLock() {
  if (fd_ >= 0) ::close(fd_);
}

DataDirLock& DataDirLock::operator=(DataDirLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

}  // namespace p2pnet
