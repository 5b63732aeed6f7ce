// Frames on a real socket: split across reads, packed into one write, and
// over the limits.
#include "raw_peer.hpp"
#include "test_node.hpp"

#include <catch2/catch.hpp>

using namespace p2pnet;
using namespace p2pnet::test;

namespace {

size_t received_count(TestNode& node) {
  auto counters = node->stats().plugin_counters;
  auto it = counters.find("probe.received");
  return it == counters.end() ? 0 : static_cast<size_t>(it->second);
}

}  // namespace

TEST_CASE("a frame delivered one byte per write arrives whole") {
  TestNode node(plaintext_config({"probe"}));
  RawPeer peer(node.port());
  REQUIRE(peer.handshake());
  std::string frame = encode_frame(R"({"type":"probe","text":"slowly"})", "BODY");
  for (char c : frame) REQUIRE(peer.send_raw(std::string(1, c)));
  REQUIRE(wait_until([&] { return received_count(node) == 1; }));
  CHECK(node.run("probe-log").contains("slowly (4 body bytes)"));
}

TEST_CASE("a hello and a frame with a body in one write are both accepted") {
  // Frames before the handshake may carry no body; the frame right after
  // the hello, read together with it, is not held to that.
  TestNode node(plaintext_config({"probe"}));
  RawPeer peer(node.port());
  std::string bytes = encode_frame(hello_json(random_id()).dump()) +
                      encode_frame(R"({"type":"probe","text":"right after"})", std::string(5000, 'b'));
  REQUIRE(peer.send_raw(bytes));
  REQUIRE(wait_until([&] { return received_count(node) == 1; }));
  CHECK(node.run("probe-log").contains("right after (5000 body bytes)"));
  CHECK(node->stats().events.count("frames_too_large") == 0);
}

TEST_CASE("many frames in one write are all delivered - in order") {
  TestNode node(plaintext_config({"probe"}));
  RawPeer peer(node.port());
  REQUIRE(peer.handshake());
  std::string burst;
  for (int i = 0; i < 200; ++i) burst += encode_frame(R"({"type":"probe","text":"m)" + std::to_string(i) + "\"}");
  REQUIRE(peer.send_raw(burst));
  REQUIRE(wait_until([&] { return received_count(node) == 200; }));
  auto log = node.run("probe-log").lines;
  size_t next = 0;
  for (const auto& line : log)
    if (line.find(": m" + std::to_string(next) + " (") != std::string::npos) ++next;
  CHECK(next == 200);
}

TEST_CASE("a frame over the limits closes that connection only") {
  auto config = plaintext_config({"probe"});
  config.max_header_bytes = 4096;
  config.max_body_bytes = 8192;
  TestNode node(config);
  RawPeer good(node.port());
  REQUIRE(good.handshake());

  SECTION("header too large") {
    RawPeer bad(node.port());
    REQUIRE(bad.handshake());
    bad.send_frame(R"({"type":"probe","text":")" + std::string(5000, 'x') + "\"}");
    CHECK(bad.wait_closed());
  }
  SECTION("body too large") {
    RawPeer bad(node.port());
    REQUIRE(bad.handshake());
    bad.send_frame(R"({"type":"probe"})", std::string(9000, 'x'));
    CHECK(bad.wait_closed());
  }
  SECTION("a length prefix of 4 GiB") {
    RawPeer bad(node.port());
    REQUIRE(bad.handshake());
    bad.send_raw(std::string(8, '\xff'));
    CHECK(bad.wait_closed());
  }
  SECTION("a header that is not a JSON object with a type") {
    RawPeer bad(node.port());
    REQUIRE(bad.handshake());
    bad.send_frame(R"(["probe"])");
    CHECK(bad.wait_closed());
  }
  CHECK(wait_until([&] { return node->peers().size() == 1; }));
  REQUIRE(good.send_json({{"type", "probe"}, {"text", "still here"}}));
  CHECK(wait_until([&] { return received_count(node) == 1; }));
  CHECK(node->stats().total.errors >= 1);
}
