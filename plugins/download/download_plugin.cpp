// download: fetches files found by the search plugin from the nodes that hold
// them, and serves this node's shared files to others. The two plugins never
// link to each other; they talk over the node's event bus:
//   search.index   (search -> download) the files this node may serve
//   search.results (search -> download) results of console searches and of ours
//   search.request (download -> search) a `sha256:` search to find sources
#include "downloader.hpp"
#include "protocol.hpp"
#include "uploader.hpp"

#include <p2pnet/plugin.hpp>
#include <p2pnet/settings.hpp>

namespace p2pnet::download {
namespace {

constexpr uint64_t kTickMs = 250;

class DownloadPlugin : public Plugin {
 public:
  // Its events reach control clients and the web page: publish_public (ABI 1.2).
  static constexpr uint16_t abi_minor = 2;

  void on_load(const json& table) override {
    Settings settings(table, "download");
    settings_ = DownloadSettings::read(settings);
    for (const auto& key : settings.unknown_keys()) warn("unknown setting " + key + " ignored");
    if (settings_.test_corrupt_chunk != -1)
      warn("test_corrupt_chunk is set: this node corrupts chunks it serves (a fault switch for tests only)");
    if (settings_.test_poison)
      warn("test_poison is set: this node serves files that do not match their hash (a fault switch for tests only)");
    uploader_ = std::make_unique<Uploader>(*this, settings_);
    uploader_->set_private_dir(data_dir());
    downloader_ = std::make_unique<Downloader>(*this, settings_);

    handle(kGetManifest, [this](const PeerRef& peer, const Message& m) { uploader_->on_get_manifest(peer, m); });
    handle(kGetChunk, [this](const PeerRef& peer, const Message& m) { uploader_->on_get_chunk(peer, m); });
    handle(kRelease, [this](const PeerRef& peer, const Message& m) { uploader_->on_release(peer, m); });
    handle(kManifest, [this](const PeerRef& peer, const Message& m) { downloader_->on_manifest(peer, m); });
    handle(kChunk, [this](const PeerRef& peer, const Message& m) { downloader_->on_chunk(peer, m); });
    handle(kError, [this](const PeerRef& peer, const Message& m) { downloader_->on_error(peer, m); });

    subscribe("search.index", [this](const json& event) {
      auto index = parse_index(event);
      if (!index) return count("malformed_index_events");
      if (index->rejected > 0) count("index_entries_rejected", static_cast<int64_t>(index->rejected));
      auto snapshot = std::make_shared<const IndexSnapshot>(std::move(*index));
      uploader_->set_index(snapshot);
      downloader_->set_index(snapshot);
    });
    subscribe("search.results", [this](const json& event) { downloader_->on_search_results(event); });

    command("download", "download [--wait] [--force] K | download [--wait] [--force] SHA256 [NAME]",
            "download result K of the last search, or a file by its hash, into download_dir, in the background "
            "(--wait: until it ends, with progress); unless an identical copy is already in download_dir or "
            "shared (--force fetches it anyway)",
            [this](Command& cmd) { downloader_->run_download(cmd); });
    command("downloads", "downloads",
            "list downloads: active, queued, paused, and the last ended ones (kept across restarts)",
            [this](Command& cmd) { downloader_->run_downloads(cmd); });
    command("pause", "pause ID", "pause download ID (its .part stays; resume continues it)",
            [this](Command& cmd) { downloader_->run_pause(cmd); });
    command("resume", "resume ID | resume all",
            "continue a paused download (also those left unfinished by an earlier run)",
            [this](Command& cmd) { downloader_->run_resume(cmd); });
    command("cancel", "cancel ID [--keep]", "stop download ID and remove its .part (--keep keeps it)",
            [this](Command& cmd) { downloader_->run_cancel(cmd); });
    command("uploads", "uploads", "list what this node serves, to whom, and how fast",
            [this](Command& cmd) { uploader_->run_uploads(cmd); });
  }

  void on_start() override {
    downloader_->load_state();
    every(kTickMs, [this] {
      downloader_->tick();
      uploader_->expire_idle_uploads();
    });
  }

  void on_stop() override { downloader_->stop(); }

  void on_peer_disconnected(const PeerRef& peer, std::string_view) override {
    std::string id(peer.id());
    uploader_->on_peer_disconnected(id);
    downloader_->on_peer_disconnected(id);
  }

 private:
  DownloadSettings settings_;
  std::unique_ptr<Uploader> uploader_;
  std::unique_ptr<Downloader> downloader_;
};

}  // namespace
}  // namespace p2pnet::download

P2PNET_PLUGIN(p2pnet::download::DownloadPlugin, "download", "1.0.0",
              "downloads files found by search; serves shared files")
