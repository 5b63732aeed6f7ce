// What the control endpoint takes from a client, and what it refuses.
#include "control_request.hpp"
#include "control_token.hpp"

#include <catch2/catch.hpp>

using p2pnet::control::parse_request;
using p2pnet::control::Request;

namespace {

std::string refusal_of(std::string_view line) {
  auto parsed = parse_request(line);
  auto* why = std::get_if<std::string>(&parsed);
  return why ? *why : "";
}

}  // namespace

TEST_CASE("a control request is a command or a subscription, with an optional integer id and a token") {
  auto command = std::get<Request>(parse_request(R"({"id": 7, "command": "search holiday", "token": "t"})"));
  CHECK(command.kind == Request::Kind::command);
  CHECK(command.id == 7);
  CHECK(command.command == "search holiday");
  CHECK(command.token == "t");
  auto subscribe = std::get<Request>(parse_request(R"({"subscribe": "events"})"));
  CHECK(subscribe.kind == Request::Kind::subscribe);
  CHECK(subscribe.id == 0);
  CHECK_FALSE(subscribe.token);
}

TEST_CASE("control requests that are not one console command are refused with the reason") {
  CHECK(refusal_of("POST / HTTP/1.1").rfind("expected one JSON object per line", 0) == 0);
  CHECK(refusal_of(R"({"command": 42})").rfind("expected one JSON object per line", 0) == 0);
  CHECK(refusal_of(R"({"command": "peers", "subscribe": "events"})").rfind("expected one JSON", 0) == 0);
  CHECK(refusal_of(R"({"subscribe": "everything"})").rfind("expected one JSON", 0) == 0);
  CHECK(refusal_of(R"({"id": "1", "command": "peers"})") == R"("id" is an integer)");
  CHECK(refusal_of(R"({"command": "peers", "token": 1})") == R"("token" is a string)");
  CHECK(refusal_of(R"({"command": "peers\nstop"})") == "a command holds no control characters (one console line)");
  CHECK(refusal_of(R"({"command": "say \u001b[2J"})") == "a command holds no control characters (one console line)");
  CHECK(refusal_of(R"({"command": "search\tholiday"})").empty());
}

TEST_CASE("control tokens: only the same token matches, and odd ones cannot be configured") {
  std::string token(64, 'a');
  CHECK(p2pnet::control_tokens_equal(token, token));
  CHECK_FALSE(p2pnet::control_tokens_equal(token, std::string(64, 'b')));
  CHECK_FALSE(p2pnet::control_tokens_equal(token, token.substr(1)));
  CHECK_FALSE(p2pnet::control_tokens_equal("", ""));  // an unset token admits nobody
  CHECK(p2pnet::unusable_control_token("short").find("at least 16") != std::string::npos);
  CHECK(p2pnet::unusable_control_token(std::string(257, 'x')).find("at most 256") != std::string::npos);
  CHECK(p2pnet::unusable_control_token(std::string(16, ' ')).find("only letters") != std::string::npos);
  CHECK(p2pnet::unusable_control_token("abcdefgh-_012345").empty());
}
