// The discovery plugin on networks of real nodes: what `discover DEPTH`
// finds on lines, rings and random meshes (checked against hop distances),
// that every node answers and relays a request at most once (its counters),
// that answers only travel back to the node that asked, and that hostile
// input (unknown ids, forged answers, floods of ids) is dropped and bounded.
#include "network_shapes.hpp"
#include "raw_peer.hpp"
#include "test_node.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <regex>

using namespace p2pnet;
using namespace p2pnet::test;
using namespace std::chrono_literals;

namespace {

// encryption = false for tests that speak raw frames (RawPeer) to the nodes.
NodeConfig discovery_config(const nlohmann::json& overrides = nlohmann::json::object(), bool encryption = true) {
  auto config = encryption ? test_config() : plaintext_config();
  // A quiet time that a busy machine cannot stretch into a missing answer.
  nlohmann::json settings = {{"answer_quiet_ms", 1000}, {"answer_wait_ms", 20000}};
  if (overrides.is_object()) settings.update(overrides);
  config.plugins.push_back(plugin("discovery", settings));
  config.plugins.push_back(plugin("ping", {{"keepalive_interval_ms", 0}}));
  return config;
}

using Counters = std::map<std::string, int64_t>;

Counters discovery_counters(TestNode& node) {
  Counters out;
  for (const auto& [name, value] : node->stats().plugin_counters)
    if (name.rfind("discovery.", 0) == 0) out[name.substr(10)] = value;
  return out;
}

int64_t counter(TestNode& node, const std::string& name) { return discovery_counters(node)[name]; }

std::vector<Counters> snapshot(Network& net) {
  std::vector<Counters> out;
  for (size_t i = 0; i < net.size(); ++i) out.push_back(discovery_counters(net[i]));
  return out;
}

// How much `name` grew on node i since `before`.
int64_t grew(Network& net, const std::vector<Counters>& before, size_t i, const std::string& name) {
  auto now = discovery_counters(net[i]);
  auto it = before[i].find(name);
  return now[name] - (it == before[i].end() ? 0 : it->second);
}

int64_t grew_in_total(Network& net, const std::vector<Counters>& before, const std::string& name) {
  int64_t total = 0;
  for (size_t i = 0; i < net.size(); ++i) total += grew(net, before, i, name);
  return total;
}

struct Discovery {
  int status = -1;
  std::set<std::string> found;
  std::map<std::string, std::string> addresses;  // id -> host:port as printed
  int64_t reported = -1;                         // N of "discovered N nodes"
  std::string output;
};

Discovery discover(TestNode& node, const std::string& args) {
  auto result = node.run("discover " + args, 60s);
  Discovery out;
  out.status = result.status;
  out.output = result.text();
  static const std::regex found(R"(^found ([0-9a-f]{64}) (\S+:\d+)$)");
  static const std::regex total(R"(^discovered (\d+) nodes?$)");
  std::smatch match;
  for (const auto& line : result.lines) {
    if (std::regex_match(line, match, found)) {
      CHECK(out.found.insert(match[1]).second);  // one line per node
      out.addresses[match[1]] = match[2];
    }
  }
  if (!result.lines.empty() && std::regex_match(result.lines.back(), match, total)) out.reported = std::stoll(match[1]);
  return out;
}

std::string listen_address(TestNode& node) { return "127.0.0.1:" + std::to_string(node.port()); }

// discover -1, 1 and 2 from `origin`, each checked against hop distances
// and against every node's counters.
void check_discovery(Network& net, size_t origin) {
  const auto n = static_cast<int64_t>(net.size());
  const auto edges = static_cast<int64_t>(net.edge_count());
  auto distance = net.distances(origin);
  INFO("origin node " << origin << " of " << n << ", " << edges << " edges");

  SECTION("depth -1 finds every node - each answers once and relays once") {
    auto before = snapshot(net);
    auto result = discover(net[origin], "-1");
    INFO(result.output);
    CHECK(result.status == 0);
    CHECK(result.found == net.ids_within(origin, -1));
    CHECK(result.reported == n - 1);
    for (size_t i = 0; i < net.size(); ++i)
      if (i != origin) CHECK(result.addresses[net[i].id()] == listen_address(net[i]));

    // Each node passes the request to all its peers but the one it came
    // from: 2E - (N-1) messages in all, at most 2 per edge; every other
    // copy is a repeat and dropped.
    const int64_t messages = 2 * edges - (n - 1);
    CHECK(wait_until([&] {
      return grew_in_total(net, before, "discover_messages_sent") == messages &&
             grew_in_total(net, before, "duplicates_dropped") == messages - (n - 1);
    }));
    CHECK(messages <= 2 * edges);
    for (size_t i = 0; i < net.size(); ++i) {
      INFO("node " << i);
      CHECK(grew(net, before, i, "answers_sent") == (i == origin ? 0 : 1));
      CHECK(grew(net, before, i, "relayed") <= 1);
      CHECK(grew(net, before, i, "relayed_deeper") == 0);
      CHECK(grew(net, before, i, "unknown_answers") == 0);
      CHECK(grew(net, before, i, "answers_received") == (i == origin ? n - 1 : 0));
    }
    CHECK(grew(net, before, origin, "nodes_found") == n - 1);
    // Answers come back hop by hop along the path the request took: a node
    // d hops away is forwarded at least d-1 times (exactly, where there is
    // only one path).
    int64_t hops_back = 0;
    for (size_t i = 0; i < net.size(); ++i)
      if (i != origin) hops_back += distance[i] - 1;
    if (edges == n - 1)
      CHECK(grew_in_total(net, before, "answers_forwarded") == hops_back);
    else
      CHECK(grew_in_total(net, before, "answers_forwarded") >= hops_back);

    // Every node is in the origin's peer store, at its listen address.
    auto nodes = net[origin].run("nodes");
    for (size_t i = 0; i < net.size(); ++i)
      if (i != origin) CHECK(nodes.contains(net[i].id() + " " + listen_address(net[i]) + " seen"));
  }

  SECTION("depth 1 finds exactly the direct peers") {
    auto before = snapshot(net);
    auto result = discover(net[origin], "1");
    INFO(result.output);
    CHECK(result.status == 0);
    CHECK(result.found == net.ids_within(origin, 1));
    CHECK(result.reported == static_cast<int64_t>(net.ids_within(origin, 1).size()));
    for (size_t i = 0; i < net.size(); ++i) {
      INFO("node " << i << " at distance " << distance[i]);
      CHECK(grew(net, before, i, "answers_sent") == (distance[i] == 1 ? 1 : 0));
      CHECK(grew(net, before, i, "relayed") == 0);
    }
  }

  SECTION("depth 2 finds exactly the nodes within two hops") {
    auto before = snapshot(net);
    auto result = discover(net[origin], "2");
    INFO(result.output);
    CHECK(result.status == 0);
    CHECK(result.found == net.ids_within(origin, 2));
    CHECK(result.reported == static_cast<int64_t>(net.ids_within(origin, 2).size()));
    for (size_t i = 0; i < net.size(); ++i) {
      INFO("node " << i << " at distance " << distance[i]);
      CHECK(grew(net, before, i, "answers_sent") == (distance[i] == 1 || distance[i] == 2 ? 1 : 0));
      CHECK(grew(net, before, i, "relayed") <= (distance[i] == 1 ? 1 : 0));
      if (distance[i] > 2) CHECK(discovery_counters(net[i]) == before[i]);  // nothing reached it
    }
  }
}

}  // namespace

