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

void EventBus::subscribe_public(const std::shared_ptr<PluginInstance>& subscriber) {
  std::lock_guard lock(mutex_);
  for (const auto& existing : public_subscribers_)
    if (existing.lock() == subscriber) return;
  public_subscribers_.push_back(subscriber);
}

void EventBus::set_public_listener(PublicListener listener) {
  std::lock_guard lock(listener_mutex_);
  listener_ = std::move(listener);
}

size_t EventBus::publish(const std::string& event, std::string json, bool is_public) {
  std::vector<std::shared_ptr<PluginInstance>> targets;
  std::vector<std::shared_ptr<PluginInstance>> public_targets;
  {
    std::lock_guard lock(mutex_);
    if (auto it = subscribers_.find(event); it != subscribers_.end())
      for (const auto& weak : it->second)
        if (auto subscriber = weak.lock()) targets.push_back(std::move(subscriber));
    if (is_public)
      for (const auto& weak : public_subscribers_)
        if (auto subscriber = weak.lock()) public_targets.push_back(std::move(subscriber));
  }
  if (is_public) {
    std::lock_guard lock(listener_mutex_);
    if (listener_) listener_(event, json);
  }
  if (targets.empty() && public_targets.empty()) return 0;
  auto shared = std::make_shared<const std::string>(std::move(json));
  for (const auto& target : targets) target->event(event, shared);
  for (const auto& target : public_targets) target->public_event(event, shared);
  return targets.size() + public_targets.size();
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
  std::erase_if(public_subscribers_, [subscriber](const auto& weak) {
    auto locked = weak.lock();
    return !locked || locked.get() == subscriber;
  });
}

void EventBus::clear() {
  {
    std::lock_guard lock(mutex_);
    subscribers_.clear();
    public_subscribers_.clear();
  }
  set_public_listener({});
}

}  // namespace p2pnet
