// Reading the shared folder: walking it (what may be shared, with its size
// and mtime) and hashing files in bounded steps. Both run on background
// threads; neither touches plugin state.
#pragma once

#include "common/chunk_hasher.hpp"
#include "common/sha256.hpp"
#include "file_index.hpp"

#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace p2pnet::search {

struct FileStat {
  std::string path;  // relative, '/' separated
  uint64_t size = 0;
  int64_t mtime = 0;  // nanoseconds since the Unix epoch
};

inline constexpr size_t kMaxListedRefusals = 20;

struct WalkResult {
  std::string error;            // set when the shared folder itself cannot be read
  bool refused = false;         // the error is the folder's place, not a read failure
  std::filesystem::path root;   // canonical
  std::vector<FileStat> files;  // sorted by path
  size_t partial_downloads = 0;
  size_t symlinks_outside = 0;  // symlinks leading outside the folder, or nowhere
  size_t bad_names = 0;         // names that are not UTF-8 or hold control characters
  // The first kMaxListedRefusals of them: the path, escaped, and why.
  std::vector<std::pair<std::string, std::string>> refused_names;
  size_t special_files = 0;  // fifos, sockets, devices
  size_t unreadable = 0;
};

// Walks `configured` recursively. Symlinks are followed only when their
// target is inside the folder; directories in `excluded` (canonical or not)
// are skipped; partial downloads are never listed. A folder that is, contains
// or lies inside one of `private_dirs` (the node's data dir: its key) is an
// error; then no file can resolve into one, as symlinks must stay inside.
WalkResult walk_shared_folder(const std::filesystem::path& configured,
                              const std::vector<std::filesystem::path>& excluded, const std::atomic<bool>& stop,
                              const std::vector<std::filesystem::path>& private_dirs = {});

// True if `path` is `root` or below it; both must be canonical.
bool is_contained(const std::filesystem::path& root, const std::filesystem::path& path);

// Hashes a list of files in steps, so that a caller can merge results, answer
// searches and yield between steps; a big file simply spans several steps.
// With a `manifest_dir`, the same pass hashes each chunk of a file of more
// than one chunk too (kDefaultChunkSize, as a downloader asks by default) and
// stores the file's chunk manifest there (common/chunk_manifest.hpp).
class Hasher {
 public:
  Hasher(std::filesystem::path root, std::vector<FileStat> files, std::filesystem::path manifest_dir = {});
  ~Hasher();
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;

  struct Step {
    std::vector<IndexedFile> hashed;
    std::vector<std::string> failed;  // "path: reason"
    uint64_t bytes = 0;
    size_t manifests_saved = 0;
    std::vector<std::string> manifest_failures;  // why a manifest could not be stored
  };
  Step step(uint64_t byte_budget, std::chrono::milliseconds time_budget, const std::atomic<bool>& stop);

  bool done() const { return !current_ && next_ >= files_.size(); }

 private:
  struct OpenFile;
  void open_next(Step& step);
  void finish_current(Step& step);
  void save_manifest(const IndexedFile& hashed, Step& step);

  std::filesystem::path root_;
  std::filesystem::path manifest_dir_;
  std::vector<FileStat> files_;
  size_t next_ = 0;
  std::unique_ptr<OpenFile> current_;
  std::vector<char> buffer_;
};

}  // namespace p2pnet::search
