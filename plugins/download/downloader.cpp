// The Downloader's own part: starting a transfer (its sources from a search
// result or a `sha256:` search, its place on disk), the tick that drives
// every transfer, and stopping. Sources, chunks and the end live in
// downloader_sources.cpp, downloader_chunks.cpp and downloader_finish.cpp.
#include "downloader.hpp"

#include "background_job.hpp"
#include "existing_copy.hpp"
#include "file_names.hpp"
#include "protocol.hpp"

#include <p2pnet/printable.hpp>

#include <algorithm>

namespace p2pnet::download {

namespace {

constexpr size_t kMaxKnownSourcesPerTransfer = 64;
constexpr size_t kMaxFinishedTransfers = 50;
constexpr size_t kMaxUnendedTransfers = 1000;
constexpr auto kStatusInterval = std::chrono::milliseconds(500);
constexpr auto kRecordInterval = std::chrono::seconds(1);

}  // namespace

Downloader::Downloader(Plugin& host, const DownloadSettings& settings)
    : host_(host), settings_(settings), rate_(settings.max_download_rate) {}

Transfer* Downloader::find(uint64_t id) {
  auto it = transfers_.find(id);
  return it == transfers_.end() ? nullptr : it->second.get();
}

bool Downloader::index_lists(const std::string& sha256) const { return index_ && !index_->find(sha256).empty(); }

Transfer* Downloader::find_unended(const std::string& sha256) {
  for (auto& [id, t] : transfers_)
    if (!t->ended() && t->sha256 == sha256) return t.get();
  return nullptr;
}

int64_t Downloader::choose_chunk_size(int64_t size) const { return chunk_size_for(size, settings_.chunk_size); }

// --- Starting ---------------------------------------------------------------

Transfer* Downloader::start_transfer(Command& cmd, const std::string& sha256, const std::string& name, int64_t size,
                                     bool force, bool wait) {
  auto refuse = [&](const std::string& line) -> Transfer* {
    cmd.print(line);
    cmd.done(1);
    return nullptr;
  };
  if (stopping_) return refuse("error: the node is stopping");
  if (auto* other = find_unended(sha256)) {
    if (other->phase != Phase::paused)
      return refuse("error: already downloading " + sha256 + " as " + other->display_name() + " (" +
                    std::to_string(other->id) + ")");
    resume_transfer(*other, cmd, wait);  // downloading it again continues it
    return nullptr;
  }
  size_t unended = 0;
  for (const auto& [id, t] : transfers_) unended += t->ended() ? 0 : 1;
  if (unended >= kMaxUnendedTransfers)
    return refuse("error: " + std::to_string(unended) + " downloads are running, queued or paused; cancel some first");
  auto transfer = std::make_unique<Transfer>();
  transfer->id = next_transfer_++;
  transfer->command = cmd.keep();   // released once started, unless it waits (--wait)
  transfer->phase = Phase::queued;  // until admit()
  transfer->sha256 = sha256;
  transfer->wanted_name = name;
  transfer->expected_size = size;
  transfer->force = force;
  auto* t = transfer.get();
  transfers_.emplace(t->id, std::move(transfer));
  host_.count("downloads_started");
  return t;
}

int Downloader::add_sources(Transfer& t, const std::vector<SourceAddress>& sources) {
  const std::string self = host_.node_id();
  int usable = 0;
  for (const auto& address : sources) {
    if (address.node_id == self) continue;
    if (is_blamed(t.sha256, address.node_id)) {
      host_.count("sources_blacklisted");
      continue;
    }
    auto it = t.sources.find(address.node_id);
    if (it != t.sources.end()) {
      if (it->second.state == SourceState::gone) {  // found again: worth another try
        it->second.address = address;
        it->second.state = SourceState::standby;
        ++usable;
      }
      continue;
    }
    if (t.sources.size() >= kMaxKnownSourcesPerTransfer) break;
    Source source;
    source.address = address;
    t.sources.emplace(address.node_id, std::move(source));
    ++usable;
  }
  activate_sources(t);
  return usable;
}

void Downloader::begin_search(Transfer& t) {
  t.search_request = "download-" + std::to_string(t.id) + "-" + std::to_string(random_());
  t.search_pending = true;
  ++t.searches_without_progress;
  t.search_deadline = Clock::now() + std::chrono::milliseconds(settings_.search_timeout_ms);
  host_.count("searches");
  host_.publish("search.request", {{"request", t.search_request}, {"query", "sha256:" + t.sha256}});
}

void Downloader::on_search_results(const json& event) {
  auto parsed = parse_search_results(event);
  if (!parsed) return host_.count("malformed_search_results");
  if (parsed->request.empty()) {
    last_console_search_ = std::move(*parsed);
    return;
  }
  for (auto& [id, transfer] : transfers_) {
    Transfer& t = *transfer;
    if (!t.active() || !t.search_pending || t.search_request != parsed->request) continue;
    t.search_pending = false;
    const SearchResult* match = nullptr;
    std::vector<SourceAddress> found;
    for (const auto& result : parsed->results) {
      if (result.sha256 != t.sha256) continue;
      if (!match) match = &result;
      for (const auto& source : result.sources)
        if (source.node_id != host_.node_id()) found.push_back(source);
    }
    if (match) {
      if (t.wanted_name.empty()) {
        if (auto why = name_refusal(match->name); why.empty()) {
          t.wanted_name = sanitize_file_name(match->name);
        } else {  // saved under its hash prefix instead
          host_.count("names_refused");
          host_.warn("download " + t.sha256.substr(0, 16) + ": not using the name '" + match->name +
                     "' a source gave: " + why);
        }
      }
      if (t.expected_size < 0) t.expected_size = match->size;
    }
    if (add_sources(t, found) == 0) {  // nothing new: look again a little later
      t.next_search = Clock::now() + std::chrono::milliseconds(std::min<int64_t>(settings_.search_timeout_ms, 2000));
      continue;
    }
    if (t.phase == Phase::searching) prepare(t);
  }
}

void Downloader::prepare(Transfer& t) {
  t.phase = Phase::preparing;
  if (t.wanted_name.empty()) t.wanted_name = t.sha256.substr(0, 16);
  std::optional<CopyCandidates> copies;
  if (!t.force) {
    copies.emplace();
    copies->download_dir = settings_.download_dir;
    copies->size = t.expected_size;
    copies->private_dir = host_.data_dir();
    if (index_) {
      copies->shared_dir = index_->shared_dir;
      for (const auto* file : index_->find(t.sha256)) copies->indexed.push_back(*file);
    }
  }
  run_in_background(
      host_,
      [dir = settings_.download_dir, name = t.wanted_name, sha256 = t.sha256, copies] {
        PreparedPart prepared;
        if (copies) prepared.existing_copy = find_existing_copy(*copies, sha256);
        if (!prepared.existing_copy.empty()) return prepared;
        return prepare_part(dir, name, sha256);
      },
      [this, id = t.id](PreparedPart prepared) { on_prepared(id, std::move(prepared)); });
}

void Downloader::on_prepared(uint64_t id, PreparedPart prepared) {
  Transfer* t = find(id);
  if (!t || t->phase != Phase::preparing) return;
  if (!prepared.existing_copy.empty()) {
    t->phase = Phase::saved;
    t->already_here = true;
    host_.count("already_here");
    return end(*t, "already have " + printable(prepared.existing_copy.string()) + " (sha256 verified)", 0);
  }
  t->phase = Phase::fetching;
  if (!prepared.error.empty()) return fail(*t, prepared.error);
  t->paths = prepared.paths;
  t->file = prepared.file;
  t->resume = std::move(prepared.record);
  if (t->paths.name != t->wanted_name)
    say(*t, t->wanted_name + " exists in " + settings_.download_dir.string() + "; saving as " + t->paths.name);
  if (t->resume && !is_valid_chunk_size(t->resume->chunk_size)) t->resume.reset();  // sources refuse that size now
  t->chunk_size = t->resume ? t->resume->chunk_size : choose_chunk_size(t->expected_size);
  if (t->expected_size > 0 && chunk_count(t->expected_size, t->chunk_size) > kMaxChunks)
    return fail(*t, "the file is too large (" + std::to_string(t->expected_size) + " bytes)");
  t->recorded_at = Clock::now();
  activate_sources(*t);
}

// --- Time ---------------------------------------------------------------------------

void Downloader::tick() {
  const auto now = Clock::now();
  expire_requests();
  for (auto& [id, transfer] : transfers_) {
    Transfer& t = *transfer;
    if (!t.active()) continue;
    if (t.phase == Phase::fetching) {
      for (auto& [node, s] : t.sources) {
        if (s.state != SourceState::waiting || now < s.retry_at) continue;
        if (s.has_manifest)
          s.state = SourceState::ready;
        else
          ask_manifest(t, s);
      }
      give_up_orphaned_manifest(t);
      activate_sources(t);
    }
    if (t.search_pending && now >= t.search_deadline) {
      t.search_pending = false;
      t.next_search = now;
    }
    if ((t.phase == Phase::searching || t.phase == Phase::fetching) && !t.search_pending && t.live_sources() == 0 &&
        now >= t.next_search) {
      if (t.searches_without_progress >= settings_.max_searches) {
        if (t.phase == Phase::searching) {
          fail(t, "no source found for " + t.sha256 + t.blame_note);
        } else {
          fail(t, "no source left for " + t.display_name() + t.blame_note);
        }
        continue;
      }
      begin_search(t);
    }
    if (t.phase == Phase::fetching && now - t.recorded_at >= kRecordInterval) flush_record(t);
    show_progress(t, now);
    pump(t);
  }
  finish_waiting_commands();
  start_queued();
  forget_old_transfers();
  if (now - status_at_ >= kStatusInterval) {
    status_at_ = now;
    show_status();
  }
  publish_progress(now);
}

void Downloader::forget_old_transfers() {
  size_t finished = 0;
  for (const auto& [id, t] : transfers_) finished += t->ended() ? 1 : 0;
  for (auto it = transfers_.begin(); it != transfers_.end() && finished > kMaxFinishedTransfers;) {
    if (it->second->ended() && !it->second->busy_on_disk() && !it->second->removing) {
      it = transfers_.erase(it);
      --finished;
    } else {
      ++it;
    }
  }
}

void Downloader::stop() {
  stopping_ = true;
  show_status();
  for (auto& [id, t] : transfers_)
    if (t->active() && t->phase != Phase::finishing) fail(*t, "the node is stopping");
}

}  // namespace p2pnet::download
