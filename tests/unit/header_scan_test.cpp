#include "wire/header_scan.hpp"

#include <catch2/catch.hpp>

#include <string>

using p2pnet::wire::scan_header;

TEST_CASE("a JSON object with a string type passes and yields the type") {
  auto scan = scan_header(R"({"id":"x","type":"search","nested":{"type":5},"list":[1,{"a":[]}]})");
  REQUIRE(scan.ok);
  CHECK(scan.type == "search");
}

TEST_CASE("headers that are not a JSON object with a string type are rejected") {
  const char* bad[] = {
      R"([{"type":"x"}])",             // array
      R"("type")",                     // string
      "42",                            // number
      R"({"kind":"x"})",               // no type
      R"({"type":7})",                 // type not a string
      R"({"type":{"x":1}})",           // type an object
      R"({"type":["x"]})",             // type an array
      R"({"a":{"type":"x"}})",         // type only nested
      R"({"type":"x")",                // truncated
      R"({"type":"x"} trailing)",      // trailing garbage
      R"({"type":"x","type":"y"})",    // two types: routing and plugin might disagree
      R"({"type":""})",                // empty type
      R"({"type":"has space"})",       // not a type name
      "{\"type\":\"x\",\"s\":\"\xff\"}",  // invalid UTF-8
      "",
  };
  for (const char* header : bad) {
    INFO(header);
    auto scan = scan_header(header);
    CHECK_FALSE(scan.ok);
    CHECK_FALSE(scan.error.empty());
  }
}

TEST_CASE("headers nested deeper than the limit are rejected") {
  std::string deep = R"({"type":"x","a":)";
  for (int i = 0; i < 100000; ++i) deep += "[";
  for (int i = 0; i < 100000; ++i) deep += "]";
  deep += "}";
  auto scan = scan_header(deep);
  CHECK_FALSE(scan.ok);
  CHECK(scan.error == "header nested too deeply");

  std::string fine = R"({"type":"x","a":)";
  for (int i = 0; i < p2pnet::wire::kMaxHeaderDepth - 1; ++i) fine += "[";
  for (int i = 0; i < p2pnet::wire::kMaxHeaderDepth - 1; ++i) fine += "]";
  fine += "}";
  CHECK(scan_header(fine).ok);
}

TEST_CASE("type names are bounded") {
  CHECK(p2pnet::wire::is_valid_type_name("discover_answer"));
  CHECK(p2pnet::wire::is_valid_type_name("chat.v2:msg-1"));
  CHECK_FALSE(p2pnet::wire::is_valid_type_name(std::string(65, 'a')));
  CHECK_FALSE(p2pnet::wire::is_valid_type_name("a/b"));
}