TEST_CASE("discover on a line of 24 nodes") {
  Network net(line_shape(24), [] { return discovery_config(); });
  SECTION("from one end") { check_discovery(net, 0); }
  SECTION("from the middle") { check_discovery(net, 11); }
}

TEST_CASE("discover on a ring of 20 nodes") {
  Network net(ring_shape(20), [] { return discovery_config(); });
  check_discovery(net, 0);
}

TEST_CASE("discover on a random mesh of 30 nodes") {
  auto seed = std::random_device{}();
  INFO("mesh seed " << seed);
  Network net(random_mesh_shape(30, 30, seed), [] { return discovery_config(); });
  check_discovery(net, seed % 30);
}

TEST_CASE("discovered nodes land in the peer store at their listen addresses and on the bus") {
  auto origin_config = discovery_config();
  origin_config.plugins.push_back(plugin("recorder", {{"events", {"discovery.node_found"}}}));
  TestNode a(origin_config), b(discovery_config()), c(discovery_config());
  // Both connections are inbound where they end: the source ports are
  // ephemeral, the listen ports come from the hello.
  REQUIRE(b.connect_to(a) == a.id());
  REQUIRE(c.connect_to(b) == b.id());
  CHECK_FALSE(a.run("nodes").contains(c.id()));

  auto result = discover(a, "");
  INFO(result.output);
  CHECK(result.found == std::set<std::string>{b.id(), c.id()});
  CHECK(result.reported == 2);
  CHECK(result.addresses[c.id()] == listen_address(c));
  CHECK(a.run("nodes").contains(c.id() + " " + listen_address(c) + " seen"));

  auto events = a.run("recorder-log");
  INFO(events.text());
  CHECK(events.contains("2 events"));
  for (auto* node : {&b, &c})
    CHECK(events.contains(R"(discovery.node_found {"host":"127.0.0.1","id":")" + node->id() + R"(","port":)" +
                          std::to_string(node->port())));
  // b relayed and answered; it did not ask, so it learned nothing new.
  CHECK(counter(b, "answers_received") == 0);
  CHECK(counter(b, "nodes_found") == 0);
}

