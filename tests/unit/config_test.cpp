#include "p2pnet/config.hpp"

#include "build_paths.hpp"
#include "temp_dir.hpp"

#include <catch2/catch.hpp>

#include <fstream>

using namespace p2pnet;

namespace {

std::string error_of(const std::string& toml) {
  try {
    parse_config(toml, "node.toml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("an empty config gives the documented defaults") {
  auto loaded = parse_config("", "node.toml");
  CHECK(loaded.config.host == "127.0.0.1");
  CHECK(loaded.config.port == 0);
  CHECK(loaded.config.max_connections == 128);
  CHECK(loaded.config.plugins.empty());
  CHECK(loaded.warnings.empty());
}

TEST_CASE("the shipped config/node.toml loads without warnings") {
  auto loaded = load_config_file(std::filesystem::path(P2PNET_SOURCE_DIR) / "config" / "node.toml");
  CHECK(loaded.warnings.empty());
  CHECK(loaded.config.port == 9000);
  CHECK_FALSE(loaded.config.plugins.empty());
}

TEST_CASE("the node table and peers and plugins are read") {
  auto loaded = parse_config(R"(
[node]
host = "0.0.0.0"
port = 9100
id = "0000000000000000000000000000000000000000000000000000000000000001"
max_connections = 7
handshake_timeout_ms = 250
log_level = "debug"
plugin_dirs = ["/opt/plugins"]

[[peers]]
host = "10.0.0.1"
port = 9000
persistent = true

[plugins.ping]
enabled = false
timeout_ms = 100

[plugins.custom]
path = "/tmp/custom.so"
list = [1, 2]
)",
                             "node.toml");
  const auto& c = loaded.config;
  CHECK(c.host == "0.0.0.0");
  CHECK(c.port == 9100);
  CHECK(c.max_connections == 7);
  CHECK(c.handshake_timeout.count() == 250);
  CHECK(c.log_level == LogSeverity::debug);
  REQUIRE(c.peers.size() == 1);
  CHECK(c.peers[0].persistent);
  REQUIRE(c.plugins.size() == 2);
  CHECK(c.plugins[0].name == "ping");
  CHECK_FALSE(c.plugins[0].enabled);
  CHECK(c.plugins[0].settings == nlohmann::json{{"timeout_ms", 100}});
  CHECK(c.plugins[1].path == "/tmp/custom.so");
  CHECK(c.plugins[1].settings["list"] == nlohmann::json{1, 2});
}

TEST_CASE("invalid TOML is reported with file:line:column") {
  auto error = error_of("[node]\nport = = 3\n");
  CHECK(error.rfind("node.toml:2:", 0) == 0);
  CHECK(error.find("invalid TOML") != std::string::npos);
}

TEST_CASE("a wrong type or out-of-range value names the key and position") {
  auto wrong_type = error_of("[node]\nport = \"abc\"\n");
  CHECK(wrong_type.find("node.toml:2:8") != std::string::npos);
  CHECK(wrong_type.find("node.port") != std::string::npos);
  CHECK(wrong_type.find("expected an integer from 0 to 65535") != std::string::npos);

  CHECK(error_of("[node]\nport = 70000\n").find("node.port") != std::string::npos);
  CHECK(error_of("[node]\nmax_connections = 0\n").find("node.max_connections") != std::string::npos);
  CHECK(error_of("[node]\nlog_level = \"loud\"\n").find("node.log_level") != std::string::npos);
  CHECK(error_of("[node]\nid = \"xyz\"\n").find("node.id") != std::string::npos);
  CHECK(error_of("[plugins.ping]\nenabled = \"yes\"\n").find("plugins.ping.enabled") != std::string::npos);
  CHECK(error_of("node = 5\n").find("node") != std::string::npos);
  CHECK(error_of("[[peers]]\nhost = \"a\"\n").find("peers") != std::string::npos);
}

TEST_CASE("unknown keys are warnings that name them") {
  auto loaded = parse_config("[node]\nprot = 9000\n[extra]\nx = 1\n", "node.toml");
  REQUIRE(loaded.warnings.size() == 2);
  CHECK(loaded.warnings[0].find("node.prot") != std::string::npos);
  CHECK(loaded.warnings[0].find("node.toml:2:1") != std::string::npos);
  CHECK(loaded.warnings[1].find("extra") != std::string::npos);
}

TEST_CASE("missing and oversized config files are clear errors") {
  CHECK_THROWS_WITH(load_config_file("/nonexistent/node.toml"), Catch::Contains("cannot read config file"));
  test::TempDir dir;
  auto big = dir / "big.toml";
  std::ofstream(big) << std::string(2 * 1024 * 1024, '#');
  CHECK_THROWS_WITH(load_config_file(big), Catch::Contains("more than the"));
}

TEST_CASE("network key settings are checked without echoing the secret") {
  auto short_key = error_of("[node]\nnetwork_key = \"tiny-secret\"\n");
  CHECK(short_key.find("node.network_key: expected at least 16 characters") != std::string::npos);
  CHECK(short_key.find("tiny-secret") == std::string::npos);
  CHECK(error_of("[node]\nencryption = false\nnetwork_key = \"a long enough network secret\"\n")
            .find("network_key needs encryption = true") != std::string::npos);

  test::TempDir dir;
  auto key_file = dir / "network.key";
  std::ofstream(key_file) << "a secret kept in its own file\n";
  auto loaded = parse_config("[node]\nnetwork_key_file = \"" + key_file.string() + "\"\n", "node.toml");
  CHECK(loaded.config.network_key == "a secret kept in its own file");
  CHECK(error_of("[node]\nnetwork_key_file = \"/nonexistent/key\"\n").find("node.network_key_file") !=
        std::string::npos);
  CHECK(parse_config("", "node.toml").config.encryption);
}

TEST_CASE("the plugin queue limit is read and bounded") {
  CHECK(parse_config("", "node.toml").config.plugin_queue_limit_bytes == 8 * 1024 * 1024);
  auto loaded = parse_config("[node]\nplugin_queue_limit_bytes = 1048576\n", "node.toml");
  CHECK(loaded.config.plugin_queue_limit_bytes == 1048576);
  CHECK(loaded.warnings.empty());
  CHECK(error_of("[node]\nplugin_queue_limit_bytes = 10\n").find("plugin_queue_limit_bytes") != std::string::npos);
}

TEST_CASE("the control table is read and checked") {
  auto loaded = parse_config("[control]\nenabled = true\nsocket = \"/run/p2p.sock\"\nmax_clients = 3\n", "node.toml");
  CHECK(loaded.warnings.empty());
  CHECK(loaded.config.control.enabled);
  CHECK(loaded.config.control.socket == "/run/p2p.sock");
  CHECK(loaded.config.control.max_clients == 3);
  CHECK_FALSE(parse_config("", "node.toml").config.control.enabled);  // off unless asked for
  CHECK(error_of("[control]\nenabled = \"yes\"\n").find("control.enabled") != std::string::npos);
  CHECK(error_of("[control]\nmax_clients = 0\n").find("control.max_clients") != std::string::npos);
  CHECK(error_of("control = 1\n").find("expected a table ([control])") != std::string::npos);
}

TEST_CASE("control over TCP: loopback only, and a token from node.toml is checked but never echoed") {
  auto loaded = parse_config("[control]\ntcp = \"127.0.0.1:7101\"\ntoken = \"abcdefghijklmnop-_42\"\n", "node.toml");
  CHECK(loaded.config.control.tcp == "127.0.0.1:7101");
  CHECK(loaded.config.control.token == "abcdefghijklmnop-_42");
  CHECK(parse_config("[control]\ntcp = \"[::1]:0\"\n", "node.toml").config.control.tcp == "[::1]:0");
  CHECK(error_of("[control]\ntcp = \"0.0.0.0:7101\"\n").find("control.tcp: must be a loopback address") !=
        std::string::npos);
  CHECK(error_of("[control]\ntcp = \"localhost\"\n").find("control.tcp: expected HOST:PORT") != std::string::npos);
  auto short_token = error_of("[control]\ntoken = \"s3cret\"\n");
  CHECK(short_token.find("control.token: a control token needs at least 16 characters") != std::string::npos);
  CHECK(short_token.find("s3cret") == std::string::npos);
  auto spaced = error_of("[control]\ntoken = \"a secret with blanks\"\n");
  CHECK(spaced.find("only letters, digits") != std::string::npos);
  CHECK(spaced.find("blanks") == std::string::npos);
}

TEST_CASE("a plugin's required key defaults to true and is checked") {
  auto loaded = parse_config("[plugins.a]\n[plugins.b]\nrequired = false\nx = 1\n", "node.toml");
  REQUIRE(loaded.config.plugins.size() == 2);
  CHECK(loaded.config.plugins[0].required);
  CHECK_FALSE(loaded.config.plugins[1].required);
  CHECK(loaded.config.plugins[1].settings == nlohmann::json{{"x", 1}});  // not a setting of the plugin
  auto error = error_of("[plugins.a]\nrequired = 1\n");
  CHECK(error.find("node.toml:2:12") != std::string::npos);
  CHECK(error.find("plugins.a.required: expected true or false") != std::string::npos);
}

TEST_CASE("a relative plugin path is relative to node.toml's directory - not the current one") {
  test::TempDir dir;
  std::filesystem::create_directories(dir / "conf");
  std::ofstream(dir / "conf" / "node.toml") << "[plugins.rel]\npath = \"plugins/p2pnet_rel.so\"\n"
                                               "[plugins.abs]\npath = \"/opt/p2pnet_abs.so\"\n";
  auto loaded = load_config_file(dir / "conf" / "node.toml");
  REQUIRE(loaded.config.plugins.size() == 2);
  CHECK(loaded.config.plugins[0].path == dir / "conf" / "plugins" / "p2pnet_rel.so");
  CHECK(loaded.config.plugins[1].path == "/opt/p2pnet_abs.so");
}
