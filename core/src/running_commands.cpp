#include "running_commands.hpp"

#include <vector>

namespace p2pnet {

uint64_t RunningCommands::add(OutputSink out, Done done, const PluginInstance* plugin) {
  std::lock_guard lock(mutex_);
  uint64_t token = next_token_++;
  commands_[token] = Command{std::move(out), std::move(done), plugin};
  return token;
}

OutputSink RunningCommands::output(uint64_t token) const {
  std::lock_guard lock(mutex_);
  auto it = commands_.find(token);
  return it == commands_.end() ? OutputSink{} : it->second.out;
}

void RunningCommands::finish(uint64_t token, int status) {
  Done done;
  {
    std::lock_guard lock(mutex_);
    auto it = commands_.find(token);
    if (it == commands_.end()) return;
    done = std::move(it->second.done);
    commands_.erase(it);
  }
  // Outside the lock: the sink may run the next command at once.
  if (done) done(status);
}

void RunningCommands::fail_all(const PluginInstance* plugin, const std::string& line) {
  std::vector<Command> ended;
  {
    std::lock_guard lock(mutex_);
    for (auto it = commands_.begin(); it != commands_.end();) {
      if (plugin && it->second.plugin != plugin) {
        ++it;
        continue;
      }
      ended.push_back(std::move(it->second));
      it = commands_.erase(it);
    }
  }
  for (auto& command : ended) {
    if (command.out) command.out(line, false);
    if (command.done) command.done(1);
  }
}

}  // namespace p2pnet
