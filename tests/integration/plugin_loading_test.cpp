// Every way a plugin can fail to load stops start-up with one clear line that
// names the [plugins.X] table and the file, unless the plugin is not required.
#include "log_capture.hpp"
#include "test_node.hpp"

#include <p2pnet/plugin_abi.h>

#include <fmt/core.h>
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

TEST_CASE("a file that is not a shared library - in the dynamic loader's words") {
  auto error = startup_error(test_config({"garbage"}));
  CHECK(error.starts_with("[plugins.garbage] plugin file "));
  CHECK(error.find("p2pnet_garbage.so: not a loadable shared library") != std::string::npos);
  CHECK(error.find("file too short") != std::string::npos);
  CHECK(error.find("Bad file descriptor") == std::string::npos);
}

TEST_CASE("a library with an undefined symbol - named") {
  auto error = startup_error(test_config({"undefined_symbol"}));
  CHECK(error.find("p2pnet_undefined_symbol.so: not a loadable shared library") != std::string::npos);
  CHECK(error.find("undefined symbol: p2pnet_test_symbol_nobody_defines") != std::string::npos);
}

TEST_CASE("a shared library without the entry symbol") {
  auto error = startup_error(test_config({"no_entry"}));
  CHECK(error.find("p2pnet_no_entry.so: no entry symbol p2pnet_plugin_entry") != std::string::npos);
}

TEST_CASE("a plugin built for another ABI major") {
  auto error = startup_error(test_config({"abi_major"}));
  CHECK(error.find(fmt::format("p2pnet_abi_major.so: built for plugin ABI 2.0, this node supports ABI 1.{}",
                               P2PNET_ABI_MINOR)) != std::string::npos);
}

TEST_CASE("a plugin that needs a newer ABI minor") {
  auto error = startup_error(test_config({"abi_minor"}));
  CHECK(error.find(fmt::format("p2pnet_abi_minor.so: needs plugin ABI 1.{}, this node only has ABI 1.{}",
                               P2PNET_ABI_MINOR + 1, P2PNET_ABI_MINOR)) != std::string::npos);
}

TEST_CASE("two plugins with one name") {
  auto error = startup_error(test_config({"probe", "probe_twin"}));
  CHECK(error.find("two plugins are named 'probe'") != std::string::npos);
}

TEST_CASE("two plugins claiming one message type") {
  auto config = test_config({"probe"});
  config.plugins.push_back(plugin("probe2", {{"types", {"probe"}}}));
  CHECK(startup_error(config) == "[plugins.probe2] plugins 'probe' and 'probe2' both claim message type 'probe' (" +
                                     (test_plugin_dir() / "p2pnet_probe2.so").string() + ")");
}

TEST_CASE("a plugin claiming a type the core reserves") {
  auto config = test_config();
  config.plugins.push_back(plugin("probe", {{"types", {"hello"}}}));
  CHECK(startup_error(config).starts_with(
      "[plugins.probe] plugin 'probe' claims message type 'hello', which the core reserves ("));
}

