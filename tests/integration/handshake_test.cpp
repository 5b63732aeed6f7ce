// The hello exchange, checked from a hand-driven peer and between real nodes.
#include "raw_peer.hpp"
#include "test_node.hpp"

#include <catch2/catch.hpp>

#include <future>

using namespace p2pnet;
using namespace p2pnet::test;

namespace {

uint64_t event_count(TestNode& node, const std::string& name) {
  auto events = node->stats().events;
  auto it = events.find(name);
  return it == events.end() ? 0 : it->second;
}

std::pair<std::string, std::string> connect_and_wait(TestNode& from, uint16_t port) {
  auto result = std::make_shared<std::promise<std::pair<std::string, std::string>>>();
  auto future = result->get_future();
  from->connect("127.0.0.1", port, [result](const std::string& id, const std::string& error) {
    result->set_value({id, error});
  });
  REQUIRE(future.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  return future.get();
}

}  // namespace

TEST_CASE("a node answers a hello with its id - listen port - version and types") {
  TestNode node(plaintext_config({"probe"}));
  RawPeer peer(node.port());
  auto hello = peer.handshake();
  REQUIRE(hello);
  auto j = hello->json();
  CHECK(j["id"] == node.id());
  CHECK(j["port"] == node.port());
  CHECK(j["protocol"] == 1);
  CHECK(j["types"] == nlohmann::json{"probe"});
  CHECK(wait_until([&] { return node->peers().size() == 1; }));
}

TEST_CASE("a peer speaking another protocol version gets a bye naming both versions") {
  TestNode node(plaintext_config());
  RawPeer peer(node.port());
  peer.send_json(hello_json(random_id(), 7));
  REQUIRE(peer.wait_closed());
  auto bye = peer.last_bye();
  REQUIRE(bye);
  CHECK(bye->json()["reason"] == "protocol version 7 not supported (this node speaks 1)");
  CHECK(node->peers().empty());
}

TEST_CASE("a peer that never says hello is dropped after the handshake timeout") {
  auto config = plaintext_config();
  config.handshake_timeout = std::chrono::milliseconds(200);
  TestNode node(config);
  RawPeer silent(node.port());
  REQUIRE(silent.wait_closed(std::chrono::seconds(5)));
  CHECK(wait_until([&] { return event_count(node, "handshakes_failed") == 1; }));

  SECTION("one byte at a time is no way around it") {
    RawPeer slow(node.port());
    auto hello = encode_frame(hello_json(random_id()).dump());
    bool closed = false;
    for (char c : hello) {
      if (!slow.send_raw(std::string(1, c))) {
        closed = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // pacing the attacker, not synchronising
    }
    CHECK((closed || slow.wait_closed(std::chrono::seconds(5))));
    CHECK(node->peers().empty());
  }
}

TEST_CASE("a first frame that is not a hello closes the connection") {
  TestNode node(plaintext_config());
  RawPeer peer(node.port());
  peer.send_json({{"type", "ping"}, {"nonce", "1"}});
  REQUIRE(peer.wait_closed());
  CHECK(node->peers().empty());
}

TEST_CASE("a node that dials itself is told so and keeps no connection") {
  TestNode node;
  auto [id, error] = connect_and_wait(node, node.port());
  CHECK(id.empty());
  CHECK(error == "that address leads back to this node");
  CHECK(wait_until([&] { return event_count(node, "self_connections") >= 1; }));
  CHECK(node->peers().empty());
}

TEST_CASE("a second connection to a connected node is closed as a duplicate") {
  TestNode a, b;
  REQUIRE(a.connect_to(b) == b.id());
  auto [id, error] = connect_and_wait(a, b.port());
  CHECK(error.empty());
  CHECK(id == b.id());  // reported as connected: it is, over the first connection
  CHECK(wait_until(
      [&] { return event_count(a, "duplicate_connections") + event_count(b, "duplicate_connections") >= 1; }));
  // One link stays, each end listing the other. Each peers() call is a fresh
  // copy: the link that gives way may still be closing between two of them.
  CHECK(wait_until([&] {
    auto of_a = a->peers(), of_b = b->peers();
    return of_a.size() == 1 && of_b.size() == 1 && of_a[0].id == b.id() && of_b[0].id == a.id();
  }));
}

TEST_CASE("two nodes dialing each other at once keep exactly one connection") {
  for (int round = 0; round < 5; ++round) {
    TestNode a, b;
    auto done_a = std::make_shared<std::promise<void>>();
    auto done_b = std::make_shared<std::promise<void>>();
    a->connect("127.0.0.1", b.port(), [done_a](const std::string&, const std::string&) { done_a->set_value(); });
    b->connect("127.0.0.1", a.port(), [done_b](const std::string&, const std::string&) { done_b->set_value(); });
    done_a->get_future().wait_for(std::chrono::seconds(10));
    done_b->get_future().wait_for(std::chrono::seconds(10));
    // Both ends settle on the same single connection.
    REQUIRE(wait_until([&] {
      auto pa = a->peers();
      auto pb = b->peers();
      return pa.size() == 1 && pb.size() == 1 && pa[0].inbound != pb[0].inbound;
    }));
  }
}
