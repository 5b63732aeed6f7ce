#include "node_identity.hpp"

#include "node_id.hpp"

#include "p2pnet/node.hpp"

#include <fmt/core.h>
#include <openssl/rand.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
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

std::string random_node_id() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) throw StartupError("cannot generate a node id: OpenSSL RAND_bytes failed");
  std::string id;
  for (unsigned char b : bytes) id += fmt::format("{:02x}", b);
  return id;
}

std::string resolve_node_id(const std::filesystem::path& data_dir, const std::string& configured) {
  if (!configured.empty()) {
    if (!is_valid_node_id(configured)) throw StartupError("node id must be 64 lowercase hex characters");
    return configured;
  }
  if (data_dir.empty()) return random_node_id();
  auto file = data_dir / "node_id";
  std::error_code error;
  if (std::filesystem::exists(file, error)) {
    std::ifstream in(file);
    std::string id;
    std::getline(in, id);
    if (!is_valid_node_id(id))
      throw StartupError(fmt::format("{}: not a node id (expected 64 lowercase hex characters); remove it to get a new id",
                                     file.string()));
    return id;
  }
  std::string id = random_node_id();
  auto temporary = data_dir / "node_id.tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << id << '\n';
    if (!out.flush()) throw StartupError(fmt::format("{}: cannot write the node id", temporary.string()));
  }
  std::filesystem::rename(temporary, file, error);
  if (error) throw StartupError(fmt::format("{}: cannot store the node id: {}", file.string(), error.message()));
  return id;
}

}  // namespace p2pnet
