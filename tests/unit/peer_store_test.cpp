#include "peer_store.hpp"
#include "network_address.hpp"

#include <catch2/catch.hpp>

using p2pnet::PeerStore;

TEST_CASE("the peer store remembers and refreshes nodes") {
  PeerStore store(10, 10);
  store.remember_verified("a", "10.0.0.1", 9000);
  store.remember_verified("a", "10.0.0.2", 9001);
  auto record = store.find("a");
  REQUIRE(record);
  CHECK(record->host == "10.0.0.2");
  CHECK(record->port == 9001);
  CHECK(record->verified);
  CHECK(store.size() == 1);
  CHECK_FALSE(store.find("b"));
}

TEST_CASE("the peer store stays within its capacity") {
  PeerStore store(100, 50);
  for (int i = 0; i < 1000; ++i) store.remember_verified("node" + std::to_string(i), "127.0.0.1", 1000);
  for (int i = 0; i < 1000; ++i) store.remember_hearsay("heard" + std::to_string(i), "127.0.0.1", 1 + i);
  CHECK(store.size() == 150);
  CHECK(store.list().size() == 150);
  CHECK(store.evictions() == 900 + 950);
  CHECK(store.find("node999"));
  CHECK_FALSE(store.find("node899"));
  CHECK(store.find("heard999"));
  CHECK_FALSE(store.find("heard949"));
}

TEST_CASE("hearsay never replaces a verified record, and a handshake replaces hearsay") {
  PeerStore store(10, 10);
  store.remember_verified("a", "10.0.0.1", 9000);
  CHECK(store.remember_hearsay("a", "10.6.6.6", 6666) == PeerStore::Hearsay::verified_kept);
  CHECK(store.find("a")->port == 9000);
  CHECK(store.remember_hearsay("b", "10.0.0.2", 9000) == PeerStore::Hearsay::stored);
  CHECK_FALSE(store.find("b")->verified);
  store.remember_verified("b", "10.0.0.3", 9001);
  CHECK(store.find("b")->port == 9001);
  CHECK(store.size() == 2);
}

TEST_CASE("hearsay keeps one id per address, and an address proved wrong is not offered again") {
  PeerStore store(10, 10);
  store.remember_hearsay("a", "10.0.0.1", 9000);
  store.remember_hearsay("b", "10.0.0.1", 9000);
  CHECK_FALSE(store.find("a"));
  CHECK(store.find("b"));
  CHECK(store.size() == 1);

  store.mark_bad("b", "10.0.0.1", 9000, p2pnet::unix_millis_now() + 60000);
  CHECK_FALSE(store.find("b"));
  CHECK(store.remember_hearsay("b", "10.0.0.1", 9000) == PeerStore::Hearsay::marked_bad);
  CHECK_FALSE(store.find("b"));
  CHECK(store.remember_hearsay("b", "10.0.0.2", 9000) == PeerStore::Hearsay::stored);  // another address
  CHECK(store.find("b"));
}

TEST_CASE("addresses from the network: numeric only, no unspecified, multicast or foreign loopback") {
  using p2pnet::unusable_network_address;
  CHECK(unusable_network_address("192.0.2.1", false).empty());
  CHECK(unusable_network_address("2001:db8::1", false).empty());
  CHECK(unusable_network_address("127.0.0.1", true).empty());
  CHECK(unusable_network_address("127.0.0.1", false) == "loopback address");
  CHECK(unusable_network_address("::1", false) == "loopback address");
  CHECK(unusable_network_address("example.com", true) == "not a numeric IP address");
  CHECK(unusable_network_address("0.0.0.0", true) == "unspecified address");
  CHECK(unusable_network_address("::", true) == "unspecified address");
  CHECK(unusable_network_address("239.1.2.3", true) == "multicast address");
  CHECK_FALSE(unusable_network_address("::ffff:127.0.0.1", false).empty());
}
