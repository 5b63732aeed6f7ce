// The p2pnet node library: create a node from a configuration, start it,
// connect it to peers, send messages, run console commands, stop it.
// p2pnode is one program built on this API; tests, benchmarks and users'
// programs embed nodes the same way, many per process if they like.
#pragma once

#include "p2pnet/config.hpp"

#include <p2pnet/plugin_abi.h>

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace p2pnet {

// A node could not be created or started; what() is one line with the reason.
class StartupError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The threads that run nodes. Nodes that share a Runtime share its network
// threads and its background pool; a node created without one owns its own.
class Runtime {
 public:
  explicit Runtime(unsigned network_threads = 1, unsigned background_threads = 2);
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  struct Impl;
  Impl& impl() { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

struct TrafficCounters {
  uint64_t messages_in = 0;
  uint64_t messages_out = 0;
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  uint64_t errors = 0;
};

struct PeerSummary {
  std::string id;
  std::string host;
  uint16_t port = 0;  // the peer's listen port
  bool inbound = false;
  bool authenticated = false;  // encrypted, and the id is proven by the peer's key
  std::vector<std::string> types;
  TrafficCounters traffic;
  std::string relayed_via;  // the relay's id for a relayed link; "" when direct
};

struct NodeStats {
  TrafficCounters total;
  std::map<std::string, uint64_t> events;          // refused connections, malformed frames, ...
  std::map<std::string, int64_t> plugin_counters;  // "plugin.counter" -> value
  std::vector<PeerSummary> peers;
};

struct PluginSummary {
  std::string name;
  std::string version;
  std::string description;
  std::string file;
  std::vector<std::string> types;
  std::vector<std::string> commands;
};

// Receives a command's output lines; transient lines are status updates.
using OutputSink = std::function<void(std::string_view line, bool transient)>;

class NodeCore;

class Node {
 public:
  // Loads the identity and every enabled plugin. Throws StartupError.
  explicit Node(NodeConfig config, std::shared_ptr<Runtime> runtime = nullptr);
  ~Node();  // stops the node if it still runs
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Listens, runs the plugins' start hooks, dials the configured peers.
  void start();
  // Graceful: plugins' stop hooks run, peers are told goodbye, plugins are
  // destroyed, the node's own threads are joined. Idempotent. Must not be
  // called from a thread of the node's runtime (e.g. inside a plugin).
  void stop();

  const std::string& id() const;
  std::string listen_host() const;
  uint16_t listen_port() const;

  // Dials host:port; done(peer_id, "") once the handshake succeeds (or the
  // node was already connected), done("", reason) otherwise.
  using ConnectDone = std::function<void(const std::string& peer_id, const std::string& error)>;
  // With expected_id, the connection is refused unless the peer proves that id.
  void connect(const std::string& host, uint16_t port, ConnectDone done = {}, const std::string& expected_id = "");
  bool disconnect(const std::string& peer_id);

  // Sends a frame (header: a JSON object with a string "type"). Returns a
  // P2PNET_* status from plugin_abi.h.
  int send(const std::string& peer_id, std::string_view header, std::span<const std::byte> body = {});

  std::vector<PeerSummary> peers() const;
  NodeStats stats() const;
  std::vector<PluginSummary> plugins() const;

  // Runs one console line (a core or a plugin command). Output goes to `out`;
  // `done(status)` runs once the command has finished (0 = success).
  void execute(std::string_view line, OutputSink out, std::function<void(int status)> done);
  // Lines printed outside any command: peers joining and leaving, plugin
  // notices; a transient one replaces the status area (empty: none), such as
  // the download plugin's summary of running transfers.
  void set_event_sink(OutputSink sink);
  // Public events: the node's own (peer.connected, peer.disconnected,
  // notice) and those plugins publish as public, each a name and a JSON
  // object. Called on the publishing thread: it must not block.
  using PublicEventSink = std::function<void(const std::string& event, const std::string& json)>;
  void set_public_event_sink(PublicEventSink sink);

  // Where the `reload` command (and p2pnode's SIGHUP) reads the configuration
  // again: typically node.toml with the command line's overrides. It throws
  // ConfigError for a file that cannot be used; the node then changes nothing.
  void set_config_source(std::function<NodeConfig()> source);

  // The `stop` command, end of console input or a signal asked the node to stop.
  void request_stop();
  void wait_for_stop_request();

  // Internals, for the node's own tests and tools; null once stopped.
  NodeCore* core() { return core_.get(); }

 private:
  bool owns_runtime_;
  std::shared_ptr<Runtime> runtime_;
  std::shared_ptr<NodeCore> core_;
  std::string id_;
  std::string listen_host_;
  uint16_t listen_port_ = 0;
  std::mutex stop_request_mutex_;
  std::condition_variable stop_requested_cv_;
  bool stop_requested_ = false;
};

}  // namespace p2pnet
