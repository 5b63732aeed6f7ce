// The plugins a node runs and the console commands they registered, under
// one lock: connection handlers walk the list while plugins load and unload.
#pragma once

#include "plugin_instance.hpp"

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace p2pnet {

class PluginRegistry {
 public:
  void add(const std::shared_ptr<PluginInstance>& plugin);
  // Takes the plugin and its commands out; its routes and subscriptions are
  // the caller's to release.
  void remove(const PluginInstance* plugin);
  void clear();

  // A plugin by its name or its [plugins.NAME] table name.
  std::shared_ptr<PluginInstance> find(const std::string& name) const;
  std::vector<std::shared_ptr<PluginInstance>> list() const;

  // Gives `command` to `plugin` unless another plugin has it: then says who.
  std::string claim_command(const std::shared_ptr<PluginInstance>& plugin, const CommandInfo& command);
  std::shared_ptr<PluginInstance> command_owner(const std::string& name) const;
  struct OwnedCommand {
    CommandInfo command;
    std::string plugin;
  };
  // Sorted by command name, for `help`.
  std::vector<OwnedCommand> commands() const;

 private:
  mutable std::mutex mutex_;
  std::vector<std::shared_ptr<PluginInstance>> plugins_;
  std::map<std::string, std::pair<CommandInfo, std::shared_ptr<PluginInstance>>> commands_;
};

}  // namespace p2pnet
