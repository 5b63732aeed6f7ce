// Keeps the index of the shared folder current: the cache at start (published
// at once, so a restarted node serves before it has checked anything), then a
// walk, then hashing in bounded background steps while the node goes on
// answering from what is indexed so far. Publishes search.index after a scan
// that changed the index, and after the first scan in any case.
#pragma once

#include "file_index.hpp"
#include "shared_folder.hpp"

#include <p2pnet/plugin.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

namespace p2pnet::search {

struct IndexerSettings {
  std::filesystem::path shared_dir;                // as configured; empty: share nothing
  std::filesystem::path cache_file;                // empty: no cache
  std::filesystem::path manifest_dir;              // chunk manifests kept with the cache; empty: none
  std::vector<std::filesystem::path> never_share;  // directories skipped inside the folder
  // Never shared at all: a folder that is, contains or lies inside one shares nothing.
  std::vector<std::filesystem::path> private_dirs;
  uint64_t hash_bytes_per_second = 0;  // 0: as fast as the disk and CPU go
};

struct ScanReport {
  std::string error;   // set if the shared folder could not be read
  size_t files = 0;    // in the index afterwards
  size_t hashed = 0;   // hashed by this scan
  size_t removed = 0;  // gone or changed since the previous scan
};

// Removes every file in `dir` but the manifests named in `keep` (a temporary
// file left by a crash included). Runs on a background thread.
struct ManifestPrune {
  std::filesystem::path dir;
  std::unordered_set<std::string> keep;  // file names
  size_t removed = 0;
  void run();
};

class Indexer {
 public:
  using ScanDone = std::function<void(const ScanReport&)>;

  Indexer(Plugin& plugin, IndexerSettings settings);

  void start();
  // Asks running background work to end soon; nothing new is started.
  void stop();
  // Scans now, or right after the scan in progress; `done` (may be empty) gets the report.
  void rescan(ScanDone done);
  // A rescan unless one runs already (for the periodic timer).
  void rescan_if_idle();

  const FileIndex& index() const { return index_; }
  const std::string& root() const { return root_; }
  bool scanning() const { return scanning_; }
  size_t left_to_hash() const { return left_to_hash_; }
  // Why nothing is shared, if that is so.
  const std::string& problem() const { return problem_; }
  const WalkResult& last_walk() const { return last_walk_; }

 private:
  struct Startup;
  void on_started(const Startup& startup);
  void walk();
  void on_walked(WalkResult walked);
  void hash_step();
  void on_hashed(const Hasher::Step& step, std::chrono::steady_clock::time_point started);
  void finish_scan(std::string error);
  void publish_index();
  void save_cache();
  ManifestPrune manifests_to_keep() const;

  Plugin& plugin_;
  IndexerSettings settings_;
  std::shared_ptr<std::atomic<bool>> stop_ = std::make_shared<std::atomic<bool>>(false);
  bool stopping_ = false;

  FileIndex index_;
  std::string root_;  // canonical shared folder, empty until a walk succeeded
  std::string problem_;
  WalkResult last_walk_;

  bool scanning_ = false;
  bool first_scan_done_ = false;
  bool changed_ = false;  // since the last publish
  bool unsaved_ = false;  // since the last cache write
  size_t scan_hashed_ = 0;
  size_t scan_removed_ = 0;
  size_t scan_failures_ = 0;
  std::shared_ptr<Hasher> hasher_;  // used by one background step at a time, never read here meanwhile
  size_t left_to_hash_ = 0;
  std::vector<ScanDone> waiting_;  // for the scan in progress
  bool rescan_pending_ = false;
  std::vector<ScanDone> waiting_next_;  // for the scan after it

  bool cache_saving_ = false;
  bool cache_dirty_ = false;
  std::chrono::steady_clock::time_point last_cache_save_ = std::chrono::steady_clock::now();
};

}  // namespace p2pnet::search
