#include "router.hpp"

#include <algorithm>
#include <mutex>

namespace p2pnet {

Router::Claim Router::claim(const std::string& type, const std::shared_ptr<PluginInstance>& plugin) {
  if (reserved(type)) return Claim::reserved;
  std::unique_lock lock(mutex_);
  auto [it, inserted] = routes_.emplace(type, Route{plugin, false});
  if (!inserted && it->second.plugin != plugin) return Claim::taken;
  return Claim::ok;
}

void Router::activate(const PluginInstance* plugin) {
  std::unique_lock lock(mutex_);
  for (auto& [type, route] : routes_)
    if (route.plugin.get() == plugin) route.active = true;
}

void Router::release(const PluginInstance* plugin) {
  std::unique_lock lock(mutex_);
  std::erase_if(routes_, [plugin](const auto& route) { return route.second.plugin.get() == plugin; });
}

std::shared_ptr<PluginInstance> Router::owner(std::string_view type) const {
  std::shared_lock lock(mutex_);
  auto it = routes_.find(type);
  return it == routes_.end() || !it->second.active ? nullptr : it->second.plugin;
}

std::shared_ptr<PluginInstance> Router::claimant(std::string_view type) const {
  std::shared_lock lock(mutex_);
  auto it = routes_.find(type);
  return it == routes_.end() ? nullptr : it->second.plugin;
}

std::vector<std::string> Router::types() const {
  std::vector<std::string> out;
  {
    std::shared_lock lock(mutex_);
    for (const auto& [type, route] : routes_)
      if (route.active) out.push_back(type);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace p2pnet
