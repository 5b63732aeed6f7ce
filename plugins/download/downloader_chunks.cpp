// The Downloader's chunks: which chunk goes to which source (several in
// flight per source, spread over all of them, within the rate limit), each
// answer checked against the manifest and written in the background, bad
// chunks fetched again elsewhere, and the whole file's hash advanced over the
// verified prefix as chunks arrive.
#include "background_job.hpp"
#include "downloader.hpp"
#include "protocol.hpp"

#include <p2pnet/fields.hpp>

#include <algorithm>
#include <cstring>
#include <tuple>

namespace p2pnet::download {
namespace {

constexpr int kMaxBadChunksPerSource = 3;
constexpr int64_t kHashStepBytes = 8 * 1024 * 1024;

struct HashStep {
  std::shared_ptr<Sha256> hash;
  std::string error;
};

}  // namespace

void Downloader::requeue(Transfer& t, int64_t chunk) {
  t.chunk_states[static_cast<size_t>(chunk)] = ChunkState::missing;
  t.retry.push_front(chunk);
}

bool Downloader::another_source_can_take(const Transfer& t, const std::set<std::string>& bad_sources) const {
  for (const auto& [id, s] : t.sources)
    if (s.live() && !bad_sources.count(id)) return true;
  return false;
}

std::optional<int64_t> Downloader::next_chunk_for(Transfer& t, const std::string& source_id) {
  // Chunks to fetch again come first; one that arrived corrupt from this
  // source goes to another source if there is one.
  for (auto it = t.retry.begin(); it != t.retry.end();) {
    int64_t chunk = *it;
    if (t.chunk_states[static_cast<size_t>(chunk)] != ChunkState::missing) {
      it = t.retry.erase(it);
      continue;
    }
    auto bad = t.bad_from.find(chunk);
    if (bad != t.bad_from.end() && bad->second.count(source_id) && another_source_can_take(t, bad->second)) {
      ++it;
      continue;
    }
    t.retry.erase(it);
    return chunk;
  }
  while (t.cursor < t.chunks) {
    int64_t chunk = t.cursor++;
    if (t.chunk_states[static_cast<size_t>(chunk)] == ChunkState::missing) return chunk;
  }
  return std::nullopt;
}

bool Downloader::request_chunk(Transfer& t, Source& s, int64_t chunk) {
  int64_t request = next_request_++;
  int status = host_.send(
      s.address.node_id,
      {{"type", kGetChunk}, {"id", request}, {"sha256", t.sha256}, {"chunk_size", t.chunk_size}, {"index", chunk}});
  if (status != P2PNET_OK) {
    requeue(t, chunk);
    lose_source(t, s, SourceState::gone, "cannot send (status " + std::to_string(status) + ")");
    return false;
  }
  requests_[request] = PendingRequest{t.id, s.address.node_id, chunk, Clock::now()};
  t.chunk_states[static_cast<size_t>(chunk)] = ChunkState::requested;
  ++s.in_flight;
  ++s.requests;
  ++t.in_flight;
  return true;
}

void Downloader::pump(Transfer& t) {
  if (t.phase != Phase::fetching || !t.has_manifest() || stopping_) return;
  const int per_source = static_cast<int>(settings_.requests_per_source);
  int ready = 0;
  for (const auto& [id, s] : t.sources) ready += s.state == SourceState::ready ? 1 : 0;
  // Chunks waiting for the disk count too, so memory stays bounded.
  const int window = per_source * std::max(ready, 1);
  std::set<std::string> nothing_for;  // sources no remaining chunk may go to
  while (t.in_flight + t.verifying < window) {
    // The source with the fewest requests in flight, then the fewest sent:
    // sources share the work, and a faster one, emptying its queue sooner, gets more.
    Source* best = nullptr;
    for (auto& [id, s] : t.sources) {
      if (s.state != SourceState::ready || s.in_flight >= per_source || nothing_for.count(id)) continue;
      if (!best || std::tie(s.in_flight, s.requests) < std::tie(best->in_flight, best->requests)) best = &s;
    }
    if (!best) return;
    if (auto wait = rate_.wait(); wait.count() > 0) return schedule_pump(wait);
    auto chunk = next_chunk_for(t, best->address.node_id);
    if (!chunk) {
      nothing_for.insert(best->address.node_id);
      continue;
    }
    rate_.try_take(chunk_length(t.size, t.chunk_size, *chunk));
    request_chunk(t, *best, *chunk);
  }
}

void Downloader::pump_all() {
  for (auto& [id, t] : transfers_) pump(*t);
}

void Downloader::schedule_pump(std::chrono::milliseconds delay) {
  if (pump_scheduled_) return;
  pump_scheduled_ = true;
  host_.after(static_cast<uint64_t>(std::max<int64_t>(delay.count(), 1)), [this] {
    pump_scheduled_ = false;
    pump_all();
  });
}

void Downloader::on_chunk(const PeerRef& peer, const Message& message) {
  auto answer = take_answer(peer, message.header);
  if (!answer) return;
  Transfer* t = answer->transfer;
  Source& s = *answer->source;
  const PendingRequest& request = answer->request;
  if (request.chunk < 0) {
    if (t->active()) lose_source(*t, s, SourceState::dropped, "it answered a manifest request with a chunk");
    return;
  }
  settle(*t, request, Requeue::no);  // what became of it is decided below
  if (t->phase != Phase::fetching) return;
  const int64_t chunk = request.chunk;
  auto index = fields::integer(message.header, "index", 0, kMaxChunks);
  auto sha256 = fields::string(message.header, "sha256", 64);
  if (!index || *index != chunk || !sha256 || *sha256 != t->sha256) {
    host_.count("malformed_chunks");
    requeue(*t, chunk);
    lose_source(*t, s, SourceState::dropped, "it answered with another chunk");
    return pump(*t);
  }
  host_.count("chunks_fetched");
  host_.count("bytes_fetched", static_cast<int64_t>(message.body.size()));
  const int64_t length = chunk_length(t->size, t->chunk_size, chunk);
  if (message.body.size() != static_cast<size_t>(length)) {
    reject_chunk(*t, chunk, s.address.node_id, "wrong length");
    return pump(*t);
  }
  t->chunk_states[static_cast<size_t>(chunk)] = ChunkState::verifying;
  ++t->verifying;
  run_in_background(
      host_,
      [data =
           std::make_shared<const std::string>(reinterpret_cast<const char*>(message.body.data()), message.body.size()),
       expected = t->digests.substr(static_cast<size_t>(chunk) * kDigestSize, kDigestSize), file = t->file,
       offset = chunk * t->chunk_size] {
        ChunkCheck check;
        Digest digest = sha256_of(*data);
        check.matches = std::memcmp(digest.data(), expected.data(), kDigestSize) == 0;
        if (check.matches) check.error = file->write(offset, data->data(), data->size());
        return check;
      },
      [this, id = t->id, chunk, source = s.address.node_id](ChunkCheck check) {
        on_chunk_checked(id, chunk, source, std::move(check));
      });
  pump(*t);
}

void Downloader::on_chunk_checked(uint64_t id, int64_t chunk, const std::string& source_id, ChunkCheck check) {
  Transfer* t = find(id);
  if (!t) return;
  --t->verifying;
  // The manifest it was checked against may have been given up meanwhile.
  const bool paused = t->phase == Phase::paused || t->phase == Phase::queued;
  if ((t->phase != Phase::fetching && !paused) || !t->has_manifest() ||
      static_cast<size_t>(chunk) >= t->chunk_states.size())
    return;
  auto& state = t->chunk_states[static_cast<size_t>(chunk)];
  if (!check.error.empty() || (paused && !check.matches)) {
    state = ChunkState::missing;
    return check.error.empty() || paused ? void() : fail(*t, check.error);
  }
  if (paused) {  // it reached NAME.part before the pause took hold: keep it
    state = ChunkState::written;
    ++t->written;
    t->bytes_written += chunk_length(t->size, t->chunk_size, chunk);
    t->record_dirty = true;
    return;
  }
  if (!check.matches) {
    reject_chunk(*t, chunk, source_id, "sha256 does not match the manifest");
    return pump(*t);
  }
  state = ChunkState::written;
  const int64_t length = chunk_length(t->size, t->chunk_size, chunk);
  ++t->written;
  t->bytes_written += length;
  t->bytes_this_run += length;
  t->record_dirty = true;
  t->searches_without_progress = 0;
  host_.count("chunks_verified");
  if (auto it = t->sources.find(source_id); it != t->sources.end()) ++it->second.chunks;
  hash_ahead(*t);
  maybe_finish(*t);
  pump(*t);
}

void Downloader::reject_chunk(Transfer& t, int64_t chunk, const std::string& source_id, const std::string& why) {
  host_.count("chunks_rejected");
  host_.warn("download " + t.display_name() + ": rejected chunk " + std::to_string(chunk) + " from " +
             short_id(source_id) + ": " + why);
  t.bad_from[chunk].insert(source_id);
  requeue(t, chunk);
  auto it = t.sources.find(source_id);
  if (it != t.sources.end() && ++it->second.bad_chunks >= kMaxBadChunksPerSource && it->second.live())
    lose_source(t, it->second, SourceState::dropped,
                "it sent " + std::to_string(it->second.bad_chunks) + " chunks that failed verification");
}

// Hashes the written chunks right after the hashed prefix, reading them back
// from NAME.part (still in the page cache), kHashStepBytes at a time (the
// last step shorter), one step at a time. The end then only compares.
void Downloader::hash_ahead(Transfer& t) {
  if (t.prefix_hash_state != PrefixHashState::idle || !t.has_manifest() || !t.file || t.phase != Phase::fetching)
    return;
  int64_t end = t.hashed_chunks;
  const int64_t step_end = std::min(t.chunks, t.hashed_chunks + std::max<int64_t>(1, kHashStepBytes / t.chunk_size));
  while (end < step_end && t.chunk_states[static_cast<size_t>(end)] == ChunkState::written) ++end;
  if (end == t.hashed_chunks || end < step_end) return;
  t.prefix_hash_state = PrefixHashState::hashing;
  const int64_t from = t.hashed_chunks * t.chunk_size;
  const int64_t to = std::min(t.size, end * t.chunk_size);
  run_in_background(
      host_,
      [hash = std::move(t.prefix_hash), file = t.file, from, to] {
        HashStep step;
        step.hash = hash ? hash : std::make_shared<Sha256>();
        step.error = hash_range(*file, from, to, *step.hash);
        return step;
      },
      [this, id = t.id, end](HashStep step) {
        Transfer* t = find(id);
        if (!t) return;
        if (!step.error.empty()) {
          // Not fatal: the end reads the whole file again and reports what it finds.
          host_.debug("download " + t->display_name() + ": hashing ahead stopped: " + step.error);
          t->prefix_hash_state = PrefixHashState::failed;
        } else {
          t->prefix_hash_state = PrefixHashState::idle;
          t->prefix_hash = std::move(step.hash);
          t->hashed_chunks = end;
        }
        hash_ahead(*t);
        maybe_finish(*t);
      });
}

}  // namespace p2pnet::download
