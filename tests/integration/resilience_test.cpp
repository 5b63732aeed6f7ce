// A plugin that throws in every hook is contained: logged, counted, and the
// node keeps serving its other plugins and its peers.
#include "raw_peer.hpp"
#include "test_node.hpp"

#include <catch2/catch.hpp>

using namespace p2pnet;
using namespace p2pnet::test;

TEST_CASE("a plugin throwing from every hook does not stop the node serving others") {
  TestNode a({"probe", "thrower"}), b({"probe", "thrower"});
  REQUIRE(a.connect_to(b) == b.id());
  // Poke the thrower through each of its hooks.
  CHECK(a->send(b.id(), R"({"type":"thrower"})") == P2PNET_OK);
  auto command = a.run("thrower");
  CHECK(command.status == 1);
  CHECK(command.contains("error: command failed"));
  a.run("probe-publish probe.event x");
  // The other plugin still works, both ways.
  a.run("probe-send " + b.id() + " alive");
  b.run("probe-send " + a.id() + " alive-too");
  CHECK(wait_until([&] { return b.run("probe-log").contains(": alive ("); }));
  CHECK(wait_until([&] { return a.run("probe-log").contains(": alive-too ("); }));
  // on_start, on_peer_connected, a timer, a command, an event, a message.
  CHECK(wait_until([&] { return a->stats().plugin_counters["thrower.hook_exceptions"] >= 5; }));
  CHECK(wait_until([&] { return b->stats().plugin_counters["thrower.hook_exceptions"] >= 4; }));
  CHECK(a->peers().size() == 1);
}
