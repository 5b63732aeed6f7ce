#include "wire/hello.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace p2pnet::wire;
using nlohmann::json;

namespace {

const std::string kId(64, 'a');

json valid_hello() {
  return {{"type", "hello"},           {"protocol", 1}, {"id", kId},           {"port", 9000},
          {"types", {"ping", "pong"}}, {"agent", "t"},  {"max_header", 65536}, {"max_body", 1048576}};
}

}  // namespace

TEST_CASE("hello round-trips") {
  Hello hello{kProtocolVersion, kId, 4242, {"ping", "discover"}, "p2pnet/test", 70000, 123456, "ab12", "", 0, true,
              {"dialback"}};
  auto parsed = parse_hello(encode_hello(hello));
  REQUIRE(parsed.hello);
  CHECK(parsed.hello->id == kId);
  CHECK(parsed.hello->port == 4242);
  CHECK(parsed.hello->types == std::vector<std::string>{"ping", "discover"});
  CHECK(parsed.hello->max_header_bytes == 70000);
  CHECK(parsed.hello->max_body_bytes == 123456);
  CHECK(parsed.hello->network_proof == "ab12");
  CHECK(parsed.hello->dialback);
  CHECK(parsed.hello->has_feature("dialback"));
}

TEST_CASE("a hello with features that are not a short list of names is refused") {
  auto hello = valid_hello();
  hello["features"] = "dialback";
  CHECK_FALSE(parse_hello(hello.dump()).hello);
  hello["features"] = nlohmann::json::array({std::string(33, 'f')});
  CHECK_FALSE(parse_hello(hello.dump()).hello);
  hello["features"] = std::vector<std::string>(17, "x");
  CHECK_FALSE(parse_hello(hello.dump()).hello);
  hello["features"] = {"dialback", "a-later-one"};
  REQUIRE(parse_hello(hello.dump()).hello);
  CHECK(parse_hello(hello.dump()).hello->has_feature("dialback"));
}

TEST_CASE("a long agent is cut on a character boundary - so the hello encodes again") {
  auto hello = valid_hello();
  hello["agent"] = std::string(63, 'B') + "\u033d" + "tail";  // a 2-byte character across byte 64
  auto parsed = parse_hello(hello.dump());
  REQUIRE(parsed.hello);
  CHECK(parsed.hello->agent == std::string(63, 'B'));
  CHECK_NOTHROW(encode_hello(*parsed.hello));
}

TEST_CASE("a hello with a missing or wrong field names the field") {
  auto check_error = [](json hello, const std::string& expected) {
    auto parsed = parse_hello(hello.dump());
    CHECK_FALSE(parsed.hello);
    CHECK(parsed.error.find(expected) != std::string::npos);
  };
  auto h = valid_hello();
  h["id"] = "ABC";
  check_error(h, "id");
  h = valid_hello();
  h["id"] = std::string(64, 'G');
  check_error(h, "id");
  h = valid_hello();
  h["port"] = 70000;
  check_error(h, "port");
  h = valid_hello();
  h.erase("protocol");
  check_error(h, "protocol");
  h = valid_hello();
  h["types"] = json::array({"ok", 5});
  check_error(h, "types");
  h = valid_hello();
  h["types"] = json::array();
  for (int i = 0; i < 300; ++i) h["types"].push_back("t" + std::to_string(i));
  check_error(h, "types");
  h = valid_hello();
  h["type"] = "ping";
  check_error(h, "not a hello");
  h = valid_hello();
  h.erase("max_body");
  check_error(h, "max_body");
}

TEST_CASE("another protocol version parses - so the node can answer with a clear reason") {
  auto h = valid_hello();
  h["protocol"] = 2;
  auto parsed = parse_hello(h.dump());
  REQUIRE(parsed.hello);
  CHECK(parsed.hello->protocol == 2);
}

TEST_CASE("a bye reason is bounded and printable") {
  CHECK(parse_bye_reason(encode_bye("node is full")) == "node is full");
  CHECK(parse_bye_reason(R"({"type":"bye"})") == "no reason given");
  auto reason = parse_bye_reason(json{{"type", "bye"}, {"reason", std::string(1000, 'x') + "\x1b[2J"}}.dump());
  CHECK(reason.size() == kMaxReasonLength);
  CHECK(parse_bye_reason(json{{"type", "bye"}, {"reason", "a\nb"}}.dump()) == "a?b");
}

TEST_CASE("a hello says where it sees the other side coming from - optional, and checked when present") {
  Hello hello{kProtocolVersion, kId, 4242, {"ping"}, "p2pnet/test", 70000, 123456, "", "203.0.113.7", 40123, false, {}};
  auto parsed = parse_hello(encode_hello(hello));
  REQUIRE(parsed.hello);
  CHECK(parsed.hello->observed_host == "203.0.113.7");
  CHECK(parsed.hello->observed_port == 40123);

  auto older = parse_hello(valid_hello().dump());  // nodes before it say nothing
  REQUIRE(older.hello);
  CHECK(older.hello->observed_host.empty());

  const std::string expected = "hello observed is not {host: numeric address, port: 0 to 65535}";
  for (json observed : {json("203.0.113.7:1"), json{{"host", "example.com"}, {"port", 1}},
                        json{{"host", "203.0.113.7"}, {"port", 70000}}, json{{"host", "203.0.113.7"}},
                        json{{"host", std::string(100, '1')}, {"port", 1}}, json{{"host", 7}, {"port", 1}}}) {
    auto j = valid_hello();
    j["observed"] = observed;
    INFO(observed.dump());
    CHECK(parse_hello(j.dump()).error == expected);
  }
}
