// The Downloader's sources: connecting to them, asking for the manifest,
// adopting the first one and keeping the others in reserve, giving a wrong
// manifest up (with its sources), losing sources, and every request's way
// out of flight (answered, refused, timed out, or its source gone).
#include "background_job.hpp"
#include "downloader.hpp"
#include "protocol.hpp"

#include <p2pnet/counted.hpp>
#include <p2pnet/fields.hpp>
#include <p2pnet/printable.hpp>

namespace p2pnet::download {
namespace {

constexpr size_t kMaxBlamedFiles = 256;
constexpr size_t kMaxBlamedPerFile = 1024;

template <typename Value>
void remember_bounded(std::map<std::string, std::set<Value>>& table, const std::string& key, const Value& value) {
  if (!table.count(key) && table.size() >= kMaxBlamedFiles) table.erase(table.begin());
  auto& values = table[key];
  if (values.size() < kMaxBlamedPerFile) values.insert(value);
}

struct ManifestHash {
  std::string hex;
  std::string error;
};

}  // namespace

void Downloader::activate_sources(Transfer& t) {
  if (t.phase != Phase::fetching) return;
  int live = t.live_sources();
  // Direct sources first: every byte of a relayed one also crosses the
  // relay, so it fills max_sources only when direct ones do not.
  for (auto path : {SourcePath::direct, SourcePath::unknown, SourcePath::relayed})
    for (auto& [id, s] : t.sources) {
      if (live >= settings_.max_sources) return;
      if (s.state != SourceState::standby || path_to(id) != path) continue;
      ++live;
      connect_source(t, s);
    }
}

Downloader::SourcePath Downloader::path_to(const std::string& node_id) {
  auto peer = host_.peer(node_id);
  if (!peer) return SourcePath::unknown;  // a dial tries the direct way first
  return peer->relayed_via.empty() ? SourcePath::direct : SourcePath::relayed;
}

void Downloader::connect_source(Transfer& t, Source& s) {
  s.state = SourceState::connecting;
  const std::string node = s.address.node_id;
  if (host_.peer(node)) return on_source_connected(t, s);
  host_.debug("download " + t.display_name() + ": connecting to source " + short_id(node) + " at " + s.address.host +
              ":" + std::to_string(s.address.port));
  auto done = [this, id = t.id, node](std::optional<std::string> peer_id, std::string error) {
    Transfer* t = find(id);
    if (!t || t->phase != Phase::fetching) return;
    auto it = t->sources.find(node);
    if (it == t->sources.end() || it->second.state != SourceState::connecting) return;
    if (!peer_id) return lose_source(*t, it->second, SourceState::gone, "cannot connect: " + error);
    if (*peer_id != node)
      return lose_source(*t, it->second, SourceState::dropped, "its address now belongs to node " + short_id(*peer_id));
    on_source_connected(*t, it->second);
  };
  // A source's address is what a search answer said: hearsay. Stored in the
  // peer store and dialed by id, it is checked like any address from the
  // network (numeric, nothing special, never resolved by DNS), spends the
  // node-wide budget of dials by id, and the dial is pinned to the id, so an
  // answer cannot aim this node at a third party's port.
  if (!s.address.host.empty() && s.address.port != 0) host_.remember_node(node, s.address.host, s.address.port);
  host_.connect_to(node, done);
}

void Downloader::on_source_connected(Transfer& t, Source& s) {
  auto peer = host_.peer(s.address.node_id);
  if (!peer) return lose_source(t, s, SourceState::gone, "disconnected");
  if (!peer->handles(kGetManifest) || !peer->handles(kGetChunk))
    return lose_source(t, s, SourceState::dropped, "it does not serve downloads");
  ask_manifest(t, s);
}

void Downloader::ask_manifest(Transfer& t, Source& s) {
  int64_t request = next_request_++;
  int status = host_.send(
      s.address.node_id, {{"type", kGetManifest}, {"id", request}, {"sha256", t.sha256}, {"chunk_size", t.chunk_size}});
  if (status != P2PNET_OK)
    return lose_source(t, s, SourceState::gone, "cannot send (status " + std::to_string(status) + ")");
  requests_[request] = PendingRequest{t.id, s.address.node_id, -1, Clock::now()};
  s.state = SourceState::asking;
}

void Downloader::lose_source(Transfer& t, Source& s, SourceState state, const std::string& reason) {
  const std::string& node = s.address.node_id;
  // Its outstanding requests will not be answered: their chunks go to others.
  drop_requests(
      t, [&](const PendingRequest& request) { return request.peer_id == node; }, Requeue::yes);
  s.state = state;
  s.reason = reason;
  if (state == SourceState::dropped) {
    release(t, node);
    host_.count("sources_dropped");
    host_.warn("download " + t.display_name() + ": not using source " + short_id(node) + ": " + reason);
  } else {
    host_.count("sources_lost");
    host_.info("download " + t.display_name() + ": lost source " + short_id(node) + ": " + reason);
  }
}

void Downloader::release(const Transfer& t, const std::string& peer_id) {
  if (host_.peer(peer_id)) host_.send(peer_id, {{"type", kRelease}, {"sha256", t.sha256}});
}

// --- Requests in flight --------------------------------------------------------

std::optional<Downloader::PendingRequest> Downloader::take_request(const PeerRef& peer, const json& header) {
  auto id = fields::integer(header, "id", 1, kMaxRequestId);
  auto it = id ? requests_.find(*id) : requests_.end();
  if (it == requests_.end() || it->second.peer_id != peer.id()) {
    host_.count("unexpected_answers");
    return std::nullopt;
  }
  PendingRequest request = std::move(it->second);
  requests_.erase(it);
  return request;
}

std::optional<Downloader::Answer> Downloader::take_answer(const PeerRef& peer, const json& header) {
  auto request = take_request(peer, header);
  if (!request) return std::nullopt;
  Transfer* t = find(request->transfer);
  if (!t) return std::nullopt;
  auto it = t->sources.find(request->peer_id);
  if (it == t->sources.end()) return std::nullopt;
  return Answer{std::move(*request), t, &it->second};
}

void Downloader::settle(Transfer& t, const PendingRequest& request, Requeue requeue_chunk) {
  if (request.chunk < 0) return;  // a manifest request holds no chunk
  --t.in_flight;
  if (auto it = t.sources.find(request.peer_id); it != t.sources.end()) --it->second.in_flight;
  if (requeue_chunk == Requeue::yes && t.phase == Phase::fetching) requeue(t, request.chunk);
}

void Downloader::drop_requests(Transfer& t, const std::function<bool(const PendingRequest&)>& which,
                               Requeue requeue_chunks) {
  for (auto it = requests_.begin(); it != requests_.end();) {
    if (it->second.transfer != t.id || !which(it->second)) {
      ++it;
      continue;
    }
    settle(t, it->second, requeue_chunks);
    it = requests_.erase(it);
  }
}

void Downloader::expire_requests() {
  auto limit = Clock::now() - std::chrono::milliseconds(settings_.request_timeout_ms);
  std::vector<std::pair<uint64_t, std::string>> late;
  for (const auto& [id, request] : requests_)
    if (request.sent < limit) late.emplace_back(request.transfer, request.peer_id);
  for (const auto& [transfer, peer_id] : late) {
    Transfer* t = find(transfer);
    if (!t) continue;
    auto it = t->sources.find(peer_id);
    if (it == t->sources.end() || !it->second.live()) continue;
    host_.count("requests_timed_out");
    lose_source(*t, it->second, SourceState::gone,
                "no answer within " + std::to_string(settings_.request_timeout_ms) + " ms");
  }
  // What is left belongs to transfers that ended or are forgotten.
  for (auto it = requests_.begin(); it != requests_.end();) {
    if (it->second.sent >= limit) {
      ++it;
      continue;
    }
    if (Transfer* t = find(it->second.transfer)) settle(*t, it->second, Requeue::yes);
    it = requests_.erase(it);
  }
}

// --- Answers --------------------------------------------------------------------

void Downloader::on_manifest(const PeerRef& peer, const Message& message) {
  auto answer = take_answer(peer, message.header);
  if (!answer || !answer->transfer->active()) return;
  Transfer* t = answer->transfer;
  Source& s = *answer->source;
  if (answer->request.chunk != -1) {
    settle(*t, answer->request, Requeue::yes);
    lose_source(*t, s, SourceState::dropped, "it answered a chunk request with a manifest");
    return pump(*t);
  }
  if (s.state != SourceState::asking) return;
  const auto& h = message.header;
  auto sha256 = fields::string(h, "sha256", 64);
  auto size = fields::integer(h, "size", 0, kMaxFileSize);
  auto chunk_size = fields::integer(h, "chunk_size", kMinChunkSize, kMaxChunkSize);
  auto chunks = fields::integer(h, "chunks", 0, kMaxChunks);
  if (!sha256 || *sha256 != t->sha256 || !size || !chunk_size || *chunk_size != t->chunk_size || !chunks ||
      *chunks != chunk_count(*size, *chunk_size) || message.body.size() != static_cast<size_t>(*chunks) * kDigestSize) {
    host_.count("malformed_manifests");
    return lose_source(*t, s, SourceState::dropped, "malformed manifest");
  }
  // The size a search answer gave is a hint, not proof: the answer may be a
  // liar's. A manifest of another size is one more competing manifest below,
  // kept in reserve, never a reason to drop a source that may be the honest one.
  std::string digests(reinterpret_cast<const char*>(message.body.data()), message.body.size());
  const bool first = t->manifest == ManifestState::none;
  if (!first && (*size != t->size || digests != t->digests)) {
    // Not proof that it lies: the adopted manifest may be the wrong one.
    host_.count("manifest_mismatches");
    host_.info("download " + t->display_name() + ": source " + short_id(s.address.node_id) +
               " serves another manifest; kept in reserve in case the adopted one proves wrong");
    s.state = SourceState::disagrees;
    s.has_manifest = false;
    return;
  }
  s.state = SourceState::ready;  // chunks are asked for once the manifest is adopted
  s.has_manifest = true;
  if (first) {
    // The first manifest is the one every chunk and every other source is
    // checked against. Its own hash (for the record) is computed off the callback.
    t->manifest = ManifestState::adopting;
    t->size = *size;
    t->chunks = *chunks;
    t->digests = std::move(digests);
    run_in_background(
        host_,
        [digests = std::make_shared<const std::string>(t->digests)] {
          return ManifestHash{to_hex(sha256_of(*digests)), ""};
        },
        [this, id = t->id](ManifestHash hash) { adopt_manifest(id, hash.hex); });
    return;
  }
  maybe_finish(*t);
  pump(*t);
}

void Downloader::on_error(const PeerRef& peer, const Message& message) {
  auto answer = take_answer(peer, message.header);
  if (!answer || !answer->transfer->active()) return;
  Transfer* t = answer->transfer;
  Source& s = *answer->source;
  settle(*t, answer->request, Requeue::yes);
  auto code = fields::string(message.header, "code", kMaxErrorCode).value_or("");
  auto text = fields::string(message.header, "message", kMaxErrorMessage).value_or("");
  text = printable(text);
  if (code == kErrorBusy) {
    host_.count("busy_answers");
    if (s.live()) {
      s.state = SourceState::waiting;
      s.retry_at = Clock::now() + std::chrono::milliseconds(settings_.busy_retry_ms);
    }
    return pump(*t);
  }
  if (code == kErrorTooLarge)
    return fail(*t, "chunks of " + std::to_string(t->chunk_size) +
                        " bytes do not fit the frames between this node and " + short_id(s.address.node_id) + " (" +
                        text + "); lower chunk_size");
  bool known = code == kErrorUnknown || code == kErrorUnavailable || code == kErrorBadRequest;
  lose_source(*t, s, SourceState::dropped,
              "it answered " + (known ? code : std::string("an error")) + (text.empty() ? "" : ": " + text));
  pump(*t);
}

void Downloader::on_peer_disconnected(const std::string& peer_id) {
  for (auto& [id, transfer] : transfers_) {
    Transfer& t = *transfer;
    if (!t.active()) continue;
    auto it = t.sources.find(peer_id);
    if (it == t.sources.end()) continue;
    auto state = it->second.state;
    if (state == SourceState::asking || state == SourceState::ready || state == SourceState::waiting ||
        state == SourceState::disagrees) {
      lose_source(t, it->second, SourceState::gone, "disconnected");
      pump(t);
    }
  }
}

// --- The manifest -----------------------------------------------------------------

void Downloader::adopt_manifest(uint64_t id, const std::string& manifest_sha256) {
  Transfer* found = find(id);
  if (!found || !found->active() || found->manifest != ManifestState::adopting) return;
  Transfer& t = *found;
  if (manifest_sha256.empty()) return fail(t, "cannot compute SHA-256 (OpenSSL failed)");
  if (auto wrong = wrong_manifests_.find(t.sha256);
      wrong != wrong_manifests_.end() && wrong->second.count(manifest_sha256)) {
    host_.count("wrong_manifests_refused");
    return give_up_manifest(t, true, "it serves a manifest already proven wrong for this file");
  }
  const int64_t size = t.size;
  const int64_t chunks = t.chunks;
  t.manifest = ManifestState::adopted;
  t.manifest_sha256 = manifest_sha256;
  t.chunk_states.assign(static_cast<size_t>(chunks), ChunkState::missing);
  if (t.expected_size < 0) t.expected_size = size;
  if (!t.previous_digests.empty() && t.previous_states.size() == static_cast<size_t>(chunks) &&
      t.previous_digests.size() == t.digests.size()) {
    // Written under a manifest given up since: a chunk whose hash this one
    // repeats is the same data, whoever sent it.
    for (int64_t i = 0; i < chunks; ++i) {
      const auto at = static_cast<size_t>(i) * kDigestSize;
      if (t.previous_states[static_cast<size_t>(i)] != ChunkState::written ||
          t.previous_digests.compare(at, kDigestSize, t.digests, at, kDigestSize) != 0)
        continue;
      t.chunk_states[static_cast<size_t>(i)] = ChunkState::written;
      ++t.written;
      t.bytes_written += chunk_length(size, t.chunk_size, i);
    }
    host_.count("chunks_kept_across_manifests", t.written);
    t.resume.reset();
  }
  t.previous_digests.clear();
  t.previous_states.clear();
  if (t.resume) {
    const PartRecord& record = *t.resume;
    if (record.size == size && record.chunk_size == t.chunk_size && record.manifest_sha256 == t.manifest_sha256) {
      for (int64_t i = 0; i < chunks; ++i) {
        if (!record.verified[static_cast<size_t>(i)]) continue;
        t.chunk_states[static_cast<size_t>(i)] = ChunkState::written;
        ++t.written;
        t.bytes_written += chunk_length(size, t.chunk_size, i);
      }
      t.resumed_chunks = t.written;
      if (t.written > 0)
        say(t, "resuming " + t.paths.name + ": " + std::to_string(t.written) + " of " + counted(chunks, "chunk") +
                   " already verified");
      host_.count("chunks_resumed", t.written);
    } else if (record.verified_count() > 0) {
      say(t, t.paths.name + ".part was recorded against another manifest; starting over");
    }
    t.resume.reset();
  }
  t.record_dirty = true;
  hash_ahead(t);
  maybe_finish(t);
  pump(t);
}

bool Downloader::is_blamed(const std::string& sha256, const std::string& node_id) const {
  auto it = blamed_sources_.find(sha256);
  return it != blamed_sources_.end() && it->second.count(node_id) > 0;
}

void Downloader::give_up_manifest(Transfer& t, bool blame, const std::string& reason) {
  std::vector<std::string> blamed;
  for (auto& [id, s] : t.sources) {
    if (!s.has_manifest) continue;
    s.has_manifest = false;
    if (!blame) continue;
    blamed.push_back(id);
    remember_bounded(blamed_sources_, t.sha256, id);
    host_.count("sources_blamed");
    if (s.live())
      lose_source(t, s, SourceState::dropped, reason);
    else
      s.state = SourceState::dropped;
  }
  if (blame && !t.manifest_sha256.empty()) {
    remember_bounded(wrong_manifests_, t.sha256, t.manifest_sha256);
    // The end check removed the record; one that trusts no chunk takes its
    // place, so that a retry reuses NAME.part (under its name) and fetches
    // every chunk again. Failing that, no record at all is as safe.
    if (t.file && !t.record_busy) {
      PartRecord nothing_verified{t.sha256, t.size, t.chunk_size, t.manifest_sha256,
                                  std::vector<bool>(static_cast<size_t>(t.chunks), false)};
      t.record_busy = true;
      run_in_background(
          host_,
          [file = t.file, path = t.paths.record, record = std::move(nothing_verified)] {
            return JobError{write_record(*file, path, record)};
          },
          [this, id = t.id](JobError) {
            if (Transfer* t = find(id)) {
              t->record_busy = false;
              flush_record(*t);
            }
          });
    }
  }
  if (blame && !blamed.empty()) {
    std::string names;
    for (const auto& id : blamed) names += (names.empty() ? "" : ", ") + short_id(id);
    t.blame_note = " (source " + names + " served a wrong manifest and is not used again for this file)";
    host_.warn("download " + t.display_name() + ": blaming source " + names + ": " + reason +
               "; fetching from other sources");
  }
  if (t.has_manifest()) {
    t.previous_digests = std::move(t.digests);
    t.previous_states = std::move(t.chunk_states);
  }
  // Chunk requests under the old manifest are void; manifest requests stand.
  drop_requests(
      t, [](const PendingRequest& request) { return request.chunk >= 0; }, Requeue::no);
  t.manifest = ManifestState::none;
  t.digests.clear();
  t.manifest_sha256.clear();
  t.chunk_states.clear();
  t.chunks = 0;
  t.written = 0;
  t.bytes_written = 0;
  t.cursor = 0;
  t.retry.clear();
  t.bad_from.clear();
  t.prefix_hash.reset();
  t.hashed_chunks = 0;
  t.prefix_hash_state = PrefixHashState::idle;
  t.record_dirty = false;
  t.finish_rounds = 0;
  // The reserve: the first of them to answer again is adopted next.
  for (auto& [id, s] : t.sources)
    if (s.state == SourceState::disagrees) ask_manifest(t, s);
  activate_sources(t);
}

// The adopted manifest's sources are all gone while others, serving another
// manifest, wait in reserve: use those rather than search (nothing is blamed).
void Downloader::give_up_orphaned_manifest(Transfer& t) {
  if (t.phase != Phase::fetching || !t.has_manifest() || t.disk_jobs_running()) return;
  bool adopted_live = false, reserve = false;
  for (const auto& [id, s] : t.sources) {
    adopted_live = adopted_live || (s.has_manifest && s.live());
    reserve = reserve || s.state == SourceState::disagrees;
  }
  if (!adopted_live && reserve) give_up_manifest(t, false, "");
}

}  // namespace p2pnet::download
