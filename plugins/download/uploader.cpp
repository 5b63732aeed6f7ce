#include "uploader.hpp"

#include "progress_format.hpp"

#include <p2pnet/counted.hpp>
#include <p2pnet/printable.hpp>

#include "common/chunk_hasher.hpp"
#include "common/chunk_manifest.hpp"
#include "common/sha256.hpp"
#include "protocol.hpp"

#include <p2pnet/fields.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <unistd.h>

namespace p2pnet::download {

namespace {

constexpr size_t kMaxCachedManifests = 32;
constexpr size_t kMaxQueuedManifests = 16;
constexpr size_t kMaxWaitersPerManifest = 64;

// Reads exactly `length` bytes at `offset`; "" or an error.
std::string read_exactly(int fd, int64_t offset, char* out, int64_t length) {
  int64_t done = 0;
  while (done < length) {
    ssize_t got = ::pread(fd, out + done, static_cast<size_t>(length - done), offset + done);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return std::strerror(errno);
    if (got == 0) return "file is shorter than indexed";
    done += got;
  }
  return "";
}

}  // namespace

struct ManifestJob {
  std::vector<IndexedFile> candidates;
  std::filesystem::path shared_dir;
  std::filesystem::path private_dir;
  std::filesystem::path manifest_dir;  // where the search plugin stores manifests; empty: none
  std::string sha256;
  int64_t chunk_size = 0;
  bool poison = false;  // test only: serve it whatever its content hashes to
  // Results.
  IndexedFile file;
  std::string digests;
  bool from_index = false;     // taken from what indexing computed, not by hashing the file now
  std::string stored_problem;  // why a stored manifest was refused
  OpenFailure failure = OpenFailure::missing;
  std::string error;
};

namespace {

// Serves from the first indexed copy of the file that opens and that `use`
// accepts: `use(candidate, fd)` returns "" once it has what it wants from that
// copy, or why the copy has changed. The last copy's reason stays in the job.
template <typename Job, typename Use>
void use_first_good_copy(Job& job, Use use) {
  for (const auto& candidate : job.candidates) {
    auto opened = open_indexed_file(job.shared_dir, candidate, job.private_dir);
    if (!opened) {
      job.failure = opened.failure;
      job.error = opened.detail;
      continue;
    }
    if (auto error = use(candidate, opened.fd.get()); !error.empty()) {
      job.failure = OpenFailure::changed;
      job.error = candidate.path + ": " + error;
      continue;
    }
    job.failure = OpenFailure::none;
    return;
  }
}

// Hashes one indexed file chunk by chunk and as a whole: a manifest is only
// given for a file that still has the requested SHA-256.
void compute_manifest(ManifestJob& job) {
  use_first_good_copy(job, [&job](const IndexedFile& candidate, int fd) -> std::string {
    Sha256 whole;
    ChunkHasher chunks(job.chunk_size);
    std::vector<char> buffer(
        static_cast<size_t>(std::min<int64_t>(job.chunk_size, std::max<int64_t>(candidate.size, 1))));
    for (int64_t i = 0; i < chunk_count(candidate.size, job.chunk_size); ++i) {
      int64_t length = chunk_length(candidate.size, job.chunk_size, i);
      if (auto error = read_exactly(fd, i * job.chunk_size, buffer.data(), length); !error.empty()) return error;
      whole.update(buffer.data(), static_cast<size_t>(length));
      chunks.update(buffer.data(), static_cast<size_t>(length));
    }
    if (to_hex(whole.finish()) != job.sha256 && !job.poison) return "content no longer matches its indexed sha256";
    job.file = candidate;
    job.digests = chunks.finish();
    return "";
  });
}

// What indexing already knows, without reading the file: a file of at most
// one chunk has its whole-file hash as its one chunk hash, and a longer one
// may have a manifest stored by the search plugin, made for this very
// version of the file (size and mtime). Either is given only for a copy that
// still opens unchanged, like any other answer.
bool take_indexed_manifest(ManifestJob& job) {
  if (job.poison) return false;  // the poisoning test serves a manifest of the real content
  std::optional<ChunkManifest> stored;
  if (!job.candidates.empty() && chunk_count(job.candidates.front().size, job.chunk_size) > 1) {
    if (job.manifest_dir.empty()) return false;
    auto load = load_chunk_manifest(job.manifest_dir, job.sha256);
    if (!load.manifest) {
      job.stored_problem = load.problem;
      return false;
    }
    if (load.manifest->chunk_size != job.chunk_size) return false;  // made for the default size, not this one
    stored = std::move(load.manifest);
  }
  use_first_good_copy(job, [&job, &stored](const IndexedFile& candidate, int) -> std::string {
    if (stored && (stored->size != candidate.size || stored->mtime != candidate.mtime))
      return "its stored manifest was made for another version of it";
    job.file = candidate;
    if (stored) {
      job.digests = stored->digests;
    } else if (candidate.size > 0) {
      auto digest = digest_from_hex(job.sha256);
      if (!digest) return "a bad sha256";
      job.digests.assign(reinterpret_cast<const char*>(digest->data()), digest->size());
    }
    return "";
  });
  if (job.failure != OpenFailure::none) {
    if (stored && job.failure == OpenFailure::changed) job.stored_problem = job.error;
    job.digests.clear();
    return false;
  }
  job.from_index = true;
  return true;
}

void find_manifest(ManifestJob& job) {
  if (!take_indexed_manifest(job)) compute_manifest(job);
}

struct ChunkJob {
  std::vector<IndexedFile> candidates;
  std::filesystem::path shared_dir;
  std::filesystem::path private_dir;
  int64_t chunk_size = 0;
  int64_t index = 0;
  std::string data;
  OpenFailure failure = OpenFailure::missing;
  std::string error;
};

void read_chunk(ChunkJob& job) {
  use_first_good_copy(job, [&job](const IndexedFile& candidate, int fd) {
    int64_t length = chunk_length(candidate.size, job.chunk_size, job.index);
    job.data.resize(static_cast<size_t>(length));
    return read_exactly(fd, job.index * job.chunk_size, job.data.data(), length);
  });
}

}  // namespace

bool Uploader::take_upload_slot(const std::string& peer_id, const std::string& sha256) {
  auto key = std::make_pair(peer_id, sha256);
  auto it = uploads_.find(key);
  if (it == uploads_.end()) {
    if (uploads_.size() >= static_cast<size_t>(settings_.max_uploads)) return false;
    // One peer may not take every slot by asking for many files at once.
    const int64_t per_peer = std::max<int64_t>(1, settings_.max_uploads / 2);
    int64_t held = 0;
    for (auto slot = uploads_.lower_bound({peer_id, ""}); slot != uploads_.end() && slot->first.first == peer_id;
         ++slot)
      ++held;
    if (held >= per_peer) return false;
    host_.count("uploads_started");
    const auto now = Clock::now();
    it = uploads_.emplace(key, UploadSlot{now, now, 0, 0, now, 0}).first;
  }
  it->second.last_request = Clock::now();
  return true;
}

void Uploader::reply_error(const std::string& peer_id, int64_t request_id, const std::string& sha256, const char* code,
                           const std::string& text) {
  host_.send(peer_id, {{"type", kError}, {"id", request_id}, {"sha256", sha256}, {"code", code}, {"message", text}});
}

void Uploader::count_open_failure(OpenFailure failure) {
  switch (failure) {
    case OpenFailure::unsafe_path:
    case OpenFailure::outside_shared_dir:
      host_.count("refused_unsafe_paths");
      break;
    case OpenFailure::changed:
      host_.count("refused_changed_files");
      break;
    case OpenFailure::private_file:
      host_.count("refused_private_files");
      break;
    default:
      host_.count("refused_missing_files");
      break;
  }
}

std::optional<Uploader::Request> Uploader::find_requested(const std::string& peer_id, const json& header,
                                                          bool with_index) {
  auto id = fields::integer(header, "id", 1, kMaxRequestId);
  auto sha256 = fields::string(header, "sha256", 64);
  auto chunk_size = fields::integer(header, "chunk_size", kMinChunkSize, kMaxChunkSize);
  auto index = with_index ? fields::integer(header, "index", 0, kMaxChunks - 1) : std::optional<int64_t>(0);
  if (!id || !sha256 || !is_sha256_hex(*sha256) || !chunk_size || !is_valid_chunk_size(*chunk_size) || !index) {
    host_.count("bad_requests");
    reply_error(peer_id, id.value_or(0), "", kErrorBadRequest,
                with_index ? "expected id, sha256 (64 hex), chunk_size (a power of two) and index"
                           : "expected id, sha256 (64 hex) and chunk_size (a power of two)");
    return std::nullopt;
  }
  auto files = index_ ? index_->find(*sha256) : std::vector<const IndexedFile*>{};
  if (files.empty()) {
    host_.count("requests_unknown");
    reply_error(peer_id, *id, *sha256, kErrorUnknown, "not shared here");
    return std::nullopt;
  }
  return Request{*id, *sha256, *chunk_size, *index, std::move(files)};
}

void Uploader::on_get_manifest(const PeerRef& peer, const Message& message) {
  std::string peer_id(peer.id());
  auto request = find_requested(peer_id, message.header, false);
  if (!request) return;
  const auto& files = request->files;
  if (chunk_count(files.front()->size, request->chunk_size) > kMaxChunks) {
    host_.count("bad_requests");
    return reply_error(peer_id, request->id, request->sha256, kErrorTooLarge, "too many chunks; use larger chunks");
  }
  if (!take_upload_slot(peer_id, request->sha256)) {
    host_.count("busy_refusals");
    return reply_error(peer_id, request->id, request->sha256, kErrorBusy, "too many uploads");
  }
  ManifestKey key{request->sha256, request->chunk_size};
  if (auto cached = cached_manifest(key)) return send_manifest(peer_id, request->id, *cached);

  auto computing = computing_.find(key);
  if (computing != computing_.end()) {
    if (computing->second.size() >= kMaxWaitersPerManifest) {
      host_.count("busy_refusals");
      return reply_error(peer_id, request->id, request->sha256, kErrorBusy, "manifest being computed");
    }
    computing->second.push_back({peer_id, request->id});
    return;
  }
  if (computing_.size() >= kMaxQueuedManifests) {
    host_.count("busy_refusals");
    return reply_error(peer_id, request->id, request->sha256, kErrorBusy, "too many manifests being computed");
  }
  computing_[key].push_back({peer_id, request->id});
  manifest_queue_.push_back(key);
  start_next_manifest();
}

// Hashing a whole file takes a background thread for a while: one at a time,
// so chunk reads and writes keep flowing meanwhile.
void Uploader::start_next_manifest() {
  while (!manifest_running_ && !manifest_queue_.empty()) {
    ManifestKey key = manifest_queue_.front();
    manifest_queue_.pop_front();
    auto files = index_ ? index_->find(key.first) : std::vector<const IndexedFile*>{};
    if (files.empty()) {  // unshared while it waited
      for (const auto& waiter : computing_[key]) {
        uploads_.erase({waiter.peer_id, key.first});
        reply_error(waiter.peer_id, waiter.request_id, key.first, kErrorUnknown, "not shared here");
      }
      computing_.erase(key);
      continue;
    }
    auto job = std::make_shared<ManifestJob>();
    for (const auto* file : files) job->candidates.push_back(*file);
    job->shared_dir = index_->shared_dir;
    job->private_dir = private_dir_;
    job->manifest_dir = index_->manifest_dir;
    job->sha256 = key.first;
    job->poison = settings_.test_poison;
    job->chunk_size = key.second;
    manifest_running_ = true;
    host_.background([job] { find_manifest(*job); }, [this, job, key] { finish_manifest(key, *job); });
  }
}

void Uploader::finish_manifest(const ManifestKey& key, ManifestJob& job) {
  manifest_running_ = false;
  auto waiters = std::move(computing_[key]);
  computing_.erase(key);
  if (!job.stored_problem.empty()) {
    host_.count("stored_manifests_refused");
    host_.warn("ignoring the stored chunk manifest of " + job.sha256 + " (" + job.stored_problem +
               "); hashing the file instead");
  }
  if (job.failure == OpenFailure::none) host_.count(job.from_index ? "manifests_from_index" : "manifests_computed");
  if (job.failure != OpenFailure::none) {
    count_open_failure(job.failure);
    warn_refusal(waiters.empty() ? "" : waiters.front().peer_id, job.sha256, job.failure, job.error);
    for (const auto& waiter : waiters) {
      uploads_.erase({waiter.peer_id, job.sha256});  // a refused file holds no upload slot
      reply_error(waiter.peer_id, waiter.request_id, job.sha256, kErrorUnavailable, "cannot serve this file now");
    }
  } else {
    auto manifest = std::make_shared<Manifest>(Manifest{job.file, job.chunk_size, std::move(job.digests)});
    for (const auto& waiter : waiters) send_manifest(waiter.peer_id, waiter.request_id, *manifest);
    remember_manifest(key, manifest);
  }
  start_next_manifest();
}

std::shared_ptr<const Uploader::Manifest> Uploader::cached_manifest(const ManifestKey& key) {
  auto it = manifests_.find(key);
  if (it == manifests_.end() || !index_) return nullptr;
  // Still valid only while the index lists the same file, unchanged.
  for (const auto* file : index_->find(key.first))
    if (file->path == it->second->file.path && file->size == it->second->file.size &&
        file->mtime == it->second->file.mtime)
      return it->second;
  return nullptr;
}

void Uploader::remember_manifest(const ManifestKey& key, std::shared_ptr<const Manifest> manifest) {
  if (auto old = manifests_.find(key); old != manifests_.end()) {
    manifest_bytes_ -= old->second->digests.size();
    old->second = manifest;
  } else {
    manifests_.emplace(key, manifest);
    manifest_order_.push_back(key);
  }
  manifest_bytes_ += manifest->digests.size();
  while (!manifest_order_.empty() && (manifests_.size() > kMaxCachedManifests ||
                                      manifest_bytes_ > static_cast<size_t>(settings_.manifest_cache_bytes))) {
    auto oldest = manifests_.find(manifest_order_.front());
    if (oldest != manifests_.end()) {
      manifest_bytes_ -= oldest->second->digests.size();
      manifests_.erase(oldest);
    }
    manifest_order_.pop_front();
  }
}

void Uploader::send_manifest(const std::string& peer_id, int64_t request_id, const Manifest& manifest) {
  int64_t chunks = static_cast<int64_t>(manifest.digests.size() / kDigestSize);
  int status = host_.send(peer_id,
                          {{"type", kManifest},
                           {"id", request_id},
                           {"sha256", manifest.file.sha256},
                           {"size", manifest.file.size},
                           {"chunk_size", manifest.chunk_size},
                           {"chunks", chunks}},
                          as_bytes(manifest.digests));
  if (status == P2PNET_OK) {
    host_.count("manifests_served");
  } else if (status == P2PNET_ERR_TOO_LARGE) {
    reply_error(peer_id, request_id, manifest.file.sha256, kErrorTooLarge, "manifest exceeds the peer's frame limit");
  }
}

void Uploader::on_get_chunk(const PeerRef& peer, const Message& message) {
  std::string peer_id(peer.id());
  auto request = find_requested(peer_id, message.header, true);
  if (!request) return;
  const auto& files = request->files;
  if (request->index >= chunk_count(files.front()->size, request->chunk_size)) {
    host_.count("bad_requests");
    return reply_error(peer_id, request->id, request->sha256, kErrorBadRequest, "chunk index out of range");
  }
  const int64_t length = chunk_length(files.front()->size, request->chunk_size, request->index);
  auto& in_flight = reads_in_flight_[peer_id];
  if (in_flight >= settings_.max_requests_per_peer ||
      read_bytes_in_flight_ + length > settings_.max_read_bytes_in_flight ||
      host_.queued_bytes(peer_id) > static_cast<size_t>(settings_.max_queued_bytes_per_peer) ||
      !take_upload_slot(peer_id, request->sha256)) {
    if (in_flight == 0) reads_in_flight_.erase(peer_id);
    host_.count("busy_refusals");
    return reply_error(peer_id, request->id, request->sha256, kErrorBusy, "too many uploads or requests");
  }
  ++in_flight;
  read_bytes_in_flight_ += length;
  auto job = std::make_shared<ChunkJob>();
  for (const auto* file : files)
    if (file->size == files.front()->size) job->candidates.push_back(*file);
  job->shared_dir = index_->shared_dir;
  job->private_dir = private_dir_;
  job->chunk_size = request->chunk_size;
  job->index = request->index;
  host_.background(
      [job] { read_chunk(*job); },
      [this, job, peer_id, length, request = *request] {
        read_bytes_in_flight_ -= length;
        if (auto it = reads_in_flight_.find(peer_id); it != reads_in_flight_.end() && --it->second <= 0)
          reads_in_flight_.erase(it);
        if (job->failure != OpenFailure::none) {
          uploads_.erase({peer_id, request.sha256});
          count_open_failure(job->failure);
          warn_refusal(peer_id, request.sha256, job->failure, job->error);
          return reply_error(peer_id, request.id, request.sha256, kErrorUnavailable, "cannot serve this file now");
        }
        maybe_corrupt(request.index, job->data);
        int status = host_.send(
            peer_id, {{"type", kChunk}, {"id", request.id}, {"sha256", request.sha256}, {"index", request.index}},
            as_bytes(job->data));
        if (status == P2PNET_OK) {
          host_.count("chunks_served");
          host_.count("bytes_served", static_cast<int64_t>(job->data.size()));
          if (auto slot = uploads_.find({peer_id, request.sha256}); slot != uploads_.end())
            slot->second.bytes += static_cast<int64_t>(job->data.size());
        } else if (status == P2PNET_ERR_TOO_LARGE) {
          reply_error(peer_id, request.id, request.sha256, kErrorTooLarge,
                      "chunk exceeds the peer's frame limit; use smaller chunks");
        }
      });
}

// One line per file and minute at most: a peer must not be able to flood the log.
void Uploader::warn_refusal(const std::string& peer_id, const std::string& sha256, OpenFailure failure,
                            const std::string& detail) {
  auto now = Clock::now();
  auto it = last_refusal_warning_.find(sha256);
  if (it != last_refusal_warning_.end() && now - it->second < std::chrono::minutes(1)) return;
  if (last_refusal_warning_.size() >= 1000) last_refusal_warning_.clear();
  last_refusal_warning_[sha256] = now;
  host_.warn("refusing to serve " + sha256 + " to " + peer_id.substr(0, 12) + ": " + describe(failure) + " (" + detail +
             ")");
}

void Uploader::maybe_corrupt(int64_t index, std::string& data) {
  if (settings_.test_corrupt_chunk == -1 || corrupt_remaining_ <= 0 || data.empty()) return;
  if (settings_.test_corrupt_chunk != -2 && settings_.test_corrupt_chunk != index) return;
  --corrupt_remaining_;
  data[0] = static_cast<char>(data[0] ^ 0x5a);
  host_.count("test_corrupted_chunks");
}

void Uploader::on_release(const PeerRef& peer, const Message& message) {
  auto sha256 = fields::string(message.header, "sha256", 64);
  if (!sha256) return host_.count("bad_requests");
  uploads_.erase({std::string(peer.id()), *sha256});
}

void Uploader::on_peer_disconnected(const std::string& peer_id) {
  for (auto it = uploads_.begin(); it != uploads_.end();)
    it = it->first.first == peer_id ? uploads_.erase(it) : std::next(it);
  reads_in_flight_.erase(peer_id);
}

void Uploader::expire_idle_uploads() {
  const auto now = Clock::now();
  auto limit = now - std::chrono::milliseconds(settings_.upload_idle_timeout_ms);
  for (auto it = uploads_.begin(); it != uploads_.end();) {
    if (it->second.last_request < limit) {
      it = uploads_.erase(it);
      continue;
    }
    UploadSlot& slot = it->second;
    const double seconds = std::chrono::duration<double>(now - slot.sampled_at).count();
    if (seconds >= 0.5) {
      const double current = static_cast<double>(slot.bytes - slot.sampled_bytes) / seconds;
      slot.speed = slot.speed == 0 ? current : 0.6 * slot.speed + 0.4 * current;
      slot.sampled_bytes = slot.bytes;
      slot.sampled_at = now;
    }
    ++it;
  }
}

void Uploader::run_uploads(Command& cmd) const {
  if (uploads_.empty()) return cmd.print("no uploads");
  const auto now = Clock::now();
  for (const auto& [key, slot] : uploads_) {
    const auto& [peer_id, sha256] = key;
    std::string name = sha256.substr(0, 16);
    if (index_)
      if (auto files = index_->find(sha256); !files.empty()) name = files.front()->path;
    std::string peer = peer_id.substr(0, 12);
    if (auto ref = host_.peer(peer_id)) peer += " (" + ref->host + ")";
    cmd.print(printable(name) + "  to " + peer + "  " + human_bytes(static_cast<double>(slot.bytes)) + " sent  " +
              human_bytes(slot.speed) + "/s  elapsed " +
              format_duration(std::chrono::duration<double>(now - slot.started).count()));
  }
  cmd.print(counted(static_cast<long long>(uploads_.size()), "upload"));
}

}  // namespace p2pnet::download
