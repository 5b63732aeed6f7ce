#include "reversal_waits.hpp"

#include <fmt/core.h>

namespace p2pnet {

bool ReversalWaits::begin(const std::string& node_id, std::set<std::string> relays_asked,
                          std::chrono::milliseconds deadline, Done done) {
  auto timer = std::make_shared<asio::steady_timer>(io_, deadline);
  uint64_t key;
  {
    std::lock_guard lock(mutex_);
    if (stopped_ || waits_.size() >= kMaxWaits) return false;
    key = next_key_++;
    waits_.emplace(key, Wait{node_id, std::move(relays_asked), false, "", std::move(done), timer});
  }
  timer->async_wait([weak = weak_from_this(), key](const std::error_code& error) {
    auto self = weak.lock();
    if (error || !self) return;
    std::lock_guard lock(self->mutex_);
    auto it = self->waits_.find(key);
    if (it == self->waits_.end()) return;
    self->finish_locked(it, false,
                        it->second.passed_on ? "the node did not dial back in time" : "no relay answered in time");
  });
  return true;
}

bool ReversalWaits::answered(const std::string& relay_id, const std::string& node_id, bool passed_on,
                             const std::string& reason) {
  std::lock_guard lock(mutex_);
  bool asked = false;
  for (auto it = waits_.begin(); it != waits_.end();) {
    auto current = it++;
    auto& wait = current->second;
    if (wait.node_id != node_id || wait.unanswered.erase(relay_id) == 0) continue;
    asked = true;
    if (passed_on) {
      wait.passed_on = true;
      continue;
    }
    wait.refusals += fmt::format("{}{}: {}", wait.refusals.empty() ? "" : "; ", relay_id.substr(0, 8), reason);
    finish_if_hopeless_locked(current);
  }
  return asked;
}

void ReversalWaits::arrived(const std::string& node_id) {
  std::lock_guard lock(mutex_);
  for (auto it = waits_.begin(); it != waits_.end();) {
    auto current = it++;
    if (current->second.node_id == node_id) finish_locked(current, true, "");
  }
}

void ReversalWaits::relay_lost(const std::string& relay_id) {
  std::lock_guard lock(mutex_);
  for (auto it = waits_.begin(); it != waits_.end();) {
    auto current = it++;
    if (current->second.unanswered.erase(relay_id) == 0) continue;
    current->second.refusals += fmt::format("{}{}: the link to the relay closed",
                                            current->second.refusals.empty() ? "" : "; ", relay_id.substr(0, 8));
    finish_if_hopeless_locked(current);
  }
}

void ReversalWaits::stop() {
  std::lock_guard lock(mutex_);
  stopped_ = true;
  while (!waits_.empty()) finish_locked(waits_.begin(), false, "node is stopping");
}

void ReversalWaits::finish_if_hopeless_locked(std::map<uint64_t, Wait>::iterator it) {
  if (!it->second.passed_on && it->second.unanswered.empty()) finish_locked(it, false, it->second.refusals);
}

void ReversalWaits::finish_locked(std::map<uint64_t, Wait>::iterator it, bool arrived, const std::string& why_not) {
  it->second.deadline->cancel();
  asio::post(io_, [done = std::move(it->second.done), arrived, why_not] { done(arrived, why_not); });
  waits_.erase(it);
}

}  // namespace p2pnet
