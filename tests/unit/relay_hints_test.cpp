// What a node keeps of the relays peers named for other nodes: bounded per
// node and in nodes, newest first, and a relay that failed is dropped.
#include "relay_hints.hpp"

#include <catch2/catch.hpp>

using namespace p2pnet;

namespace {

std::vector<std::string> relay_ids(const std::vector<RelayHint>& hints) {
  std::vector<std::string> ids;
  for (const auto& hint : hints) ids.push_back(hint.relay_id);
  return ids;
}

}  // namespace

TEST_CASE("relay hints keep the newest three relays per node, a relay named again moving to the front") {
  RelayHints hints(10);
  CHECK(hints.of("n").empty());
  for (const char* relay : {"r1", "r2", "r3", "r4"}) hints.remember("n", {relay, "192.0.2.1", 9000});
  CHECK(relay_ids(hints.of("n")) == std::vector<std::string>{"r4", "r3", "r2"});
  hints.remember("n", {"r2", "192.0.2.2", 9001});
  auto kept = hints.of("n");
  CHECK(relay_ids(kept) == std::vector<std::string>{"r2", "r4", "r3"});
  CHECK(kept[0].host == "192.0.2.2");  // the address named last
  CHECK(kept[0].port == 9001);

  hints.forget("n", "r4");
  CHECK(relay_ids(hints.of("n")) == std::vector<std::string>{"r2", "r3"});
  hints.forget("n", "r2");
  hints.forget("n", "r3");
  CHECK(hints.of("n").empty());
  hints.forget("nobody", "r1");  // nothing to forget
}

TEST_CASE("relay hints hold at most max_nodes nodes, the one named longest ago going first") {
  RelayHints hints(2);
  hints.remember("a", {"r", "192.0.2.1", 1});
  hints.remember("b", {"r", "192.0.2.1", 1});
  hints.remember("a", {"s", "192.0.2.1", 1});  // a is the newest now
  hints.remember("c", {"r", "192.0.2.1", 1});
  CHECK(hints.of("b").empty());
  CHECK(hints.of("a").size() == 2);
  CHECK(hints.of("c").size() == 1);
}
