#include "indexer.hpp"

#include "index_cache.hpp"

#include "common/chunk_manifest.hpp"

#include <algorithm>
#include <unordered_set>

namespace p2pnet::search {
namespace fs = std::filesystem;
namespace {

using Clock = std::chrono::steady_clock;

// One background step reads at most this much (or works this long), so that
// stopping is quick and other plugins' background work gets its turn.
constexpr uint64_t kStepBytes = 16 << 20;
constexpr uint64_t kMinStepBytes = 64 << 10;
constexpr auto kStepTime = std::chrono::milliseconds(100);
// While a long hash runs, the cache is written this often, so that a node
// killed halfway does not start over.
constexpr auto kCacheSaveInterval = std::chrono::seconds(30);

}  // namespace

struct Indexer::Startup {
  CacheLoad cache;
  std::string root;  // canonical, empty if the folder is missing
};

Indexer::Indexer(Plugin& plugin, IndexerSettings settings) : plugin_(plugin), settings_(std::move(settings)) {}

void Indexer::start() {
  if (settings_.shared_dir.empty()) {
    problem_ = "sharing is off (shared_dir is empty)";
    first_scan_done_ = true;
    publish_index();
    return;
  }
  scanning_ = true;
  auto startup = std::make_shared<Startup>();
  plugin_.background(
      [startup, dir = settings_.shared_dir, cache = settings_.cache_file] {
        if (!cache.empty()) startup->cache = load_index_cache(cache);
        std::error_code ec;
        auto root = fs::canonical(dir, ec);
        if (!ec) startup->root = root.string();
      },
      [this, startup] { on_started(*startup); });
}

void Indexer::on_started(const Startup& startup) {
  if (stopping_) return;
  const auto& cache = startup.cache;
  if (cache.status == CacheLoad::Status::corrupt) {
    plugin_.warn("ignoring corrupt index cache " + settings_.cache_file.string() + " (" + cache.problem +
                 "); every shared file is hashed again");
    plugin_.count("cache_corrupt");
  } else if (cache.status == CacheLoad::Status::loaded && !startup.root.empty()) {
    if (cache.index.shared_dir == startup.root) {
      root_ = startup.root;
      for (const auto& file : cache.index.files) index_.put(file);
      plugin_.count("cache_files_loaded", static_cast<int64_t>(index_.size()));
      publish_index();  // serve at once; the walk corrects what changed meanwhile
    } else {
      plugin_.info("index cache was made for " + cache.index.shared_dir + ", not " + startup.root +
                   "; every shared file is hashed again");
    }
  }
  walk();
}

void Indexer::stop() {
  stopping_ = true;
  stop_->store(true);
  if (unsaved_) save_cache();
  ScanReport report{"the node is stopping", index_.size(), scan_hashed_, scan_removed_};
  for (auto* list : {&waiting_, &waiting_next_}) {
    auto waiting = std::move(*list);
    list->clear();
    for (auto& done : waiting) done(report);
  }
}

void Indexer::rescan(ScanDone done) {
  if (stopping_) {
    if (done) done({"the node is stopping", index_.size(), 0, 0});
    return;
  }
  if (settings_.shared_dir.empty()) {
    if (done) done({problem_, 0, 0, 0});
    return;
  }
  if (scanning_) {
    rescan_pending_ = true;
    if (done) waiting_next_.push_back(std::move(done));
    return;
  }
  if (done) waiting_.push_back(std::move(done));
  scanning_ = true;
  walk();
}

void Indexer::rescan_if_idle() {
  if (!scanning_) rescan({});
}

void Indexer::walk() {
  scan_hashed_ = scan_removed_ = scan_failures_ = 0;
  auto walked = std::make_shared<WalkResult>();
  auto manifests = std::make_shared<ManifestPrune>(manifests_to_keep());
  plugin_.background(
      [walked, manifests, dir = settings_.shared_dir, never = settings_.never_share,
       private_dirs = settings_.private_dirs, stop = stop_] {
        manifests->run();
        *walked = walk_shared_folder(dir, never, *stop, private_dirs);
      },
      [this, walked, manifests] {
        if (manifests->removed > 0) plugin_.count("manifests_removed", static_cast<int64_t>(manifests->removed));
        on_walked(std::move(*walked));
      });
}

// Manifests of files no longer indexed would only fill the disk. Pruned
// before each walk, when no hashing runs that could be writing one.
ManifestPrune Indexer::manifests_to_keep() const {
  ManifestPrune prune;
  prune.dir = settings_.manifest_dir;
  if (prune.dir.empty()) return prune;
  for (const auto& [path, file] : index_.files()) prune.keep.insert(chunk_manifest_path({}, file.sha256).string());
  return prune;
}

void ManifestPrune::run() {
  if (dir.empty()) return;
  std::error_code ec;
  std::vector<fs::path> stale;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (!keep.count(it->path().filename().string())) stale.push_back(it->path());
  for (const auto& path : stale) removed += fs::remove(path, ec) ? 1 : 0;
}

void Indexer::on_walked(WalkResult walked) {
  if (stopping_) return;
  if (!walked.error.empty()) {
    if (walked.error != problem_)
      plugin_.warn(walked.error + (walked.refused
                                       ? "; sharing nothing: choose another shared_dir"
                                       : "; sharing nothing until it can be read (then type rescan or wait)"));
    problem_ = walked.error;
    scan_removed_ = index_.size();
    if (scan_removed_ > 0) changed_ = unsaved_ = true;
    index_.clear();
    root_.clear();
    last_walk_ = std::move(walked);
    finish_scan(problem_);
    return;
  }
  if (!problem_.empty()) plugin_.info("shared_dir " + walked.root.string() + " can be read again");
  problem_.clear();
  if (root_ != walked.root.string()) {
    scan_removed_ += index_.size();
    index_.clear();
    root_ = walked.root.string();
  }

  // Keep what is unchanged (same size and mtime); hash what is new or changed.
  std::vector<FileStat> to_hash;
  std::unordered_set<std::string> present;
  for (const auto& file : walked.files) {
    present.insert(file.path);
    const auto* known = index_.find(file.path);
    if (known && known->size == file.size && known->mtime == file.mtime) continue;
    if (known) {
      index_.erase(file.path);  // its hash is stale: never answer with it
      ++scan_removed_;
    }
    to_hash.push_back(file);
  }
  std::vector<std::string> gone;
  for (const auto& [path, file] : index_.files())
    if (!present.count(path)) gone.push_back(path);
  for (const auto& path : gone) index_.erase(path);
  scan_removed_ += gone.size();
  if (scan_removed_ > 0) changed_ = unsaved_ = true;
  if (scan_removed_ > 0) plugin_.count("files_removed", static_cast<int64_t>(scan_removed_));

  // Small files first: many files become searchable soon.
  std::stable_sort(to_hash.begin(), to_hash.end(),
                   [](const FileStat& a, const FileStat& b) { return a.size < b.size; });
  last_walk_ = std::move(walked);
  last_walk_.files.clear();  // the index has them; keep only the tallies
  left_to_hash_ = to_hash.size();
  hasher_ = std::make_shared<Hasher>(fs::path(root_), std::move(to_hash), settings_.manifest_dir);
  hash_step();
}

void Indexer::hash_step() {
  if (stopping_ || !hasher_) return;
  if (hasher_->done()) return finish_scan("");
  uint64_t budget = kStepBytes;
  if (settings_.hash_bytes_per_second > 0)
    budget = std::clamp<uint64_t>(settings_.hash_bytes_per_second / 10, kMinStepBytes, kStepBytes);
  auto step = std::make_shared<Hasher::Step>();
  auto started = Clock::now();
  plugin_.background([hasher = hasher_, step, budget, stop = stop_] { *step = hasher->step(budget, kStepTime, *stop); },
                     [this, step, started] { on_hashed(*step, started); });
}

void Indexer::on_hashed(const Hasher::Step& step, Clock::time_point started) {
  for (const auto& file : step.hashed) index_.put(file);
  left_to_hash_ -= std::min(left_to_hash_, step.hashed.size() + step.failed.size());
  if (!step.hashed.empty()) {
    changed_ = unsaved_ = true;
    scan_hashed_ += step.hashed.size();
    plugin_.count("files_hashed", static_cast<int64_t>(step.hashed.size()));
  }
  if (step.bytes) plugin_.count("bytes_hashed", static_cast<int64_t>(step.bytes));
  if (step.manifests_saved) plugin_.count("manifests_saved", static_cast<int64_t>(step.manifests_saved));
  for (const auto& failure : step.manifest_failures) plugin_.warn(failure + " (the file is shared all the same)");
  if (!step.manifest_failures.empty())
    plugin_.count("manifest_write_failures", static_cast<int64_t>(step.manifest_failures.size()));
  for (const auto& failure : step.failed) plugin_.debug("not shared: " + failure);
  scan_failures_ += step.failed.size();
  if (!step.failed.empty()) plugin_.count("hash_failures", static_cast<int64_t>(step.failed.size()));
  if (stopping_) return;
  if (unsaved_ && Clock::now() - last_cache_save_ > kCacheSaveInterval) save_cache();

  if (settings_.hash_bytes_per_second > 0 && step.bytes > 0) {
    auto due = started + std::chrono::milliseconds(step.bytes * 1000 / settings_.hash_bytes_per_second);
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(due - Clock::now());
    if (wait.count() > 0) {
      plugin_.after(static_cast<uint64_t>(wait.count()), [this] { hash_step(); });
      return;
    }
  }
  hash_step();
}

void Indexer::finish_scan(std::string error) {
  scanning_ = false;
  hasher_.reset();
  left_to_hash_ = 0;
  plugin_.count("scans_completed");
  if (scan_failures_ > 0)
    plugin_.info(std::to_string(scan_failures_) +
                 " files could not be hashed and are not shared (log level debug names them)");
  if (changed_ || !first_scan_done_) publish_index();
  if (unsaved_) save_cache();
  changed_ = false;
  first_scan_done_ = true;

  ScanReport report{std::move(error), index_.size(), scan_hashed_, scan_removed_};
  auto waiting = std::move(waiting_);
  waiting_.clear();
  for (auto& done : waiting) done(report);

  if (rescan_pending_ && !stopping_) {
    rescan_pending_ = false;
    waiting_ = std::move(waiting_next_);
    waiting_next_.clear();
    scanning_ = true;
    walk();
  }
}

void Indexer::publish_index() {
  auto snapshot = index_.snapshot(root_);
  if (!settings_.manifest_dir.empty()) snapshot["manifest_dir"] = settings_.manifest_dir.string();
  plugin_.publish("search.index", snapshot);
  plugin_.count("index_published");
}

void Indexer::save_cache() {
  if (settings_.cache_file.empty() || root_.empty()) return;
  if (cache_saving_) {
    cache_dirty_ = true;
    return;
  }
  cache_saving_ = true;
  cache_dirty_ = unsaved_ = false;
  last_cache_save_ = Clock::now();
  auto snapshot = std::make_shared<CachedIndex>();
  snapshot->shared_dir = root_;
  snapshot->files.reserve(index_.size());
  for (const auto& [path, file] : index_.files()) snapshot->files.push_back(file);
  auto failure = std::make_shared<std::string>();
  plugin_.background(
      [snapshot, failure, file = settings_.cache_file] {
        try {
          save_index_cache(file, *snapshot);
        } catch (const std::exception& e) {
          *failure = e.what();
        }
      },
      [this, failure] {
        cache_saving_ = false;
        if (!failure->empty()) {
          plugin_.warn(*failure);
          plugin_.count("cache_write_failures");
        } else {
          plugin_.count("cache_writes");
        }
        if (cache_dirty_ && !stopping_) save_cache();
      });
}

}  // namespace p2pnet::search
