// One download's state, owned by the Downloader and touched only on the
// plugin's own callbacks. Background jobs get copies or shared immutable
// pieces (the PartFile), never a Transfer.
#pragma once

#include "common/sha256.hpp"
#include "part_file.hpp"
#include "search_results.hpp"

#include <p2pnet/plugin.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace p2pnet::download {

using Clock = std::chrono::steady_clock;

enum class SourceState {
  standby,     // known, not used while max_sources others are
  connecting,  // dialing the node
  asking,      // manifest requested
  ready,       // manifest matches; chunks may be requested
  waiting,     // said busy; asked again at retry_at
  disagrees,   // connected, but its manifest differs from the adopted one: kept
               // in reserve, asked again if the adopted one proves wrong
  gone,        // disconnected or unreachable; a new search may bring it back
  dropped,     // bad data, wrong file or refused: never asked again for this transfer
};

struct Source {
  SourceAddress address;
  SourceState state = SourceState::standby;
  // It served the manifest the transfer adopted (or is adopting): blamed with
  // it if that manifest proves wrong, whatever state the source is in by then.
  bool has_manifest = false;
  Clock::time_point retry_at;
  int in_flight = 0;
  int64_t requests = 0;  // chunk requests sent to it
  int bad_chunks = 0;
  int64_t chunks = 0;  // verified chunks it delivered in this run
  std::string reason;  // why it is gone or dropped

  // Connected or on its way there.
  bool live() const {
    return state == SourceState::connecting || state == SourceState::asking || state == SourceState::ready ||
           state == SourceState::waiting || state == SourceState::disagrees;
  }
};

// Running: searching .. finishing (max_active of them). Waiting: queued (for
// a running slot) and paused (by the user, or found on disk at start). Ended:
// saved, failed, cancelled.
enum class Phase { searching, preparing, fetching, finishing, queued, paused, saved, failed, cancelled };

enum class ChunkState : uint8_t { missing, requested, verifying, written };

// The manifest that chunks are requested by and checked against.
enum class ManifestState {
  none,      // no source has answered (or the last manifest was given up)
  adopting,  // the first manifest arrived; its own hash is computed in the background
  adopted,   // chunks are requested and checked against it
};

// The whole file's SHA-256 over the verified prefix of NAME.part.
enum class PrefixHashState {
  idle,     // caught up with the written prefix, or waiting for the next chunks
  hashing,  // a background step reads the next chunks; the hash object is with it
  failed,   // a step failed: the end reads the whole file instead
};

inline std::string short_id(const std::string& node_id) { return node_id.substr(0, 12); }

struct Transfer {
  uint64_t id = 0;
  std::optional<Command> command;   // `download --wait`: the console command that waits for the outcome
  std::optional<Command> pausing;   // `pause`: answered once no chunk is still on its way to the disk
  std::optional<Command> removing;  // `cancel` without --keep: answered once NAME.part is removed
  bool remove_part = false;
  std::string sha256;
  std::string wanted_name;  // "" until a search names it
  int64_t expected_size = -1;
  bool force = false;         // fetch even if an identical copy is already here
  bool already_here = false;  // ended without a transfer: an identical copy was found
  Phase phase = Phase::searching;

  // download_dir files, once prepared.
  PartPaths paths;
  std::shared_ptr<PartFile> file;
  std::optional<PartRecord> resume;  // an earlier attempt's record, until the manifest arrives
  int64_t chunk_size = 0;            // what we ask sources for

  // The manifest adopted from the first source that answered.
  ManifestState manifest = ManifestState::none;
  int64_t size = 0;
  int64_t chunks = 0;
  std::string digests;  // chunks x 32 bytes
  std::string manifest_sha256;
  // What was written under a manifest given up since: chunks whose hash the
  // next manifest repeats are kept, the rest fetched again.
  std::string previous_digests;
  std::vector<ChunkState> previous_states;
  std::string blame_note;  // which sources' manifest failed the end check

  std::vector<ChunkState> chunk_states;
  int64_t cursor = 0;                                 // chunks below it were handed out once
  std::deque<int64_t> retry;                          // chunks to fetch again first
  std::map<int64_t, std::set<std::string>> bad_from;  // chunk -> sources that sent it corrupt
  int64_t written = 0;                                // chunks verified and written
  int64_t bytes_written = 0;
  int64_t resumed_chunks = 0;
  int in_flight = 0;
  int verifying = 0;
  // The whole file's SHA-256 over the verified prefix of NAME.part, advanced
  // by background work while chunks arrive, so the end needs no second pass
  // over the file. The hash object is with the background job while hashing.
  std::shared_ptr<Sha256> prefix_hash;
  int64_t hashed_chunks = 0;
  PrefixHashState prefix_hash_state = PrefixHashState::idle;
  // NAME.part.json: chunks were verified since it was last written (dirty),
  // and whether a write is running; both at once is normal.
  bool record_dirty = false;
  bool record_busy = false;
  int finish_rounds = 0;

  std::map<std::string, Source> sources;  // by node id

  // Searching for (more) sources.
  std::string search_request;
  bool search_pending = false;
  Clock::time_point search_deadline;
  Clock::time_point next_search;
  int64_t searches_without_progress = 0;  // reset by every verified chunk; bounded by max_searches

  // Progress.
  Clock::time_point started = Clock::now();  // of this run (a resume starts a new one)
  double elapsed_before = 0;                 // seconds spent running before the last pause
  bool clock_running = false;
  int64_t bytes_this_run = 0;
  int64_t sampled_bytes = 0;
  Clock::time_point sampled_at = Clock::now();
  Clock::time_point printed_at;
  double speed = 0;
  Clock::time_point recorded_at;
  std::string outcome;  // the final line

  bool active() const {  // running: holds one of max_active slots
    return phase == Phase::searching || phase == Phase::preparing || phase == Phase::fetching ||
           phase == Phase::finishing;
  }
  bool ended() const { return phase == Phase::saved || phase == Phase::failed || phase == Phase::cancelled; }
  double elapsed_seconds(Clock::time_point now) const {
    return elapsed_before + (clock_running ? std::chrono::duration<double>(now - started).count() : 0);
  }
  void stop_clock(Clock::time_point now) {
    elapsed_before = elapsed_seconds(now);
    clock_running = false;
  }
  bool has_manifest() const { return manifest == ManifestState::adopted; }
  bool hashing() const { return prefix_hash_state == PrefixHashState::hashing; }
  // A chunk write, a hash step or a record write is running in the background.
  bool disk_jobs_running() const { return verifying > 0 || record_busy || hashing(); }
  bool busy_on_disk() const { return disk_jobs_running() || phase == Phase::preparing || phase == Phase::finishing; }
  int live_sources() const {
    int n = 0;
    for (const auto& [id, source] : sources) n += source.live() ? 1 : 0;
    return n;
  }
  std::string display_name() const {
    if (!paths.name.empty()) return paths.name;
    return wanted_name.empty() ? sha256.substr(0, 16) : wanted_name;
  }
};

}  // namespace p2pnet::download
