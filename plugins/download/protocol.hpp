// The download wire protocol. A downloader asks a source for a file's
// manifest (size, chunk size, one SHA-256 per chunk), then for chunks by
// index; several requests may be in flight. Every request carries an id the
// answer repeats, so answers are matched to requests and to the peer they
// were sent to. File data and chunk hashes travel in frame bodies.
//
//   download.get_manifest {id, sha256, chunk_size}
//   download.manifest     {id, sha256, size, chunk_size, chunks}   body: chunks x 32-byte SHA-256
//   download.get_chunk    {id, sha256, chunk_size, index}
//   download.chunk        {id, sha256, index}                      body: the chunk's bytes
//   download.error        {id, sha256, code, message}              code: one of the kError* below
//   download.release      {sha256}   the downloader needs nothing more of this file from this peer
#pragma once

#include "common/chunking.hpp"

#include <cstddef>
#include <cstdint>

namespace p2pnet::download {

inline constexpr const char* kGetManifest = "download.get_manifest";
inline constexpr const char* kManifest = "download.manifest";
inline constexpr const char* kGetChunk = "download.get_chunk";
inline constexpr const char* kChunk = "download.chunk";
inline constexpr const char* kError = "download.error";
inline constexpr const char* kRelease = "download.release";

inline constexpr const char* kErrorBadRequest = "bad_request";   // a field is missing or out of range
inline constexpr const char* kErrorUnknown = "unknown";          // the hash is not in this node's index
inline constexpr const char* kErrorUnavailable = "unavailable";  // indexed, but cannot be served (see the source's log)
inline constexpr const char* kErrorBusy = "busy";                // too many uploads or requests; try later
inline constexpr const char* kErrorTooLarge = "too_large";       // the answer would not fit a frame

// Bounds beyond the chunking rule (common/chunking.hpp), which both sides enforce too.
inline constexpr int64_t kMaxFileSize = int64_t{1} << 50;
inline constexpr int64_t kMaxRequestId = int64_t{1} << 53;
inline constexpr size_t kMaxErrorMessage = 200;
inline constexpr size_t kMaxErrorCode = 32;

}  // namespace p2pnet::download
