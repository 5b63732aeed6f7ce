// The node's local event bus: plugins publish named JSON events and the
// subscribers of that name get them on their own strands, so plugins
// cooperate without linking to each other. A public event also reaches the
// plugins that subscribed to every public event and the node's listener (the
// control endpoint's clients following events); no event leaves the machine.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace p2pnet {

class PluginInstance;

class EventBus {
 public:
  static constexpr size_t kMaxEventNameLength = 128;

  void subscribe(const std::string& event, const std::shared_ptr<PluginInstance>& subscriber);
  void subscribe_public(const std::shared_ptr<PluginInstance>& subscriber);
  // Gets every public event, on the publisher's thread; it must not block.
  using PublicListener = std::function<void(const std::string& event, const std::string& json)>;
  void set_public_listener(PublicListener listener);
  // Returns how many plugins the event was queued for.
  size_t publish(const std::string& event, std::string json, bool is_public = false);
  // An unloading plugin gets no more events.
  void unsubscribe(const PluginInstance* subscriber);
  void clear();

 private:
  std::mutex mutex_;
  std::map<std::string, std::vector<std::weak_ptr<PluginInstance>>> subscribers_;
  std::vector<std::weak_ptr<PluginInstance>> public_subscribers_;
  std::mutex listener_mutex_;  // held while the listener runs, so clearing it waits for it
  PublicListener listener_;
};

}  // namespace p2pnet
