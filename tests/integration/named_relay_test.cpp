// A node behind a router names the relay holding its place in what it
// answers (discovery, search), and its peers list it by that relay, so a
// node that has no relay in common with it still reaches it by id: it links
// to the named relay first, then reverses, punches or opens a circuit there.
#include "download_support.hpp"
#include "relay_nodes.hpp"

using namespace p2pnet;
using namespace p2pnet::test;
using namespace p2pnet::test::download_tests;

namespace {

NodeConfig with_discovery(NodeConfig config) {
  config.plugins.push_back(plugin("discovery"));
  return config;
}

std::string relayed_via(TestNode& relay) { return "relayed via " + relay.id().substr(0, 8); }

}  // namespace

TEST_CASE("a discovery answer names a node's relay, and a node with no relay in common reaches it by id there") {
  TestNode relay(relay_config()), alice(with_discovery(reserving_config()));
  TestNode carol(with_discovery(circuit_caller_config(false))), dave(with_discovery(circuit_caller_config(false)));
  meet_at_relay(relay, alice, carol);
  REQUIRE(carol.run("connect " + alice.id()).contains("(" + relayed_via(relay) + ")"));
  REQUIRE(dave.connect_to(carol) == carol.id());

  auto found = dave.run("discover -1", std::chrono::seconds(60));
  REQUIRE(found.contains("found " + alice.id()));  // her answer came back through carol and the circuit
  CHECK(counter(dave, "discovery.relays_learned") >= 1);
  REQUIRE_FALSE(dave.has_peer(relay.id()));

  auto connect = dave.run("connect " + alice.id());
  INFO(connect.text());
  REQUIRE(connect.status == 0);
  CHECK(connect.text() ==
        "connected to " + alice.id() + " at " + loopback_address_of(relay) + " (" + relayed_via(relay) + ")\n");
  CHECK(dave.has_peer(relay.id()));  // the named relay, linked first
  CHECK(dave.event_count("named_relays_linked") == 1);
  CHECK(relay.event_count("relay_circuits_linked") == 2);  // carol's and dave's
}

TEST_CASE("a discovery answer lists a peer linked through a relay by that relay, never by the relay's host") {
  TestNode relay(relay_config()), alice(with_discovery(reserving_config()));
  TestNode carol(with_discovery(circuit_caller_config(false))), dave(with_discovery(test_config()));
  meet_at_relay(relay, alice, carol);
  REQUIRE(carol.run("connect " + alice.id()).contains("(" + relayed_via(relay) + ")"));
  REQUIRE(dave.connect_to(carol) == carol.id());
  // Depth 1: only carol answers, so all dave hears of alice is carol's list.
  REQUIRE(dave.run("discover 1", std::chrono::seconds(60)).contains("found " + carol.id()));
  CHECK(counter(dave, "discovery.relays_learned") == 1);
  CHECK(counter(dave, "discovery.invalid_entries") == 0);
  // No address for her: the relay's host with her port would be nobody's.
  auto nodes = dave.run("nodes");
  CHECK(nodes.contains(relay.id()));
  CHECK_FALSE(nodes.contains(alice.id()));
}

TEST_CASE("a named relay that cannot prove its id is tried once and forgotten") {
  TestNode alice({"probe"}), dave({"probe"}), impostor({"probe"});
  // A peer says alice is behind a relay whose address is really the impostor's.
  const std::string fake_relay(64, 'f');
  REQUIRE(dave.run("probe-remember-relay " + alice.id() + " " + fake_relay + " 127.0.0.1 " +
                   std::to_string(impostor.port()))
              .status == 0);
  // A node is not its own relay, and a relay must have an address a dial may reach.
  CHECK(dave.run("probe-remember-relay " + alice.id() + " " + alice.id() + " 127.0.0.1 1").status == 1);
  CHECK(dave.run("probe-remember-relay " + alice.id() + " " + fake_relay + " 0.0.0.0 1").status == 1);

  auto connect = dave.run("connect " + alice.id());
  INFO(connect.text());
  CHECK(connect.status == 1);
  CHECK(connect.contains("its relay: "));
  CHECK(dave.event_count("named_relays_failed") == 1);
  CHECK_FALSE(dave.has_peer(impostor.id()));  // it proved its own id, not the relay's

  // Forgotten: the next dial does not go there again.
  CHECK(dave.run("connect " + alice.id()).status == 1);
  CHECK(dave.event_count("named_relays_failed") == 1);
}

TEST_CASE("a search answer names the source's relay, and the download reaches the source by reversal there") {
  TempDir shared("shared"), downloads("downloads");
  const size_t size = 2 * 1024 * 1024 + 777;
  auto sha = write_random_file(shared / "behind.bin", size, 11);
  auto alice_config = file_node(shared.path());
  alice_config.relay.use_relays = Switch::on;
  TestNode relay(relay_config()), alice(alice_config), carol(file_node({}));
  TestNode dave(file_node({}, {{"download_dir", downloads.path().string()}}));
  REQUIRE(alice.connect_to(relay) == relay.id());
  REQUIRE(wait_until([&] { return holds_place(alice, relay); }));
  REQUIRE(carol.connect_to(alice) == alice.id());
  REQUIRE(dave.connect_to(carol) == carol.id());

  auto result = search_until(dave, "behind.bin", 1);
  REQUIRE(result);
  CHECK(counter(dave, "search.relays_learned") >= 1);
  auto download = dave.run("download --wait " + std::to_string(result->index), kDownloadTimeout);
  INFO(download.text());
  CHECK(download.status == 0);
  CHECK(last_line(download) == saved_line(downloads / "behind.bin", size));
  CHECK(sha256_hex(read_file(downloads / "behind.bin")) == sha);
  // Dave linked to the relay alice named and asked for a reversal there:
  // alice dialed him, so the file came over a direct link.
  CHECK(dave.event_count("named_relays_linked") == 1);
  CHECK(relay.event_count("relay_reversals_passed_on") == 1);
  CHECK(relay.event_count("relay_circuits_linked") == 0);
  CHECK(dave.run("peers").contains(alice.id() + " " + loopback_address_of(alice) + " inbound verified direct"));
}
