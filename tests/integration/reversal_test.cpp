// Connection reversal between real nodes on loopback: a node that holds a
// place on a relay, asked through it, dials the asking node back, so the
// two get a direct link and the relay carries no byte of it. The relay
// passes requests on only to nodes it holds places for; the node dials back
// only at its own relay's word; an
// asking node the far end does not dial back falls back to a circuit.
#include "relay_nodes.hpp"
#include "tls_peer.hpp"
#include "wire/relay.hpp"

#include <catch2/catch.hpp>

using namespace p2pnet;
using namespace p2pnet::test;

TEST_CASE("a node with a place on a relay dials back the node that asked through it: a direct link") {
  TestNode relay(relay_config()), alice(reserving_config()), bob({"probe"});
  meet_at_relay(relay, alice, bob);

  auto connect = bob.run("connect " + alice.id());
  REQUIRE(connect.status == 0);
  CHECK(connect.text() == "connected to " + alice.id() + " at " + loopback_address_of(alice) + " (direct)\n");
  // Alice dialed: bob's link to her is inbound, and no circuit exists.
  CHECK(bob.run("peers").contains(alice.id() + " " + loopback_address_of(alice) + " inbound verified direct"));
  CHECK(wait_until([&] {
    return alice.run("peers").contains(bob.id() + " " + loopback_address_of(bob) + " outbound verified direct");
  }));
  CHECK(relay.event_count("relay_reversals_passed_on") == 1);
  CHECK(relay.event_count("relay_circuits_linked") == 0);
  CHECK(wait_until([&] { return alice.event_count("reversal_dials_connected") == 1; }));
  // Plugins see a peer with no relay on its path.
  CHECK(wait_until([&] { return bob.run("probe-log").contains("connected " + alice.id() + " inbound"); }));
  CHECK_FALSE(bob.run("probe-log").contains("relayed via"));

  // The link carries messages like any other.
  CHECK(bob.run("probe-send " + alice.id() + " over-the-reversed-link 1000").status == 0);
  CHECK(wait_until([&] {
    return alice.run("probe-log").contains("got probe from " + bob.id() + ": over-the-reversed-link (1000 body bytes)");
  }));
}

TEST_CASE("a relay passes a reversal on only to nodes it holds a place for") {
  TestNode relay(relay_config()), carol({"probe"}), bob({"probe"});
  REQUIRE(carol.connect_to(relay) == relay.id());
  REQUIRE(bob.connect_to(relay) == relay.id());
  // Carol holds no place: the relay says so at once, and the circuit that
  // bob tries next is refused for the same reason.
  auto connect = bob.run("connect " + carol.id());
  CHECK(connect.status == 1);
  CHECK(connect.contains("no reservation here for " + carol.id().substr(0, 8)));
  CHECK(relay.event_count("relay_reversals_refused") == 1);
  CHECK(relay.event_count("relay_reversals_passed_on") == 0);
  CHECK(carol.event_count("reversal_dials_tried") == 0);
  CHECK(bob.event_count("reversals_failed") == 1);
}

TEST_CASE("a node that does not dial back leaves the asking node a circuit through the relay") {
  auto no_reversal = reserving_config();
  no_reversal.relay.reversal = false;
  auto impatient = test_config({"probe"});
  impatient.handshake_timeout = std::chrono::milliseconds(1000);  // the wait for a dial-back is twice that
  impatient.relay.punching = false;                               // the circuit stays
  TestNode relay(relay_config()), alice(no_reversal), bob(impatient);
  meet_at_relay(relay, alice, bob);
  auto connect = bob.run("connect " + alice.id());
  REQUIRE(connect.status == 0);
  CHECK(connect.contains("(relayed via " + relay.id().substr(0, 8) + ")"));
  CHECK(relay.event_count("relay_reversals_passed_on") == 1);
  CHECK(alice.event_count("reversal_requests_ignored") == 1);
  CHECK(bob.event_count("reversals_failed") == 1);
}

TEST_CASE("a node dials back only at the word of the relay holding its place") {
  TestNode relay(relay_config()), alice(reserving_config()), victim({"probe"});
  REQUIRE(alice.connect_to(relay) == relay.id());
  REQUIRE(wait_until([&] { return holds_place(alice, relay); }));
  // A peer that holds no place for alice tells her to dial the victim.
  TlsPeer stranger(alice.port());
  REQUIRE(stranger.send_json(hello_json(stranger.key_id())));
  REQUIRE(stranger.read_frame_within(std::chrono::seconds(10)));
  REQUIRE(stranger.send_frame({wire::encode_relay_connect_back({victim.id(), "127.0.0.1", victim.port()}), ""}));
  CHECK(wait_until([&] { return alice.event_count("reversal_unexpected_requests") == 1; }));
  CHECK(alice.event_count("reversal_dials_tried") == 0);
  CHECK_FALSE(alice.has_peer(victim.id()));
}
