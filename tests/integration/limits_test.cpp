// Bounded resources: connection count and per-peer write queues.
#include "raw_peer.hpp"
#include "test_node.hpp"

#include <catch2/catch.hpp>

using namespace p2pnet;
using namespace p2pnet::test;

TEST_CASE("a connection beyond max_connections is refused cleanly") {
  auto config = plaintext_config();
  config.max_connections = 2;
  TestNode node(config);
  RawPeer first(node.port()), second(node.port());
  REQUIRE(first.handshake());
  REQUIRE(second.handshake());
  RawPeer third(node.port());
  REQUIRE(third.wait_closed());
  auto bye = third.last_bye();
  REQUIRE(bye);
  CHECK(bye->json()["reason"] == "node is full (max_connections 2)");
  CHECK(node->stats().events["refused_connections"] == 1);
  CHECK(wait_until([&] { return node->peers().size() == 2; }));
}

TEST_CASE("a peer that stops reading is disconnected once its write queue is full") {
  auto config = plaintext_config({"probe"});
  config.write_queue_limit_bytes = 1024 * 1024;
  TestNode node(config);
  RawPeer sink(node.port());
  auto hello = sink.handshake(random_id(), {"probe"});
  REQUIRE(hello);
  REQUIRE(wait_until([&] { return node->peers().size() == 1; }));
  std::string peer_id = node->peers()[0].id;
  std::string body(256 * 1024, 'x');
  int status = P2PNET_OK;
  // The kernel's socket buffers take a few MiB first; then the queue fills.
  for (int i = 0; i < 4000 && status == P2PNET_OK; ++i)
    status = node->send(peer_id, R"({"type":"probe"})", std::as_bytes(std::span(body.data(), body.size())));
  CHECK((status == P2PNET_ERR_QUEUE_FULL || status == P2PNET_ERR_NOT_FOUND));
  CHECK(wait_until([&] { return node->peers().empty(); }));
}
