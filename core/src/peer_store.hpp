// Nodes this node knows how to reach (id, host, listen port, last seen):
// filled by handshakes and by plugins, bounded, thread-safe.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace p2pnet {

struct KnownNodeRecord {
  std::string id;
  std::string host;
  uint16_t port = 0;
  int64_t last_seen_ms = 0;
};

class PeerStore {
 public:
  explicit PeerStore(size_t capacity) : capacity_(capacity) {}

  // Adds or refreshes a node; when full, the node seen longest ago makes room.
  void remember(const std::string& id, const std::string& host, uint16_t port);
  std::optional<KnownNodeRecord> find(const std::string& id) const;
  std::vector<KnownNodeRecord> list() const;  // most recently seen first
  size_t size() const;
  // Nodes dropped to make room since the store was created.
  uint64_t evictions() const;

 private:
  mutable std::mutex mutex_;
  size_t capacity_;
  uint64_t evictions_ = 0;
  std::unordered_map<std::string, KnownNodeRecord> nodes_;
};

int64_t unix_millis_now();

}  // namespace p2pnet
