// The discovery plugin's wire format and its relay-depth table, as units:
// what is accepted, what is refused, and what is skipped and counted.
#include "discovery_messages.hpp"
#include "relay_depths.hpp"

#include <catch2/catch.hpp>

using namespace p2pnet;
using namespace p2pnet::discovery;

namespace {

const std::string kNodeA(64, 'a');
const std::string kNodeB(64, 'b');

}  // namespace

TEST_CASE("discover requests round-trip and bad ones are refused") {
  auto request = parse_request(make_request("r1", 3));
  REQUIRE(request);
  CHECK(request->id == "r1");
  CHECK(request->depth == 3);
  CHECK(parse_request(make_request("r2", -1))->depth == -1);
  CHECK(parse_request(make_request("r3", 0))->depth == 0);  // read, then dropped by the plugin

  CHECK_FALSE(parse_request({{"type", "discover"}, {"depth", 1}}));
  CHECK_FALSE(parse_request({{"type", "discover"}, {"id", ""}, {"depth", 1}}));
  CHECK_FALSE(parse_request({{"type", "discover"}, {"id", 5}, {"depth", 1}}));
  CHECK_FALSE(parse_request({{"type", "discover"}, {"id", std::string(129, 'x')}, {"depth", 1}}));
  CHECK_FALSE(parse_request({{"type", "discover"}, {"id", "r"}, {"depth", "1"}}));
  CHECK_FALSE(parse_request({{"type", "discover"}, {"id", "r"}, {"depth", 1.5}}));
  CHECK_FALSE(parse_request({{"type", "discover"}, {"id", "r"}, {"depth", -2}}));
  CHECK_FALSE(parse_request({{"type", "discover"}, {"id", "r"}, {"depth", 65}}));
  CHECK_FALSE(parse_request({{"type", "discover"}, {"id", "r"}}));
}

TEST_CASE("discover answers round-trip with both lists") {
  auto header = make_answer("r1", {kNodeA, "10.0.0.1", 9001}, {{kNodeB, "10.0.0.2", 9002}}, {});
  CHECK(header["type"] == "discover_answer");
  auto answer = parse_answer(header);
  REQUIRE(answer);
  CHECK(answer->request_id == "r1");
  CHECK(answer->node.id == kNodeA);
  CHECK(answer->node.host == "10.0.0.1");
  CHECK(answer->node.port == 9001);
  REQUIRE(answer->outbound.size() == 1);
  CHECK(answer->outbound[0].id == kNodeB);
  CHECK(answer->outbound[0].port == 9002);
  CHECK(answer->inbound.empty());
  CHECK(answer->invalid_entries == 0);
  CHECK(answer_request_id(header) == std::optional<std::string>("r1"));
}

