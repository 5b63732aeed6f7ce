// Small networks of real nodes on loopback: connections in both directions,
// disconnects, graceful stops, the peer store and persistent peers.
#include "node_core.hpp"
#include "test_node.hpp"

#include <catch2/catch.hpp>

using namespace p2pnet;
using namespace p2pnet::test;

TEST_CASE("five nodes in a star see each other with the right direction") {
  TestNode hub({"probe"});
  std::vector<std::unique_ptr<TestNode>> leaves;
  for (int i = 0; i < 4; ++i) {
    leaves.push_back(std::make_unique<TestNode>(std::vector<std::string>{"probe"}));
    REQUIRE(leaves.back()->connect_to(hub) == hub.id());
  }
  auto peers = hub->peers();
  REQUIRE(peers.size() == 4);
  for (const auto& peer : peers) CHECK(peer.inbound);
  for (auto& leaf : leaves) {
    auto mine = (*leaf)->peers();
    REQUIRE(mine.size() == 1);
    CHECK_FALSE(mine[0].inbound);
    CHECK(mine[0].port == hub.port());  // the listen port from the hello
  }
  auto listing = hub.run("peers");
  CHECK(listing.contains("4 peers"));
  CHECK(listing.contains(leaves[0]->id() + " 127.0.0.1:" + std::to_string(leaves[0]->port()) + " inbound"));
}

TEST_CASE("disconnect and stop are seen by the other side with a reason") {
  TestNode a({"probe"}), b({"probe"}), c({"probe"});
  REQUIRE(a.connect_to(b) == b.id());
  REQUIRE(a.connect_to(c) == c.id());
  CHECK(a.run("disconnect " + b.id().substr(0, 10)).status == 0);
  CHECK(wait_until([&] { return b->peers().empty() && a->peers().size() == 1; }));
  CHECK(wait_until([&] {
    return b.run("probe-log").contains("disconnected " + a.id() + " peer said goodbye: disconnected at the console");
  }));
  c->stop();
  CHECK(wait_until([&] { return a->peers().empty(); }));
  CHECK(wait_until(
      [&] { return a.run("probe-log").contains("disconnected " + c.id() + " peer said goodbye: node is stopping"); }));
  CHECK(a.run("disconnect nosuchpeer").status == 1);
}

TEST_CASE("handshakes fill the peer store with listen addresses - and nodes connect by id") {
  TestNode a({"ping"}), b({"ping"}), c({"ping"});
  REQUIRE(b.connect_to(a) == a.id());  // inbound at a: the source port is ephemeral
  auto nodes = a.run("nodes");
  CHECK(nodes.contains(b.id() + " 127.0.0.1:" + std::to_string(b.port())));
  // c learns of b only through its store, then reaches it by id.
  auto* core = c->core();
  REQUIRE(core);
  core->peer_store().remember_hearsay(b.id(), "127.0.0.1", b.port());
  auto ping = c.run("ping " + b.id().substr(0, 16));
  CHECK(ping.contains("pong from " + b.id() + " in "));
  CHECK(c.has_peer(b.id()));
}

TEST_CASE("a persistent peer is redialed with backoff after it goes away") {
  TestNode server;
  uint16_t port = server.port();
  auto config = test_config();
  config.peers.push_back(PeerAddress{"127.0.0.1", port, true});
  config.reconnect_initial = std::chrono::milliseconds(50);
  config.reconnect_max = std::chrono::milliseconds(200);
  TestNode client(config);
  REQUIRE(wait_until([&] { return client->peers().size() == 1; }));
  std::string first_id = server.id();
  server->stop();
  REQUIRE(wait_until([&] { return client->peers().empty(); }));
  auto revived_config = test_config();
  revived_config.port = port;
  TestNode revived(revived_config);
  CHECK(wait_until([&] { return client.has_peer(revived.id()); }, std::chrono::seconds(15)));
  CHECK(revived.id() != first_id);
}
