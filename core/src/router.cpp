#include "router.hpp"

#include <algorithm>

namespace p2pnet {

Router::Claim Router::claim(const std::string& type, PluginInstance* plugin) {
  if (reserved(type)) return Claim::reserved;
  auto [it, inserted] = routes_.emplace(type, plugin);
  if (!inserted && it->second != plugin) return Claim::taken;
  return Claim::ok;
}

void Router::release(const PluginInstance* plugin) {
  std::erase_if(routes_, [plugin](const auto& route) { return route.second == plugin; });
}

PluginInstance* Router::owner(std::string_view type) const {
  auto it = routes_.find(type);
  return it == routes_.end() ? nullptr : it->second;
}

std::vector<std::string> Router::types() const {
  std::vector<std::string> out;
  for (const auto& [type, plugin] : routes_) out.push_back(type);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace p2pnet
