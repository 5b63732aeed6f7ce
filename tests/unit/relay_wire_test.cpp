#include "wire/hello.hpp"
#include "wire/opening.hpp"
#include "wire/relay.hpp"

#include <catch2/catch.hpp>

using namespace p2pnet::wire;

namespace {

const std::string kId(64, 'b');
const std::string kToken(32, 'c');

std::string_view inside(const std::string& line) { return std::string_view(line).substr(1, line.size() - 2); }

}  // namespace

TEST_CASE("a relay opening is told apart from TLS, frames and text at its first byte") {
  auto line = encode_relay_opening({RelayOpening::Kind::connect, kId, ""});
  CHECK(classify_opening(static_cast<std::byte>(line[0])) == Opening::relay);
  CHECK(classify_opening(std::byte{0x16}) == Opening::tls);
  CHECK(classify_opening(std::byte{0x00}) == Opening::frame);
  CHECK(classify_opening(std::byte{'{'}) == Opening::foreign);
  CHECK(line.back() == '\n');
  CHECK(line.size() < kMaxRelayLineBytes);
}

TEST_CASE("relay openings round-trip and anything else is refused") {
  auto connect = parse_relay_opening(inside(encode_relay_opening({RelayOpening::Kind::connect, kId, ""})));
  REQUIRE(connect);
  CHECK(connect->kind == RelayOpening::Kind::connect);
  CHECK(connect->target_id == kId);
  auto accept = parse_relay_opening(inside(encode_relay_opening({RelayOpening::Kind::accept, "", kToken})));
  REQUIRE(accept);
  CHECK(accept->kind == RelayOpening::Kind::accept);
  CHECK(accept->token == kToken);

  CHECK_FALSE(parse_relay_opening(R"({"relay":"connect","to":"nothex"})"));
  CHECK_FALSE(parse_relay_opening(R"({"relay":"connect","to":")" + std::string(64, 'B') + "\"}"));
  CHECK_FALSE(parse_relay_opening(R"({"relay":"accept","token":")" + std::string(31, 'c') + "\"}"));
  CHECK_FALSE(parse_relay_opening(R"({"relay":"listen"})"));
  CHECK_FALSE(parse_relay_opening("[1,2]"));
  CHECK_FALSE(parse_relay_opening(std::string(kMaxRelayLineBytes, ' ')));
}

TEST_CASE("the relay's answer says linked, with where the far end comes from, or why not, clipped") {
  auto linked = parse_relay_answer(inside(" " + encode_relay_answer("", "198.51.100.7")));
  REQUIRE(linked);
  CHECK(linked->linked);
  CHECK(linked->peer_host == "198.51.100.7");
  auto unnamed = parse_relay_answer(inside(" " + encode_relay_answer("")));
  REQUIRE(unnamed);
  CHECK(unnamed->linked);
  CHECK(unnamed->peer_host.empty());
  auto refusal = parse_relay_answer(inside(" " + encode_relay_answer("no reservation here", "198.51.100.7")));
  REQUIRE(refusal);
  CHECK_FALSE(refusal->linked);
  CHECK(refusal->reason == "no reservation here");
  CHECK(refusal->peer_host.empty());
  auto long_reason = parse_relay_answer(inside(" " + encode_relay_answer(std::string(1000, 'x'))));
  REQUIRE(long_reason);
  CHECK(long_reason->reason.size() == kMaxReasonLength);
  CHECK_FALSE(parse_relay_answer(R"({"linked":"yes"})"));
  CHECK_FALSE(parse_relay_answer(R"({"linked":true,"peer_host":"relay.example"})"));  // a name is not an address
}

TEST_CASE("reservation frames round-trip and a bad incoming token is no token") {
  auto granted = parse_relay_reserved(encode_relay_reserved({true, ""}));
  REQUIRE(granted);
  CHECK(granted->granted);
  auto refused = parse_relay_reserved(encode_relay_reserved({false, "full"}));
  REQUIRE(refused);
  CHECK_FALSE(refused->granted);
  CHECK(refused->reason == "full");
  CHECK(parse_relay_incoming(encode_relay_incoming(kToken)) == kToken);
  CHECK_FALSE(parse_relay_incoming(encode_relay_incoming("0123")));
  CHECK_FALSE(parse_relay_incoming(R"({"type":"p2pnet.relay.incoming"})"));
}

TEST_CASE("reversal frames round-trip and a connect-back names a real address and port or nothing") {
  CHECK(parse_relay_reverse(encode_relay_reverse(kId)) == kId);
  CHECK_FALSE(parse_relay_reverse(R"({"type":"p2pnet.relay.reverse","to":"nothex"})"));

  auto passed_on = parse_relay_reversal(encode_relay_reversal({kId, true, ""}));
  REQUIRE(passed_on);
  CHECK(passed_on->passed_on);
  CHECK(passed_on->target_id == kId);
  auto refused = parse_relay_reversal(encode_relay_reversal({kId, false, std::string(1000, 'x')}));
  REQUIRE(refused);
  CHECK_FALSE(refused->passed_on);
  CHECK(refused->reason.size() == kMaxReasonLength);
  CHECK_FALSE(parse_relay_reversal(R"({"to":")" + kId + R"(","passed_on":1})"));

  auto back = parse_relay_connect_back(encode_relay_connect_back({kId, "203.0.113.7", 9000}));
  REQUIRE(back);
  CHECK(back->node_id == kId);
  CHECK(back->host == "203.0.113.7");
  CHECK(back->port == 9000);
  CHECK(parse_relay_connect_back(encode_relay_connect_back({kId, "2001:db8::1", 1}))->host == "2001:db8::1");
  const std::string id = R"({"id":")" + kId + R"(",)";
  CHECK_FALSE(parse_relay_connect_back(id + R"("host":"example.org","port":9000})"));  // names are not dialed
  CHECK_FALSE(parse_relay_connect_back(id + R"("host":"203.0.113.7","port":0})"));
  CHECK_FALSE(parse_relay_connect_back(id + R"("host":"203.0.113.7","port":70000})"));
  CHECK_FALSE(parse_relay_connect_back(id + R"("host":"203.0.113.7","port":-1})"));
  CHECK_FALSE(parse_relay_connect_back(R"({"id":"short","host":"203.0.113.7","port":9000})"));
  CHECK(is_link_control_type(kRelayReverseType));
  CHECK(is_link_control_type(kRelayReversalType));
  CHECK(is_link_control_type(kRelayConnectBackType));
}

TEST_CASE("punch frames are told apart from every other type") {
  CHECK(is_punch_type(kPunchConnectType));
  CHECK(is_punch_type(kPunchSyncType));
  CHECK_FALSE(is_punch_type(kRelayIncomingType));
  CHECK_FALSE(is_link_control_type(kPunchSyncType));
  CHECK(encode_punch(kPunchSyncType) == R"({"type":"p2pnet.punch.sync"})");
}
