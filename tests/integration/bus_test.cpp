// The local event bus: events go to subscribers in the same node only.
#include "test_node.hpp"

#include <catch2/catch.hpp>

using namespace p2pnet;
using namespace p2pnet::test;

TEST_CASE("a published event reaches subscribers of this node and never the network") {
  auto config = test_config({"probe"});
  config.plugins.push_back(plugin("probe2"));
  TestNode a(config), b({"probe"});
  REQUIRE(a.connect_to(b) == b.id());
  CHECK(a.run("probe2-publish probe.event payload").status == 0);
  CHECK(wait_until([&] { return a.run("probe-log").contains(R"(event {"text":"payload"})"); }));
  CHECK_FALSE(b.run("probe-log").contains("event"));
}
