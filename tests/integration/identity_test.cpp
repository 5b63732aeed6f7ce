// A node keeps its id across restarts, in its own data directory.
#include "test_node.hpp"

#include <catch2/catch.hpp>

#include <fstream>

using namespace p2pnet;
using namespace p2pnet::test;

TEST_CASE("the node id persists in the data dir across restarts") {
  TempDir dir;
  auto config = test_config();
  config.data_dir = dir.path();
  std::string first;
  {
    Node node(config, shared_runtime());
    first = node.id();
  }
  CHECK(first.size() == 64);
  Node again(config, shared_runtime());
  CHECK(again.id() == first);
}

TEST_CASE("a configured id wins - a malformed id file is a clear error") {
  TempDir dir;
  auto config = test_config();
  config.data_dir = dir.path();
  config.id = std::string(63, '0') + "7";
  CHECK(Node(config, shared_runtime()).id() == config.id);

  config.id.clear();
  std::ofstream(dir / "node_id") << "not-an-id\n";
  CHECK_THROWS_WITH(Node(config, shared_runtime()), Catch::Contains("node_id: not a node id"));
}

TEST_CASE("two running nodes cannot share a data dir") {
  TempDir dir;
  auto config = test_config();
  config.data_dir = dir.path();
  Node first(config, shared_runtime());
  CHECK_THROWS_WITH(Node(config, shared_runtime()), Catch::Contains("is in use by another running node"));
}
