// Messages reach the plugin that registered their type; the rest is counted
// and dropped without hurting the connection.
#include "raw_peer.hpp"
#include "test_node.hpp"

#include <catch2/catch.hpp>

using namespace p2pnet;
using namespace p2pnet::test;

namespace {

int64_t plugin_counter(TestNode& node, const std::string& name) {
  auto counters = node->stats().plugin_counters;
  auto it = counters.find(name);
  return it == counters.end() ? 0 : it->second;
}

}  // namespace

TEST_CASE("a message reaches the plugin that handles its type - body included") {
  TestNode a({"probe"}), b({"probe"});
  REQUIRE(a.connect_to(b) == b.id());
  auto sent = a.run("probe-send " + b.id() + " hello 3000");
  CHECK(sent.status == 0);
  REQUIRE(wait_until([&] { return plugin_counter(b, "probe.received") == 1; }));
  CHECK(b.run("probe-log").contains("got probe from " + a.id() + ": hello (3000 body bytes)"));
  auto stats = b->stats();
  CHECK(stats.total.messages_in >= 1);
  CHECK(stats.total.bytes_in > 3000);
}

TEST_CASE("an unknown type is counted and dropped - the connection stays") {
  TestNode node(plaintext_config({"probe"}));
  RawPeer peer(node.port());
  REQUIRE(peer.handshake());
  REQUIRE(peer.send_json({{"type", "no_such_type"}, {"x", 1}}));
  REQUIRE(peer.send_json({{"type", "probe"}, {"text", "after"}}));
  REQUIRE(wait_until([&] { return plugin_counter(node, "probe.received") == 1; }));
  CHECK(node->stats().events["unknown_type"] == 1);
  CHECK(node->peers().size() == 1);
}

TEST_CASE("a node only sends a peer the types the peer handles") {
  TestNode a({"probe"}), b({"probe2"});
  REQUIRE(a.connect_to(b) == b.id());
  auto result = a.run("probe-send " + b.id() + " x");
  CHECK(result.contains("status " + std::to_string(P2PNET_ERR_UNSUPPORTED)));
  CHECK(a->send(b.id(), R"({"type":"probe2","text":"direct"})") == P2PNET_OK);
  CHECK(a->send(b.id(), R"({"no":"type"})") == P2PNET_ERR_INVALID);
  CHECK(a->send(b.id(), R"({"type":"hello"})") == P2PNET_ERR_INVALID);
  CHECK(a->send(std::string(64, 'f'), R"({"type":"probe2"})") == P2PNET_ERR_NOT_FOUND);
  CHECK(wait_until([&] { return plugin_counter(b, "probe2.received") == 1; }));
}

TEST_CASE("a broadcast reaches every peer that handles the type") {
  TestNode hub({"probe"}), x({"probe"}), y({"probe"}), other({"probe2"});
  for (TestNode* node : {&x, &y, &other}) REQUIRE(hub.connect_to(*node) == node->id());
  CHECK(hub.run("probe-broadcast hi").contains("sent to 2"));
  CHECK(
      wait_until([&] { return plugin_counter(x, "probe.received") == 1 && plugin_counter(y, "probe.received") == 1; }));
  CHECK(plugin_counter(other, "probe2.received") == 0);
}

TEST_CASE("the echo plugin from the SDK README works between two nodes") {
  TestNode a({"echo"}), b({"echo"});
  REQUIRE(a.connect_to(b) == b.id());
  CHECK(a.run("echo " + b.id() + " marco").status == 0);
  CHECK(wait_until([&] {
    for (const auto& line : a.events())
      if (line == b.id().substr(0, 12) + " echoed: marco") return true;
    return false;
  }));
}
