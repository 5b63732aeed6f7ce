#include "downloader.hpp"

#include "existing_copy.hpp"
#include "file_names.hpp"

#include <p2pnet/counted.hpp>
#include <p2pnet/printable.hpp>

#include "progress_format.hpp"
#include "protocol.hpp"
#include "sha256.hpp"
#include "transfer_events.hpp"

#include <p2pnet/fields.hpp>

#include <algorithm>
#include <cstring>
#include <tuple>

namespace p2pnet::download {

namespace {

constexpr int kMaxBadChunksPerSource = 3;
constexpr size_t kMaxKnownSourcesPerTransfer = 64;
constexpr size_t kMaxFinishedTransfers = 50;
constexpr size_t kMaxUnendedTransfers = 1000;
constexpr int kMaxFinishRounds = 2;
constexpr auto kProgressInterval = std::chrono::milliseconds(500);
constexpr auto kRecordInterval = std::chrono::seconds(1);
constexpr auto kSpeedSampleInterval = std::chrono::milliseconds(500);
// Programs following the node's events get each running transfer this often.
constexpr auto kProgressEventInterval = std::chrono::seconds(1);
constexpr int64_t kHashStepBytes = 8 * 1024 * 1024;
constexpr size_t kMaxBlamedFiles = 256;
constexpr size_t kMaxBlamedPerFile = 1024;

template <typename Value>
void remember_bounded(std::map<std::string, std::set<Value>>& table, const std::string& key, const Value& value) {
  if (!table.count(key) && table.size() >= kMaxBlamedFiles) table.erase(table.begin());
  auto& values = table[key];
  if (values.size() < kMaxBlamedPerFile) values.insert(value);
}

std::string short_id(const std::string& id) { return id.substr(0, 12); }

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

int64_t Downloader::choose_chunk_size(int64_t size) const {
  int64_t chunk_size = settings_.chunk_size;
  while (size > 0 && chunk_count(size, chunk_size) > kMaxChunks && chunk_size < kMaxChunkSize)
    chunk_size = std::min(chunk_size * 2, kMaxChunkSize);
  return chunk_size;
}

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
  auto result = std::make_shared<PreparedPart>();
  auto dir = settings_.download_dir;
  auto name = t.wanted_name;
  auto sha256 = t.sha256;
  std::optional<CopyCandidates> copies;
  if (!t.force) {
    copies.emplace();
    copies->download_dir = dir;
    copies->size = t.expected_size;
    copies->private_dir = host_.data_dir();
    if (index_) {
      copies->shared_dir = index_->shared_dir;
      for (const auto* file : index_->find(sha256)) copies->indexed.push_back(*file);
    }
  }
  host_.background(
      [result, dir, name, sha256, copies] {
        try {
          if (copies) result->existing_copy = find_existing_copy(*copies, sha256);
          if (!result->existing_copy.empty()) return;
          *result = prepare_part(dir, name, sha256);
        } catch (const std::exception& e) {
          result->error = e.what();
        }
      },
      [this, id = t.id, result] { on_prepared(id, std::move(*result)); });
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

// --- Sources ----------------------------------------------------------------

void Downloader::activate_sources(Transfer& t) {
  if (t.phase != Phase::fetching) return;
  int live = t.live_sources();
  for (auto& [id, s] : t.sources) {
    if (live >= settings_.max_sources) break;
    if (s.state != SourceState::standby) continue;
    ++live;
    connect_source(t, s);
  }
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
  for (auto it = requests_.begin(); it != requests_.end();) {
    if (it->second.transfer != t.id || it->second.peer_id != node) {
      ++it;
      continue;
    }
    if (it->second.chunk >= 0) {
      --t.in_flight;
      if (t.phase == Phase::fetching) requeue(t, it->second.chunk);
    }
    it = requests_.erase(it);
  }
  s.in_flight = 0;
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

void Downloader::adopt_manifest(uint64_t id, const std::string& manifest_sha256) {
  Transfer* found = find(id);
  if (!found || !found->active() || !found->adopting) return;
  Transfer& t = *found;
  if (manifest_sha256.empty()) return fail(t, "cannot compute SHA-256 (OpenSSL failed)");
  if (auto wrong = wrong_manifests_.find(t.sha256);
      wrong != wrong_manifests_.end() && wrong->second.count(manifest_sha256)) {
    host_.count("wrong_manifests_refused");
    return give_up_manifest(t, true, "it serves a manifest already proven wrong for this file");
  }
  const int64_t size = t.size;
  const int64_t chunks = t.chunks;
  t.adopting = false;
  t.has_manifest = true;
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

// --- Answers from sources -----------------------------------------------------

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

void Downloader::on_manifest(const PeerRef& peer, const Message& message) {
  auto request = take_request(peer, message.header);
  if (!request) return;
  Transfer* t = find(request->transfer);
  if (!t || !t->active()) return;
  auto it = t->sources.find(request->peer_id);
  if (it == t->sources.end()) return;
  Source& s = it->second;
  if (request->chunk != -1) {
    --s.in_flight;
    --t->in_flight;
    if (t->phase == Phase::fetching) requeue(*t, request->chunk);
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
  const bool first = !t->has_manifest && !t->adopting;
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
    t->adopting = true;
    t->size = *size;
    t->chunks = *chunks;
    t->digests = std::move(digests);
    auto copy = std::make_shared<const std::string>(t->digests);
    auto hex = std::make_shared<std::string>();
    host_.background(
        [copy, hex] {
          try {
            *hex = to_hex(sha256_of(*copy));
          } catch (const std::exception&) {
            hex->clear();  // reported by adopt_manifest
          }
        },
        [this, id = t->id, hex] { adopt_manifest(id, *hex); });
    return;
  }
  maybe_finish(*t);
  pump(*t);
}

void Downloader::on_chunk(const PeerRef& peer, const Message& message) {
  auto request = take_request(peer, message.header);
  if (!request) return;
  Transfer* t = find(request->transfer);
  if (!t) return;
  auto it = t->sources.find(request->peer_id);
  if (it == t->sources.end()) return;
  Source& s = it->second;
  if (request->chunk < 0) {
    if (t->active()) lose_source(*t, s, SourceState::dropped, "it answered a manifest request with a chunk");
    return;
  }
  --s.in_flight;
  --t->in_flight;
  if (t->phase != Phase::fetching) return;
  const int64_t chunk = request->chunk;
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
  struct Check {
    std::string data;
    std::string expected;
    bool matches = false;
    std::string error;
  };
  auto check = std::make_shared<Check>();
  check->data.assign(reinterpret_cast<const char*>(message.body.data()), message.body.size());
  check->expected = t->digests.substr(static_cast<size_t>(chunk) * kDigestSize, kDigestSize);
  auto file = t->file;
  const int64_t offset = chunk * t->chunk_size;
  host_.background(
      [check, file, offset] {
        try {
          Digest digest = sha256_of(check->data);
          check->matches = std::memcmp(digest.data(), check->expected.data(), kDigestSize) == 0;
          if (check->matches) check->error = file->write(offset, check->data.data(), check->data.size());
        } catch (const std::exception& e) {
          check->error = e.what();
        }
      },
      [this, id = t->id, chunk, source = s.address.node_id, check] {
        on_chunk_checked(id, chunk, source, check->matches, std::move(check->error));
      });
  pump(*t);
}

void Downloader::on_chunk_checked(uint64_t id, int64_t chunk, const std::string& source_id, bool matches,
                                  std::string error) {
  Transfer* t = find(id);
  if (!t) return;
  --t->verifying;
  // The manifest it was checked against may have been given up meanwhile.
  const bool paused = t->phase == Phase::paused || t->phase == Phase::queued;
  if ((t->phase != Phase::fetching && !paused) || !t->has_manifest ||
      static_cast<size_t>(chunk) >= t->chunk_states.size())
    return;
  auto& state = t->chunk_states[static_cast<size_t>(chunk)];
  if (!error.empty() || (paused && !matches)) {
    state = ChunkState::missing;
    return error.empty() || paused ? void() : fail(*t, error);
  }
  if (paused) {  // it reached NAME.part before the pause took hold: keep it
    state = ChunkState::written;
    ++t->written;
    t->bytes_written += chunk_length(t->size, t->chunk_size, chunk);
    t->record_dirty = true;
    return;
  }
  if (!matches) {
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

// Hashes the written chunks right after the hashed prefix, reading them back
// from NAME.part (still in the page cache), kHashStepBytes at a time (the
// last step shorter), one step at a time. The end then only compares.
void Downloader::hash_ahead(Transfer& t) {
  if (t.hashing || t.prefix_hash_failed || !t.has_manifest || !t.file || t.phase != Phase::fetching) return;
  int64_t end = t.hashed_chunks;
  const int64_t step_end = std::min(t.chunks, t.hashed_chunks + std::max<int64_t>(1, kHashStepBytes / t.chunk_size));
  while (end < step_end && t.chunk_states[static_cast<size_t>(end)] == ChunkState::written) ++end;
  if (end == t.hashed_chunks || end < step_end) return;
  struct Step {
    std::unique_ptr<Sha256> hash;
    std::string error;
  };
  auto step = std::make_shared<Step>();
  step->hash = std::move(t.prefix_hash);
  t.hashing = true;
  const int64_t from = t.hashed_chunks * t.chunk_size;
  const int64_t to = std::min(t.size, end * t.chunk_size);
  host_.background(
      [step, file = t.file, from, to] {
        try {
          if (!step->hash) step->hash = std::make_unique<Sha256>();
          step->error = hash_range(*file, from, to, *step->hash);
        } catch (const std::exception& e) {
          step->error = e.what();
        }
      },
      [this, id = t.id, step, end] {
        Transfer* t = find(id);
        if (!t) return;
        t->hashing = false;
        if (!step->error.empty()) {
          // Not fatal: the end reads the whole file again and reports what it finds.
          host_.debug("download " + t->display_name() + ": hashing ahead stopped: " + step->error);
          t->prefix_hash_failed = true;
        } else {
          t->prefix_hash = std::move(step->hash);
          t->hashed_chunks = end;
        }
        hash_ahead(*t);
        maybe_finish(*t);
      });
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

void Downloader::on_error(const PeerRef& peer, const Message& message) {
  auto request = take_request(peer, message.header);
  if (!request) return;
  Transfer* t = find(request->transfer);
  if (!t || !t->active()) return;
  auto it = t->sources.find(request->peer_id);
  if (it == t->sources.end()) return;
  Source& s = it->second;
  if (request->chunk >= 0) {
    --s.in_flight;
    --t->in_flight;
    if (t->phase == Phase::fetching) requeue(*t, request->chunk);
  }
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
  // Requests of finished transfers are simply forgotten.
  for (auto it = requests_.begin(); it != requests_.end();)
    it = it->second.sent < limit ? requests_.erase(it) : std::next(it);
}

// --- Requesting chunks ----------------------------------------------------------

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
  if (t.phase != Phase::fetching || !t.has_manifest || stopping_) return;
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

// --- The record, the end -----------------------------------------------------------

void Downloader::flush_record(Transfer& t) {
  if (t.record_busy || !t.record_dirty || !t.has_manifest || !t.file) return;
  PartRecord record{t.sha256, t.size, t.chunk_size, t.manifest_sha256, {}};
  record.verified.reserve(t.chunk_states.size());
  for (auto state : t.chunk_states) record.verified.push_back(state == ChunkState::written);
  t.record_dirty = false;
  t.recorded_at = Clock::now();
  if (stopping_) {
    // The last record of a stopping node: the node takes no new background
    // work once its plugins are being destroyed, so a write handed to it now
    // could be dropped and the chunks verified since the last record fetched
    // again after a restart. One small file, once, at shutdown: written here.
    if (auto error = write_record(*t.file, t.paths.record, record); !error.empty())
      host_.warn("download " + t.display_name() + ": " + error);
    return;
  }
  t.record_busy = true;
  auto error = std::make_shared<std::string>();
  auto file = t.file;
  auto path = t.paths.record;
  host_.background(
      [error, file, path, record = std::move(record)] {
        try {
          *error = write_record(*file, path, record);
        } catch (const std::exception& e) {
          *error = e.what();
        }
      },
      [this, id = t.id, error] {
        Transfer* t = find(id);
        if (!t) return;
        t->record_busy = false;
        if (!error->empty()) {
          if (t->phase == Phase::fetching) return fail(*t, *error);
          return host_.warn("download " + t->display_name() + ": " + *error);
        }
        if ((t->phase == Phase::failed || t->phase == Phase::cancelled) && t->record_dirty) return flush_record(*t);
        maybe_finish(*t);
      });
}

void Downloader::maybe_finish(Transfer& t) {
  if (t.phase != Phase::fetching || !t.has_manifest || t.written < t.chunks || t.verifying > 0 || t.record_busy ||
      t.hashing)
    return;
  if (!t.prefix_hash_failed && t.hashed_chunks < t.chunks) {
    hash_ahead(t);  // its end calls maybe_finish again
    if (t.hashing) return;
  }
  std::string hashed;
  if (!t.prefix_hash_failed && t.hashed_chunks == t.chunks && t.prefix_hash) {
    try {
      hashed = to_hex(t.prefix_hash->finish());
    } catch (const std::exception&) {
      hashed.clear();  // finish_part reads the file instead
    }
  }
  // Whatever the end finds, a new round (chunks fetched again) hashes from the start.
  t.prefix_hash.reset();
  t.hashed_chunks = 0;
  t.prefix_hash_failed = false;
  t.phase = Phase::finishing;
  PartRecord record{t.sha256, t.size, t.chunk_size, t.manifest_sha256, std::vector<bool>(t.chunk_states.size(), true)};
  auto result = std::make_shared<FinishedPart>();
  auto file = t.file;
  auto dir = settings_.download_dir;
  auto paths = t.paths;
  host_.background(
      [result, file, dir, paths, record = std::move(record), digests = t.digests, hashed] {
        try {
          result->error = write_record(*file, paths.record, record);
          if (!result->error.empty()) return;
          *result = finish_part(*file, dir, paths, record.size, record.chunk_size, digests, record.sha256, hashed);
          // Every chunk matches the manifest, yet the file does not match its
          // hash: the manifest itself is wrong, so its record is worthless.
          if (result->error.empty() && !result->verified && result->bad_chunks.empty()) ::unlink(paths.record.c_str());
        } catch (const std::exception& e) {
          result->error = e.what();
        }
      },
      [this, id = t.id, result] { on_finished(id, std::move(*result)); });
}

void Downloader::on_finished(uint64_t id, FinishedPart finished) {
  Transfer* t = find(id);
  if (!t || t->phase != Phase::finishing) return;
  t->phase = Phase::fetching;
  if (!finished.error.empty()) return fail(*t, finished.error);
  if (finished.verified) return succeed(*t, finished.saved.string());
  if (!finished.bad_chunks.empty() && ++t->finish_rounds <= kMaxFinishRounds) {
    host_.warn("download " + t->display_name() + ": " + std::to_string(finished.bad_chunks.size()) +
               " chunks of the .part no longer match the manifest; fetching them again");
    for (int64_t chunk : finished.bad_chunks) {
      --t->written;
      t->bytes_written -= chunk_length(t->size, t->chunk_size, chunk);
      host_.count("chunks_rejected");
      requeue(*t, chunk);
    }
    t->record_dirty = true;
    return pump(*t);
  }
  // Every chunk matched the manifest, the file does not match its hash: the
  // manifest is wrong, and so are the sources that served it. The record was
  // removed with the end check and is not written again for that manifest.
  host_.count("manifests_proven_wrong");
  give_up_manifest(*t, true,
                   "every chunk matched its manifest, yet the file does not match sha256 " + t->sha256.substr(0, 16));
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
    // every chunk again.
    if (t.file && !t.record_busy) {
      PartRecord nothing_verified{t.sha256, t.size, t.chunk_size, t.manifest_sha256,
                                  std::vector<bool>(static_cast<size_t>(t.chunks), false)};
      t.record_busy = true;
      host_.background(
          [file = t.file, path = t.paths.record, record = std::move(nothing_verified)] {
            try {
              write_record(*file, path, record);
            } catch (const std::exception&) {  // no record at all is as safe
            }
          },
          [this, id = t.id] {
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
  if (t.has_manifest) {
    t.previous_digests = std::move(t.digests);
    t.previous_states = std::move(t.chunk_states);
  }
  // Chunk requests under the old manifest are void; manifest requests stand.
  for (auto it = requests_.begin(); it != requests_.end();) {
    if (it->second.transfer == t.id && it->second.chunk >= 0) {
      it = requests_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& [id, s] : t.sources) s.in_flight = 0;
  t.in_flight = 0;
  t.adopting = false;
  t.has_manifest = false;
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
  t.prefix_hash_failed = false;
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
  if (t.phase != Phase::fetching || !t.has_manifest || t.verifying > 0 || t.hashing || t.record_busy) return;
  bool adopted_live = false, reserve = false;
  for (const auto& [id, s] : t.sources) {
    adopted_live = adopted_live || (s.has_manifest && s.live());
    reserve = reserve || s.state == SourceState::disagrees;
  }
  if (!adopted_live && reserve) give_up_manifest(t, false, "");
}

std::string Downloader::kept_part_note(const Transfer& t) const {
  if (!t.file) return "";
  std::string verified = t.has_manifest ? std::to_string(t.written) + " of " + std::to_string(t.chunks) : "0";
  return " (" + t.paths.part.string() + " kept, " + verified + " chunks verified; run download again to resume)";
}

void Downloader::fail(Transfer& t, const std::string& reason) {
  if (!t.active()) return;
  halt(t);
  t.phase = Phase::failed;
  t.record_dirty = t.has_manifest;
  flush_record(t);
  host_.count("downloads_failed");
  end(t, "error: " + reason + kept_part_note(t), 1);
}

void Downloader::succeed(Transfer& t, const std::string& saved_path) {
  t.phase = Phase::saved;
  for (auto& [id, s] : t.sources)
    if (s.live()) release(t, id);
  host_.count("downloads_saved");
  end(t, "saved " + saved_path + " (" + std::to_string(t.size) + " bytes, sha256 verified)", 0);
}

void Downloader::end(Transfer& t, const std::string& line, int status) {
  t.stop_clock(Clock::now());
  t.outcome = line;
  if (t.command) {
    t.command->print(line);
    t.command->done(status);
    t.command.reset();
  } else {
    host_.print(line);
  }
  remember_ended(t);
}

void Downloader::say(Transfer& t, const std::string& line) {
  if (t.command)
    t.command->print(line);
  else
    host_.print(line);
}

// --- Time ---------------------------------------------------------------------------

void Downloader::show_progress(Transfer& t, Clock::time_point now) {
  if (now - t.sampled_at >= kSpeedSampleInterval) {
    double seconds = std::chrono::duration<double>(now - t.sampled_at).count();
    double current = static_cast<double>(t.bytes_this_run - t.sampled_bytes) / seconds;
    t.speed = t.speed == 0 ? current : 0.6 * t.speed + 0.4 * current;
    t.sampled_bytes = t.bytes_this_run;
    t.sampled_at = now;
  }
  if (!t.command || now - t.printed_at < kProgressInterval) return;
  t.printed_at = now;
  int sources = 0;
  for (const auto& [id, s] : t.sources) sources += s.state == SourceState::ready || s.state == SourceState::asking;
  switch (t.phase) {
    case Phase::searching:
      return t.command->progress(t.display_name() + "  searching for sources");
    case Phase::preparing:
      return;
    case Phase::finishing:
      return t.command->progress(t.display_name() + "  checking sha256");
    case Phase::fetching:
      if (!t.has_manifest) return t.command->progress(t.display_name() + "  asking " + count_sources(t.live_sources()));
      return t.command->progress(progress_line({t.display_name(), t.bytes_written, t.size, t.speed, sources}));
    default:
      return;
  }
}

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
  if (now - status_at_ >= kProgressInterval) {
    status_at_ = now;
    show_status();
  }
  if (now - progress_events_at_ >= kProgressEventInterval) {
    progress_events_at_ = now;
    for (const auto& [id, t] : transfers_)
      if (t->active()) host_.publish_public(kProgressEvent, progress_event(*t));
  }
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
