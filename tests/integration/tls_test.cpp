// Authenticated, encrypted connections: ids are proven by keys, private
// networks keep outsiders out, and mismatched settings fail clearly.
#include "log_capture.hpp"
#include "test_node.hpp"
#include "tls_peer.hpp"

#include "p2pnet/log.hpp"

#include <catch2/catch.hpp>

#include <future>
#include <mutex>

using namespace p2pnet;
using namespace p2pnet::test;

namespace {

std::pair<std::string, std::string> dial(TestNode& from, uint16_t port, const std::string& expected_id = "") {
  auto result = std::make_shared<std::promise<std::pair<std::string, std::string>>>();
  auto future = result->get_future();
  from->connect(
      "127.0.0.1", port,
      [result](const std::string& id, const std::string& error) {
        result->set_value({id, error});
      },
      expected_id);
  REQUIRE(future.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  return future.get();
}

uint64_t event_count(TestNode& node, const std::string& name) {
  auto events = node->stats().events;
  return events.count(name) ? events[name] : 0;
}

NodeConfig with_network_key(const std::string& key) {
  auto config = test_config({"probe"});
  config.network_key = key;
  return config;
}

}  // namespace

TEST_CASE("default nodes connect encrypted and each proves its id") {
  TestNode a({"probe"}), b({"probe"});
  REQUIRE(a.connect_to(b) == b.id());
  auto peers = a->peers();
  REQUIRE(peers.size() == 1);
  CHECK(peers[0].authenticated);
  CHECK(a.run("peers").contains(b.id() + " 127.0.0.1:" + std::to_string(b.port()) + " outbound verified"));
  a.run("probe-send " + b.id() + " over-tls 5000");
  CHECK(wait_until([&] { return b.run("probe-log").contains("over-tls (5000 body bytes)"); }));
}

TEST_CASE("a peer claiming an id its key does not prove is rejected before any plugin sees it") {
  TestNode victim({"probe"}), node({"probe"});
  TlsPeer impostor(node.port());
  impostor.send_json(hello_json(victim.id(), 1, {"probe"}));
  auto first = impostor.read_frame();  // the node's own hello
  REQUIRE(first);
  CHECK(first->type() == "hello");
  auto bye = impostor.read_frame();
  REQUIRE(bye);
  CHECK(bye->json()["reason"] == "the claimed id does not match the key");
  CHECK(wait_until([&] { return event_count(node, "spoofed_ids") == 1; }));
  CHECK(node->peers().empty());
  CHECK_FALSE(node.run("probe-log").contains("connected"));
}

TEST_CASE("a relay in the middle that swaps keys is detected") {
  TestNode a({"probe"}), b({"probe"});
  // The relay answers a's dial with its own key and dials b with it too.
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  auto relay_key = NodeKey::load_or_create({});
  auto relay = std::async(std::launch::async, [&] {
    auto toward_a = std::make_unique<TlsPeer>(acceptor.accept(), relay_key);
    TlsPeer toward_b(b.port());
    auto b_hello = toward_b.read_frame();
    if (b_hello) toward_a->send_frame(*b_hello);  // b's hello, under the relay's key
    toward_a->wait_closed();
  });
  SECTION("without pinning: the hello's id does not match the key") {
    auto [id, error] = dial(a, acceptor.local_endpoint().port());
    CHECK(id.empty());
    CHECK(error == "the claimed id does not match the key");
    CHECK(event_count(a, "spoofed_ids") == 1);
  }
  SECTION("with the id pinned") {
    auto [id, error] = dial(a, acceptor.local_endpoint().port(), b.id());
    CHECK(id.empty());
    CHECK_FALSE(error.empty());
  }
  relay.wait();
  CHECK(a->peers().empty());
}

TEST_CASE("connect with a pinned id refuses a node that is not that id") {
  TestNode a, b, c;
  auto [id, error] = dial(a, b.port(), c.id());
  CHECK(id.empty());
  CHECK(error == "the peer's id is " + b.id() + ", not the expected " + c.id());
  CHECK(a->peers().empty());
  auto result = a.run("connect 127.0.0.1 " + std::to_string(b.port()) + " " + b.id());
  CHECK(result.contains("connected to " + b.id()));
}

TEST_CASE("only nodes holding the network key complete a handshake") {
  const std::string key = "correct horse battery staple";
  TestNode member1(with_network_key(key)), member2(with_network_key(key));
  TestNode outsider_with_other_key(with_network_key("another long network secret")), outsider({"probe"});
  LogCapture logs;
  REQUIRE(member1.connect_to(member2) == member2.id());
  CHECK(member1->peers()[0].authenticated);

  auto [id1, error1] = dial(outsider_with_other_key, member1.port());
  CHECK(id1.empty());
  CHECK_FALSE(error1.empty());
  auto [id2, error2] = dial(outsider, member1.port());
  CHECK(id2.empty());
  // The member answers a dialer only after its proof checked out: the
  // outsider hears a refusal, not the member's proof.
  CHECK(error2 == "peer refused the connection: network key required: this is a private network");
  auto [id3, error3] = dial(member1, outsider.port());
  CHECK(id3.empty());
  CHECK(wait_until([&] { return event_count(member1, "network_key_rejected") >= 2; }));
  CHECK(member1->peers().size() == 1);
  CHECK(outsider->peers().empty());
  CHECK(member1.run("probe-log").text().find(outsider.id()) == std::string::npos);  // no plugin saw it
  CHECK_FALSE(logs.contains(key));  // the secret never reaches a log line
  CHECK(logs.contains("does not hold this private network's key"));
}

TEST_CASE("a plaintext node and a TLS node fail clearly on both sides") {
  auto tls_config = test_config();
  auto plain_config = plaintext_config();
  tls_config.log_level = plain_config.log_level = LogSeverity::info;  // handshake failures log at info
  TestNode tls_node(tls_config);
  TestNode plain_node(plain_config);
  LogCapture logs;
  SECTION("plaintext dials TLS") {
    auto [id, error] = dial(plain_node, tls_node.port());
    CHECK(id.empty());
    CHECK(error ==
          "peer refused the connection: the peer sent plaintext but this node requires encryption (TLS): set "
          "encryption = true on both");
    CHECK(wait_until([&] { return logs.contains("the peer sent plaintext but this node requires encryption"); }));
  }
  SECTION("TLS dials plaintext") {
    auto [id, error] = dial(tls_node, plain_node.port());
    CHECK(id.empty());
    CHECK(error.find("TLS handshake failed") == 0);
    CHECK(error.find("does the peer have encryption = false?") != std::string::npos);
    CHECK(wait_until([&] { return logs.contains("the peer uses TLS but encryption = false on this node"); }));
  }
  CHECK(tls_node->peers().empty());
  CHECK(plain_node->peers().empty());
}
