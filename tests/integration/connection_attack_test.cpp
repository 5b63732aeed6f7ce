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
std::unique_ptr<TlsPeer> join(uint16_t port, const std::string& local_address = "",
                              std::vector<std::string> types = {}) {
  try {
    auto peer = std::make_unique<TlsPeer>(port, local_address);
    if (!peer->send_json(hello_json(peer->key_id(), 1, std::move(types)))) return nullptr;
    auto answer = peer->read_frame_within(std::chrono::seconds(10));
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

TEST_CASE("slow readers from one address group cannot spend the node's write budget - another group is served") {
  const size_t budget = 2 * 1024 * 1024;
  auto config = test_config({"echo"});
  config.max_total_queued_bytes = budget;
  config.write_stall_timeout = std::chrono::seconds(60);  // as readers slow enough to dodge the stall check
  config.cap_loopback_inbound = true;                     // the test's only addresses are loopback ones
  TestNode victim(config);
  const std::vector<std::string> types = {"echo", "echo_reply"};
  std::vector<std::unique_ptr<TlsPeer>> attackers;
  for (int i = 0; i < 4; ++i) {
    attackers.push_back(join(victim.port(), "127.0.0.1", types));
    REQUIRE(attackers.back());
  }
  // Far more answers than the kernel's socket buffers take, none read.
  // Far more answers than the kernel's socket buffers take, none read; large
  // ones, then small ones to fill what is left to the last kilobyte.
  const std::string echo_header = nlohmann::json{{"type", "echo"}, {"text", "x"}}.dump();
  const RawFrame echo{echo_header, std::string(64 * 1024, 'x')}, small_echo{echo_header, std::string(1024, 'x')};
  for (int round = 0; round < 100; ++round)
    for (auto& attacker : attackers) REQUIRE(attacker->send_frame(echo));
  for (int round = 0; round < 1000; ++round)
    for (auto& attacker : attackers) REQUIRE(attacker->send_frame(small_echo));
  REQUIRE(wait_until([&] {
    return event_count(victim, "group_write_queue_full") + event_count(victim, "node_write_queue_full") > 0;
  }));
  CHECK(event_count(victim, "queued_bytes") <= budget / 8 + 4 * (echo.body.size() + 1024));

  // Another /24: its handshake and its answers still go out.
  auto honest = join(victim.port(), "127.0.1.2", types);
  REQUIRE(honest);
  REQUIRE(
      honest->send_frame({nlohmann::json{{"type", "echo"}, {"text", "still-served"}}.dump(), std::string(4096, 'x')}));
  auto reply = honest->read_frame_within(std::chrono::seconds(10));
  REQUIRE(reply);
  CHECK(reply->json().value("text", "") == "still-served");
  CHECK(event_count(victim, "node_write_queue_full") == 0);
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