TEST_CASE("an answer with an unknown id is dropped and counted") {
  TestNode a(discovery_config({}, false)), b(discovery_config({}, false));
  REQUIRE(a.connect_to(b) == b.id());
  RawPeer raw(b.port());
  REQUIRE(raw.handshake(random_id(), {"discover", "discover_answer"}));
  REQUIRE(wait_until([&] { return b->peers().size() == 2; }));
  std::string fake = random_id();
  raw.send_json({{"type", "discover_answer"},
                 {"id", "no-such-request"},
                 {"node_id", fake},
                 {"host", "127.0.0.1"},
                 {"port", 4242},
                 {"outbound_nodes", nlohmann::json::array()},
                 {"inbound_nodes", nlohmann::json::array()}});
  CHECK(wait_until([&] { return counter(b, "unknown_answers") == 1; }));
  CHECK(counter(b, "answers_forwarded") == 0);
  CHECK_FALSE(b.run("nodes").contains(fake));
  CHECK(counter(a, "unknown_answers") == 0);
  CHECK(counter(a, "answers_received") == 0);
  CHECK(a->peers().size() == 1);  // nobody was disconnected over it
}

TEST_CASE("a forged answer travels only back to the node that asked") {
  // a - b, and two raw peers on b: `forger` answers with made-up nodes,
  // `bystander` watches every frame b sends it.
  TestNode a(discovery_config({}, false)), b(discovery_config({}, false));
  REQUIRE(a.connect_to(b) == b.id());
  RawPeer forger(b.port()), bystander(b.port());
  REQUIRE(forger.handshake(random_id(), {"discover", "discover_answer"}));
  REQUIRE(bystander.handshake(random_id(), {"discover", "discover_answer"}));
  REQUIRE(wait_until([&] { return b->peers().size() == 3; }));

  a->execute("discover -1", {}, {});
  std::string request_id;
  for (int i = 0; i < 10 && request_id.empty(); ++i) {
    auto frame = forger.read_frame();
    REQUIRE(frame);
    if (frame->type() == "discover") request_id = frame->json()["id"];
  }
  REQUIRE_FALSE(request_id.empty());
  std::string fake = random_id();
  auto forged = [&](const std::string& id) {
    return nlohmann::json{{"type", "discover_answer"},
                          {"id", id},
                          {"node_id", fake},
                          {"host", "127.0.0.1"},
                          {"port", 4242},
                          {"outbound_nodes", nlohmann::json::array()},
                          {"inbound_nodes", nlohmann::json::array()}};
  };
  REQUIRE(forger.send_json(forged(request_id)));
  REQUIRE(forger.send_json(forged("some-request-nobody-made")));

  // a asked: it gets the answer through b. b only passed it on.
  CHECK(wait_until([&] { return counter(a, "answers_received") == 2; }));  // b's and the forger's
  CHECK(wait_until([&] { return counter(b, "unknown_answers") == 1; }));
  CHECK(wait_until([&] { return counter(b, "answers_forwarded") == 1; }));
  CHECK(a.run("nodes").contains(fake));
  CHECK_FALSE(b.run("nodes").contains(fake));

  // The bystander got the request but no answer, forged or real.
  std::vector<std::string> types;
  while (auto frame = bystander.read_frame(500ms)) types.push_back(frame->type());
  CHECK(std::count(types.begin(), types.end(), "discover") == 1);
  CHECK(std::count(types.begin(), types.end(), "discover_answer") == 0);
}

