// How much dialing back a node does for its peers: a dial-back costs a TCP
// and TLS handshake, and a peer that could make us dial at will would turn
// us into a scanner. We dial back only the address a request came from, at
// most once a minute per peer and a few at a time node-wide. Thread-safe.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <string>

namespace p2pnet {

class DialbackBudget {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr size_t kMaxRunning = 4;
  static constexpr auto kPerPeerInterval = std::chrono::seconds(60);
  static constexpr size_t kMaxRemembered = 1024;  // peers whose last request is kept

  // "" with a slot taken (give it back with finished()), or why not now.
  std::string take(const std::string& peer_id, Clock::time_point now = Clock::now()) {
    std::lock_guard lock(mutex_);
    if (running_ >= kMaxRunning) return "busy with other dial-backs";
    auto last = asked_.find(peer_id);
    if (last != asked_.end() && now - last->second < kPerPeerInterval) return "asked less than a minute ago";
    if (last == asked_.end() && asked_.size() >= kMaxRemembered) {
      auto oldest = std::min_element(asked_.begin(), asked_.end(),
                                     [](const auto& a, const auto& b) { return a.second < b.second; });
      asked_.erase(oldest);
    }
    asked_[peer_id] = now;
    ++running_;
    return "";
  }
  void finished() {
    std::lock_guard lock(mutex_);
    if (running_ > 0) --running_;
  }

 private:
  std::mutex mutex_;
  std::map<std::string, Clock::time_point> asked_;
  size_t running_ = 0;
};

// How often this node asks: the first peers at once, then a few every ten
// minutes, so a node that meets many peers (discovery) does not make each
// of them dial it.
class DialbackAsks {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr size_t kPerWindow = 8;
  static constexpr auto kWindow = std::chrono::minutes(10);

  bool take(Clock::time_point now = Clock::now()) {
    std::lock_guard lock(mutex_);
    if (asked_ == 0 || now - window_start_ >= kWindow) {
      window_start_ = now;
      asked_ = 0;
    }
    if (asked_ >= kPerWindow) return false;
    ++asked_;
    return true;
  }

 private:
  std::mutex mutex_;
  Clock::time_point window_start_;
  size_t asked_ = 0;
};

}  // namespace p2pnet
