// The node's local event bus: plugins publish named JSON events and the
// subscribers of that name get them on their own strands. Events never leave
// the node, so plugins cooperate without linking to each other.
#pragma once

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
  // Returns how many subscribers the event was queued for.
  size_t publish(const std::string& event, std::string json);
  // An unloading plugin gets no more events.
  void unsubscribe(const PluginInstance* subscriber);
  void clear();

 private:
  std::mutex mutex_;
  std::map<std::string, std::vector<std::weak_ptr<PluginInstance>>> subscribers_;
};

}  // namespace p2pnet
