// Real nodes on loopback (port 0) for tests, with a shared runtime, a temp
// data dir, and helpers to run console commands and wait for peers.
#pragma once

#include "temp_dir.hpp"
#include "wait.hpp"

#include "p2pnet/node.hpp"

#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

namespace p2pnet::test {

struct CommandResult {
  int status = -1;  // -1: did not finish in time
  std::vector<std::string> lines;
  bool contains(const std::string& text) const;
  std::string text() const;
};

std::shared_ptr<Runtime> shared_runtime();
void release_shared_runtime();  // joins its threads; call once all test nodes are gone

// The plugin directories of this build.
std::filesystem::path stock_plugin_dir();
std::filesystem::path test_plugin_dir();

// A node config for tests: loopback, port 0, given plugins enabled.
NodeConfig test_config(const std::vector<std::string>& plugins = {});
// The same with encryption = false, for tests that speak raw frames (RawPeer).
NodeConfig plaintext_config(const std::vector<std::string>& plugins = {});
PluginConfig plugin(const std::string& name, nlohmann::json settings = nlohmann::json::object());

class TestNode {
 public:
  explicit TestNode(NodeConfig config, std::shared_ptr<Runtime> runtime = shared_runtime());
  TestNode() : TestNode(test_config()) {}
  explicit TestNode(const std::vector<std::string>& plugins) : TestNode(test_config(plugins)) {}
  // TestNode node({"probe", "ping"}): a node with these plugins.
  explicit TestNode(std::initializer_list<const char*> plugins)
      : TestNode(std::vector<std::string>(plugins.begin(), plugins.end())) {}
  ~TestNode();

  Node& node() { return *node_; }
  Node* operator->() { return node_.get(); }
  const std::string& id() const { return node_->id(); }
  uint16_t port() const { return node_->listen_port(); }
  const std::filesystem::path& data_dir() const { return data_dir_->path(); }

  CommandResult run(const std::string& line, std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // Connects to `other` and waits until both ends list each other.
  std::string connect_to(TestNode& other);
  bool has_peer(const std::string& id);
  // A core counter of `stats` (0 until it first counts).
  uint64_t event_count(const std::string& name);
  std::vector<std::string> events();  // lines printed outside commands

 private:
  std::unique_ptr<TempDir> data_dir_;
  std::unique_ptr<Node> node_;
  std::mutex events_mutex_;
  std::vector<std::string> events_;
};

}  // namespace p2pnet::test
