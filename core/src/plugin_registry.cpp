#include "plugin_registry.hpp"

#include <algorithm>

namespace p2pnet {

void PluginRegistry::add(const std::shared_ptr<PluginInstance>& plugin) {
  std::lock_guard lock(mutex_);
  plugins_.push_back(plugin);
}

void PluginRegistry::remove(const PluginInstance* plugin) {
  std::lock_guard lock(mutex_);
  std::erase_if(plugins_, [&](const auto& entry) { return entry.get() == plugin; });
  std::erase_if(commands_, [&](const auto& entry) { return entry.second.second.get() == plugin; });
}

void PluginRegistry::clear() {
  std::lock_guard lock(mutex_);
  plugins_.clear();
  commands_.clear();
}

std::shared_ptr<PluginInstance> PluginRegistry::find(const std::string& name) const {
  std::lock_guard lock(mutex_);
  for (const auto& plugin : plugins_)
    if (plugin->name() == name || plugin->config.name == name) return plugin;
  return nullptr;
}

std::vector<std::shared_ptr<PluginInstance>> PluginRegistry::list() const {
  std::lock_guard lock(mutex_);
  return plugins_;
}

std::string PluginRegistry::claim_command(const std::shared_ptr<PluginInstance>& plugin, const CommandInfo& command) {
  std::lock_guard lock(mutex_);
  auto [it, inserted] = commands_.emplace(command.name, std::make_pair(command, plugin));
  return inserted ? "" : it->second.second->name();
}

std::shared_ptr<PluginInstance> PluginRegistry::command_owner(const std::string& name) const {
  std::lock_guard lock(mutex_);
  auto it = commands_.find(name);
  return it == commands_.end() ? nullptr : it->second.second;
}

std::vector<PluginRegistry::OwnedCommand> PluginRegistry::commands() const {
  std::lock_guard lock(mutex_);
  std::vector<OwnedCommand> out;
  for (const auto& [name, entry] : commands_) out.push_back({entry.first, entry.second->name()});
  return out;
}

}  // namespace p2pnet
