// Nodes for the relay, reversal and hole punching tests on loopback: a
// relay with its service on, and a node that holds a place on it although
// loopback never makes it private.
#pragma once

#include "test_node.hpp"

#include <catch2/catch.hpp>

#include <string>

namespace p2pnet::test {

inline NodeConfig relay_config() {
  auto config = test_config({"probe"});
  config.relay.service = Switch::on;
  return config;
}

// Loopback votes do not count, so nothing here finds itself private: the
// reserving node is told to hold a place anyway.
inline NodeConfig reserving_config() {
  auto config = test_config({"probe"});
  config.relay.use_relays = Switch::on;
  return config;
}

inline bool holds_place(TestNode& node, TestNode& relay) {
  return node.run("nat").contains("relay: " + relay.id() + " 127.0.0.1:" + std::to_string(relay.port()));
}

// A caller that goes straight for a circuit (no reversal first), and keeps
// it relayed unless `punch`.
inline NodeConfig circuit_caller_config(bool punch) {
  auto config = test_config({"probe"});
  config.relay.reversal = false;
  config.relay.punching = punch;
  return config;
}

// `reserving` holds a place on `relay`, and `caller` is linked to the relay.
inline void meet_at_relay(TestNode& relay, TestNode& reserving, TestNode& caller) {
  REQUIRE(reserving.connect_to(relay) == relay.id());
  REQUIRE(caller.connect_to(relay) == relay.id());
  REQUIRE(wait_until([&] { return holds_place(reserving, relay); }));
}

inline std::string loopback_address_of(TestNode& node) { return "127.0.0.1:" + std::to_string(node.port()); }

}  // namespace p2pnet::test
