// The webui plugin's checks of who may use it (plugins/webui/webui_access.hpp).
#include "webui_access.hpp"
#include "webui_routes.hpp"
#include "webui_token.hpp"

#include <catch2/catch.hpp>

#include "temp_dir.hpp"

#include <sys/stat.h>

#include <fstream>

using namespace webui;

TEST_CASE("webui listens on loopback only", "[webui]") {
  CHECK(unusable_listen_address("127.0.0.1:7102").empty());
  CHECK(unusable_listen_address("127.1.2.3:0").empty());
  CHECK(unusable_listen_address("[::1]:7102").empty());
  CHECK(unusable_listen_address("0.0.0.0:7102").find("must be a loopback address") != std::string::npos);
  CHECK(unusable_listen_address("192.168.1.2:7102").find("loopback") != std::string::npos);
  CHECK(unusable_listen_address("[::]:7102").find("loopback") != std::string::npos);
  CHECK(unusable_listen_address("localhost:7102").find("loopback") != std::string::npos);
  CHECK(unusable_listen_address("127.0.0.1.evil.com:80").find("loopback") != std::string::npos);
  CHECK(unusable_listen_address("127.0.0.256:80").find("loopback") != std::string::npos);
  CHECK(unusable_listen_address("127.0.0.1").find("expected HOST:PORT") != std::string::npos);
  CHECK(unusable_listen_address("127.0.0.1:65536").find("expected HOST:PORT") != std::string::npos);
  CHECK(unusable_listen_address("127.0.0.1:80x").find("expected HOST:PORT") != std::string::npos);
}

TEST_CASE("webui accepts only its own Host and Origin", "[webui]") {
  ListenAddress listen{"127.0.0.1", 7102};
  CHECK(host_allowed("127.0.0.1:7102", listen));
  CHECK(host_allowed("LOCALHOST:7102", listen));
  CHECK_FALSE(host_allowed("127.0.0.1", listen));
  CHECK_FALSE(host_allowed("127.0.0.1:7103", listen));
  CHECK_FALSE(host_allowed("attacker.example:7102", listen));
  CHECK_FALSE(host_allowed("", listen));
  CHECK(origin_allowed("", listen));
  CHECK(origin_allowed("http://127.0.0.1:7102", listen));
  CHECK(origin_allowed("http://localhost:7102", listen));
  CHECK_FALSE(origin_allowed("null", listen));
  CHECK_FALSE(origin_allowed("https://127.0.0.1:7102", listen));
  CHECK_FALSE(origin_allowed("http://attacker.example", listen));
  CHECK_FALSE(origin_allowed("http://127.0.0.1:7102.attacker.example", listen));
  ListenAddress v6{"::1", 80};
  CHECK(host_allowed("[::1]:80", v6));
  CHECK(host_allowed("[::1]", v6));
  CHECK(origin_allowed("http://[::1]", v6));
}

TEST_CASE("webui tokens compare whole and are read from a header or the query", "[webui]") {
  CHECK(tokens_equal("abcdefghijklmnop", "abcdefghijklmnop"));
  CHECK_FALSE(tokens_equal("abcdefghijklmnop", "abcdefghijklmno"));
  CHECK_FALSE(tokens_equal("abcdefghijklmnop", "abcdefghijklmnopabcdefghijklmnop"));
  CHECK_FALSE(tokens_equal("abcdefghijklmnop", ""));
  CHECK_FALSE(tokens_equal("", ""));
  CHECK(bearer_token("Bearer abc") == "abc");
  CHECK(bearer_token("bearer abc") == "abc");
  CHECK(bearer_token("Basic abc").empty());
  CHECK(bearer_token("Bearer ").empty());
  CHECK(query_value("/api/events?token=abc&x=1", "token") == "abc");
  CHECK(query_value("/api/events?x=1&token=abc", "token") == "abc");
  CHECK(query_value("/api/events?tokens=abc", "token").empty());
  CHECK(query_value("/api/events", "token").empty());
  CHECK(target_path("/api/events?token=abc") == "/api/events");
}

