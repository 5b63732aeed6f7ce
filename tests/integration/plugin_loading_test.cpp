// Every way a plugin can fail to load stops start-up with one clear line.
#include "test_node.hpp"

#include <catch2/catch.hpp>

using namespace p2pnet;
using namespace p2pnet::test;

namespace {

std::string startup_error(NodeConfig config) {
  TempDir dir;
  config.data_dir = dir.path();
  try {
    Node node(std::move(config), shared_runtime());
  } catch (const StartupError& e) {
    return e.what();
  }
  return "";
}

PluginConfig from_file(const std::string& name, const std::string& file) {
  auto config = plugin(name);
  config.path = test_plugin_dir() / file;
  return config;
}

}  // namespace

TEST_CASE("a plugin that is not in any plugin directory") {
  auto error = startup_error(test_config({"nonexistent"}));
  CHECK(error.find("plugin 'nonexistent': p2pnet_nonexistent.so not found in") != std::string::npos);
  CHECK(error.find(test_plugin_dir().string()) != std::string::npos);
}

TEST_CASE("an explicit path that does not exist") {
  auto config = test_config();
  config.plugins.push_back(from_file("x", "missing.so"));
  CHECK(startup_error(config).find("missing.so: file not found") != std::string::npos);
}

TEST_CASE("a file that is not a shared library") {
  auto error = startup_error(test_config({"garbage"}));
  CHECK(error.find("p2pnet_garbage.so: not a loadable shared library") != std::string::npos);
}

TEST_CASE("a shared library without the entry symbol") {
  auto error = startup_error(test_config({"no_entry"}));
  CHECK(error.find("p2pnet_no_entry.so: no entry symbol p2pnet_plugin_entry") != std::string::npos);
}

TEST_CASE("a plugin built for another ABI major") {
  auto error = startup_error(test_config({"abi_major"}));
  CHECK(error.find("p2pnet_abi_major.so: built for plugin ABI 2.0, this node supports ABI 1.0") != std::string::npos);
}

TEST_CASE("a plugin that needs a newer ABI minor") {
  auto error = startup_error(test_config({"abi_minor"}));
  CHECK(error.find("p2pnet_abi_minor.so: needs plugin ABI 1.1, this node only has ABI 1.0") != std::string::npos);
}

TEST_CASE("two plugins with one name") {
  auto error = startup_error(test_config({"probe", "probe_twin"}));
  CHECK(error.find("two plugins are named 'probe'") != std::string::npos);
}

TEST_CASE("two plugins claiming one message type") {
  auto config = test_config({"probe"});
  config.plugins.push_back(plugin("probe2", {{"types", {"probe"}}}));
  CHECK(startup_error(config) == "plugins 'probe' and 'probe2' both claim message type 'probe'");
}

TEST_CASE("a plugin claiming a type the core reserves") {
  auto config = test_config();
  config.plugins.push_back(plugin("probe", {{"types", {"hello"}}}));
  CHECK(startup_error(config) == "plugin 'probe' claims message type 'hello', which the core reserves");
}

TEST_CASE("a plugin whose load hook refuses - and a bad plugin setting") {
  auto config = test_config();
  config.plugins.push_back(plugin("thrower", {{"fail_load", true}}));
  CHECK(startup_error(config) == "plugin 'thrower' failed to load: thrower refuses to load, as configured");
  config = test_config();
  config.plugins.push_back(plugin("ping", {{"timeout_ms", "soon"}}));
  CHECK(startup_error(config) ==
        "plugin 'ping' failed to load: plugins.ping.timeout_ms: expected an integer from 10 to 600000, got \"soon\"");
}

TEST_CASE("a disabled plugin leaves no type - command or advertisement behind") {
  auto config = test_config({"probe", "ping"});
  config.plugins[1].enabled = false;
  TestNode node(config);
  auto plugins = node->plugins();
  REQUIRE(plugins.size() == 1);
  CHECK(plugins[0].name == "probe");
  CHECK_FALSE(node.run("help").contains("ping ["));
  CHECK(node.run("ping").contains("unknown command 'ping'"));
  TestNode other({"ping"});
  REQUIRE(other.connect_to(node) == node.id());
  auto peers = other->peers();
  REQUIRE(peers.size() == 1);
  CHECK(peers[0].types == std::vector<std::string>{"probe"});
}

TEST_CASE("one library serves many nodes in one process - each with its own instance") {
  std::vector<std::unique_ptr<TestNode>> nodes;
  for (int i = 0; i < 5; ++i) nodes.push_back(std::make_unique<TestNode>(std::vector<std::string>{"probe"}));
  REQUIRE(nodes[0]->connect_to(*nodes[1]) == nodes[1]->id());
  nodes[0]->run("probe-send " + nodes[1]->id() + " only-for-one");
  REQUIRE(wait_until([&] { return nodes[1]->run("probe-log").contains("1 received"); }));
  for (int i = 2; i < 5; ++i) CHECK(nodes[i]->run("probe-log").contains("0 received"));
}
