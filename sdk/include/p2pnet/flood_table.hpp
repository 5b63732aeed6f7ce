// Bookkeeping for flooded requests (discover, search, ...): which request ids
// this node has seen, and which peer each came from, so that repeats are
// dropped and answers travel back along the reverse path only. Bounded both
// by age and by count, so a node that runs for weeks, or is flooded with
// unique ids, does not grow. It also counts the live ids each peer put
// there, so a plugin can refuse a peer its share is full for instead of
// letting one peer's flood evict every other peer's ids.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

namespace p2pnet {

class FloodTable {
 public:
  using Clock = std::chrono::steady_clock;

  FloodTable(size_t capacity, std::chrono::milliseconds ttl) : capacity_(capacity == 0 ? 1 : capacity), ttl_(ttl) {}

  // Records a request id and the peer it came from ("" for this node's own
  // requests). Returns false, recording nothing, if the id is already known.
  bool record(const std::string& id, std::string from_peer, Clock::time_point now = Clock::now()) {
    expire(now);
    if (entries_.count(id)) return false;
    while (entries_.size() >= capacity_) evict_oldest();
    ++held_[from_peer];
    entries_.emplace(id, Entry{std::move(from_peer), now});
    order_.emplace_back(now, id);
    return true;
  }

  // Where answers to `id` go: the peer it came from, "" if it is this
  // node's own request, nothing if the id is unknown or expired.
  std::optional<std::string> origin(const std::string& id, Clock::time_point now = Clock::now()) {
    expire(now);
    auto it = entries_.find(id);
    if (it == entries_.end()) return std::nullopt;
    return it->second.from;
  }

  bool is_own(const std::string& id, Clock::time_point now = Clock::now()) {
    auto from = origin(id, now);
    return from && from->empty();
  }

  size_t size() const { return entries_.size(); }
  // How many of the live ids came from `from_peer`.
  size_t held_by(const std::string& from_peer) const {
    auto it = held_.find(from_peer);
    return it == held_.end() ? 0 : it->second;
  }
  size_t capacity() const { return capacity_; }

  // Drops entries older than the ttl.
  void expire(Clock::time_point now = Clock::now()) {
    while (!order_.empty() && now - order_.front().first > ttl_) evict_oldest();
  }

 private:
  struct Entry {
    std::string from;
    Clock::time_point seen;
  };

  void evict_oldest() {
    if (order_.empty()) return;
    auto& [seen, id] = order_.front();
    auto it = entries_.find(id);
    if (it != entries_.end() && it->second.seen == seen) {
      auto held = held_.find(it->second.from);
      if (held != held_.end() && --held->second == 0) held_.erase(held);
      entries_.erase(it);
    }
    order_.pop_front();
  }

  size_t capacity_;
  std::chrono::milliseconds ttl_;
  std::unordered_map<std::string, Entry> entries_;
  std::deque<std::pair<Clock::time_point, std::string>> order_;
  std::unordered_map<std::string, size_t> held_;  // live ids per peer they came from
};

}  // namespace p2pnet
