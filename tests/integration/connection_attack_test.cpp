// Issue 15, items 2, 4 and 5: one address cannot take every connection slot,
// peers that never read cannot hold the node's memory, and a stranger learns
// no network-key proof. Each test judges what the victim node does.
#include "raw_peer.hpp"
#include "test_node.hpp"
#include "tls_peer.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <future>
#include <memory>

using namespace p2pnet;
using namespace p2pnet::test;

namespace {

uint64_t event_count(TestNode& node, const std::string& name) {
  auto events = node->stats().events;
  return events.count(name) ? events[name] : 0;
}

bool has_peer(TestNode& node, const std::string& id) {
  auto peers = node->peers();
  return std::any_of(peers.begin(), peers.end(), [&](const auto& peer) { return peer.id == id; });
}

// A TLS peer that completed the hello exchange, or nothing if the node
// refused it (before TLS or with a bye).
std::unique_ptr<TlsPeer> join(uint16_t port, const std::string& local_address = "") {
  try {
    auto peer = std::make_unique<TlsPeer>(port, local_address);
    if (!peer->send_json(hello_json(peer->key_id()))) return nullptr;
    auto answer = peer->read_frame();
    if (!answer || answer->type() != "hello") return nullptr;
    return peer;
  } catch (const std::exception&) {
    return nullptr;  // refused before the TLS handshake finished
  }
}

// One address opens as many sessions as the node lets it, with fresh keys.
std::vector<std::unique_ptr<TlsPeer>> flood_from_one_address(uint16_t port, int attempts) {
  std::vector<std::unique_ptr<TlsPeer>> held;
  for (int i = 0; i < attempts; ++i)
    if (auto peer = join(port)) held.push_back(std::move(peer));
  return held;
}

}  // namespace

TEST_CASE("one address gets at most max_inbound_per_address slots - another address still gets in") {
  auto config = test_config();
  config.max_inbound_per_address = 4;
  config.cap_loopback_inbound = true;  // the test's only addresses are loopback ones
  TestNode victim(config);
  auto attackers = flood_from_one_address(victim.port(), 12);
  CHECK(attackers.size() == 4);
  CHECK(wait_until([&] { return event_count(victim, "refused_per_address") == 8; }));
  auto honest = join(victim.port(), "127.0.0.2");
  REQUIRE(honest);
  CHECK(wait_until([&] { return victim->peers().size() == 5; }));
}

TEST_CASE("when one address holds every inbound slot an honest peer evicts it and the node still dials out") {
  auto config = test_config();
  config.max_connections = 10;
  config.outbound_reserved = 2;
  config.max_inbound_per_address = 10;  // let one address reach the inbound limit
  config.max_inbound_per_group = 10;
  config.cap_loopback_inbound = true;
  TestNode victim(config);
  // Past the inbound limit the attacker only evicts its own connections.
  auto attackers = flood_from_one_address(victim.port(), 12);
  CHECK(attackers.size() == 12);
  REQUIRE(wait_until([&] { return event_count(victim, "inbound_evicted") == 4; }));
  CHECK(wait_until([&] { return victim->peers().size() == 8; }));  // never the two slots kept for dialing

  auto honest = join(victim.port(), "127.0.0.2");
  REQUIRE(honest);
  CHECK(wait_until([&] { return event_count(victim, "inbound_evicted") == 5; }));
  CHECK(wait_until([&] { return has_peer(victim, honest->key_id()); }));

  TestNode friend_node;
  CHECK(victim.connect_to(friend_node) == friend_node.id());
  CHECK(wait_until([&] { return victim->peers().size() == 9; }));
  CHECK(has_peer(victim, honest->key_id()));
}

TEST_CASE("an inbound peer that sends only keep-alives is dropped but one with useful traffic stays") {
  auto config = plaintext_config({"ping", "probe"});
  config.inbound_idle_timeout = std::chrono::milliseconds(600);
  config.idle_message_types = {"ping", "pong"};  // as config/node.toml says
  TestNode victim(config);
  RawPeer idler(victim.port()), worker(victim.port());
  std::string idler_id = random_id(), worker_id = random_id();
  REQUIRE(idler.handshake(idler_id));
  REQUIRE(worker.handshake(worker_id));
  const nlohmann::json keepalive = {{"type", "ping"}, {"nonce", std::string(32, 'a')}};
  const nlohmann::json useful = {{"type", "probe"}, {"text", "work"}};
  // Both talk every 50 ms, far within the timeout; only one says anything useful.
  bool idler_dropped = wait_until(
      [&] {
        idler.send_json(keepalive);
        worker.send_json(useful);
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        return !has_peer(victim, idler_id);
      },
      std::chrono::seconds(8));
  CHECK(idler_dropped);
  CHECK(event_count(victim, "inbound_idle_timeouts") == 1);
  CHECK(has_peer(victim, worker_id));
}

