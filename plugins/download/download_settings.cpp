#include "download_settings.hpp"

#include "protocol.hpp"

namespace p2pnet::download {

DownloadSettings DownloadSettings::read(Settings& settings) {
  DownloadSettings s;
  s.download_dir = settings.string("download_dir", s.download_dir.string());
  if (s.download_dir.empty())
    throw std::invalid_argument("plugins.download.download_dir: expected a directory, got \"\"");
  s.chunk_size = settings.integer("chunk_size", s.chunk_size, kMinChunkSize, kMaxChunkSize);
  if (!is_valid_chunk_size(s.chunk_size))
    throw std::invalid_argument("plugins.download.chunk_size: expected a power of two from 4096 to 8388608, got " +
                                std::to_string(s.chunk_size));
  s.requests_per_source = settings.integer("requests_per_source", s.requests_per_source, 1, 256);
  s.max_sources = settings.integer("max_sources", s.max_sources, 1, 64);
  s.max_active = settings.integer("max_active", s.max_active, 1, 64);
  s.max_download_rate = settings.integer("max_download_rate", s.max_download_rate, 0, int64_t{1} << 40);
  s.request_timeout_ms = settings.integer("request_timeout_ms", s.request_timeout_ms, 100, 600000);
  s.busy_retry_ms = settings.integer("busy_retry_ms", s.busy_retry_ms, 10, 600000);
  s.search_timeout_ms = settings.integer("search_timeout_ms", s.search_timeout_ms, 100, 600000);
  s.max_searches = settings.integer("max_searches", s.max_searches, 1, 1000);
  s.max_uploads = settings.integer("max_uploads", s.max_uploads, 0, 4096);
  s.max_requests_per_peer = settings.integer("max_requests_per_peer", s.max_requests_per_peer, 1, 1024);
  s.upload_idle_timeout_ms = settings.integer("upload_idle_timeout_ms", s.upload_idle_timeout_ms, 100, 86400000);
  constexpr int64_t kOneChunk = 8 * 1024 * 1024;  // the largest chunk must fit
  s.max_queued_bytes_per_peer =
      settings.integer("max_queued_bytes_per_peer", s.max_queued_bytes_per_peer, kOneChunk, int64_t{1} << 34);
  s.max_read_bytes_in_flight =
      settings.integer("max_read_bytes_in_flight", s.max_read_bytes_in_flight, kOneChunk, int64_t{1} << 34);
  s.manifest_cache_bytes =
      settings.integer("manifest_cache_bytes", s.manifest_cache_bytes, 4 * 1024 * 1024, int64_t{1} << 34);
  s.test_corrupt_chunk = settings.integer("test_corrupt_chunk", s.test_corrupt_chunk, -2, kMaxChunks);
  s.test_corrupt_count = settings.integer("test_corrupt_count", s.test_corrupt_count, 0, INT64_MAX);
  s.test_poison = settings.boolean("test_poison", s.test_poison);
  return s;
}

}  // namespace p2pnet::download