TEST_CASE("a plugin whose load hook refuses - and a bad plugin setting") {
  auto config = test_config();
  config.plugins.push_back(plugin("thrower", {{"fail_load", true}}));
  CHECK(startup_error(config) ==
        "[plugins.thrower] plugin 'thrower' failed to load: thrower refuses to load, as "
        "configured (" +
            (test_plugin_dir() / "p2pnet_thrower.so").string() + ")");
  config = test_config();
  config.plugins.push_back(plugin("ping", {{"timeout_ms", "soon"}}));
  CHECK(
      startup_error(config).starts_with("[plugins.ping] plugin 'ping' failed to load: plugins.ping.timeout_ms: "
                                        "expected an integer from 10 to 600000, got \"soon\" ("));
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

TEST_CASE("a plugin that is not required is skipped with a warning - the node runs") {
  LogCapture logs;
  auto config = test_config({"probe"});
  auto broken = plugin("garbage");
  broken.required = false;
  config.plugins.push_back(broken);
  TestNode node(config);
  auto plugins = node->plugins();
  REQUIRE(plugins.size() == 1);
  CHECK(plugins[0].name == "probe");
  CHECK(logs.contains("[plugins.garbage] plugin file "));
  CHECK(logs.contains("file too short); skipped, as it is not required (required = false)"));
}

TEST_CASE("a plugin that fails in its load hook and is not required leaves nothing registered") {
  auto config = test_config();
  auto failing = plugin("probe2", {{"types", {"probe.twin"}}, {"fail_after_registering", true}});
  failing.required = false;
  config.plugins.push_back(failing);
  config.plugins.push_back(plugin("probe", {{"types", {"probe.twin"}}}));
  TestNode node(config);
  auto plugins = node->plugins();
  REQUIRE(plugins.size() == 1);
  CHECK(plugins[0].name == "probe");
  CHECK(plugins[0].types == std::vector<std::string>{"probe.twin"});
}

// --- SDK 1.1: what 1.0 promised, kept ----------------------------------------

TEST_CASE("a descriptor longer than this host's loads - the members it does not know are ignored") {
  TestNode node({"cprobe_big_descriptor"});
  auto plugins = node->plugins();
  REQUIRE(plugins.size() == 1);
  CHECK(plugins[0].name == "cprobe_big_descriptor");
  CHECK(plugins[0].version == "1.1.0");
}

TEST_CASE("a descriptor shorter than ABI 1.0's is refused") {
  auto error = startup_error(test_config({"cprobe_small_descriptor"}));
  CHECK(error.find("p2pnet_cprobe_small_descriptor.so: the descriptor is 32 bytes, less than ABI 1.0's 40: not a "
                   "p2pnet plugin descriptor") != std::string::npos);
}

TEST_CASE("a callback table ending inside a member is rounded down to whole members - and says so") {
  LogCapture logs;
  TestNode node({"cprobe_ragged"});
  CHECK(
      logs.contains("p2pnet_cprobe_ragged.so: the callback table's struct_size 92 ends inside a member: using its "
                    "first 10 callbacks, the rest are absent"));
  // The whole members before the cut still work.
  CHECK(node.run("cprobe subscribe").contains("subscribe: -4"));
}

TEST_CASE("a plugin without on_command cannot register a command") {
  auto error = startup_error(test_config({"cprobe_no_on_command"}));
  CHECK(
      error.starts_with("[plugins.cprobe_no_on_command] plugin 'cprobe_no_on_command' registers command 'cprobe' "
                        "but has no on_command callback to run it ("));
}

TEST_CASE("subscribe after the load hook is refused") {
  TestNode node({"cprobe"});
  CHECK(node.run("cprobe subscribe").contains("subscribe: " + std::to_string(P2PNET_ERR_NOT_ALLOWED)));
}

TEST_CASE("publish refuses a payload that is not JSON") {
  TestNode node({"cprobe"});
  CHECK(node.run("cprobe publish {\"ok\": [1, 2]}").contains("publish: 0"));
  CHECK(node.run("cprobe publish {not json").contains("publish: " + std::to_string(P2PNET_ERR_INVALID)));
  CHECK(node.run("cprobe publish ").contains("publish: " + std::to_string(P2PNET_ERR_INVALID)));
}

TEST_CASE("a plugin built against the frozen ABI 1.0 headers loads and talks to today's host") {
  TestNode a({"abi10"}), b({"abi10"});
  CHECK(a.run("abi10 hello")
            .contains(fmt::format("abi10 built with ABI 1.0, host has ABI {}.{}", P2PNET_ABI_MAJOR, P2PNET_ABI_MINOR)));
  REQUIRE(a.connect_to(b) == b.id());
  CHECK(a.run("abi10 send " + b.id()).contains("abi10 send: 0"));
  CHECK(wait_until([&] { return b.run("abi10 count").contains("abi10 received 1"); }));
}
