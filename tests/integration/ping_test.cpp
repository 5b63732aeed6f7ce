// The ping plugin in real nodes: round trips to every peer, by id and by
// address; timeouts; and the keep-alive that drops a frozen peer while it
// leaves healthy peers, and peers that do not handle ping, alone.
#include "network_shapes.hpp"
#include "raw_peer.hpp"
#include "test_node.hpp"

#include <catch2/catch.hpp>

#include <future>
#include <regex>

using namespace p2pnet;
using namespace p2pnet::test;
using namespace std::chrono_literals;

namespace {

// encryption = false for tests that speak raw frames (RawPeer) to the nodes.
NodeConfig ping_config(const nlohmann::json& overrides = nlohmann::json::object(), bool encryption = true) {
  auto config = encryption ? test_config() : plaintext_config();
  nlohmann::json settings = {{"keepalive_interval_ms", 0}};
  if (overrides.is_object()) settings.update(overrides);
  config.plugins.push_back(plugin("ping", settings));
  return config;
}

int64_t ping_counter(TestNode& node, const std::string& name) {
  auto counters = node->stats().plugin_counters;
  auto it = counters.find("ping." + name);
  return it == counters.end() ? 0 : it->second;
}

// The round trip of a "pong from ID in X ms" line for `id`, if there is one.
std::optional<double> round_trip(const CommandResult& result, const std::string& id) {
  static const std::regex pong(R"(^pong from ([0-9a-f]{64}) in ([0-9]+\.[0-9]{3}) ms$)");
  std::smatch match;
  for (const auto& line : result.lines)
    if (std::regex_match(line, match, pong) && match[1] == id) return std::stod(match[2]);
  return std::nullopt;
}

}  // namespace

TEST_CASE("ping reports round trips to every peer - by id - and by address") {
  TestNode a(ping_config()), b(ping_config()), c(ping_config()), d(ping_config());
  REQUIRE(a.connect_to(b) == b.id());
  REQUIRE(c.connect_to(a) == a.id());

  auto all = a.run("ping");
  INFO(all.text());
  CHECK(all.status == 0);
  CHECK(all.lines.size() == 2);
  auto to_b = round_trip(all, b.id());
  REQUIRE(to_b);
  CHECK(*to_b > 0);
  CHECK(round_trip(all, c.id()));
  CHECK(ping_counter(b, "pings_answered") == 1);

  CHECK(round_trip(a.run("ping " + b.id().substr(0, 12)), b.id()));
  // Not connected yet: `ping HOST PORT` connects first.
  auto by_address = a.run("ping 127.0.0.1 " + std::to_string(d.port()));
  INFO(by_address.text());
  CHECK(round_trip(by_address, d.id()));
  CHECK(a.has_peer(d.id()));

  auto unknown = a.run("ping 0123abc");
  CHECK(unknown.status == 1);
  CHECK(unknown.contains("no pong from 0123abc (no connected or known node matches)"));
  CHECK(a.run("ping 127.0.0.1 80x").contains("usage: ping HOST PORT (PORT is 1 to 65535)"));
  CHECK(a.run("ping a b c").status == 2);
}

TEST_CASE("a ping without a pong within the timeout prints no pong from ID") {
  TestNode node(ping_config({{"timeout_ms", 300}}, false));
  RawPeer mute(node.port());
  std::string mute_id = random_id();
  REQUIRE(mute.handshake(mute_id, {"ping", "pong"}));
  REQUIRE(wait_until([&] { return node.has_peer(mute_id); }));
  auto result = node.run("ping");
  CHECK(result.lines == std::vector<std::string>{"no pong from " + mute_id});
  auto ping = mute.read_frame();
  REQUIRE(ping);
  CHECK(ping->type() == "ping");
  CHECK(ping_counter(node, "timeouts") == 1);
}

TEST_CASE("a ping to a peer that goes away ends at once") {
  TestNode node(ping_config({{"timeout_ms", 600000}}, false));
  auto mute = std::make_unique<RawPeer>(node.port());
  std::string mute_id = random_id();
  REQUIRE(mute->handshake(mute_id, {"ping", "pong"}));
  REQUIRE(wait_until([&] { return node.has_peer(mute_id); }));
  auto result = std::async(std::launch::async, [&] { return node.run("ping " + mute_id, 30s); });
  REQUIRE(mute->read_frame());  // the ping is out
  mute.reset();
  auto output = result.get();
  CHECK(output.status == 0);  // well before the ten-minute timeout
  REQUIRE(output.lines.size() == 1);
  CHECK(output.lines[0].rfind("no pong from " + mute_id + " (disconnected: ", 0) == 0);
}

TEST_CASE("ping by id of a peer that does not handle ping says so") {
  TestNode node(ping_config({}, false));
  RawPeer other(node.port());
  std::string other_id = random_id();
  REQUIRE(other.handshake(other_id, {"probe"}));
  REQUIRE(wait_until([&] { return node.has_peer(other_id); }));
  CHECK(node.run("ping").contains("no connected peer handles ping"));
  CHECK(node.run("ping " + other_id).contains("no pong from " + other_id + " (it does not handle ping)"));
}

TEST_CASE("keep-alive drops a frozen peer as dead and leaves the others alone") {
  TestNode watcher(
      ping_config({{"keepalive_interval_ms", 100}, {"timeout_ms", 250}, {"keepalive_max_missed", 3}}, false));
  TestNode healthy(ping_config({}, false));
  REQUIRE(healthy.connect_to(watcher) == watcher.id());
  // Completes its handshake, says it handles ping, then never reads again.
  RawPeer frozen(watcher.port());
  std::string frozen_id = random_id();
  REQUIRE(frozen.handshake(frozen_id, {"ping", "pong"}));
  // Does not handle ping: it must never be pinged, so it never misses a pong.
  RawPeer no_ping(watcher.port());
  std::string no_ping_id = random_id();
  REQUIRE(no_ping.handshake(no_ping_id, {"probe"}));
  REQUIRE(wait_until([&] { return watcher->peers().size() == 3; }));

  CHECK(wait_until([&] { return !watcher.has_peer(frozen_id); }));
  CHECK(ping_counter(watcher, "dead_peers") == 1);
  CHECK(wait_until([&] {
    for (const auto& line : watcher.events())
      if (line == "peer disconnected: " + frozen_id + " (disconnected by plugin ping)") return true;
    return false;
  }));
  // Several more keep-alive rounds: the healthy peer answers them, and the
  // peer without ping stays connected and hears nothing.
  auto pongs = ping_counter(watcher, "pongs");
  CHECK(wait_until([&] { return ping_counter(watcher, "pongs") >= pongs + 5; }));
  CHECK(watcher.has_peer(healthy.id()));
  CHECK(watcher.has_peer(no_ping_id));
  CHECK(ping_counter(watcher, "dead_peers") == 1);
  CHECK_FALSE(no_ping.read_frame(50ms));
}
