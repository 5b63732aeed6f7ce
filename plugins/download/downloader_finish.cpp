// The Downloader's end of a transfer: NAME.part.json written as chunks are
// verified, the whole file checked against its SHA-256 and renamed into
// place, chunks that no longer match fetched again, a manifest that proves
// wrong given up, and the outcome: saved or failed.
#include "background_job.hpp"
#include "downloader.hpp"
#include "protocol.hpp"

#include <unistd.h>

namespace p2pnet::download {
namespace {

constexpr int kMaxFinishRounds = 2;

}  // namespace

void Downloader::flush_record(Transfer& t) {
  if (t.record_busy || !t.record_dirty || !t.has_manifest() || !t.file) return;
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
  run_in_background(
      host_,
      [file = t.file, path = t.paths.record, record = std::move(record)] {
        return JobError{write_record(*file, path, record)};
      },
      [this, id = t.id](JobError written) { on_record_written(id, written.error); });
}

void Downloader::on_record_written(uint64_t id, const std::string& error) {
  Transfer* t = find(id);
  if (!t) return;
  t->record_busy = false;
  if (!error.empty()) {
    if (t->phase == Phase::fetching) return fail(*t, error);
    return host_.warn("download " + t->display_name() + ": " + error);
  }
  if ((t->phase == Phase::failed || t->phase == Phase::cancelled) && t->record_dirty) return flush_record(*t);
  maybe_finish(*t);
}

void Downloader::maybe_finish(Transfer& t) {
  if (t.phase != Phase::fetching || !t.has_manifest() || t.written < t.chunks || t.disk_jobs_running()) return;
  if (t.prefix_hash_state == PrefixHashState::idle && t.hashed_chunks < t.chunks) {
    hash_ahead(t);  // its end calls maybe_finish again
    if (t.hashing()) return;
  }
  std::string hashed;
  if (t.prefix_hash_state == PrefixHashState::idle && t.hashed_chunks == t.chunks && t.prefix_hash) {
    try {
      hashed = to_hex(t.prefix_hash->finish());
    } catch (const std::exception&) {
      hashed.clear();  // finish_part reads the file instead
    }
  }
  // Whatever the end finds, a new round (chunks fetched again) hashes from the start.
  t.prefix_hash.reset();
  t.hashed_chunks = 0;
  t.prefix_hash_state = PrefixHashState::idle;
  t.phase = Phase::finishing;
  PartRecord record{t.sha256, t.size, t.chunk_size, t.manifest_sha256, std::vector<bool>(t.chunk_states.size(), true)};
  run_in_background(
      host_,
      [file = t.file, dir = settings_.download_dir, paths = t.paths, record = std::move(record), digests = t.digests,
       hashed] {
        FinishedPart finished;
        finished.error = write_record(*file, paths.record, record);
        if (!finished.error.empty()) return finished;
        finished = finish_part(*file, dir, paths, record.size, record.chunk_size, digests, record.sha256, hashed);
        // Every chunk matches the manifest, yet the file does not match its
        // hash: the manifest itself is wrong, so its record is worthless.
        if (finished.error.empty() && !finished.verified && finished.bad_chunks.empty()) ::unlink(paths.record.c_str());
        return finished;
      },
      [this, id = t.id](FinishedPart finished) { on_finished(id, std::move(finished)); });
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

std::string Downloader::kept_part_note(const Transfer& t) const {
  if (!t.file) return "";
  std::string verified = t.has_manifest() ? std::to_string(t.written) + " of " + std::to_string(t.chunks) : "0";
  return " (" + t.paths.part.string() + " kept, " + verified + " chunks verified; run download again to resume)";
}

void Downloader::fail(Transfer& t, const std::string& reason) {
  if (!t.active()) return;
  halt(t);
  t.phase = Phase::failed;
  t.record_dirty = t.has_manifest();
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

}  // namespace p2pnet::download
