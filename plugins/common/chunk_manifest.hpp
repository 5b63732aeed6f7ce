// A shared file's chunk hashes kept on disk: the search plugin writes one per
// indexed file of more than one chunk, in the same pass that computes the
// file's SHA-256, so that the download plugin can answer the first manifest
// request without reading the file again, and a restart does not lose them.
//
// One file per content hash, DIR/SHA256.chunks: a JSON header line, then the
// digests (chunks x 32 bytes). Written to a temporary file and renamed into
// place. Read as hostile input: size-bounded, every field checked, and the
// digests checked against a hash of them that the header carries, so a
// truncated or corrupted file is refused (the caller then hashes the file).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace p2pnet {

struct ChunkManifest {
  std::string sha256;  // the whole file's, 64 lowercase hex digits
  int64_t size = 0;    // of the file, in bytes
  int64_t mtime = 0;   // of the file when it was hashed, as the index has it
  int64_t chunk_size = 0;
  std::string digests;  // chunk_count(size, chunk_size) x 32 bytes
};

inline constexpr size_t kMaxManifestHeader = 1024;

std::filesystem::path chunk_manifest_path(const std::filesystem::path& dir, const std::string& sha256);

// Throws std::runtime_error naming the file and the reason.
void save_chunk_manifest(const std::filesystem::path& dir, const ChunkManifest& manifest);

struct ManifestLoad {
  std::optional<ChunkManifest> manifest;
  bool missing = false;  // no file: not a problem, just not there
  std::string problem;   // why a file that is there was refused
};

// The stored manifest of `sha256`, checked as described above. Blocking.
ManifestLoad load_chunk_manifest(const std::filesystem::path& dir, const std::string& sha256);

}  // namespace p2pnet
