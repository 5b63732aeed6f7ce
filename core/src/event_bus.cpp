#include "event_bus.hpp"

#include "plugin_instance.hpp"

namespace p2pnet {

void EventBus::subscribe(const std::string& event, const std::shared_ptr<PluginInstance>& subscriber) {
  std::lock_guard lock(mutex_);
  auto& list = subscribers_[event];
  for (const auto& existing : list)
    if (existing.lock() == subscriber) return;
  list.push_back(subscriber);
}

size_t EventBus::publish(const std::string& event, std::string json) {
  std::vector<std::shared_ptr<PluginInstance>> targets;
  {
    std::lock_guard lock(mutex_);
    auto it = subscribers_.find(event);
    if (it == subscribers_.end()) return 0;
    for (const auto& weak : it->second)
      if (auto subscriber = weak.lock()) targets.push_back(std::move(subscriber));
  }
  auto shared = std::make_shared<const std::string>(std::move(json));
  for (const auto& target : targets) target->event(event, shared);
  return targets.size();
}

void EventBus::unsubscribe(const PluginInstance* subscriber) {
  std::lock_guard lock(mutex_);
  for (auto it = subscribers_.begin(); it != subscribers_.end();) {
    std::erase_if(it->second, [subscriber](const auto& weak) {
      auto locked = weak.lock();
      return !locked || locked.get() == subscriber;
    });
    it = it->second.empty() ? subscribers_.erase(it) : std::next(it);
  }
}

void EventBus::clear() {
  std::lock_guard lock(mutex_);
  subscribers_.clear();
}

}  // namespace p2pnet
