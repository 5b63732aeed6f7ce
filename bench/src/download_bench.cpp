// Download throughput against a raw TCP copy of the same file on loopback.
// Each download runs right after its own raw copy, from the same file into
// the same directory, so both see the same disk and page cache at about the
// same moment; the figures are medians over the repeats because this
// machine's disk and page cache are noisy.
#include "download_bench.hpp"

#include "crypto_limits.hpp"
#include "libtorrent_baseline.hpp"
#include "raw_tcp.hpp"

#include <fmt/core.h>

#include <fstream>
#include <regex>
#include <stdexcept>

namespace p2pnet::bench {
namespace {

namespace fs = std::filesystem;

constexpr const char* kFileName = "download-bench.bin";

// Pseudo-random bytes (xorshift), so neither TLS nor the disk can compress them.
void write_source_file(const fs::path& path, uint64_t size) {
  std::ofstream out(path, std::ios::binary);
  std::vector<uint64_t> block(1024 * 1024);
  uint64_t state = 0x9e3779b97f4a7c15ULL;
  for (uint64_t written = 0; written < size;) {
    for (auto& word : block) {
      state ^= state << 13;
      state ^= state >> 7;
      state ^= state << 17;
      word = state;
    }
    auto n = static_cast<std::streamsize>(std::min<uint64_t>(size - written, block.size() * sizeof(uint64_t)));
    out.write(reinterpret_cast<const char*>(block.data()), n);
    written += static_cast<uint64_t>(n);
  }
  if (!out.flush()) throw std::runtime_error("cannot write " + path.string());
}

// One downloading node and the nodes that share the file with it, each node
// with its own runtime (threads and background pool), as separate p2pnode
// processes would have. The sources keep their search index and the
// download plugin's manifest cache between runs.
class Swarm {
 public:
  Swarm(ScratchDir& dir, const std::string& label, const fs::path& file, int sources, bool encryption)
      : dir_(dir), downloads_(dir.path() / (label + "-downloads")), sources_wanted_(sources) {
    auto searching = [](const fs::path& shared) {
      PluginConfig search;
      search.name = "search";
      search.settings = {{"shared_dir", shared.string()}, {"answer_wait_ms", 2000}, {"answer_quiet_ms", 100}};
      return search;
    };
    auto downloading = [](const fs::path& downloads) {
      PluginConfig download;
      download.name = "download";
      download.settings = {{"download_dir", downloads.string()}};
      return download;
    };
    auto config = bench_config({}, encryption);
    for (int i = 0; i < sources; ++i) {
      // Hard links: every source serves the very bytes the raw copy reads.
      auto shared = dir.path() / fmt::format("{}-shared-{}", label, i);
      fs::create_directories(shared);
      fs::create_hard_link(file, shared / kFileName);
      auto source_config = config;
      source_config.plugins = {searching(shared), downloading(dir.path() / fmt::format("{}-unused-{}", label, i))};
      nodes_.push_back(start_node(source_config, nullptr, dir_));
    }
    auto empty = dir.path() / (label + "-shares-nothing");
    fs::create_directories(empty);
    auto sink_config = config;
    sink_config.plugins = {searching(empty), downloading(downloads_)};
    sink_ = start_node(sink_config, nullptr, dir_);
    for (auto& source : nodes_) connect_nodes(*sink_, *source);
  }

  ~Swarm() {
    sink_->stop();
    for (auto& node : nodes_) node->stop();
  }

  const fs::path& downloads() const { return downloads_; }

  // A plugin counter summed over the sources, e.g. "download.manifests_computed".
  int64_t source_counter(const std::string& name) const {
    int64_t total = 0;
    for (const auto& node : nodes_) {
      auto counters = node->stats().plugin_counters;
      if (auto it = counters.find(name); it != counters.end()) total += it->second;
    }
    return total;
  }

  // Searches until every source answers (not timed: it waits for answers),
  // then downloads the result and returns the seconds until it was saved.
  double download() {
    std::string index = search();
    auto start = Clock::now();
    auto lines = run_command(*sink_, "download --wait " + index);
    double seconds = seconds_since(start);
    auto saved = downloads_ / kFileName;
    std::string expected =
        "saved " + saved.string() + " (" + std::to_string(fs::file_size(saved)) + " bytes, sha256 verified)";
    if (lines.empty() || lines.back() != expected)
      throw std::runtime_error("download ended with '" + (lines.empty() ? std::string() : lines.back()) + "'");
    fs::remove(saved);
    return seconds;
  }

