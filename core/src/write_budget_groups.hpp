// One write-budget counter per address group, shared by that group's inbound
// connections, so that the group's share of the node's write budget is
// counted across all of them.
#pragma once

#include <atomic>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace p2pnet {

class WriteBudgetGroups {
 public:
  // The counter of `group`, created at zero when no connection holds it.
  // Thread-safe.
  std::shared_ptr<std::atomic<size_t>> counter_for(const std::string& group) {
    std::lock_guard lock(mutex_);
    auto& slot = counters_[group];
    auto counter = slot.lock();
    if (!counter) slot = counter = std::make_shared<std::atomic<size_t>>(0);
    // Groups whose connections all closed are dropped now and then, so the
    // map is bounded by the groups connected, not by every group ever seen.
    if (counters_.size() > 2 * live_after_prune_) prune_locked();
    return counter;
  }

 private:
  void prune_locked() {
    for (auto it = counters_.begin(); it != counters_.end();)
      it = it->second.expired() ? counters_.erase(it) : std::next(it);
    live_after_prune_ = std::max<size_t>(counters_.size(), 64);
  }

  std::mutex mutex_;
  std::map<std::string, std::weak_ptr<std::atomic<size_t>>> counters_;
  size_t live_after_prune_ = 64;
};

}  // namespace p2pnet
