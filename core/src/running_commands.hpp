// The console lines that plugins are running: each token's output sink and
// end, until the plugin ends it, the plugin goes, or the node stops. Every
// command ends exactly once, so whoever typed it (the console, a control
// client, a plugin) is never left waiting.
#pragma once

#include "p2pnet/node.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>

namespace p2pnet {

class PluginInstance;

class RunningCommands {
 public:
  using Done = std::function<void(int status)>;

  // A token for the plugin's command; its output goes to `out`.
  uint64_t add(OutputSink out, Done done, const PluginInstance* plugin);
  // The command's output sink; empty once it ended (or for an unknown token).
  OutputSink output(uint64_t token) const;
  // Ends the command with `status`; nothing if it already ended.
  void finish(uint64_t token, int status);
  // Ends every command of `plugin` (of every plugin when null) with status
  // 1, printing `line` to each first.
  void fail_all(const PluginInstance* plugin, const std::string& line);

 private:
  struct Command {
    OutputSink out;
    Done done;
    const PluginInstance* plugin = nullptr;
  };
  mutable std::mutex mutex_;
  std::map<uint64_t, Command> commands_;
  uint64_t next_token_ = 1;
};

}  // namespace p2pnet
