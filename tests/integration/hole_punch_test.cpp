// Hole punching between real nodes on loopback: over a circuit one of them
// opened, both dial each other from their listen ports, and the direct link
// replaces the relayed one, as a plain peer to every plugin. Loopback has no
// NAT, so the opener's SYN reaches the other's listener: the exchange, the
// roles and the replacement are what this proves; the NAT lab
// (tests/nat/hole_punch_test.sh) proves the punch through two NATs.
#include "relay_nodes.hpp"
#include "tls_peer.hpp"
#include "wire/relay.hpp"

#include <catch2/catch.hpp>

using namespace p2pnet;
using namespace p2pnet::test;

namespace {

bool has_line(const std::string& text, const std::string& line) {
  return ("\n" + text + "\n").find("\n" + line + "\n") != std::string::npos;
}

}  // namespace

TEST_CASE("hole punching replaces a relayed link by a direct one that plugins see as a plain peer") {
  TestNode relay(relay_config()), alice(reserving_config()), bob(circuit_caller_config(true));
  meet_at_relay(relay, alice, bob);

  // `connect` answers once the punch ran its course: the link is direct.
  auto connect = bob.run("connect " + alice.id());
  INFO(connect.text());
  REQUIRE(connect.status == 0);
  CHECK(connect.text() == "connected to " + alice.id() + " at " + loopback_address_of(alice) + " (direct)\n");
  CHECK(bob.run("peers").contains(alice.id() + " " + loopback_address_of(alice) + " outbound verified direct"));
  CHECK(wait_until([&] {
    return alice.run("peers").contains(bob.id() + " " + loopback_address_of(bob) + " inbound verified direct");
  }));
  CHECK(bob.event_count("punches_succeeded") == 1);
  CHECK(relay.event_count("relay_circuits_linked") == 1);
  // The circuit it replaced is gone from the relay.
  CHECK(wait_until([&] { return relay.run("nat").contains("relay service: on (1 reservation, 0 circuits)"); }));
  // Plugins saw the relayed peer go and the direct one come.
  CHECK(wait_until([&] {
    auto log = bob.run("probe-log").text();
    return has_line(log, "connected " + alice.id() + " outbound relayed via " + relay.id()) &&
           log.find("disconnected " + alice.id()) != std::string::npos &&
           has_line(log, "connected " + alice.id() + " outbound");
  }));
  CHECK(bob.run("probe-send " + alice.id() + " over-the-punched-link 500").status == 0);
  CHECK(wait_until([&] {
    return alice.run("probe-log").contains("got probe from " + bob.id() + ": over-the-punched-link (500 body bytes)");
  }));
}

TEST_CASE("with hole_punching = false on either end the relayed link stays") {
  auto no_punch = reserving_config();
  no_punch.relay.punching = false;
  TestNode relay(relay_config()), alice(no_punch), bob(circuit_caller_config(true));
  meet_at_relay(relay, alice, bob);
  auto connect = bob.run("connect " + alice.id());
  REQUIRE(connect.status == 0);
  CHECK(connect.contains("(relayed via " + relay.id().substr(0, 8) + ")"));
  CHECK(bob.event_count("punches_started") == 0);  // alice's hello offers no punching
}

TEST_CASE("punch frames on a direct link are dropped, and an unasked answer starts no dial") {
  TestNode alice({"probe"});
  TlsPeer stranger(alice.port());
  REQUIRE(stranger.send_json(hello_json(stranger.key_id(), 1, {}, 9)));
  REQUIRE(stranger.read_frame_within(std::chrono::seconds(10)));
  REQUIRE(stranger.send_frame({wire::encode_punch(wire::kPunchConnectType), ""}));
  REQUIRE(stranger.send_frame({wire::encode_punch(wire::kPunchSyncType), ""}));
  CHECK(wait_until([&] { return alice.event_count("punch_frames_off_relay") == 2; }));
  CHECK(alice.event_count("punch_dials") == 0);
}
