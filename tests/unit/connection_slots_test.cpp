// Who gets a connection slot, and who is evicted to make room.
#include "connection_slots.hpp"

#include "address_group.hpp"
#include "p2pnet/config.hpp"

#include <catch2/catch.hpp>

using namespace p2pnet;

namespace {

using Clock = std::chrono::steady_clock;

SlotHolder inbound(uint64_t serial, const std::string& address, int age_s, std::optional<int> useful_s_ago = {}) {
  auto now = Clock::now();
  EvictionCandidate candidate{serial, address, address_group(address), now - std::chrono::seconds(age_s), {}};
  if (useful_s_ago) candidate.last_useful = now - std::chrono::seconds(*useful_s_ago);
  return {true, candidate};
}

SlotHolder outbound(uint64_t serial) { return {false, {serial, "192.0.2.200", "v4:192.0.2", Clock::now(), {}}}; }

}  // namespace

TEST_CASE("address groups are /24 for IPv4 and /64 for IPv6") {
  CHECK(address_group("203.0.113.7") == address_group("203.0.113.250"));
  CHECK(address_group("203.0.113.7") != address_group("203.0.114.7"));
  CHECK(address_group("::ffff:203.0.113.7") == address_group("203.0.113.9"));
  CHECK(address_group("2001:db8:1:2::1") == address_group("2001:db8:1:2:ffff::9"));
  CHECK(address_group("2001:db8:1:2::1") != address_group("2001:db8:1:3::1"));
}

TEST_CASE("inbound caps per address and per group refuse with their own counter") {
  SlotLimits limits{100, 2, 3, 8, false};
  std::vector<SlotHolder> holders{inbound(1, "203.0.113.1", 10), inbound(2, "203.0.113.1", 9),
                                  inbound(3, "203.0.113.2", 8)};
  auto same_address = decide_slot(holders, true, "203.0.113.1", limits);
  CHECK(same_address.kind == SlotDecision::Kind::refuse);
  CHECK(same_address.counter == "refused_per_address");
  auto same_group = decide_slot(holders, true, "203.0.113.3", limits);
  CHECK(same_group.kind == SlotDecision::Kind::refuse);
  CHECK(same_group.counter == "refused_per_group");
  CHECK(decide_slot(holders, true, "198.51.100.1", limits).kind == SlotDecision::Kind::admit);
  // Loopback is exempt unless asked for.
  std::vector<SlotHolder> local{inbound(1, "127.0.0.1", 1), inbound(2, "127.0.0.1", 1)};
  CHECK(decide_slot(local, true, "127.0.0.1", limits).kind == SlotDecision::Kind::admit);
  limits.cap_loopback = true;
  CHECK(decide_slot(local, true, "127.0.0.1", limits).kind == SlotDecision::Kind::refuse);
}

TEST_CASE("inbound never takes the reserved outbound slots - outbound may") {
  SlotLimits limits{4, 10, 10, 2, false};
  std::vector<SlotHolder> holders{inbound(1, "203.0.113.1", 10), inbound(2, "198.51.100.1", 10)};
  CHECK(decide_slot(holders, false, "192.0.2.1", limits).kind == SlotDecision::Kind::admit);
  holders.push_back(outbound(3));
  holders.push_back(outbound(4));
  CHECK(decide_slot(holders, false, "192.0.2.1", limits).kind == SlotDecision::Kind::refuse);
}

TEST_CASE("eviction protects diverse, useful and old peers and takes from the most crowded network") {
  SlotLimits limits{9, 100, 100, 1, false};
  std::vector<SlotHolder> holders{
      inbound(1, "198.51.100.1", 100),  // the only peer of its network
      inbound(2, "192.0.2.9", 1, 0),    // recently useful
      inbound(3, "203.0.113.1", 90),    // attacker, oldest of its network
      inbound(4, "203.0.113.1", 80),   inbound(5, "203.0.113.1", 70),
      inbound(6, "203.0.113.1", 60),   inbound(7, "203.0.113.1", 5),  // attacker, youngest
      inbound(8, "192.0.2.10", 4),
  };
  auto decision = decide_slot(holders, true, "192.0.2.77", limits);
  REQUIRE(decision.kind == SlotDecision::Kind::admit_after_evicting);
  CHECK(decision.evict_serial == 7);
}

TEST_CASE("when every inbound peer is protected the newcomer is refused") {
  SlotLimits limits{2, 100, 100, 0, false};
  std::vector<SlotHolder> holders{inbound(1, "198.51.100.1", 100), inbound(2, "203.0.113.1", 10)};
  auto decision = decide_slot(holders, true, "192.0.2.1", limits);
  CHECK(decision.kind == SlotDecision::Kind::refuse);
  CHECK(decision.counter == "refused_inbound_full");
}

TEST_CASE("the slot and write-budget keys are read from node.toml and checked") {
  auto loaded = parse_config(
      "[node]\nmax_connections = 20\noutbound_reserved = 5\nmax_inbound_per_address = 2\n"
      "max_inbound_per_group = 6\ncap_loopback_inbound = true\ninbound_idle_timeout_ms = 30000\n"
      "idle_message_types = [\"ping\"]\nmax_total_queued_bytes = 1048576\nwrite_stall_timeout_ms = 2000\n",
      "node.toml");
  CHECK(loaded.warnings.empty());
  const auto& c = loaded.config;
  CHECK(c.outbound_reserved == 5);
  CHECK(c.max_inbound_per_address == 2);
  CHECK(c.max_inbound_per_group == 6);
  CHECK(c.cap_loopback_inbound);
  CHECK(c.inbound_idle_timeout == std::chrono::milliseconds(30000));
  CHECK(c.idle_message_types == std::vector<std::string>{"ping"});
  CHECK(c.max_total_queued_bytes == 1048576);
  CHECK(c.write_stall_timeout == std::chrono::milliseconds(2000));
  std::string error;
  try {
    parse_config("[node]\nmax_connections = 4\noutbound_reserved = 4\n", "node.toml");
  } catch (const ConfigError& e) {
    error = e.what();
  }
  CHECK(error.find("node.toml:3:21: node.outbound_reserved: expected fewer than max_connections") == 0);
}

TEST_CASE("without outbound_reserved a small max_connections keeps three quarters for inbound") {
  CHECK(parse_config("[node]\nmax_connections = 8\n", "node.toml").config.outbound_reserved == 2);
  CHECK(parse_config("[node]\nmax_connections = 128\n", "node.toml").config.outbound_reserved == 8);
  CHECK(parse_config("[node]\nmax_connections = 2\n", "node.toml").config.outbound_reserved == 0);
}
