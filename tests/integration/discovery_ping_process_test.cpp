// discovery and ping in p2pnode processes, as the README walks a newcomer
// through them, and a stopped (SIGSTOP) process found dead by keep-alive.
#include "node_process.hpp"

#include <algorithm>
#include <csignal>
#include <fstream>

using namespace p2pnet::test;

namespace {

const std::string kConfig = std::string(P2PNET_SOURCE_DIR) + "/config/node.toml";

std::string address_pattern(const NodeProcess& node) { return "127\\.0\\.0\\.1:" + std::to_string(node.port()); }

}  // namespace

TEST_CASE("README walkthrough - three nodes in a line discover each other and ping") {
  NodeProcess a(P2PNODE_PATH, kConfig), b(P2PNODE_PATH, kConfig), c(P2PNODE_PATH, kConfig);
  REQUIRE(b.command("connect 127.0.0.1 " + std::to_string(a.port()), "^connected to " + a.id()));
  REQUIRE(c.command("connect 127.0.0.1 " + std::to_string(b.port()), "^connected to " + b.id()));
  // The dialer says "connected" once it has the answering hello; b may take
  // c's hello a moment later, and only then relays discovers to it.
  REQUIRE(b.process().wait_for_line(std::regex("^peer connected: " + c.id())));

  // a knows only b; discover finds c behind it.
  size_t from = a.process().line_count();
  REQUIRE(a.command("discover", "^discovered 2 nodes$"));
  auto lines = a.process().stdout_lines();
  std::vector<std::string> output(lines.begin() + static_cast<long>(from), lines.end());
  INFO(a.process().stderr_text());
  CHECK(std::count(output.begin(), output.end(), "found " + b.id() + " 127.0.0.1:" + std::to_string(b.port())) == 1);
  CHECK(std::count(output.begin(), output.end(), "found " + c.id() + " 127.0.0.1:" + std::to_string(c.port())) == 1);
  CHECK(a.command("nodes", "^" + c.id() + " " + address_pattern(c) + " seen "));

  CHECK(a.command("ping", "^pong from " + b.id() + " in [0-9]+\\.[0-9]{3} ms$"));
  // c is not a peer of a, but a knows it now: ping by id connects first.
  CHECK(a.command("ping " + c.id().substr(0, 10), "^pong from " + c.id() + " in [0-9]+\\.[0-9]{3} ms$"));
  CHECK(b.command("discover 1", "^discovered 2 nodes$"));
  CHECK(a.command("plugins", "^discovery 1\\.0\\.0  types: discover,discover_answer  commands: discover$"));
}

TEST_CASE("a stopped p2pnode process is found dead by keep-alive and disconnected") {
  TempDir dir;
  auto config = dir / "node.toml";
  std::ofstream(config) << "[plugins.ping]\ntimeout_ms = 300\nkeepalive_interval_ms = 200\nkeepalive_max_missed = 3\n"
                           "[plugins.discovery]\n";
  NodeProcess watcher(P2PNODE_PATH, config.string()), sleeper(P2PNODE_PATH, kConfig);
  REQUIRE(sleeper.command("connect 127.0.0.1 " + std::to_string(watcher.port()), "^connected to " + watcher.id()));
  REQUIRE(watcher.process().wait_for_line(std::regex("^peer connected: " + sleeper.id())));

  sleeper.process().signal(SIGSTOP);
  CHECK(watcher.process().wait_for_line(
      std::regex("^peer disconnected: " + sleeper.id() + " \\(disconnected by plugin ping\\)$")));
  CHECK(watcher.process().stderr_text().find(
            "peer " + sleeper.id() + " missed 3 pongs in a row; disconnecting it as dead") != std::string::npos);
  CHECK(watcher.command("peers", "^0 peers$"));
  sleeper.process().signal(SIGCONT);
}
