// Floods of discover and search requests against real nodes (issue 15,
// items 4 and 6): what the victim answers and relays, and whether an honest
// peer on another address (127.0.0.2) is still served. Bounds that depend on
// a token bucket's refill are computed from the time the flood took, never
// asserted as timings.
#include "raw_peer.hpp"
#include "search_nodes.hpp"
#include "test_node.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

using namespace p2pnet;
using namespace p2pnet::test;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

constexpr const char* kHonestAddress = "127.0.0.2";

NodeConfig discovery_node(nlohmann::json settings = nlohmann::json::object(), const std::string& host = "127.0.0.1") {
  auto config = plaintext_config();  // raw peers speak plaintext frames
  config.host = host;
  settings["answer_quiet_ms"] = 500;
  config.plugins.push_back(plugin("discovery", settings));
  return config;
}

int64_t plugin_counter(TestNode& node, const std::string& name) {
  auto counters = node->stats().plugin_counters;
  auto it = counters.find(name);
  return it == counters.end() ? 0 : it->second;
}

int64_t discovery(TestNode& node, const std::string& name) { return plugin_counter(node, "discovery." + name); }

// The most a token bucket of `rate` per second (and a burst of as much)
// can have let through during `elapsed`.
int64_t bucket_allows(int64_t rate, Clock::duration elapsed) {
  return rate + static_cast<int64_t>(std::chrono::duration<double>(elapsed).count() * static_cast<double>(rate)) + 1;
}

// The victim dials the honest node, which listens on another loopback
// address, so the victim sees that peer at 127.0.0.2.
void dial(TestNode& from, TestNode& to) {
  from->connect(to->listen_host(), to.port());
  REQUIRE(wait_until([&] { return from.has_peer(to.id()) && to.has_peer(from.id()); }));
}

nlohmann::json discover(const std::string& id, int depth) {
  return {{"type", "discover"}, {"id", id}, {"depth", depth}};
}

}  // namespace

TEST_CASE("a peer asking discover again and again gets a bounded volume of answers") {
  TestNode victim(discovery_node());
  std::vector<std::unique_ptr<TestNode>> neighbours;  // so that each answer lists some peers
  for (int i = 0; i < 3; ++i) {
    neighbours.push_back(std::make_unique<TestNode>(discovery_node()));
    REQUIRE(!neighbours.back()->connect_to(victim).empty());
  }
  TestNode honest(discovery_node({}, kHonestAddress));
  dial(victim, honest);

  RawPeer attacker(victim.port());
  REQUIRE(attacker.handshake(random_id(), {"discover", "discover_answer"}));
  REQUIRE(wait_until([&] { return victim->peers().size() == 5; }));
  constexpr int kRequests = 1000;
  auto started = Clock::now();
  for (int i = 0; i < kRequests; ++i) REQUIRE(attacker.send_json(discover("amplify-" + std::to_string(i), 1)));
  REQUIRE(wait_until(
      [&] { return discovery(victim, "answers_sent") + discovery(victim, "requests_throttled") == kRequests; }));
  auto elapsed = Clock::now() - started;

  int64_t answered = discovery(victim, "answers_sent");
  size_t answers = 0, bytes = 0;
  while (answers < static_cast<size_t>(answered)) {
    auto frame = attacker.read_frame();
    REQUIRE(frame);
    if (frame->type() != "discover_answer") continue;
    ++answers;
    bytes += frame->header.size() + frame->body.size() + 8;
    auto answer = frame->json();
    CHECK(answer["outbound_nodes"].size() + answer["inbound_nodes"].size() <= 32);
  }
  INFO("answers " << answers << ", bytes " << bytes);
  // The default budget: 10 new requests per second from one peer.
  CHECK(answered <= bucket_allows(10, elapsed));
  CHECK(discovery(victim, "requests_throttled") >= kRequests - bucket_allows(10, elapsed));
  CHECK(bytes <= answers * 32 * 200 + answers * 400);

  // An honest peer on another address is still answered.
  auto result = honest.run("discover 1");
  CHECK(result.status == 0);
  CHECK(result.contains("found " + victim.id()));
}

