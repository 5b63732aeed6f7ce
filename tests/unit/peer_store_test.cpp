#include "peer_store.hpp"

#include <catch2/catch.hpp>

using p2pnet::PeerStore;

TEST_CASE("the peer store remembers and refreshes nodes") {
  PeerStore store(10);
  store.remember("a", "10.0.0.1", 9000);
  store.remember("a", "10.0.0.2", 9001);
  auto record = store.find("a");
  REQUIRE(record);
  CHECK(record->host == "10.0.0.2");
  CHECK(record->port == 9001);
  CHECK(store.size() == 1);
  CHECK_FALSE(store.find("b"));
}

TEST_CASE("the peer store stays within its capacity") {
  PeerStore store(100);
  for (int i = 0; i < 1000; ++i) store.remember("node" + std::to_string(i), "127.0.0.1", 1000);
  CHECK(store.size() == 100);
  CHECK(store.list().size() == 100);
  CHECK(store.evictions() == 900);
}
