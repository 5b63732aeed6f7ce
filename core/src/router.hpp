// Message type -> the one plugin instance that handles it. Filled while
// plugins load, read-only (and so lock-free) once the node runs.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace p2pnet {

class PluginInstance;

class Router {
 public:
  enum class Claim { ok, reserved, taken };

  // Types the core itself speaks: no plugin may claim them.
  static bool reserved(std::string_view type) { return type == "hello" || type == "bye"; }

  Claim claim(const std::string& type, PluginInstance* plugin);
  // Drops every type the plugin claimed (a plugin that failed to load).
  void release(const PluginInstance* plugin);
  PluginInstance* owner(std::string_view type) const;
  std::vector<std::string> types() const;

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
  };
  std::unordered_map<std::string, PluginInstance*, Hash, std::equal_to<>> routes_;
};

}  // namespace p2pnet