TEST_CASE("the seen-id table stays within its cap under a flood of unique ids") {
  // No rate limit or per-peer share: the table's own cap is under test.
  TestNode node(discovery_config({{"seen_ids_max", 100},
                                  {"seen_ids_per_peer", 10000000},
                                  {"max_requests_per_s_per_peer", 0},
                                  {"max_requests_per_s_per_address", 0}},
                                 false));
  RawPeer raw(node.port());
  REQUIRE(raw.handshake(random_id(), {"discover", "discover_answer"}));
  REQUIRE(wait_until([&] { return node->peers().size() == 1; }));

  for (int i = 0; i < 2000; ++i)
    REQUIRE(raw.send_json({{"type", "discover"}, {"id", "flood-" + std::to_string(i)}, {"depth", -1}}));
  size_t answers = 0;
  while (answers < 2000) {
    auto frame = raw.read_frame();
    REQUIRE(frame);
    if (frame->type() == "discover_answer") ++answers;
  }
  CHECK(wait_until([&] { return counter(node, "answers_sent") == 2000; }));
  CHECK(counter(node, "seen_ids") == 100);  // the table's size, kept by the plugin

  // The oldest ids made room: an answer for one of them is now unknown, a
  // repeat of a recent one is still a repeat.
  raw.send_json({{"type", "discover_answer"}, {"id", "flood-0"}, {"node_id", random_id()}, {"host", "h"}, {"port", 1}});
  CHECK(wait_until([&] { return counter(node, "unknown_answers") == 1; }));
  raw.send_json({{"type", "discover"}, {"id", "flood-1999"}, {"depth", -1}});
  CHECK(wait_until([&] { return counter(node, "duplicates_dropped") == 1; }));
  CHECK(counter(node, "seen_ids") == 100);
}

TEST_CASE("malformed and exhausted requests are dropped without an answer") {
  TestNode node(discovery_config({}, false));
  RawPeer raw(node.port());
  REQUIRE(raw.handshake(random_id(), {"discover", "discover_answer"}));
  REQUIRE(wait_until([&] { return node->peers().size() == 1; }));
  raw.send_json({{"type", "discover"}, {"id", 7}, {"depth", 1}});
  raw.send_json({{"type", "discover"}, {"id", "x"}, {"depth", 65}});
  raw.send_json({{"type", "discover"}, {"id", std::string(129, 'x')}, {"depth", 1}});
  raw.send_json({{"type", "discover"}, {"id", "zero"}, {"depth", 0}});
  raw.send_json({{"type", "discover_answer"}, {"node_id", random_id()}});
  CHECK(wait_until([&] { return counter(node, "malformed") == 4 && counter(node, "depth_exhausted") == 1; }));
  // A depth-0 request was not recorded: the same id with hops left is answered.
  raw.send_json({{"type", "discover"}, {"id", "zero"}, {"depth", 1}});
  auto frame = raw.read_frame();
  REQUIRE(frame);
  CHECK(frame->type() == "discover_answer");
  CHECK(frame->json()["id"] == "zero");
  CHECK(frame->json()["node_id"] == node.id());
  CHECK(frame->json()["port"] == node.port());
  CHECK(wait_until([&] { return counter(node, "answers_sent") == 1; }));  // counted just after the send
}

