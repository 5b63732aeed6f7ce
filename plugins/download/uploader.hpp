// The serving side: answers manifest and chunk requests for files of the
// search plugin's latest index, and nothing else. Concurrent uploads (one per
// peer and file) and requests per peer are bounded; extra requests get a
// "busy" error. Disk reads and hashing run as background work.
#pragma once

#include "download_settings.hpp"
#include "shared_index.hpp"

#include <p2pnet/plugin.hpp>

#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace p2pnet::download {

struct ManifestJob;

class Uploader {
 public:
  Uploader(Plugin& host, const DownloadSettings& settings) : host_(host), settings_(settings) {
    corrupt_remaining_ = settings.test_corrupt_count;
  }

  void set_index(std::shared_ptr<const IndexSnapshot> index) { index_ = std::move(index); }
  // Never served, whatever the index lists: the node's key and state.
  void set_private_dir(std::filesystem::path dir) { private_dir_ = std::move(dir); }
  void on_get_manifest(const PeerRef& peer, const Message& message);
  void on_get_chunk(const PeerRef& peer, const Message& message);
  void on_release(const PeerRef& peer, const Message& message);
  void on_peer_disconnected(const std::string& peer_id);
  // Every tick: forgets idle uploads and measures the speed of the others.
  void expire_idle_uploads();
  void run_uploads(Command& cmd) const;
  size_t active_uploads() const { return uploads_.size(); }

 private:
  using Clock = std::chrono::steady_clock;
  using ManifestKey = std::pair<std::string, int64_t>;  // sha256, chunk size

  struct Manifest {
    IndexedFile file;  // the index entry it was computed from
    int64_t chunk_size = 0;
    std::string digests;  // chunk count x 32 bytes
  };
  struct Waiter {
    std::string peer_id;
    int64_t request_id;
  };
  struct Request {
    int64_t id = 0;
    std::string sha256;
    int64_t chunk_size = 0;
    int64_t index = 0;
    std::vector<const IndexedFile*> files;  // shared files with this hash
  };

  // A manifest or chunk request with its fields checked and its files found;
  // nothing when not, after answering the peer with the reason.
  std::optional<Request> find_requested(const std::string& peer_id, const json& header, bool with_index);

  bool take_upload_slot(const std::string& peer_id, const std::string& sha256);
  void reply_error(const std::string& peer_id, int64_t request_id, const std::string& sha256, const char* code,
                   const std::string& text);
  void send_manifest(const std::string& peer_id, int64_t request_id, const Manifest& manifest);
  std::shared_ptr<const Manifest> cached_manifest(const ManifestKey& key);
  void remember_manifest(const ManifestKey& key, std::shared_ptr<const Manifest> manifest);
  void start_next_manifest();
  void finish_manifest(const ManifestKey& key, ManifestJob& job);
  void count_open_failure(OpenFailure failure);
  void warn_refusal(const std::string& peer_id, const std::string& sha256, OpenFailure failure,
                    const std::string& detail);
  void maybe_corrupt(int64_t index, std::string& data);

  Plugin& host_;
  const DownloadSettings& settings_;
  std::filesystem::path private_dir_;
  std::shared_ptr<const IndexSnapshot> index_;
  struct UploadSlot {
    Clock::time_point last_request;
    Clock::time_point started;
    int64_t bytes = 0;
    int64_t sampled_bytes = 0;
    Clock::time_point sampled_at;
    double speed = 0;  // bytes a second, smoothed
  };
  std::map<std::pair<std::string, std::string>, UploadSlot> uploads_;  // (peer, sha256)
  std::map<std::string, int64_t> reads_in_flight_;                     // per peer
  std::map<ManifestKey, std::shared_ptr<const Manifest>> manifests_;
  std::deque<ManifestKey> manifest_order_;
  size_t manifest_bytes_ = 0;
  std::map<ManifestKey, std::vector<Waiter>> computing_;  // queued or running, with who waits
  std::deque<ManifestKey> manifest_queue_;
  bool manifest_running_ = false;
  int64_t read_bytes_in_flight_ = 0;
  std::map<std::string, Clock::time_point> last_refusal_warning_;  // by sha256
  int64_t corrupt_remaining_ = 0;
};

}  // namespace p2pnet::download