TEST_CASE("a discover answer names the answering node's relay and lists relayed peers by their relay") {
  const std::string relay_id(64, 'c');
  NodeAddress self{kNodeA, "10.0.0.1", 9001, RelayAddress{relay_id, "192.0.2.1", 7000}};
  NodeAddress relayed{kNodeB, "", 0, RelayAddress{relay_id, "192.0.2.1", 7000}};
  auto header = make_answer("r1", self, {}, {}, {relayed});
  auto answer = parse_answer(header);
  REQUIRE(answer);
  REQUIRE(answer->node.relay);
  CHECK(answer->node.relay->id == relay_id);
  CHECK(answer->node.relay->host == "192.0.2.1");
  CHECK(answer->node.relay->port == 7000);
  REQUIRE(answer->relayed.size() == 1);
  CHECK(answer->relayed[0].id == kNodeB);
  CHECK(answer->relayed[0].host.empty());
  CHECK(answer->relayed[0].relay->id == relay_id);
  CHECK(answer->invalid_entries == 0);
  // Nodes that know no relay find every listed node with an address of its own.
  CHECK_FALSE(header["relayed_nodes"][0].contains("host"));
  CHECK(header["outbound_nodes"].empty());

  // A malformed relay, or one naming the node itself, is left out; the
  // node's own address stands.
  for (auto bad_relay : {nlohmann::json("x"), nlohmann::json{{"id", relay_id}, {"host", "192.0.2.1"}, {"port", 0}},
                         nlohmann::json{{"id", kNodeA}, {"host", "192.0.2.1"}, {"port", 7000}}}) {
    auto bad = header;
    bad["relay"] = bad_relay;
    bad["outbound_nodes"] = {{{"id", kNodeB}, {"host", "10.0.0.2"}, {"port", 9002}, {"relay", {{"port", 1}}}}};
    auto parsed = parse_answer(bad);
    REQUIRE(parsed);
    CHECK(parsed->node.host == "10.0.0.1");
    CHECK_FALSE(parsed->node.relay);
    REQUIRE(parsed->outbound.size() == 1);
    CHECK_FALSE(parsed->outbound[0].relay);
  }
  auto bad_entries = header;
  bad_entries["relayed_nodes"].push_back({{"id", kNodeB}});  // no relay: nothing to reach it by
  bad_entries["relayed_nodes"].push_back({{"id", kNodeB}, {"relay", {{"id", kNodeB}, {"host", "h"}, {"port", 1}}}});
  auto parsed = parse_answer(bad_entries);
  REQUIRE(parsed);
  CHECK(parsed->relayed.size() == 1);
  CHECK(parsed->invalid_entries == 2);
}

TEST_CASE("a discover answer with a bad node is refused and bad list entries are skipped and counted") {
  auto good = make_answer("r1", {kNodeA, "h", 1}, {}, {});
  for (const char* key : {"id", "node_id", "host", "port"}) {
    auto bad = good;
    bad.erase(key);
    CHECK_FALSE(parse_answer(bad));
  }
  auto bad_port = good;
  bad_port["port"] = 0;
  CHECK_FALSE(parse_answer(bad_port));
  auto bad_id = good;
  bad_id["node_id"] = std::string(64, 'A');  // ids are lowercase hex
  CHECK_FALSE(parse_answer(bad_id));
  auto empty_host = good;
  empty_host["host"] = "";
  CHECK_FALSE(parse_answer(empty_host));

  auto mixed = good;
  mixed["outbound_nodes"] = nlohmann::json::array({
      {{"id", kNodeB}, {"host", "h"}, {"port", 2}},
      {{"id", kNodeB}, {"host", "h"}, {"port", 70000}},
      {{"id", "short"}, {"host", "h"}, {"port", 2}},
      {{"id", kNodeB}, {"port", 2}},
      "not an object",
  });
  mixed["inbound_nodes"] = "not a list";
  auto answer = parse_answer(mixed);
  REQUIRE(answer);
  CHECK(answer->outbound.size() == 1);
  CHECK(answer->invalid_entries == 5);

  auto too_long = good;
  too_long["inbound_nodes"] = nlohmann::json::array();
  for (size_t i = 0; i <= kMaxListedNodes; ++i)
    too_long["inbound_nodes"].push_back({{"id", kNodeB}, {"host", "h"}, {"port", 2}});
  answer = parse_answer(too_long);
  REQUIRE(answer);
  CHECK(answer->inbound.empty());
  CHECK(answer->invalid_entries == 1);
}

TEST_CASE("relay depths rise only upwards and are pruned oldest first") {
  RelayDepths depths;
  depths.add("a", 0);
  depths.add("b", 2);
  CHECK_FALSE(depths.raise("a", 0));
  CHECK(depths.raise("a", 1));
  CHECK_FALSE(depths.raise("a", 1));
  CHECK_FALSE(depths.raise("b", 1));
  CHECK_FALSE(depths.raise("unknown", 5));
  depths.prune([](const std::string& id) { return id != "a"; });
  CHECK(depths.size() == 1);
  CHECK(depths.raise("b", 3));
  depths.prune([](const std::string&) { return false; });
  CHECK(depths.size() == 0);
}
