#include "common/chunk_hasher.hpp"

#include <algorithm>
#include <utility>

namespace p2pnet {

void ChunkHasher::update(const char* data, size_t size) {
  while (size > 0) {
    const size_t room = static_cast<size_t>(chunk_size_ - filled_);
    const size_t taken = std::min(size, room);
    chunk_.update(data, taken);
    filled_ += static_cast<int64_t>(taken);
    data += taken;
    size -= taken;
    if (filled_ == chunk_size_) {
      Digest digest = chunk_.finish();
      digests_.append(reinterpret_cast<const char*>(digest.data()), digest.size());
      filled_ = 0;
    }
  }
}

std::string ChunkHasher::finish() {
  if (filled_ > 0) {
    Digest digest = chunk_.finish();
    digests_.append(reinterpret_cast<const char*>(digest.data()), digest.size());
    filled_ = 0;
  }
  return std::exchange(digests_, {});
}

}  // namespace p2pnet