TEST_CASE("peers that never read are dropped and the node-wide write budget holds while an honest peer is served") {
  const size_t budget = 1024 * 1024;
  auto config = plaintext_config({"echo"});
  config.max_total_queued_bytes = budget;
  config.write_stall_timeout = std::chrono::milliseconds(500);
  TestNode victim(config);
  TestNode honest(plaintext_config({"echo"}));
  REQUIRE(honest.connect_to(victim) == victim.id());

  constexpr int kAttackers = 3;
  const std::string body(64 * 1024, 'x');
  const nlohmann::json echo = {{"type", "echo"}, {"text", "x"}};
  std::vector<std::unique_ptr<RawPeer>> attackers;
  std::vector<std::string> attacker_ids;
  for (int i = 0; i < kAttackers; ++i) {
    attackers.push_back(std::make_unique<RawPeer>(victim.port()));
    attacker_ids.push_back(random_id());
    REQUIRE(attackers.back()->handshake(attacker_ids.back(), {"echo", "echo_reply"}));
  }
  // Each keeps asking for answers and reads none, until the node drops it.
  std::atomic<bool> stop{false};
  std::vector<std::future<void>> senders;
  for (auto& attacker : attackers)
    senders.push_back(std::async(std::launch::async, [&, peer = attacker.get()] {
      for (int i = 0; i < 2000 && !stop && peer->send_json(echo, body); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }));
  size_t peak_queued = 0;
  bool dropped = wait_until(
      [&] {
        peak_queued = std::max<size_t>(peak_queued, event_count(victim, "queued_bytes"));
        return std::none_of(attacker_ids.begin(), attacker_ids.end(),
                            [&](const auto& id) { return has_peer(victim, id); });
      },
      std::chrono::seconds(15));
  stop = true;
  for (auto& sender : senders) sender.wait();
  CHECK(dropped);
  CHECK(event_count(victim, "write_stalls") == kAttackers);
  CHECK(event_count(victim, "node_write_queue_full") > 0);
  // The budget, plus the frames of senders that are between adding to the
  // total and taking back what went over it.
  CHECK(peak_queued <= budget + 4 * (body.size() + 1024));
  CHECK(has_peer(victim, honest.id()));
  CHECK(wait_until([&] {
    honest.run("echo " + victim.id() + " still-served");
    auto events = honest.events();
    return std::any_of(events.begin(), events.end(),
                       [](const auto& line) { return line.find("echoed: still-served") != std::string::npos; });
  }));
}

TEST_CASE("a stranger that completes TLS with a private network's node learns no proof") {
  auto config = test_config({"probe"});
  config.network_key = "a private network's long random secret";
  config.handshake_timeout = std::chrono::milliseconds(500);
  TestNode member(config);
  SECTION("the stranger sends nothing") {
    TlsPeer stranger(member.port());
    CHECK_FALSE(stranger.read_frame());  // closed at the handshake timeout, having heard nothing
    CHECK(wait_until([&] { return event_count(member, "handshake_timeouts") == 1; }));
  }
  SECTION("the stranger sends a wrong proof") {
    TlsPeer stranger(member.port());
    auto hello = hello_json(stranger.key_id());
    hello["proof"] = std::string(64, '0');
    REQUIRE(stranger.send_json(hello));
    std::vector<RawFrame> heard;
    while (auto frame = stranger.read_frame()) heard.push_back(*frame);
    REQUIRE(heard.size() == 1);
    CHECK(heard[0].type() == "bye");
    CHECK(heard[0].json().value("proof", "") == "");
    CHECK(wait_until([&] { return event_count(member, "network_key_rejected") == 1; }));
  }
  SECTION("a member dialing it still gets in, proving first") {
    TestNode other(config);
    CHECK(other.connect_to(member) == member.id());
  }
}

TEST_CASE("a TLS dialer refused for want of a slot reads why inside TLS") {
  auto config = test_config();
  config.max_connections = 1;
  config.outbound_reserved = 0;
  TestNode full(config), first, second;
  REQUIRE(first.connect_to(full) == full.id());
  auto result = std::make_shared<std::promise<std::string>>();
  auto error = result->get_future();
  second->connect("127.0.0.1", full.port(),
                  [result](const std::string&, const std::string& why) { result->set_value(why); });
  REQUIRE(error.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  // Not "TLS handshake failed ... (does the peer have encryption = false?)".
  CHECK(error.get() == "peer refused the connection: node is full (max_connections 1)");
}
