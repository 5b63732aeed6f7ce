// The shared files this node knows the hash of, keyed by relative path, and
// the two things done with them: answering queries and snapshotting them for
// the bus (search.index) and the cache.
#pragma once

#include "query.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace p2pnet::search {

struct IndexedFile {
  std::string path;  // relative to the shared folder, '/' separated
  uint64_t size = 0;
  std::string sha256;  // 64 lowercase hex digits
  int64_t mtime = 0;   // nanoseconds since the Unix epoch

  bool operator==(const IndexedFile&) const = default;
};

// Checks one {"path","size","sha256","mtime"} object (from the cache).
std::optional<IndexedFile> indexed_file_from_json(const nlohmann::json& item);
nlohmann::json to_json(const IndexedFile& file);

class FileIndex {
 public:
  void put(IndexedFile file);
  bool erase(const std::string& path);
  void clear() { files_.clear(); }
  const IndexedFile* find(const std::string& path) const;
  size_t size() const { return files_.size(); }
  const std::map<std::string, IndexedFile>& files() const { return files_; }

  struct Matches {
    std::vector<const IndexedFile*> files;  // distinct by hash, in path order, at most the limit
    size_t left_out = 0;                    // further distinct matches beyond the limit
  };
  Matches match(const Query& query, size_t limit) const;

  // {"shared_dir": ..., "files": [...]}: the search.index payload.
  nlohmann::json snapshot(const std::string& shared_dir) const;

 private:
  std::map<std::string, IndexedFile> files_;
};

}  // namespace p2pnet::search
