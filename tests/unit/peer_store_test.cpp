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
  CHECK(unusable_network_address("192.0.2.1", {}).empty());
  CHECK(unusable_network_address("2001:db8::1", {}).empty());
  CHECK(unusable_network_address("127.0.0.1", {true, true}).empty());
  CHECK(unusable_network_address("127.0.0.1", {}) == "loopback address");
  CHECK(unusable_network_address("::1", {}) == "loopback address");
  CHECK(unusable_network_address("example.com", {true, true}) == "not a numeric IP address");
  CHECK(unusable_network_address("0.0.0.0", {true, true}) == "unspecified address");
  CHECK(unusable_network_address("::", {true, true}) == "unspecified address");
  CHECK(unusable_network_address("239.1.2.3", {true, true}) == "multicast address");
  CHECK_FALSE(unusable_network_address("::ffff:127.0.0.1", {}).empty());
}

TEST_CASE("a node on a public address is not told about private, shared or link-local ones") {
  using p2pnet::unusable_network_address;
  for (const char* host :
       {"10.1.2.3", "172.16.0.1", "172.31.255.1", "192.168.1.1", "100.64.0.1", "169.254.1.1", "fd00::1", "fe80::1"}) {
    CAPTURE(host);
    CHECK(unusable_network_address(host, {}) == "private or link-local address");
    CHECK(unusable_network_address(host, {false, true}).empty());
  }
  for (const char* host : {"172.32.0.1", "100.128.0.1", "192.169.0.1", "11.0.0.1", "2001:db8::1"}) {
    CAPTURE(host);
    CHECK(unusable_network_address(host, {}).empty());
  }
  CHECK(p2pnet::local_scopes_of("192.168.1.5").site_local);
  CHECK_FALSE(p2pnet::local_scopes_of("198.51.100.7").site_local);
  CHECK(p2pnet::local_scopes_of("127.0.0.1").loopback);
  CHECK_FALSE(p2pnet::local_scopes_of("0.0.0.0").loopback);
}

TEST_CASE("one network with many keys churns only its own records, verified and hearsay") {
  PeerStore store(100, 100, 8);
  for (int i = 0; i < 50; ++i)
    store.remember_verified("honest" + std::to_string(i), "10.0." + std::to_string(i) + ".1", 9000);
  for (int i = 0; i < 50; ++i)
    store.remember_hearsay("told" + std::to_string(i), "10.1." + std::to_string(i) + ".1", 9000);
  // Fresh keys from one /24, each completing a handshake or named in answers.
  for (int i = 0; i < 1000; ++i) {
    store.remember_verified("sybil" + std::to_string(i), "203.0.113." + std::to_string(i % 250), 9000);
    store.remember_hearsay("fake" + std::to_string(i), "203.0.113." + std::to_string(i % 250), 10000 + i);
  }
  for (int i = 0; i < 50; ++i) {
    CHECK(store.find("honest" + std::to_string(i)));
    CHECK(store.find("told" + std::to_string(i)));
  }
  CHECK(store.size() == 50 + 50 + 8 + 8);
  CHECK(store.find("sybil999"));  // the newest of that network stay
  CHECK_FALSE(store.find("sybil991"));
  CHECK(store.group_evictions() == 2 * (1000 - 8));
}

TEST_CASE("loopback records are not capped per network unless asked") {
  PeerStore exempt(100, 100, 8), capped(100, 100, 8, true);
  for (int i = 0; i < 20; ++i) {
    exempt.remember_verified("node" + std::to_string(i), "127.0.0.1", 9000 + i);
    capped.remember_verified("node" + std::to_string(i), "127.0.0.1", 9000 + i);
  }
  CHECK(exempt.size() == 20);
  CHECK(capped.size() == 8);
}
