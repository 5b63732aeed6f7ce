// One SHA-256 per chunk of a byte stream fed in pieces of any size: what a
// file's manifest lists (common/chunking.hpp cuts the file).
#pragma once

#include "common/sha256.hpp"

#include <cstdint>
#include <string>

namespace p2pnet {

class ChunkHasher {
 public:
  explicit ChunkHasher(int64_t chunk_size) : chunk_size_(chunk_size) {}

  void update(const char* data, size_t size);
  // The digests so far, kDigestSize bytes each, the last (short) chunk
  // included; the hasher starts over afterwards.
  std::string finish();

 private:
  int64_t chunk_size_;
  int64_t filled_ = 0;  // bytes of the current chunk hashed so far
  Sha256 chunk_;
  std::string digests_;
};

}  // namespace p2pnet
