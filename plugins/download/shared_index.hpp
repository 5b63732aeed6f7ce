// The search plugin's latest `search.index` snapshot, as the uploader sees
// it: which files may be served, found by SHA-256. Only files in the latest
// snapshot are served, and each is re-checked when it is opened: a relative
// path without `..`, inside shared_dir after resolving symlinks, a regular
// file whose size and mtime still match the snapshot.
#pragma once

#include "unique_fd.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <sys/stat.h>

namespace p2pnet::download {

struct IndexedFile {
  std::string path;  // relative, '/' separated
  int64_t size = 0;
  std::string sha256;
  int64_t mtime = 0;
};

struct IndexSnapshot {
  std::filesystem::path shared_dir;
  std::filesystem::path manifest_dir;  // the search plugin's stored chunk manifests; empty: none
  std::multimap<std::string, IndexedFile> by_hash;
  size_t rejected = 0;  // entries that failed validation

  std::vector<const IndexedFile*> find(const std::string& sha256) const;
};

inline constexpr size_t kMaxIndexFiles = 1000000;
inline constexpr size_t kMaxIndexPath = 4096;

// Reads a search.index event; nothing if it is not a usable snapshot. Bad
// entries are skipped and counted in `rejected`.
std::optional<IndexSnapshot> parse_index(const nlohmann::json& event);

// A relative path of non-empty components, none of them "." or "..".
bool is_safe_relative_path(std::string_view path);

// The snapshot's mtime is an integer of unspecified unit: seconds,
// milliseconds, microseconds or nanoseconds since the Unix epoch all match.
bool mtime_matches(int64_t indexed, const struct stat& info);

enum class OpenFailure { none, unsafe_path, outside_shared_dir, private_file, missing, not_regular, changed };
const char* describe(OpenFailure failure);

struct OpenedFile {
  UniqueFd fd;
  struct stat info {};
  OpenFailure failure = OpenFailure::none;
  std::string detail;
  explicit operator bool() const { return failure == OpenFailure::none; }
};

// Opens an indexed file for reading with every check above, and refuses one
// that resolves into `private_dir` (the node's data dir: its key and state),
// whatever the index says. Blocking: call it from background work only.
OpenedFile open_indexed_file(const std::filesystem::path& shared_dir, const IndexedFile& file,
                             const std::filesystem::path& private_dir = {});

}  // namespace p2pnet::download
