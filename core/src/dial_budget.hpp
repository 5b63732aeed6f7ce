// A token bucket for new outbound dials: `per_second` tokens a second, at
// most one second's worth saved up. Thread-safe.
#pragma once

#include <algorithm>
#include <chrono>
#include <mutex>

namespace p2pnet {

class DialBudget {
 public:
  using Clock = std::chrono::steady_clock;
  explicit DialBudget(double per_second) : rate_(per_second), tokens_(per_second), last_(Clock::now()) {}

  bool take(Clock::time_point now = Clock::now()) {
    std::lock_guard lock(mutex_);
    double elapsed = std::chrono::duration<double>(now - last_).count();
    last_ = now;
    tokens_ = std::min(rate_, tokens_ + std::max(0.0, elapsed) * rate_);
    if (tokens_ < 1) return false;
    tokens_ -= 1;
    return true;
  }

 private:
  std::mutex mutex_;
  double rate_;
  double tokens_;
  Clock::time_point last_;
};

}  // namespace p2pnet
