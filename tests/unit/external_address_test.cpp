// How a node learns its external address from what peers say, and why one
// source cannot decide it.
#include "external_address.hpp"

#include <catch2/catch.hpp>

using p2pnet::ExternalAddress;

TEST_CASE("the external address is confirmed by peers on two networks, not by many peers of one") {
  ExternalAddress address;
  CHECK_FALSE(address.observe("192.0.2.10", "203.0.113.2"));
  CHECK_FALSE(address.observe("192.0.2.11", "203.0.113.2"));  // the same /24: one voice
  CHECK_FALSE(address.confirmed());
  CHECK(address.leading().networks == 1);
  CHECK(address.observe("198.51.100.10", "203.0.113.2") == "203.0.113.2");
  REQUIRE(address.confirmed());
  CHECK(address.confirmed()->host == "203.0.113.2");
  CHECK(address.confirmed()->networks == 2);
  CHECK_FALSE(address.observe("198.51.100.99", "203.0.113.2"));  // no change, no news
}

TEST_CASE("one network's many peers cannot move a confirmed external address") {
  ExternalAddress address;
  address.observe("192.0.2.10", "203.0.113.2");
  address.observe("198.51.100.10", "203.0.113.2");
  for (int i = 1; i < 200; ++i) CHECK_FALSE(address.observe("100.100.7." + std::to_string(i % 250), "198.18.0.66"));
  CHECK(address.confirmed()->host == "203.0.113.2");
  // Two networks that change their minds do move it: the NAT got a new address.
  CHECK(address.observe("192.0.2.10", "203.0.113.9") == std::nullopt);
  CHECK(address.observe("198.51.100.10", "203.0.113.9") == "203.0.113.9");
}

TEST_CASE("addresses that say nothing about the internet are not counted") {
  ExternalAddress address;
  CHECK_FALSE(address.observe("127.0.0.1", "203.0.113.2"));  // a peer on this machine
  for (const char* inside : {"127.0.0.1", "10.0.1.2", "192.168.1.5", "fe80::1", "0.0.0.0", "::", "224.0.0.1"}) {
    INFO(inside);
    CHECK_FALSE(address.observe("192.0.2.10", inside));
    CHECK_FALSE(address.observe("198.51.100.10", inside));
  }
  CHECK_FALSE(address.confirmed());
}

TEST_CASE("the voters are bounded: the oldest network's vote makes room") {
  ExternalAddress address;
  for (size_t i = 0; i < ExternalAddress::kMaxVotingNetworks + 50; ++i)
    address.observe("198.18." + std::to_string(i % 256) + "." + std::to_string(i / 256 + 1), "203.0.113.2");
  CHECK(address.confirmed()->networks == ExternalAddress::kMaxVotingNetworks);
}