TEST_CASE("webui keeps its generated token private and refuses a shared one", "[webui]") {
  p2pnet::test::TempDir dir;
  auto file = dir.path() / "webui.token";
  std::string token = load_or_create_token(file);
  CHECK(token.size() == 64);
  CHECK(unusable_token(token).empty());
  struct stat info {};
  REQUIRE(::stat(file.c_str(), &info) == 0);
  CHECK((info.st_mode & 0777) == 0600);
  CHECK(load_or_create_token(file) == token);
  ::chmod(file.c_str(), 0644);
  CHECK_THROWS_WITH(load_or_create_token(file), Catch::Contains("readable by other users"));
  ::chmod(file.c_str(), 0600);
  std::ofstream(file) << "short\n";
  CHECK_THROWS_WITH(load_or_create_token(file), Catch::Contains("at least 16 characters"));
  CHECK(unusable_token("has space in it here").find("only letters") != std::string::npos);
}

TEST_CASE("webui routes a request only past Host, Origin and token", "[webui]") {
  AccessRules rules{{"127.0.0.1", 7102}, "0123456789abcdef0123", "the data dir"};
  auto route = [&](std::string method, std::string target, std::string host, std::string origin, std::string auth,
                   std::string body = "") {
    return route_request({method, target, host, origin, auth, body}, rules);
  };
  auto answer = [](const Route& r) { return std::get<Answer>(r); };
  const std::string good = "Bearer 0123456789abcdef0123";

  auto command = route("POST", "/api/command", "127.0.0.1:7102", "http://127.0.0.1:7102", good,
                       R"({"command": "search holiday"})");
  REQUIRE(std::holds_alternative<RunCommand>(command));
  CHECK(std::get<RunCommand>(command).line == "search holiday");
  CHECK(std::holds_alternative<ListPeers>(route("GET", "/api/peers", "localhost:7102", "", good)));
  CHECK(answer(route("GET", "/", "127.0.0.1:7102", "", "")).response.status == 200);
  CHECK(answer(route("GET", "/app.js", "127.0.0.1:7102", "", "")).response.content_type.find("javascript") !=
        std::string::npos);

  auto rebound = answer(route("GET", "/", "attacker.example:7102", "", ""));
  CHECK(rebound.response.status == 403);
  CHECK(rebound.counter == "host_refused");
  auto foreign = answer(route("POST", "/api/command", "127.0.0.1:7102", "http://attacker.example", good, "{}"));
  CHECK(foreign.response.status == 403);
  CHECK(foreign.counter == "origin_refused");
  auto missing = answer(route("GET", "/api/peers", "127.0.0.1:7102", "", ""));
  CHECK(missing.response.status == 401);
  CHECK(missing.counter == "token_refused");
  CHECK(missing.response.body.find("missing token") != std::string::npos);
  auto wrong = answer(route("GET", "/api/peers", "127.0.0.1:7102", "", "Bearer 0123456789abcdef0124"));
  CHECK(wrong.response.body == R"({"error":"wrong token"})");

  CHECK(answer(route("POST", "/api/command", "127.0.0.1:7102", "", good, "not json")).response.status == 400);
  CHECK(answer(route("POST", "/api/command", "127.0.0.1:7102", "", good, R"({"command": 1})")).response.status == 400);
  CHECK(answer(route("POST", "/api/command", "127.0.0.1:7102", "", good,
                     R"({"command": ")" + std::string(5000, 'a') + R"("})"))
            .response.status == 413);
  CHECK(answer(route("GET", "/api/command", "127.0.0.1:7102", "", good)).response.status == 405);
  CHECK(answer(route("GET", "/api/nothing", "127.0.0.1:7102", "", good)).response.status == 404);
  CHECK(answer(route("GET", "/../etc/passwd", "127.0.0.1:7102", "", "")).response.status == 404);

  CHECK_FALSE(check_socket({"GET", "/api/events?token=0123456789abcdef0123", "127.0.0.1:7102", "", "", ""}, rules));
  CHECK(check_socket({"GET", "/api/events", "127.0.0.1:7102", "", "", ""}, rules)->response.status == 401);
  CHECK(check_socket({"GET", "/api/events?token=0123456789abcdef0123", "127.0.0.1:7102", "http://evil", "", ""}, rules)
            ->response.status == 403);
}
