// The index kept on disk between runs, so that files whose size and mtime
// have not changed are not hashed again at start. Written atomically (a
// temporary file renamed over the old one), so a crash leaves either the old
// or the new cache, never half of one.
#pragma once

#include "file_index.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace p2pnet::search {

struct CachedIndex {
  std::string shared_dir;  // the canonical folder the paths are relative to
  std::vector<IndexedFile> files;
};

struct CacheLoad {
  enum class Status { missing, loaded, corrupt } status = Status::missing;
  CachedIndex index;
  std::string problem;  // why a cache is corrupt
};

CacheLoad load_index_cache(const std::filesystem::path& file);

// Throws std::runtime_error naming the file and the reason.
void save_index_cache(const std::filesystem::path& file, const CachedIndex& index);

}  // namespace p2pnet::search