TEST_CASE("a discover flood of 1000 unique ids makes a small network send a bounded number of messages") {
  // A ring of four nodes; the attacker floods one of them from three sessions.
  std::vector<std::unique_ptr<TestNode>> ring;
  for (int i = 0; i < 4; ++i) ring.push_back(std::make_unique<TestNode>(discovery_node()));
  for (int i = 0; i < 4; ++i) REQUIRE(!ring[i]->connect_to(*ring[(i + 1) % 4]).empty());
  auto& victim = *ring[0];
  TestNode honest(discovery_node({}, kHonestAddress));
  dial(victim, honest);

  std::vector<std::unique_ptr<RawPeer>> sessions;
  for (int i = 0; i < 3; ++i) {
    sessions.push_back(std::make_unique<RawPeer>(victim.port()));
    REQUIRE(sessions.back()->handshake(random_id(), {"discover", "discover_answer"}));
  }
  REQUIRE(wait_until([&] { return victim->peers().size() == 6; }));
  constexpr int kRequests = 1000;
  auto started = Clock::now();
  for (int i = 0; i < kRequests; ++i) REQUIRE(sessions[i % 3]->send_json(discover("flood-" + std::to_string(i), -1)));
  REQUIRE(wait_until(
      [&] { return discovery(victim, "answers_sent") + discovery(victim, "requests_throttled") == kRequests; }));

  auto elapsed = Clock::now() - started;
  // All three sessions share one address: 20 new requests per second.
  int64_t accepted = discovery(victim, "answers_sent");
  CHECK(accepted <= bucket_allows(20, elapsed));
  CHECK(discovery(victim, "requests_not_relayed") > 0);

  // The honest peer's own discover still reaches the whole ring. On loopback
  // every ring node shares the attacker's address, so a relay may still be
  // spending its budget on the flood: the honest node asks again until the
  // budgets have refilled.
  int asked = 0;
  CHECK(wait_until(
      [&] {
        ++asked;
        auto result = honest.run("discover");
        for (auto& node : ring)
          if (!result.contains("found " + node->id())) return false;
        return true;
      },
      20s));

  // Each distinct request id crosses each of the 5 links at most once each way.
  int64_t messages = 0;
  for (auto& node : ring) messages += discovery(*node, "discover_messages_sent");
  messages += discovery(honest, "discover_messages_sent");
  INFO("accepted " << accepted << ", messages " << messages << ", honest discovers " << asked);
  CHECK(messages <= (accepted + asked) * 2 * 5);
}

TEST_CASE("one paid discover resent with ever larger depths is relayed within the address's relay budget") {
  TestNode victim(discovery_node());
  TestNode neighbour(discovery_node());
  REQUIRE(!neighbour.connect_to(victim).empty());
  RawPeer attacker(victim.port());
  REQUIRE(attacker.handshake(random_id(), {"discover", "discover_answer"}));
  REQUIRE(wait_until([&] { return victim->peers().size() == 2; }));
  constexpr int kDeepest = 64;
  auto started = Clock::now();
  for (int depth = 2; depth <= kDeepest; ++depth) REQUIRE(attacker.send_json(discover("deeper", depth)));
  REQUIRE(wait_until([&] {
    return discovery(victim, "relayed") + discovery(victim, "relayed_deeper") +
               discovery(victim, "requests_not_relayed") + discovery(victim, "duplicates_dropped") ==
           kDeepest - 1;
  }));
  auto elapsed = Clock::now() - started;
  CHECK(discovery(victim, "answers_sent") == 1);  // answered once, however deep
  // The default: 5 relays per second for what one address asks.
  CHECK(discovery(victim, "relayed") + discovery(victim, "relayed_deeper") <= bucket_allows(5, elapsed));
  CHECK(discovery(victim, "requests_not_relayed") > 0);
}

TEST_CASE("a flood of unique discover ids does not evict an honest peer's ids") {
  // No rate limit here: the seen-id table's per-peer share alone must hold.
  TestNode victim(discovery_node({{"seen_ids_max", 100},
                                  {"seen_ids_per_peer", 50},
                                  {"max_requests_per_s_per_peer", 0},
                                  {"max_requests_per_s_per_address", 0}}));
  RawPeer honest(victim.port()), attacker(victim.port());
  REQUIRE(honest.handshake(random_id(), {"discover", "discover_answer"}));
  REQUIRE(attacker.handshake(random_id(), {"discover", "discover_answer"}));
  REQUIRE(wait_until([&] { return victim->peers().size() == 2; }));
  REQUIRE(honest.send_json(discover("honest-1", 1)));
  REQUIRE(wait_until([&] { return discovery(victim, "answers_sent") == 1; }));
  for (int i = 0; i < 1000; ++i) REQUIRE(attacker.send_json(discover("churn-" + std::to_string(i), 1)));
  REQUIRE(
      wait_until([&] { return discovery(victim, "answers_sent") + discovery(victim, "requests_throttled") == 1001; }));
  CHECK(discovery(victim, "answers_sent") == 51);  // the honest one and the attacker's share
  CHECK(discovery(victim, "requests_throttled") == 950);
  // honest-1 is still known: a repeat is dropped, not answered again.
  REQUIRE(honest.send_json(discover("honest-1", 1)));
  CHECK(wait_until([&] { return discovery(victim, "duplicates_dropped") == 1; }));
  CHECK(discovery(victim, "answers_sent") == 51);
}

