// [plugins.download] in node.toml, read with bounds (config/node.toml
// documents every key and its default).
#pragma once

#include "common/chunking.hpp"

#include <p2pnet/settings.hpp>

#include <cstdint>
#include <filesystem>
#include <string>

namespace p2pnet::download {

struct DownloadSettings {
  // Downloading.
  std::filesystem::path download_dir = "downloads";
  int64_t chunk_size = kDefaultChunkSize;
  int64_t requests_per_source = 8;
  int64_t max_sources = 8;
  int64_t max_active = 4;
  int64_t max_download_rate = 0;  // bytes per second, 0: unlimited
  int64_t request_timeout_ms = 30000;
  int64_t busy_retry_ms = 1000;
  int64_t search_timeout_ms = 10000;
  int64_t max_searches = 3;
  // Uploading.
  int64_t max_uploads = 8;
  int64_t max_requests_per_peer = 32;
  int64_t upload_idle_timeout_ms = 30000;
  // Memory the uploader may hold: answers queued to one peer, chunk reads in
  // progress over all peers, and manifests kept for reuse.
  int64_t max_queued_bytes_per_peer = 32 * 1024 * 1024;
  int64_t max_read_bytes_in_flight = 64 * 1024 * 1024;
  int64_t manifest_cache_bytes = 64 * 1024 * 1024;
  // Test only: the source corrupts chunk `test_corrupt_chunk` (-1: none; -2:
  // every chunk) in the next `test_corrupt_count` answers.
  int64_t test_corrupt_chunk = -1;
  int64_t test_corrupt_count = 1;
  // Test only: serve a file whose content does not match the hash it is
  // indexed under (with a manifest of its real content): a poisoning source.
  bool test_poison = false;

  static DownloadSettings read(Settings& settings);
};

}  // namespace p2pnet::download
