// How a shared file is cut into chunks: the download protocol serves one
// SHA-256 per chunk, and the search plugin computes those hashes while it
// indexes the file, so both must cut it the same way. This is that one rule.
#pragma once

#include <cstdint>

namespace p2pnet {

// Bounds both sides of the download protocol enforce. A chunk stays far below
// the default frame body limit (16 MiB); a manifest of kMaxChunks hashes is 4 MiB.
inline constexpr int64_t kMinChunkSize = 4096;
inline constexpr int64_t kMaxChunkSize = 8 * 1024 * 1024;
inline constexpr int64_t kMaxChunks = 131072;
// What a downloader asks for unless its node.toml says otherwise, and so the
// size the search plugin hashes chunks of ahead of any request.
inline constexpr int64_t kDefaultChunkSize = 256 * 1024;

// Chunk sizes are powers of two: each size a source is asked for costs it a
// pass over the file (the manifest), so the set of sizes must stay small.
inline bool is_valid_chunk_size(int64_t size) {
  return size >= kMinChunkSize && size <= kMaxChunkSize && (size & (size - 1)) == 0;
}

inline int64_t chunk_count(int64_t size, int64_t chunk_size) { return (size + chunk_size - 1) / chunk_size; }
inline int64_t chunk_length(int64_t size, int64_t chunk_size, int64_t index) {
  int64_t offset = index * chunk_size;
  return size - offset < chunk_size ? size - offset : chunk_size;
}

// The chunk size a downloader preferring `preferred` uses for a file of
// `size` bytes: doubled until the file has at most kMaxChunks chunks.
inline int64_t chunk_size_for(int64_t size, int64_t preferred) {
  int64_t chunk_size = preferred;
  while (size > 0 && chunk_count(size, chunk_size) > kMaxChunks && chunk_size < kMaxChunkSize)
    chunk_size = chunk_size * 2 < kMaxChunkSize ? chunk_size * 2 : kMaxChunkSize;
  return chunk_size;
}

}  // namespace p2pnet
