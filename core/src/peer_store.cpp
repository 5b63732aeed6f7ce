#include "peer_store.hpp"

#include <algorithm>
#include <chrono>

namespace p2pnet {

int64_t unix_millis_now() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

void PeerStore::remember(const std::string& id, const std::string& host, uint16_t port) {
  std::lock_guard lock(mutex_);
  auto it = nodes_.find(id);
  if (it == nodes_.end() && nodes_.size() >= capacity_) {
    auto oldest = std::min_element(nodes_.begin(), nodes_.end(), [](const auto& a, const auto& b) {
      return a.second.last_seen_ms < b.second.last_seen_ms;
    });
    nodes_.erase(oldest);
    ++evictions_;
  }
  auto& record = nodes_[id];
  record.id = id;
  record.host = host;
  record.port = port;
  record.last_seen_ms = unix_millis_now();
}

std::optional<KnownNodeRecord> PeerStore::find(const std::string& id) const {
  std::lock_guard lock(mutex_);
  auto it = nodes_.find(id);
  if (it == nodes_.end()) return std::nullopt;
  return it->second;
}

std::vector<KnownNodeRecord> PeerStore::list() const {
  std::vector<KnownNodeRecord> out;
  {
    std::lock_guard lock(mutex_);
    out.reserve(nodes_.size());
    for (const auto& [id, record] : nodes_) out.push_back(record);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.last_seen_ms != b.last_seen_ms ? a.last_seen_ms > b.last_seen_ms : a.id < b.id;
  });
  return out;
}

size_t PeerStore::size() const {
  std::lock_guard lock(mutex_);
  return nodes_.size();
}

uint64_t PeerStore::evictions() const {
  std::lock_guard lock(mutex_);
  return evictions_;
}

}  // namespace p2pnet
