#include "shared_folder.hpp"

#include "names.hpp"

#include "common/chunk_manifest.hpp"
#include "common/chunking.hpp"

#include <p2pnet/printable.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <set>

namespace p2pnet::search {
namespace fs = std::filesystem;
namespace {

// Directories deeper than this are not entered: it keeps a maze of symlinks
// pointing at each other finite.
constexpr size_t kMaxDepth = 64;
constexpr size_t kReadBytes = 1 << 20;

int64_t mtime_ns(const struct stat& info) {
  return static_cast<int64_t>(info.st_mtim.tv_sec) * 1000000000 + info.st_mtim.tv_nsec;
}

struct PendingDir {
  fs::path real;  // canonical
  std::string relative;
  std::vector<fs::path> ancestors;  // canonical, to refuse loops
};

}  // namespace

bool is_contained(const fs::path& root, const fs::path& path) {
  auto r = root.begin(), p = path.begin();
  for (; r != root.end(); ++r, ++p) {
    if (r->empty()) continue;  // a trailing separator
    if (p == path.end() || *r != *p) return false;
  }
  return true;
}

WalkResult walk_shared_folder(const fs::path& configured, const std::vector<fs::path>& excluded,
                              const std::atomic<bool>& stop, const std::vector<fs::path>& private_dirs) {
  WalkResult out;
  std::error_code ec;
  fs::path root = fs::canonical(configured, ec);
  if (ec) {
    out.error = "shared_dir " + configured.string() + ": " + ec.message();
    return out;
  }
  if (!fs::is_directory(root, ec)) {
    out.error = "shared_dir " + root.string() + " is not a directory";
    return out;
  }
  if (fs::directory_iterator probe(root, ec); ec) {
    out.error = "cannot read shared_dir " + root.string() + ": " + ec.message();
    return out;
  }
  std::vector<fs::path> private_real;
  for (const auto& dir : private_dirs)
    if (auto real = fs::weakly_canonical(dir, ec); !ec && !real.empty()) private_real.push_back(real);
  for (const auto& dir : private_real) {
    if (is_contained(dir, root) || is_contained(root, dir)) {
      out.error = "shared_dir " + root.string() +
                  (root == dir               ? " is"
                   : is_contained(dir, root) ? " lies inside"
                                             : " contains") +
                  " the node's data dir " + dir.string() + " (its key and state are never shared)";
      out.refused = true;
      return out;
    }
  }
  out.root = root;
  std::set<fs::path> skipped_dirs;
  for (const auto& dir : excluded)
    if (auto real = fs::canonical(dir, ec); !ec) skipped_dirs.insert(real);

  std::vector<PendingDir> pending{{root, "", {}}};
  while (!pending.empty() && !stop.load(std::memory_order_relaxed)) {
    PendingDir dir = std::move(pending.back());
    pending.pop_back();
    std::vector<fs::path> names;
    fs::directory_iterator it(dir.real, ec), end;
    if (ec) {
      ++out.unreadable;
      continue;
    }
    for (; it != end; it.increment(ec)) {
      if (ec) {
        ++out.unreadable;
        break;
      }
      names.push_back(it->path().filename());
    }
    std::sort(names.begin(), names.end());
    // Depth-first in name order: push subdirectories in reverse to visit them in order.
    std::vector<PendingDir> subdirs;
    for (const auto& filename : names) {
      std::string name = filename.string();
      if (auto why = name_refusal(name); !why.empty()) {
        ++out.bad_names;
        if (out.refused_names.size() < kMaxListedRefusals)
          out.refused_names.emplace_back(printable_excerpt(dir.relative.empty() ? name : dir.relative + "/" + name),
                                         why);
        continue;
      }
      std::string relative = dir.relative.empty() ? name : dir.relative + "/" + name;
      fs::path real = dir.real / filename;
      auto link = fs::symlink_status(real, ec);
      if (ec) {
        ++out.unreadable;
        continue;
      }
      if (fs::is_symlink(link)) {
        real = fs::canonical(real, ec);
        if (ec || !is_contained(root, real)) {
          ++out.symlinks_outside;
          continue;
        }
      }
      auto status = fs::status(real, ec);
      if (ec) {
        ++out.unreadable;
        continue;
      }
      if (fs::is_directory(status)) {
        if (skipped_dirs.count(real) || relative.size() > kMaxPathBytes || dir.ancestors.size() >= kMaxDepth) continue;
        if (real == dir.real || std::find(dir.ancestors.begin(), dir.ancestors.end(), real) != dir.ancestors.end())
          continue;  // a symlink back up: a loop
        auto ancestors = dir.ancestors;
        ancestors.push_back(dir.real);
        subdirs.push_back({real, relative, std::move(ancestors)});
      } else if (fs::is_regular_file(status)) {
        if (is_partial_download(name) || is_partial_download(real.filename().string())) {
          ++out.partial_downloads;
          continue;
        }
        struct stat info {};
        if (relative.size() > kMaxPathBytes || ::stat(real.c_str(), &info) != 0) {
          ++out.unreadable;
          continue;
        }
        out.files.push_back({relative, static_cast<uint64_t>(info.st_size), mtime_ns(info)});
      } else {
        ++out.special_files;
      }
    }
    for (auto it = subdirs.rbegin(); it != subdirs.rend(); ++it) pending.push_back(std::move(*it));
  }
  std::sort(out.files.begin(), out.files.end(), [](const auto& a, const auto& b) { return a.path < b.path; });
  return out;
}

struct Hasher::OpenFile {
  int fd = -1;
  std::string path;
  struct stat before {};
  Sha256 sha;
  int64_t chunk_size = 0;
  std::optional<ChunkHasher> chunks;  // none: no manifest for this file
  ~OpenFile() {
    if (fd >= 0) ::close(fd);
  }
};

Hasher::Hasher(fs::path root, std::vector<FileStat> files, fs::path manifest_dir)
    : root_(std::move(root)), manifest_dir_(std::move(manifest_dir)), files_(std::move(files)) {}

Hasher::~Hasher() = default;

void Hasher::open_next(Step& step) {
  const FileStat& file = files_[next_++];
  std::error_code ec;
  // The folder may have changed since the walk: check the path again.
  fs::path real = fs::canonical(root_ / file.path, ec);
  if (ec || !is_contained(root_, real)) {
    step.failed.push_back(file.path + ": " + (ec ? ec.message() : "now leads outside the shared folder"));
    return;
  }
  auto open = std::make_unique<OpenFile>();
  open->path = file.path;
  // O_NONBLOCK: a fifo swapped in since the walk must not block the thread.
  open->fd = ::open(real.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (open->fd < 0) {
    step.failed.push_back(file.path + ": " + std::strerror(errno));
    return;
  }
  if (::fstat(open->fd, &open->before) != 0 || !S_ISREG(open->before.st_mode)) {
    step.failed.push_back(file.path + ": not a regular file");
    return;
  }
  // A file of one chunk needs no stored manifest: its chunk's hash is the
  // file's, which the index holds.
  const int64_t chunk_size = chunk_size_for(open->before.st_size, kDefaultChunkSize);
  if (!manifest_dir_.empty() && chunk_count(open->before.st_size, chunk_size) > 1) {
    open->chunk_size = chunk_size;
    open->chunks.emplace(chunk_size);
  }
  current_ = std::move(open);
}

void Hasher::finish_current(Step& step) {
  struct stat after {};
  auto& file = *current_;
  if (::fstat(file.fd, &after) != 0 || after.st_size != file.before.st_size ||
      mtime_ns(after) != mtime_ns(file.before)) {
    step.failed.push_back(file.path + ": changed while it was hashed");
  } else {
    IndexedFile hashed{file.path, static_cast<uint64_t>(file.before.st_size), to_hex(file.sha.finish()),
                       mtime_ns(file.before)};
    if (file.chunks) save_manifest(hashed, step);
    step.hashed.push_back(std::move(hashed));
  }
  current_.reset();
}

// A manifest that cannot be stored costs only speed: the file is still
// indexed, and the download plugin hashes its chunks when first asked.
void Hasher::save_manifest(const IndexedFile& hashed, Step& step) {
  ChunkManifest manifest{hashed.sha256, static_cast<int64_t>(hashed.size), hashed.mtime, current_->chunk_size,
                         current_->chunks->finish()};
  try {
    save_chunk_manifest(manifest_dir_, manifest);
    ++step.manifests_saved;
  } catch (const std::exception& e) {
    step.manifest_failures.push_back(e.what());
  }
}

Hasher::Step Hasher::step(uint64_t byte_budget, std::chrono::milliseconds time_budget, const std::atomic<bool>& stop) {
  Step out;
  if (buffer_.empty()) buffer_.resize(kReadBytes);
  auto deadline = std::chrono::steady_clock::now() + time_budget;
  while (!stop.load(std::memory_order_relaxed) && out.bytes < byte_budget &&
         std::chrono::steady_clock::now() < deadline) {
    if (!current_) {
      if (next_ >= files_.size()) break;
      open_next(out);
      continue;
    }
    size_t wanted = static_cast<size_t>(std::min<uint64_t>(buffer_.size(), byte_budget - out.bytes));
    ssize_t n = ::read(current_->fd, buffer_.data(), wanted);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      out.failed.push_back(current_->path + ": " + std::strerror(errno));
      current_.reset();
    } else if (n == 0) {
      finish_current(out);
    } else {
      current_->sha.update(buffer_.data(), static_cast<size_t>(n));
      if (current_->chunks) current_->chunks->update(buffer_.data(), static_cast<size_t>(n));
      out.bytes += static_cast<uint64_t>(n);
    }
  }
  return out;
}

}  // namespace p2pnet::search
