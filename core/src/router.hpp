// Message type -> the one plugin instance that handles it. Plugins load and
// unload while the node runs, so lookups (one per frame) take a shared lock
// and changes an exclusive one.
#pragma once

#include "wire/hello.hpp"

#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace p2pnet {

class PluginInstance;

class Router {
 public:
  enum class Claim { ok, reserved, taken };

  // The core's own frames: no plugin may claim them. "p2pnet.types" tells a
  // peer that the set of types this node handles changed after the hello;
  // "p2pnet.dialback" and its result check whether a node can be reached.
  static bool reserved(std::string_view type) {
    return type == "hello" || type == "bye" || type == wire::kTypesUpdateType || type == wire::kDialbackRequestType ||
           type == wire::kDialbackResultType;
  }

  // A claim routes nothing until activate(): a plugin loaded while the node
  // runs gets no message before its start hook.
  Claim claim(const std::string& type, const std::shared_ptr<PluginInstance>& plugin);
  void activate(const PluginInstance* plugin);
  // Drops every type the plugin claimed (it failed to load or is unloading).
  void release(const PluginInstance* plugin);
  // The active owner, or null.
  std::shared_ptr<PluginInstance> owner(std::string_view type) const;
  // Who claimed the type, active or not (for conflict messages).
  std::shared_ptr<PluginInstance> claimant(std::string_view type) const;
  // The active types, sorted: what the hello advertises.
  std::vector<std::string> types() const;

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
  };
  struct Route {
    std::shared_ptr<PluginInstance> plugin;
    bool active = false;
  };
  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, Route, Hash, std::equal_to<>> routes_;
};

}  // namespace p2pnet