TEST_CASE("ten flooding sessions from one address do not starve an honest searcher on another") {
  // source (shares the file) - victim - honest searcher at 127.0.0.2; ten
  // attacker sessions on 127.0.0.1 each send 100 searches per second (the
  // documented per-peer rate) through the victim, for the source to match.
  SharingNode source(SharingNode::Files{{"honest.txt", "the file the honest searcher wants"}}, {}, true, false);
  TestNode victim(search_config("", {{"shared_dir", ""}}, false));
  auto honest_config = search_config("", {{"shared_dir", ""}}, false);
  honest_config.host = kHonestAddress;
  TestNode honest(honest_config);
  REQUIRE(!victim.connect_to(*source).empty());
  dial(victim, honest);

  std::vector<std::unique_ptr<RawPeer>> sessions;
  for (int i = 0; i < 10; ++i) {
    sessions.push_back(std::make_unique<RawPeer>(victim.port()));
    REQUIRE(sessions.back()->handshake(random_id(), {"search", "search_result"}));
  }
  REQUIRE(wait_until([&] { return victim->peers().size() == 12; }));

  std::atomic<bool> stop{false};
  std::thread flood([&] {
    // 10 ms rounds of one search per session: 100 per second each.
    for (int round = 0; !stop; ++round) {
      for (size_t s = 0; s < sessions.size(); ++s)
        sessions[s]->send_json({{"type", "search"},
                                {"id", "f" + std::to_string(round) + "-" + std::to_string(s)},
                                {"query", "nothing-matches"},
                                {"depth", 3}});
      std::this_thread::sleep_for(10ms);  // pacing the load, not waiting for an event
    }
  });
  REQUIRE(wait_until([&] { return counter(victim, "searches_received") >= 100; }));

  int found = 0;
  for (int i = 0; i < 5; ++i) found += honest.run("search honest.txt 2").contains("1 result");
  stop = true;
  flood.join();
  CHECK(found == 5);
  CHECK(counter(victim, "searches_throttled") > 0);
  CHECK(counter(victim, "searches_not_relayed") > 0);
}

TEST_CASE("a peer that never reads its discover answers stops getting them") {
  // No rate limit here: the unread-answer cap alone must hold.
  TestNode victim(discovery_node({{"max_requests_per_s_per_peer", 0},
                                  {"max_requests_per_s_per_address", 0},
                                  {"seen_ids_per_peer", 10000000},
                                  {"seen_ids_max", 10000000},
                                  {"max_unread_answer_bytes", 65536}}));
  std::vector<std::unique_ptr<TestNode>> neighbours;  // so that each answer lists some peers
  for (int i = 0; i < 3; ++i) {
    neighbours.push_back(std::make_unique<TestNode>(discovery_node()));
    REQUIRE(!neighbours.back()->connect_to(victim).empty());
  }
  RawPeer attacker(victim.port());
  REQUIRE(attacker.handshake(random_id(), {"discover", "discover_answer"}));
  REQUIRE(wait_until([&] { return victim->peers().size() == 4; }));
  // Far more answers than the kernel's socket buffers hold: the rest queue
  // in the node unless it stops answering.
  constexpr int kRequests = 20000;
  for (int i = 0; i < kRequests; ++i) REQUIRE(attacker.send_json(discover("unread-" + std::to_string(i), 1)));
  REQUIRE(wait_until(
      [&] { return discovery(victim, "answers_sent") + discovery(victim, "answers_withheld") == kRequests; }, 30s));
  INFO("answers sent " << discovery(victim, "answers_sent"));
  CHECK(discovery(victim, "answers_withheld") > 0);

  // It is still answered once it reads.
  while (attacker.read_frame(200ms)) {
  }
  REQUIRE(attacker.send_json(discover("after-reading", 1)));
  std::optional<RawFrame> answer;
  while ((answer = attacker.read_frame()) && answer->json()["id"] != "after-reading") {
  }
  CHECK(answer);
}