TEST_CASE("target_peers connects to discovered nodes until the node has that many peers") {
  Network net(line_shape(5), [] { return discovery_config(); });
  TestNode newcomer(discovery_config({{"target_peers", 3}}));
  REQUIRE(newcomer.connect_to(net[0]) == net[0].id());
  auto result = discover(newcomer, "-1");
  CHECK(result.reported == 5);
  CHECK(wait_until([&] { return newcomer->peers().size() == 3; }));
  CHECK(counter(newcomer, "target_connects") == 2);
  CHECK(newcomer->peers().size() == 3);  // and no more
}

TEST_CASE("discover with no peers and with bad arguments") {
  TestNode node(discovery_config());
  auto alone = node.run("discover");
  CHECK(alone.status == 0);
  CHECK(alone.lines.back() == "discovered 0 nodes");
  for (const char* bad : {"discover 0", "discover x", "discover 65", "discover -2", "discover 1 2"}) {
    auto result = node.run(bad);
    CHECK(result.status == 2);
    CHECK(result.contains("usage: discover [DEPTH]"));
  }
}

TEST_CASE("discovery works with ping disabled and ping works with discovery disabled") {
  auto only = [](const std::string& on, const std::string& off) {
    auto config = test_config({on});
    auto disabled = plugin(off);
    disabled.enabled = false;  // as `enabled = false` in node.toml
    config.plugins.push_back(disabled);
    return config;
  };
  SECTION("discovery alone") {
    Network net(line_shape(3), [&] { return only("discovery", "ping"); });
    auto result = discover(net[0], "");
    CHECK(result.found == net.ids_within(0, -1));
    CHECK(result.reported == 2);
    CHECK(net[0].run("ping").contains("unknown command 'ping'"));
  }
  SECTION("ping alone") {
    Network net(line_shape(3), [&] { return only("ping", "discovery"); });
    CHECK(net[1].run("ping").lines.size() == 2);
    CHECK(net[1].run("ping").contains("pong from " + net[0].id() + " in "));
    CHECK(net[1].run("discover").contains("unknown command 'discover'"));
  }
}

TEST_CASE("a repeat with more hops left is passed on once more but not answered again") {
  // x first gets the request with one hop left (as if over a longer path),
  // then with three: it must still reach y and z behind it.
  TestNode x(discovery_config({}, false)), y(discovery_config({}, false)), z(discovery_config({}, false));
  REQUIRE(y.connect_to(x) == x.id());
  REQUIRE(z.connect_to(y) == y.id());
  RawPeer early(x.port()), late(x.port());
  REQUIRE(early.handshake(random_id(), {"discover", "discover_answer"}));
  REQUIRE(late.handshake(random_id(), {"discover", "discover_answer"}));
  REQUIRE(wait_until([&] { return x->peers().size() == 3; }));

  REQUIRE(early.send_json({{"type", "discover"}, {"id", "q"}, {"depth", 1}}));
  auto answer = early.read_frame();
  REQUIRE(answer);
  CHECK(answer->json()["node_id"] == x.id());
  REQUIRE(late.send_json({{"type", "discover"}, {"id", "q"}, {"depth", 3}}));

  // Answers go back to the peer x took the request from first.
  std::set<std::string> answered;
  int relayed_depth = -100;
  for (int i = 0; i < 10 && answered.size() < 2; ++i) {
    auto frame = early.read_frame();
    REQUIRE(frame);
    if (frame->type() == "discover_answer") answered.insert(frame->json()["node_id"].get<std::string>());
    if (frame->type() == "discover") relayed_depth = frame->json()["depth"];
  }
  CHECK(answered == std::set<std::string>{y.id(), z.id()});
  CHECK(relayed_depth == 2);
  CHECK(wait_until([&] { return counter(x, "answers_forwarded") == 2 && counter(z, "answers_sent") == 1; }));
  CHECK(counter(x, "answers_sent") == 1);
  CHECK(counter(x, "relayed_deeper") == 1);
  CHECK(counter(x, "relayed") == 0);
  CHECK(wait_until([&] { return counter(y, "answers_sent") == 1 && counter(y, "relayed") == 1; }));
  CHECK(counter(z, "relayed") == 0);  // no hop was left at z
}
