// A byte budget that refills at a fixed rate. A request may overdraw it, and
// the next waits until it is paid back, so any chunk size works and the
// long-run rate is exact.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace p2pnet::download {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  explicit RateLimiter(int64_t bytes_per_second, Clock::time_point now = Clock::now())
      : rate_(static_cast<double>(bytes_per_second)), burst_(std::max(1.0, rate_ / 10)), budget_(burst_), last_(now) {}

  bool unlimited() const { return rate_ <= 0; }

  bool try_take(int64_t bytes, Clock::time_point now = Clock::now()) {
    if (unlimited()) return true;
    refill(now);
    if (budget_ <= 0) return false;
    budget_ -= static_cast<double>(bytes);
    return true;
  }

  // How long until try_take can succeed.
  std::chrono::milliseconds wait(Clock::time_point now = Clock::now()) {
    if (unlimited()) return std::chrono::milliseconds(0);
    refill(now);
    if (budget_ > 0) return std::chrono::milliseconds(0);
    return std::chrono::milliseconds(static_cast<int64_t>(-budget_ * 1000 / rate_) + 1);
  }

 private:
  void refill(Clock::time_point now) {
    double seconds = std::chrono::duration<double>(now - last_).count();
    last_ = now;
    budget_ = std::min(burst_, budget_ + seconds * rate_);
  }

  double rate_;
  double burst_;
  double budget_;
  Clock::time_point last_;
};

}  // namespace p2pnet::download
