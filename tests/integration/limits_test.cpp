// Bounded resources: connection count and per-peer write queues.
#include "raw_peer.hpp"
#include "test_node.hpp"

#include <catch2/catch.hpp>

using namespace p2pnet;
using namespace p2pnet::test;

TEST_CASE("a connection beyond max_connections is refused cleanly") {
  // One slot, so that its holder is protected from eviction (the only peer
  // of its network): a newcomer can only be refused.
  auto config = plaintext_config();
  config.max_connections = 1;
  config.outbound_reserved = 0;
  TestNode node(config);
  RawPeer first(node.port());
  REQUIRE(first.handshake());
  RawPeer second(node.port());
  REQUIRE(second.wait_closed());
  auto bye = second.last_bye();
  REQUIRE(bye);
  CHECK(bye->json()["reason"] == "node is full (max_connections 1)");
  CHECK(node->stats().events["refused_connections"] == 1);
  CHECK(node->stats().events["refused_inbound_full"] == 1);
  CHECK(wait_until([&] { return node->peers().size() == 1; }));
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

TEST_CASE("a hello that announces a body is refused before the body is read") {
  // Before the handshake a stranger must not make the node buffer up to
  // max_body_bytes (16 MiB by default) per connection.
  TestNode node(plaintext_config());
  RawPeer stranger(node.port());
  std::string hello = hello_json(random_id()).dump();
  std::string prefix = encode_frame(hello).substr(0, 4) + std::string("\x00\x10\x00\x00", 4);  // a 1 MiB body
  REQUIRE(stranger.send_raw(prefix + hello));
  CHECK(stranger.wait_closed());
  CHECK(wait_until([&] { return node->stats().events["frames_too_large"] == 1; }));
  CHECK(node->peers().empty());
}

TEST_CASE("frame and handshake limits are counted by name in stats") {
  auto config = plaintext_config();
  config.handshake_timeout = std::chrono::milliseconds(300);
  TestNode node(config);
  RawPeer oversized(node.port());
  REQUIRE(oversized.handshake());
  REQUIRE(oversized.send_raw(std::string("\xff\xff\xff\xff\x00\x00\x00\x00", 8)));
  CHECK(oversized.wait_closed());
  RawPeer not_json(node.port());
  REQUIRE(not_json.handshake());
  REQUIRE(not_json.send_frame("[1,2,3]"));
  CHECK(not_json.wait_closed());
  RawPeer silent(node.port());
  CHECK(silent.wait_closed());
  CHECK(wait_until([&] {
    auto events = node->stats().events;
    return events["frames_too_large"] == 1 && events["malformed_frames"] == 1 && events["handshake_timeouts"] == 1;
  }));
}

TEST_CASE("a full write queue is counted in stats") {
  auto config = plaintext_config({"probe"});
  config.write_queue_limit_bytes = 256 * 1024;
  TestNode node(config);
  RawPeer sink(node.port());
  REQUIRE(sink.handshake(random_id(), {"probe"}));
  REQUIRE(wait_until([&] { return node->peers().size() == 1; }));
  std::string peer_id = node->peers()[0].id;
  std::string body(128 * 1024, 'x');
  int status = P2PNET_OK;
  for (int i = 0; i < 4000 && status == P2PNET_OK; ++i)
    status = node->send(peer_id, R"({"type":"probe"})", std::as_bytes(std::span(body.data(), body.size())));
  CHECK(wait_until([&] { return node->stats().events["write_queue_overflows"] == 1; }));
}