  // Searches until every source answers: once it returns, each source has
  // indexed the file. Returns the result's number.
  std::string search() {
    static const std::regex result(R"(^\[(\d+)\] (.+)  \d+  [0-9a-f]+  \((\d+) sources?\)$)");
    std::string index;
    // The sources index (hash) the file when they start: that can take a while.
    wait_for(
        [&] {
          for (const auto& line : run_command(*sink_, "search " + std::string(kFileName))) {
            std::smatch match;
            if (std::regex_match(line, match, result) && match[2] == kFileName &&
                std::stoi(match[3]) == sources_wanted_)
              index = match[1];
          }
          return !index.empty();
        },
        std::chrono::minutes(5), fmt::format("{} sources to answer a search", sources_wanted_));
    return index;
  }

 private:
  ScratchDir& dir_;
  fs::path downloads_;
  int sources_wanted_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::unique_ptr<Node> sink_;
};

struct Series {
  std::vector<double> download;  // MB/s
  std::vector<double> raw;       // MB/s, each measured just before its download
};

// The first download from a source that has just started and indexed the
// file (a fresh data dir: nothing cached from before), not timing the
// indexing nor the search. Like every other download it runs right after its
// own raw copy, which also leaves the disk as the warm downloads find it. Its
// manifest should come from the indexing pass; `computed` tells when the
// source hashed the file again instead.
struct ColdRun {
  double rate = 0;  // MB/s
  double raw = 0;   // MB/s
  bool computed = false;
};

ColdRun cold_download(ScratchDir& dir, const fs::path& file, int run, double megabytes) {
  Swarm swarm(dir, fmt::format("cold-{}", run), file, 1, true);
  swarm.search();
  ColdRun out;
  fs::create_directories(swarm.downloads());
  auto copy = swarm.downloads() / "raw-copy.bin";
  out.raw = raw_file_copy(file, copy, true);
  fs::remove(copy);
  out.rate = megabytes / swarm.download();
  out.computed = swarm.source_counter("download.manifests_computed") > 0;
  return out;
}

}  // namespace

std::vector<Figure> download_bench(const Options& options) {
  const uint64_t size = options.quick ? 4ull << 20 : 1ull << 30;
  const int repeats = options.quick ? 1 : options.repeats;
  ScratchDir dir("download");
  const fs::path file = dir.path() / kFileName;
  write_source_file(file, size);

  Swarm tls(dir, "tls", file, 1, true);
  Swarm plain(dir, "plain", file, 1, false);
  Swarm two(dir, "two", file, 2, true);
  struct Run {
    Swarm& swarm;
    Series series;
  };
  std::vector<Run> runs = {{tls, {}}, {plain, {}}, {two, {}}};
  // An untimed first download each: the source keeps the manifest in memory
  // for the timed (warm) runs.
  for (auto& run : runs) run.swarm.download();
  const double megabytes = static_cast<double>(size) / 1e6;
  std::vector<double> libtorrent_rates;
  std::string libtorrent_missing;
  Series cold_series;
  int cold_computed = 0;
  std::vector<double> sha256_rates, aes_rates;
  for (int i = 0; i < repeats; ++i) {
    // The ceilings, measured between downloads so they see the same machine.
    sha256_rates.push_back(crypto_limits::sha256_rate(options.quick ? 0.05 : 1.0));
    aes_rates.push_back(crypto_limits::aes_128_gcm_rate(options.quick ? 0.05 : 1.0));
    ColdRun cold = cold_download(dir, file, i, megabytes);
    cold_series.download.push_back(cold.rate);
    cold_series.raw.push_back(cold.raw);
    cold_computed += cold.computed ? 1 : 0;
    for (auto& run : runs) {
      auto copy = run.swarm.downloads() / "raw-copy.bin";
      run.series.raw.push_back(raw_file_copy(file, copy, true));
      fs::remove(copy);
      run.series.download.push_back(megabytes / run.swarm.download());
    }
    if (libtorrent_missing.empty()) {
      if (auto rate = libtorrent::download_rate(file, dir.path() / "libtorrent-downloads", libtorrent_missing))
        libtorrent_rates.push_back(*rate);
    }
  }

  const std::string what = fmt::format("download {} MiB verified", size >> 20);
  const std::string how = fmt::format(
      "median of {} runs; timed from `download K` to its saved line: transfer, per-chunk and whole-file SHA-256, "
      "fsync; not the search, nor the source's indexing (warm: its manifest is cached from an untimed first run). "
      "Baseline: sendfile -> read+write+fsync over loopback TCP into the same directory, run just before each "
      "download",
      repeats);
  // Each pair as measured, so a reader can judge the noise behind the medians.
  auto pairs = [](const Series& series) {
    std::string text = "runs (download/raw MB/s):";
    for (size_t i = 0; i < series.download.size(); ++i)
      text += fmt::format(" {:.0f}/{:.0f}", series.download[i], series.raw[i]);
    return text;
  };
  auto figure = [&](const std::string& name, const Series& series) {
    Figure out{name, median(series.download), median(series.raw), "MB/s"};
    out.note = pairs(series);
    return out;
  };
  Figure single_tls = figure(what + ", one source (TLS)", runs[0].series);
  single_tls.goal = ">= 0.8 x raw TCP file copy";
  single_tls.goal_ratio = 0.8;
  single_tls.note = how + "\n    " + single_tls.note;
  Figure single_plain = figure(what + ", one source (plaintext)", runs[1].series);
  single_plain.goal = ">= 0.8 x raw TCP file copy";
  single_plain.goal_ratio = 0.8;
  Figure tls_vs_plain{"download, one source: TLS vs plaintext", median(runs[0].series.download),
                      median(runs[1].series.download), "MB/s"};
  tls_vs_plain.goal = ">= 0.8 x plaintext";
  tls_vs_plain.goal_ratio = 0.8;
  Figure two_sources = figure(what + ", two sources (TLS)", runs[2].series);
  two_sources.note += "; both sources run on this machine, sharing its CPUs, disk and page cache with the downloader";
  Figure against_libtorrent{what + ", one source (TLS) against libtorrent (TCP)", median(runs[0].series.download),
                            libtorrent_rates.empty() ? 0.0 : median(libtorrent_rates), "MB/s"};
  against_libtorrent.goal = ">= 3 x libtorrent";
  against_libtorrent.goal_ratio = 3;
  against_libtorrent.note =
      libtorrent_rates.empty()
          ? "baseline missing: " + libtorrent_missing
          : "libtorrent 2.0 (python3-libtorrent): seed mode (pieces hashed before the clock, as p2pnet's cached "
            "manifest), timed from adding the torrent to torrent_finished_alert; no fsync";
  Figure cold{what + ", one source (TLS), cold against warm", median(cold_series.download),
              median(runs[0].series.download), "MB/s"};
  cold.goal = ">= 0.9 x warm";
  cold.goal_ratio = 0.9;
  cold.note =
      "cold: the first download from a source started with a fresh data dir, timed once it has indexed the "
      "file (its manifest computed in the same pass as the file's hash), right before the warm TLS run; "
      "warm: the one-source TLS figure above. " +
      pairs(cold_series);
  if (cold_computed > 0)
    cold.note += fmt::format("; in {} of {} runs the source hashed the file on request instead", cold_computed,
                             cold_series.download.size());
  Figure cold_against_libtorrent{what + ", one source (TLS), cold, against libtorrent (TCP)",
                                 median(cold_series.download), against_libtorrent.baseline, "MB/s"};
  cold_against_libtorrent.goal = against_libtorrent.goal;
  cold_against_libtorrent.goal_ratio = against_libtorrent.goal_ratio;
  if (libtorrent_rates.empty()) cold_against_libtorrent.note = against_libtorrent.note;

  // What one core can do bounds a verified download: the whole-file SHA-256
  // is one sequential pass over every byte.
  Figure sha256{"limit: SHA-256 on one core (OpenSSL, 16 KiB blocks)", median(sha256_rates), 0, "MB/s"};
  Figure aes{"limit: AES-128-GCM on one core (OpenSSL, 16 KiB records)", median(aes_rates), 0, "MB/s"};
  auto against_sha256 = [&](const std::string& name, double rate) {
    Figure out{name, rate, median(sha256_rates), "MB/s"};
    out.goal = ">= 0.5 x one core's SHA-256";
    out.goal_ratio = 0.5;
    return out;
  };
  Figure warm_sha = against_sha256(what + ", one source (TLS) against one core's SHA-256", single_tls.value);
  Figure cold_sha = against_sha256(what + ", one source (TLS), cold, against one core's SHA-256", cold.value);
  Figure two_vs_one{what + ": two sources against one (TLS)", two_sources.value, single_tls.value, "MB/s"};
  two_vs_one.goal = ">= 1 x one source";
  two_vs_one.goal_ratio = 1;
  return {single_tls,  cold,       single_plain,       tls_vs_plain,
          two_sources, two_vs_one, against_libtorrent, cold_against_libtorrent,
          sha256,      aes,        warm_sha,           cold_sha};
}

}  // namespace p2pnet::bench
