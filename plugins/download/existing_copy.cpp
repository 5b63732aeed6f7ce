#include "existing_copy.hpp"

#include "common/sha256.hpp"

#include <cerrno>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

namespace p2pnet::download {

namespace fs = std::filesystem;

namespace {

constexpr size_t kReadBlock = 1024 * 1024;
constexpr size_t kMaxEntriesLooked = 100000;

bool has_sha256(int fd, const std::string& sha256) {
  Sha256 hash;
  std::vector<unsigned char> buffer(kReadBlock);
  while (true) {
    ssize_t got = ::read(fd, buffer.data(), buffer.size());
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return false;
    if (got == 0) break;
    hash.update(buffer.data(), static_cast<size_t>(got));
  }
  return to_hex(hash.finish()) == sha256;
}

bool is_download_bookkeeping(const std::string& name) {
  return name.ends_with(".part") || name.ends_with(".part.json");
}

}  // namespace

fs::path find_existing_copy(const CopyCandidates& candidates, const std::string& sha256) {
  for (const auto& file : candidates.indexed) {
    auto opened = open_indexed_file(candidates.shared_dir, file, candidates.private_dir);
    if (opened && has_sha256(opened.fd.get(), sha256)) return candidates.shared_dir / file.path;
  }
  if (candidates.size < 0 || candidates.download_dir.empty()) return {};
  std::error_code error;
  fs::directory_iterator it(candidates.download_dir, error), end;
  size_t looked = 0, hashed = 0;
  for (; !error && it != end && looked < kMaxEntriesLooked && hashed < kMaxSameSizeCandidates;
       it.increment(error), ++looked) {
    const auto name = it->path().filename().string();
    std::error_code entry_error;
    if (is_download_bookkeeping(name) || !it->is_regular_file(entry_error) ||
        it->file_size(entry_error) != static_cast<uintmax_t>(candidates.size) || entry_error)
      continue;
    // O_NONBLOCK: the entry may have become a FIFO since it was listed.
    UniqueFd fd(::open(it->path().c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
    if (!fd) continue;
    ++hashed;
    if (has_sha256(fd.get(), sha256)) return candidates.download_dir / name;
  }
  return {};
}

}  // namespace p2pnet::download
