// The relay between real nodes on loopback: a node that holds a place on a
// relay is reached by id through it, TLS runs end to end (each side proves
// its own key to the other, not the relay's), plugins see a peer whose path
// names the relay, and the relay refuses what its limits and reservations
// do not allow, with counters. The NAT lab (tests/nat/relay_test.sh) runs
// the same behind real NATs with a download.
#include "relay_nodes.hpp"

#include <catch2/catch.hpp>

using namespace p2pnet;
using namespace p2pnet::test;

TEST_CASE("a node is reached by id through the relay that holds its place, as a verified peer") {
  TestNode relay(relay_config()), alice(reserving_config()), bob(circuit_caller_config(false));
  meet_at_relay(relay, alice, bob);
  CHECK(relay.run("nat").contains("relay service: on (1 reservation, 0 circuits)"));

  // Bob has no address for alice: only the relay can reach her.
  auto connect = bob.run("connect " + alice.id());
  REQUIRE(connect.status == 0);
  const std::string via = "relayed via " + relay.id().substr(0, 8);
  CHECK(connect.text() ==
        "connected to " + alice.id() + " at 127.0.0.1:" + std::to_string(relay.port()) + " (" + via + ")\n");
  // Verified: alice's TLS key proved her id to bob, and bob's to her.
  CHECK(bob.run("peers").contains(alice.id() + " 127.0.0.1:" + std::to_string(relay.port()) + " outbound verified " +
                                  via));
  CHECK(wait_until([&] { return alice.run("peers").contains(bob.id()); }));
  CHECK(alice.run("peers").contains(" inbound verified " + via));
  CHECK(bob.run("peers").contains(relay.id() + " 127.0.0.1:" + std::to_string(relay.port()) +
                                  " outbound verified direct"));
  // Plugins get the path through the SDK.
  CHECK(wait_until([&] { return bob.run("probe-log").contains("connected " + alice.id() + " outbound " + via); }));
  CHECK(wait_until([&] { return alice.run("probe-log").contains("connected " + bob.id() + " inbound " + via); }));
  CHECK(relay.event_count("relay_circuits_linked") == 1);
  CHECK(relay.run("nat").contains("relay service: on (1 reservation, 1 circuit)"));
  // The relay is no party to the link: neither end is its peer through it.
  CHECK(relay->peers().size() == 2);

  // Messages with bodies cross the circuit both ways.
  CHECK(bob.run("probe-send " + alice.id() + " hello-alice 100000").status == 0);
  CHECK(alice.run("probe-send " + bob.id() + " hello-bob 7").status == 0);
  CHECK(wait_until([&] {
    return alice.run("probe-log").contains("got probe from " + bob.id() + ": hello-alice (100000 body bytes)");
  }));
  CHECK(wait_until(
      [&] { return bob.run("probe-log").contains("got probe from " + alice.id() + ": hello-bob (7 body bytes)"); }));

  // The relay leaving ends the circuit: both ends see their peer go, as on a direct link.
  relay->stop();
  CHECK(wait_until([&] { return !bob.has_peer(alice.id()) && !alice.has_peer(bob.id()); }));
  CHECK(wait_until([&] { return alice.run("nat").contains("relay: none"); }));
}

TEST_CASE("a relay refuses circuits to nodes without a reservation and beyond its limits, counting each") {
  auto limited = relay_config();
  limited.relay.max_reservations = 1;
  limited.relay.max_circuits = 0;
  TestNode relay(limited), alice(reserving_config()), carol(reserving_config()), bob(circuit_caller_config(false));
  REQUIRE(alice.connect_to(relay) == relay.id());
  REQUIRE(wait_until([&] { return holds_place(alice, relay); }));
  REQUIRE(carol.connect_to(relay) == relay.id());
  REQUIRE(bob.connect_to(relay) == relay.id());
  // One place only: carol is refused and keeps looking.
  CHECK(wait_until([&] { return relay.event_count("relay_reservations_refused") >= 1; }));
  CHECK(carol.run("nat").contains("relay: none (looking for one among the peers)"));

  // Claiming a circuit to someone who holds no place there.
  auto nobody = bob.run("connect " + carol.id());
  CHECK(nobody.status == 1);
  CHECK(nobody.contains("no reservation here for " + carol.id().substr(0, 8)));
  CHECK(relay.event_count("relay_no_reservation") == 1);

  // Alice holds a place, but the relay carries no circuit at all.
  auto full = bob.run("connect " + alice.id());
  CHECK(full.status == 1);
  CHECK(full.contains("the relay carries its maximum of 0 circuits"));
  CHECK(relay.event_count("relay_circuits_refused") == 1);
  CHECK(!bob.has_peer(alice.id()));
}

TEST_CASE("with relay_service = false a node offers no relay and a node without a path says so") {
  auto off = test_config({"probe"});
  off.relay.service = Switch::off;
  TestNode relay(off), alice(reserving_config()), bob({"probe"});
  REQUIRE(alice.connect_to(relay) == relay.id());
  REQUIRE(bob.connect_to(relay) == relay.id());
  CHECK(relay.run("nat").contains("relay service: off (0 reservations, 0 circuits)"));
  CHECK(alice.run("nat").contains("relay: none (looking for one among the peers)"));
  auto connect = bob.run("connect " + alice.id());
  CHECK(connect.status == 1);
  CHECK(connect.contains("no address known for it and no relay among the peers"));
  CHECK(alice.event_count("relay_reservations_asked") == 0);  // the relay's hello offered none
}
