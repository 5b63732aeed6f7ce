// Catch2's main, plus an orderly end: the runtime shared by all test nodes is
// joined before static destruction begins.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "test_node.hpp"

int main(int argc, char* argv[]) {
  int result = Catch::Session().run(argc, argv);
  p2pnet::test::release_shared_runtime();
  return result;
}
