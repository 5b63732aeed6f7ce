// One plugin's instance inside one node: its state pointer, its strand (so
// its callbacks never overlap), and what it registered. Every call into the
// plugin goes through here; after destroy, nothing reaches it any more.
#pragma once

#include "connection.hpp"
#include "logger.hpp"
#include "p2pnet/config.hpp"
#include "plugin_library.hpp"
#include "wire/frame.hpp"

#include <p2pnet/plugin_abi.h>

#include <asio.hpp>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace p2pnet {
class PluginInstance;
class NodeCore;
}  // namespace p2pnet

// The opaque handle the C ABI hands to plugins.
struct p2pnet_host {
  p2pnet::PluginInstance* instance;
};

namespace p2pnet {

struct CommandInfo {
  std::string name;
  std::string usage;
  std::string help;
};

// The node's answer to a registration: a P2PNET_* status and, when it
// refused, why (the plugin's load error names it).
struct Registration {
  int status = 0;
  std::string refusal;
};

// What an unload found when its time was up: the instance is always out of
// the node by then; what still runs finishes later, then the plugin is
// destroyed and its library unloaded.
struct UnloadReport {
  bool callbacks_finished = true;  // on_stop returned (no callback stuck on the strand)
  size_t jobs_running = 0;         // background jobs not finished yet
  bool destroyed = true;           // destroy has run
};

class PluginInstance : public std::enable_shared_from_this<PluginInstance> {
 public:
  PluginInstance(std::shared_ptr<const PluginLibrary> library, std::shared_ptr<NodeCore> node, asio::io_context& io,
                 asio::thread_pool& background, LogSeverity log_level);

  // Runs the plugin's load hook on its strand and waits for it, so that
  // everything the plugin does later is ordered after it. Throws StartupError.
  void create(const nlohmann::json& settings);

  const std::string& name() const { return library_->name; }
  const PluginLibrary& library() const { return *library_; }
  std::shared_ptr<const PluginLibrary> library_handle() const { return library_; }
  NodeCore& node() { return *node_; }
  const Logger& log() const { return *log_; }
  p2pnet_host* handle() { return &handle_; }
  bool loading() const { return loading_; }
  // Unloading has begun: no new timers, jobs or connects; host calls that
  // reach the node are refused once it is destroyed.
  bool retiring() const { return retiring_.load(); }
  bool destroyed() const { return destroyed_.load(); }

  // What the plugin registered while loading.
  std::vector<std::string> types;
  std::vector<CommandInfo> commands;
  // The [plugins.NAME] table it was loaded from (name, path, settings).
  PluginConfig config;
  // Why the node refused a registration during the load hook: the load
  // error says this rather than what the plugin made of the refusal.
  void refuse_registration(const std::string& why) {
    if (registration_refusal_.empty()) registration_refusal_ = why;
  }

  // --- Calls into the plugin, each queued on the plugin's strand -------------
  void start();
  void stop_and_wait();     // on_stop; blocks the (non-network) caller until done
  void destroy_and_wait();  // waits for background work, then destroy
  // Unload while the node runs (the node already stopped routing to it):
  // cancels timers, refuses new work, runs on_stop, waits for running
  // callbacks and background jobs until `deadline`, then destroys. What is
  // still running then finishes first; destroy follows it.
  UnloadReport unload(std::chrono::steady_clock::time_point deadline);
  // After destroy: nothing calls into the node any more, so the instance
  // stops keeping it alive.
  void release_node() { node_.reset(); }
  void peer_connected(const std::shared_ptr<Connection>& peer);
  void peer_disconnected(const std::shared_ptr<Connection>& peer, const std::string& reason);
  // Copies the frame, counted in the sender's flow control until handled.
  void message(const std::shared_ptr<Connection>& from, const std::string& type, const wire::FrameView& frame);
  void event(const std::string& name, const std::shared_ptr<const std::string>& json);
  void public_event(const std::string& name, const std::shared_ptr<const std::string>& json);
  void command(uint64_t token, const std::string& name, const std::string& args);
  void connect_result(uint64_t token, const std::string& peer_id, const std::string& error);

  // --- Services behind host functions -----------------------------------------
  uint64_t start_timer(uint64_t delay_ms, uint64_t repeat_ms);
  void cancel_timer(uint64_t id);
  int run_background(p2pnet_work_fn work, p2pnet_work_fn done, void* user);
  void count(const std::string& counter, int64_t delta);
  std::map<std::string, int64_t> counters() const;
  // A console line the plugin runs (host function run_command): its output
  // and end come back on the strand. P2PNET_* status.
  int run_command(std::string_view line, uint64_t& token);

 private:
  template <class F>
  void post(F&& f);
  void arm_timer(uint64_t id, const std::shared_ptr<asio::steady_timer>& timer, uint64_t repeat_ms);
  void stop_accepting_work();
  void destroy_on_strand(bool call_destroy);

  std::shared_ptr<const PluginLibrary> library_;
  const p2pnet_plugin_api api_;  // every member usable: missing ones are null
  std::shared_ptr<NodeCore> node_;
  asio::strand<asio::io_context::executor_type> strand_;
  asio::thread_pool& background_;
  std::shared_ptr<Logger> log_;
  p2pnet_host handle_{this};
  void* state_ = nullptr;  // the plugin's own object; strand only
  bool loading_ = true;
  std::string registration_refusal_;  // strand only, while loading
  std::atomic<bool> retiring_{false};
  std::atomic<bool> destroyed_{false};
  std::set<uint64_t> announced_peers_;  // connection serials told to the plugin; strand only

  mutable std::mutex mutex_;  // guards everything below
  std::map<uint64_t, std::shared_ptr<asio::steady_timer>> timers_;
  uint64_t next_timer_ = 1;
  std::map<std::string, int64_t> counters_;
  size_t background_jobs_ = 0;
  uint64_t next_command_ = 1;
  size_t commands_running_ = 0;
  bool accepting_background_ = true;
  bool destroy_when_idle_ = false;  // an unload timed out on background jobs
  std::condition_variable background_idle_;
};

}  // namespace p2pnet
