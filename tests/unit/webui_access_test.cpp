// The webui plugin's checks of who may use it (plugins/webui/webui_access.hpp).
#include "webui_access.hpp"
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
