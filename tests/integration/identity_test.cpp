// A node's identity is its Ed25519 key, kept in its own data directory; its
// id is the SHA-256 of the public key.
#include "node_key.hpp"
#include "test_node.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <fstream>

using namespace p2pnet;
using namespace p2pnet::test;

TEST_CASE("the node key and so the id persist in the data dir across restarts") {
  TempDir dir;
  auto config = test_config();
  config.data_dir = dir.path();
  std::string first;
  {
    Node node(config, shared_runtime());
    first = node.id();
  }
  CHECK(first.size() == 64);
  struct stat info {};
  REQUIRE(::stat((dir / NodeKey::kFileName).c_str(), &info) == 0);
  CHECK((info.st_mode & 0777) == 0600);  // the private key is the identity
  Node again(config, shared_runtime());
  CHECK(again.id() == first);
  CHECK(NodeKey::load_or_create(dir.path()).id() == first);
}

TEST_CASE("a configured id must match the key") {
  TempDir dir;
  auto config = test_config();
  config.data_dir = dir.path();
  std::string real;
  {
    Node node(config, shared_runtime());
    real = node.id();
  }
  config.id = real;
  CHECK(Node(config, shared_runtime()).id() == real);
  config.id = std::string(63, '0') + "7";
  CHECK_THROWS_WITH(Node(config, shared_runtime()),
                    Catch::Contains("the configured id " + config.id + " does not match the node key") &&
                        Catch::Contains("its id is " + real));
}

TEST_CASE("a malformed or unreadable key file is a clear error") {
  TempDir dir;
  auto config = test_config();
  config.data_dir = dir.path();
  std::ofstream(dir / NodeKey::kFileName) << "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n";
  CHECK_THROWS_WITH(Node(config, shared_runtime()), Catch::Contains("node_key.pem: not an Ed25519 private key"));
  if (::geteuid() != 0) {  // root reads anything
    std::filesystem::remove(dir / NodeKey::kFileName);
    { Node node(config, shared_runtime()); }
    ::chmod((dir / NodeKey::kFileName).c_str(), 0);
    CHECK_THROWS_WITH(Node(config, shared_runtime()), Catch::Contains("cannot read the node key"));
  }
}

TEST_CASE("two running nodes cannot share a data dir") {
  TempDir dir;
  auto config = test_config();
  config.data_dir = dir.path();
  Node first(config, shared_runtime());
  CHECK_THROWS_WITH(Node(config, shared_runtime()), Catch::Contains("is in use by another running node"));
}
