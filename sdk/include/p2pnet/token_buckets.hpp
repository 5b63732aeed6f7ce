// Rate budgets for what peers ask of a plugin: one token bucket per key (a
// peer id, an address), each refilled at `per_second` up to `burst` tokens.
// A plugin checks every budget a request is charged to before spending from
// any, so a request refused by one budget costs nothing from the others.
// Buckets that have filled up again say nothing a fresh bucket would not, so
// sweep() drops them: the table holds only keys that asked recently.
#pragma once

#include <algorithm>
#include <chrono>
#include <string>
#include <unordered_map>

namespace p2pnet {

class TokenBuckets {
 public:
  using Clock = std::chrono::steady_clock;

  // per_second = 0: no limit.
  TokenBuckets(double per_second, double burst) : rate_(per_second), burst_(std::max(1.0, burst)) {}

  bool unlimited() const { return rate_ <= 0; }

  // Whether `key` may spend a token now; spends nothing.
  bool has_token(const std::string& key, Clock::time_point now = Clock::now()) {
    if (unlimited()) return true;
    return refill(key, now).tokens >= 1.0;
  }

  // Spends one token; call after has_token said yes.
  void spend(const std::string& key, Clock::time_point now = Clock::now()) {
    if (unlimited()) return;
    auto& bucket = refill(key, now);
    bucket.tokens = std::max(0.0, bucket.tokens - 1.0);
  }

  bool take(const std::string& key, Clock::time_point now = Clock::now()) {
    if (!has_token(key, now)) return false;
    spend(key, now);
    return true;
  }

  void forget(const std::string& key) { buckets_.erase(key); }

  // Drops the buckets that are full again.
  void sweep(Clock::time_point now = Clock::now()) {
    for (auto it = buckets_.begin(); it != buckets_.end();) {
      double tokens = it->second.tokens + seconds(now - it->second.refilled) * rate_;
      it = tokens >= burst_ ? buckets_.erase(it) : std::next(it);
    }
  }

  size_t size() const { return buckets_.size(); }

 private:
  struct Bucket {
    double tokens;
    Clock::time_point refilled;
  };

  static double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

  Bucket& refill(const std::string& key, Clock::time_point now) {
    auto& bucket = buckets_.try_emplace(key, Bucket{burst_, now}).first->second;
    if (now > bucket.refilled) {
      bucket.tokens = std::min(burst_, bucket.tokens + seconds(now - bucket.refilled) * rate_);
      bucket.refilled = now;
    }
    return bucket;
  }

  double rate_;
  double burst_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace p2pnet
