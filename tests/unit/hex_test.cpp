// p2pnet/hex.hpp: the one spelling of a SHA-256 or a node id that peers, the
// bus and node.toml may use, shared by the SDK, the core and the plugins.
#include "node_id.hpp"

#include <p2pnet/hex.hpp>

#include <catch2/catch.hpp>

#include <string>

TEST_CASE("only 64 lowercase hex digits spell a SHA-256 or a node id") {
  const std::string good = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  CHECK(p2pnet::is_sha256_hex(good));
  CHECK(p2pnet::is_valid_node_id(good));
  std::string upper = good;
  upper[0] = 'B';
  for (const auto& bad : {upper, good.substr(1), good + "0", std::string(63, 'a') + "g", std::string(64, ' ')}) {
    CHECK_FALSE(p2pnet::is_sha256_hex(bad));
    CHECK_FALSE(p2pnet::is_valid_node_id(bad));
  }
}

TEST_CASE("to_hex writes two lowercase digits per byte") {
  const unsigned char bytes[] = {0x00, 0x0f, 0xa0, 0xff};
  CHECK(p2pnet::to_hex(bytes, sizeof bytes) == "000fa0ff");
  CHECK(p2pnet::to_hex(bytes, 0).empty());
}
