// The downloading side: `download K` / `download SHA256 [NAME]` and
// `downloads`. A transfer connects to its sources, adopts the first manifest,
// keeps several chunk requests in flight per source and spreads them over all
// sources, verifies every chunk (background work) before writing it into
// NAME.part, records verified chunks in NAME.part.json, and renames the file
// into place only after the whole file matched its SHA-256. Lost sources are
// replaced by the remaining ones or by a new `sha256:` search.
//
// Trust: the only thing the user vouches for is the file's SHA-256. A
// manifest cannot be proven to belong to it before the whole file is there
// (SHA-256 is not a tree hash), and a manifest hash carried in a search answer
// would come from the same untrusted source, proving nothing. So a manifest
// is a hypothesis: sources whose manifest differs from the adopted one are
// kept in reserve (not dropped), and when every chunk matched the adopted
// manifest but the file does not match its SHA-256, the sources that served
// that manifest are blamed: dropped, never used again for that file (in this
// run of the node), the manifest itself remembered as wrong, its record
// removed and never written again, and the next manifest (from a reserve
// source or a new search) adopted. Chunks whose hash the next manifest
// repeats are kept; the rest are fetched again. Each wrong manifest costs one
// pass over the file and at least one source, so a liar delays a download
// but cannot stop it while one honest source is reachable.
#pragma once

#include "download_history.hpp"
#include "download_settings.hpp"
#include "rate_limiter.hpp"
#include "search_results.hpp"
#include "shared_index.hpp"
#include "transfer.hpp"

#include <p2pnet/plugin.hpp>

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>

namespace p2pnet::download {

class Downloader {
 public:
  Downloader(Plugin& host, const DownloadSettings& settings);

  // Console.
  void run_download(Command& cmd);
  void run_downloads(Command& cmd);
  void run_pause(Command& cmd);
  void run_resume(Command& cmd);
  void run_cancel(Command& cmd);
  // Start: the history of ended downloads and the unfinished ones on disk.
  void load_state();
  // Bus.
  void on_search_results(const json& event);
  void set_index(std::shared_ptr<const IndexSnapshot> index) { index_ = std::move(index); }
  // Wire.
  void on_manifest(const PeerRef& peer, const Message& message);
  void on_chunk(const PeerRef& peer, const Message& message);
  void on_error(const PeerRef& peer, const Message& message);
  void on_peer_disconnected(const std::string& peer_id);
  // Timers and shutdown.
  void tick();
  void stop();

 private:
  struct PendingRequest {
    uint64_t transfer = 0;
    std::string peer_id;
    int64_t chunk = -1;  // -1: a manifest request
    Clock::time_point sent;
  };
  // An answer's request with the transfer and source it was sent for.
  struct Answer {
    PendingRequest request;
    Transfer* transfer = nullptr;
    Source* source = nullptr;
  };
  // What becomes of a settled chunk request's chunk.
  enum class Requeue { no, yes };
  struct ChunkCheck {
    bool matches = false;  // its SHA-256 is the manifest's (then it was written)
    std::string error;     // a disk error
  };

