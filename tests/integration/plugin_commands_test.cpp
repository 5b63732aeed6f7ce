// ABI 1.2: a plugin drives its own node as a remote control does (runs
// console lines, reads their output) and follows the node's public events.
#include "test_node.hpp"

#include <fmt/core.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <mutex>

using namespace p2pnet;
using namespace p2pnet::test;

namespace {

// Output of a command that does not end by itself, read while it runs.
struct RunningCommand {
  std::mutex mutex;
  std::vector<std::string> lines;
  size_t count(const std::string& line) {
    std::lock_guard lock(mutex);
    return static_cast<size_t>(std::count(lines.begin(), lines.end(), line));
  }
};

std::shared_ptr<RunningCommand> start(TestNode& node, const std::string& line) {
  auto running = std::make_shared<RunningCommand>();
  node->execute(line,
                [running](std::string_view text, bool) {
                  std::lock_guard lock(running->mutex);
                  running->lines.emplace_back(text);
                },
                {});
  return running;
}

NodeConfig recorder_node(nlohmann::json settings = nlohmann::json::object()) {
  auto config = test_config({"live"});
  config.plugins.push_back(plugin("recorder", std::move(settings)));
  return config;
}

}  // namespace

TEST_CASE("a plugin runs console lines, core and plugin commands alike, and gets their output and status") {
  TestNode a(recorder_node()), b({"probe"});
  REQUIRE(a.connect_to(b) == b.id());

  auto peers = a.run("recorder-run peers");
  REQUIRE(peers.status == 0);
  CHECK(peers.contains("out: 1 peer"));
  CHECK(peers.contains("out: " + b.id()));
  CHECK(peers.contains("status: 0"));

  auto plugin_command = a.run("recorder-run live-version");
  CHECK(plugin_command.contains("out: live 1.0.0"));
  CHECK(plugin_command.contains("status: 0"));

  auto unknown = a.run("recorder-run no-such-command");
  CHECK(unknown.contains("out: unknown command 'no-such-command'"));
  CHECK(unknown.contains("status: 1"));
}

TEST_CASE("a plugin may run at most 32 commands at once and the node refuses more and keeps serving") {
  TestNode a(recorder_node());
  // live-hold never ends by itself, so all 32 stay running.
  auto held = start(a, "recorder-run x40 live-hold");
  CHECK(wait_until([&] { return held->count("out: holding") == 32; }));
  CHECK(held->count(fmt::format("refused: {}", P2PNET_ERR_QUEUE_FULL)) == 8);
  CHECK(a.run("peers").contains("0 peers"));
}

TEST_CASE("public events reach plugins that follow them all: peers joining and leaving, and what plugins publish") {
  TestNode a(recorder_node({{"public", true}, {"events", {"test.public"}}}));
  {
    TestNode b({"probe"});
    REQUIRE(a.connect_to(b) == b.id());
    CHECK(wait_until([&] {
      return a.run("recorder-log")
          .contains(
              fmt::format(R"(public peer.connected {{"authenticated":true,"host":"127.0.0.1","id":"{}")", b.id()));
    }));
    auto id = b.id();
    b->stop();
    CHECK(wait_until(
        [&] { return a.run("recorder-log").contains(fmt::format(R"(public peer.disconnected {{"id":"{}",)", id)); }));
  }

  // A public event reaches both its named subscribers and those that follow all.
  CHECK(a.run(R"(recorder-publish test.public {"n":1})").contains("status 0"));
  CHECK(wait_until([&] {
    auto log = a.run("recorder-log");
    return log.contains(R"(public test.public {"n":1})") && log.contains(R"(test.public {"n":1})");
  }));
  // Only objects: a client reads fields, so an array or a number is refused.
  CHECK(a.run("recorder-publish test.public [1]").contains(fmt::format("status {}", P2PNET_ERR_INVALID)));
}

TEST_CASE("a plugin hands work from a thread of its own to its context with post") {
  TestNode a(recorder_node());
  auto posted = a.run("recorder-post");
  CHECK(posted.status == 0);
  CHECK(posted.contains("posted from another thread"));
}
