// How a node decides from its peers' dial-backs whether the internet can
// reach it, and why one source cannot make it claim so.
#include "reachability.hpp"
#include "dialback_budget.hpp"
#include "wire/hello.hpp"

#include <catch2/catch.hpp>

using p2pnet::DialbackBudget;
using p2pnet::Reachability;

TEST_CASE("public takes peers of two networks that reached the node, and one network cannot claim it") {
  Reachability reach;
  CHECK(reach.summary().status == Reachability::Status::unknown);
  CHECK(reach.vote("192.0.2.10", true));
  CHECK(reach.vote("192.0.2.77", true));  // the same /24: one voice
  CHECK(reach.summary().reached == 1);
  CHECK(reach.summary().status == Reachability::Status::unknown);
  CHECK(reach.vote("198.51.100.10", true));
  CHECK(reach.summary().status == Reachability::Status::reachable);
  CHECK(std::string(p2pnet::reachability_name(reach.summary().status)) == "public");
}

TEST_CASE("private when more networks could not reach the node than could") {
  Reachability reach;
  reach.vote("192.0.2.10", false);
  CHECK(reach.summary().status == Reachability::Status::unreachable);
  CHECK(std::string(p2pnet::reachability_name(reach.summary().status)) == "private");
  // One network that says otherwise makes it a tie: unknown until more answer.
  reach.vote("198.51.100.10", true);
  CHECK(reach.summary().status == Reachability::Status::unknown);
  reach.vote("203.0.113.50", false);
  CHECK(reach.summary().status == Reachability::Status::unreachable);
}

TEST_CASE("peers on loopback or private networks have no vote") {
  Reachability reach;
  CHECK_FALSE(reach.vote("127.0.0.1", true));
  CHECK_FALSE(reach.vote("10.0.1.2", true));
  CHECK_FALSE(reach.vote("192.168.1.20", false));
  CHECK(reach.summary().reached + reach.summary().not_reached == 0);
}

TEST_CASE("a node dials back a peer at most once a minute and four at a time") {
  DialbackBudget budget;
  auto now = DialbackBudget::Clock::now();
  CHECK(budget.take("a", now).empty());
  CHECK(budget.take("a", now + std::chrono::seconds(30)) == "asked less than a minute ago");
  CHECK(budget.take("b", now).empty());
  CHECK(budget.take("c", now).empty());
  CHECK(budget.take("d", now).empty());
  CHECK(budget.take("e", now) == "busy with other dial-backs");
  budget.finished();
  CHECK(budget.take("e", now).empty());
  for (int i = 0; i < 4; ++i) budget.finished();
  CHECK(budget.take("a", now + std::chrono::seconds(61)).empty());
}

TEST_CASE("dial-back results are read back as written and anything else is refused") {
  using p2pnet::wire::DialbackResult;
  auto parsed = p2pnet::wire::parse_dialback_result(p2pnet::wire::encode_dialback_result({false, false, "timed out"}));
  REQUIRE(parsed);
  CHECK_FALSE(parsed->reached);
  CHECK_FALSE(parsed->refused);
  CHECK(parsed->reason == "timed out");
  CHECK(p2pnet::wire::parse_dialback_result(p2pnet::wire::encode_dialback_result({true, false, ""}))->reached);
  CHECK_FALSE(p2pnet::wire::parse_dialback_result(R"({"type":"p2pnet.dialback.result"})"));
  CHECK_FALSE(p2pnet::wire::parse_dialback_result(R"({"type":"p2pnet.dialback.result","reached":"yes"})"));
  CHECK_FALSE(p2pnet::wire::parse_dialback_result("[]"));
}
