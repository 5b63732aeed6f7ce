// The reachability check between real nodes on loopback: each asks the other
// to dial it back; the probe proves the listen port and never becomes a
// second connection (the duplicate rule never sees it). Votes from loopback
// peers do not count, so `nat` still says unknown.
#include "test_node.hpp"

#include <catch2/catch.hpp>

using namespace p2pnet;
using namespace p2pnet::test;

TEST_CASE("peers dial each other back to check reachability and the probe never becomes a peer") {
  TestNode a, b;
  REQUIRE(a.connect_to(b) == b.id());
  // The answering side counts after its hello went out, so it may count
  // after the dialer already saw that hello: wait for both.
  CHECK(wait_until([&] {
    return a.event_count("dialbacks_reached") == 1 && b.event_count("dialbacks_reached") == 1 &&
           a.event_count("dialbacks_answered") == 1 && b.event_count("dialbacks_answered") == 1;
  }));
  CHECK(a.event_count("duplicate_connections") == 0);
  CHECK(b.event_count("duplicate_connections") == 0);
  CHECK(a->peers().size() == 1);
  CHECK(b->peers().size() == 1);
  auto nat = a.run("nat");
  CHECK(nat.status == 0);
  CHECK(nat.lines.at(0) == "reachability: unknown (no peer on the internet has dialed back yet)");
  CHECK(nat.contains("relay: none"));
}

TEST_CASE("a peer that asks again within a minute is refused and the node keeps serving") {
  TestNode a, b;
  REQUIRE(a.connect_to(b) == b.id());
  CHECK(wait_until([&] { return b.event_count("dialbacks_reached") == 1; }));
  // A new connection asks again within the minute: refused, no dial.
  a->disconnect(b.id());
  REQUIRE(a.connect_to(b) == b.id());
  CHECK(wait_until([&] { return b.event_count("dialbacks_refused") == 1; }));
  CHECK(b.event_count("dialbacks_tried") == 1);
  CHECK(b.run("peers").contains("1 peer"));
}

TEST_CASE("with reachability_check = false a node neither asks nor dials back nor is asked") {
  auto quiet = test_config({"probe"});
  quiet.reachability_check = false;
  TestNode a(quiet), b({"probe"});
  REQUIRE(a.connect_to(b) == b.id());
  // Each node asks before its plugins hear of the peer: once both probes saw
  // the connection, any request would have been sent.
  CHECK(wait_until([&] {
    return a.run("probe-log").contains("connected " + b.id()) && b.run("probe-log").contains("connected " + a.id());
  }));
  CHECK(a.event_count("dialbacks_asked") == 0);
  CHECK(b.event_count("dialbacks_asked") == 0);  // a's hello does not offer it
  CHECK(a.event_count("dialbacks_tried") + b.event_count("dialbacks_tried") == 0);

  // The same pair with the check on asks both ways: the assertions above can fail.
  TestNode c({"probe"}), d({"probe"});
  REQUIRE(c.connect_to(d) == d.id());
  CHECK(wait_until([&] {
    return c.run("probe-log").contains("connected " + d.id()) && d.run("probe-log").contains("connected " + c.id());
  }));
  CHECK(c.event_count("dialbacks_asked") == 1);
  CHECK(d.event_count("dialbacks_asked") == 1);
}