  // Starting.
  Transfer* start_transfer(Command& cmd, const std::string& sha256, const std::string& name, int64_t size, bool force,
                           bool wait);
  // A new transfer runs now, or queues when max_active others run.
  void admit(Transfer& t);
  void begin(Transfer& t, bool wait);  // admits a new transfer and answers its command unless it waits
  std::string describe(const Transfer& t, Clock::time_point now) const;
  void launch(Transfer& t);
  void start_queued();
  size_t running() const;
  // Pausing, resuming, cancelling (transfer_control.cpp).
  void resume_transfer(Transfer& t, Command& cmd, bool wait);
  // Stops asking for chunks: requests dropped, sources released.
  void halt(Transfer& t);
  void finish_waiting_commands();
  void remove_part_files(Transfer& t);
  Transfer* transfer_from_args(Command& cmd, const std::string& usage);
  // History of ended downloads.
  void remember_ended(const Transfer& t);
  void save_history();
  // Finding sources and the file's place on disk.
  bool index_lists(const std::string& sha256) const;
  // Returns how many sources are new or worth another try.
  int add_sources(Transfer& t, const std::vector<SourceAddress>& sources);
  void begin_search(Transfer& t);
  void prepare(Transfer& t);
  void on_prepared(uint64_t id, PreparedPart prepared);
  // Sources and their answers (downloader_sources.cpp).
  void activate_sources(Transfer& t);
  // How this node reaches a source now: by a direct link, a relayed one, or not yet.
  enum class SourcePath { direct, unknown, relayed };
  SourcePath path_to(const std::string& node_id);
  void connect_source(Transfer& t, Source& s);
  void on_source_connected(Transfer& t, Source& s);
  void ask_manifest(Transfer& t, Source& s);
  void lose_source(Transfer& t, Source& s, SourceState state, const std::string& reason);
  void release(const Transfer& t, const std::string& peer_id);
  void adopt_manifest(uint64_t id, const std::string& manifest_sha256);
  // Stops using the adopted (or adopting) manifest and asks the reserve
  // sources again. With `blame`, the manifest is known wrong: its sources are
  // blacklisted for this file, the manifest hash remembered.
  void give_up_manifest(Transfer& t, bool blame, const std::string& reason);
  void give_up_orphaned_manifest(Transfer& t);
  bool is_blamed(const std::string& sha256, const std::string& node_id) const;
  // Requests in flight. Every request leaves flight through settle(): its
  // transfer's and source's counts drop, and with Requeue::yes its chunk goes
  // back to the queue (never answered, or answered with something else).
  std::optional<PendingRequest> take_request(const PeerRef& peer, const json& header);
  // take_request, and the transfer and source still there.
  std::optional<Answer> take_answer(const PeerRef& peer, const json& header);
  void settle(Transfer& t, const PendingRequest& request, Requeue requeue);
  // Settles and forgets the transfer's requests that `which` selects.
  void drop_requests(Transfer& t, const std::function<bool(const PendingRequest&)>& which, Requeue requeue);
  void expire_requests();
  // Chunks (downloader_chunks.cpp).
  void pump(Transfer& t);
  void pump_all();
  void schedule_pump(std::chrono::milliseconds delay);
  bool another_source_can_take(const Transfer& t, const std::set<std::string>& bad_sources) const;
  std::optional<int64_t> next_chunk_for(Transfer& t, const std::string& source_id);
  bool request_chunk(Transfer& t, Source& s, int64_t chunk);
  void requeue(Transfer& t, int64_t chunk);
  void on_chunk_checked(uint64_t id, int64_t chunk, const std::string& source_id, ChunkCheck check);
  void reject_chunk(Transfer& t, int64_t chunk, const std::string& source_id, const std::string& why);
  void hash_ahead(Transfer& t);
  // The record and the end (downloader_finish.cpp).
  void flush_record(Transfer& t);
  void on_record_written(uint64_t id, const std::string& error);
  void maybe_finish(Transfer& t);
  void on_finished(uint64_t id, FinishedPart finished);
  void fail(Transfer& t, const std::string& reason);
  void succeed(Transfer& t, const std::string& saved_path);
  std::string kept_part_note(const Transfer& t) const;
  // What the user sees of a transfer (transfer_progress.cpp): a --wait
  // command's progress line, the console's status area, progress events,
  // the final line.
  void show_progress(Transfer& t, Clock::time_point now);
  void show_status();
  void publish_progress(Clock::time_point now);
  void say(Transfer& t, const std::string& line);
  void end(Transfer& t, const std::string& line, int status);
  void forget_old_transfers();

  Transfer* find(uint64_t id);
  Transfer* find_unended(const std::string& sha256);
  int64_t choose_chunk_size(int64_t size) const;

  Plugin& host_;
  const DownloadSettings& settings_;
  RateLimiter rate_;
  bool pump_scheduled_ = false;
  bool stopping_ = false;
  uint64_t next_transfer_ = 1;
  int64_t next_request_ = 1;
  std::map<uint64_t, std::unique_ptr<Transfer>> transfers_;
  std::map<int64_t, PendingRequest> requests_;
  std::optional<SearchResults> last_console_search_;
  std::shared_ptr<const IndexSnapshot> index_;  // this node's shared files, for copies already here
  // Per file (SHA-256): sources whose manifest failed the end check, and the
  // manifests that did. Bounded: a few files, a few hundred entries each.
  std::map<std::string, std::set<std::string>> blamed_sources_;
  std::map<std::string, std::set<std::string>> wrong_manifests_;
  std::mt19937_64 random_{std::random_device{}()};
  std::deque<EndedDownload> history_;  // oldest first, at most kMaxHistory
  bool history_writing_ = false;
  bool history_dirty_ = false;
  Clock::time_point status_at_;
  Clock::time_point progress_events_at_;
  std::string status_;
};

}  // namespace p2pnet::download
