// p2pnode as users run it: processes, console lines, flags and signals.
#include "node_process.hpp"

#include <csignal>
#include <filesystem>
#include <fstream>

using namespace p2pnet::test;

namespace {

const std::string kConfig = std::string(P2PNET_SOURCE_DIR) + "/config/node.toml";

}  // namespace

TEST_CASE("two p2pnode processes connect and list each other with the right direction") {
  NodeProcess a(P2PNODE_PATH, kConfig), b(P2PNODE_PATH, kConfig);
  REQUIRE(b.command("connect 127.0.0.1 " + std::to_string(a.port()), "^connected to " + a.id()));
  REQUIRE(a.process().wait_for_line(std::regex("^peer connected: " + b.id() + " 127\\.0\\.0\\.1:\\d+ inbound$")));
  CHECK(
      a.command("peers", "^" + b.id() + " 127\\.0\\.0\\.1:" + std::to_string(b.port()) + " inbound verified direct$"));
  CHECK(
      b.command("peers", "^" + a.id() + " 127\\.0\\.0\\.1:" + std::to_string(a.port()) + " outbound verified direct$"));
  CHECK(b.command("ping", "^pong from " + a.id() + " in [0-9.]+ ms$"));
  CHECK(a.command("plugins", "^ping 1\\.0\\.0  types: ping,pong  commands: ping$"));
  CHECK(a.command("help", "^  ping \\[ID \\| HOST PORT\\]"));
  CHECK(a.command("stats", "^total: \\d+ messages in"));
  b.process().write_line("stop");
  CHECK(b.process().wait_exit() == 0);
  CHECK(a.process().wait_for_line(
      std::regex("^peer disconnected: " + b.id() + " \\(peer said goodbye: node is stopping\\)")));
}

TEST_CASE("unknown commands and bad arguments print a usage line and the node keeps going") {
  NodeProcess node(P2PNODE_PATH, kConfig);
  CHECK(node.command("frobnicate", "^unknown command 'frobnicate'; type help for the list$"));
  CHECK(node.command(
      "connect 127.0.0.1",
      "^usage: connect HOST PORT \\[ID\\] \\| connect ID \\(ID is 64 hex characters, not '127\\.0\\.0\\.1'\\)$"));
  CHECK(node.command("connect 127.0.0.1 99999", "^usage: connect HOST PORT \\[ID\\] \\(PORT is 1 to 65535\\)$"));
  CHECK(node.command("connect 127.0.0.1 1", "^error: cannot connect to 127\\.0\\.0\\.1:1: Connection refused$"));
  CHECK(node.command("disconnect", "^usage: disconnect ID$"));
  CHECK(node.command("peers", "^0 peers$"));
}

TEST_CASE("echoed input is short and escaped - an unterminated quote is an error") {
  NodeProcess node(P2PNODE_PATH, kConfig);
  const std::string long_name(10000, 'z');
  auto echoed = node.command(long_name + "\x1B[2J", "^unknown command '");
  REQUIRE(echoed);
  CHECK(*echoed == "unknown command '" + std::string(80, 'z') + "...'; type help for the list");
  CHECK(node.command("bad\x1B[2Jname", R"(^unknown command 'bad\\x1B\[2Jname'; type help for the list$)"));
  CHECK(node.command("search \"unterminated", "^error: unterminated quote at column 8$"));
  auto host = node.command("connect " + std::string(300, 'h') + "\x07 9", "^error: ");
  REQUIRE(host);
  CHECK(*host == "error: not a host name or address: '" + std::string(80, 'h') + "...'");
  auto peer = node.command("disconnect " + std::string(500, 'p') + "\x1B", "^error: ");
  REQUIRE(peer);
  CHECK(*peer == "error: no connected peer matches '" + std::string(80, 'p') + "...'");
  CHECK(node.command("peers", "^0 peers$"));
  for (const auto& line : node.process().stdout_lines()) CHECK(line.find('\x1B') == std::string::npos);
}

TEST_CASE("console lines appear once - the log at info does not repeat peer events or listening on") {
  NodeProcess a(P2PNODE_PATH, kConfig, {"--log-level", "info"}), b(P2PNODE_PATH, kConfig, {"--log-level", "info"});
  REQUIRE(b.command("connect 127.0.0.1 " + std::to_string(a.port()), "^connected to " + a.id()));
  REQUIRE(a.process().wait_for_line(std::regex("^peer connected: " + b.id())));
  REQUIRE(b.process().wait_for_line(std::regex("^peer connected: " + a.id())));
  b.process().write_line("stop");
  REQUIRE(b.process().wait_exit() == 0);
  REQUIRE(a.process().wait_for_line(std::regex("^peer disconnected: " + b.id())));
  a.process().write_line("stop");
  REQUIRE(a.process().wait_exit() == 0);
  a.process().drain_output();
  b.process().drain_output();
  CHECK(a.process().stderr_text().find("peer connected") == std::string::npos);
  CHECK(a.process().stderr_text().find("peer disconnected") == std::string::npos);
  CHECK(b.process().stderr_text().find("peer connected") == std::string::npos);
  CHECK(a.process().stderr_text().find("listening on") == std::string::npos);
}

TEST_CASE("end of input - SIGTERM and SIGINT all stop p2pnode gracefully") {
  SECTION("end of input") {
    NodeProcess node(P2PNODE_PATH, kConfig);
    node.process().close_stdin();
    CHECK(node.process().wait_exit() == 0);
  }
  SECTION("SIGTERM with a console") {
    NodeProcess node(P2PNODE_PATH, kConfig);
    node.process().signal(SIGTERM);
    CHECK(node.process().wait_exit() == 0);
    CHECK(node.process().wait_for_line(std::regex("^received SIGTERM, stopping$")));
  }
  SECTION("SIGINT without a console") {
    NodeProcess node(P2PNODE_PATH, kConfig, {"--no-console"});
    node.process().close_stdin();  // ignored with --no-console
    CHECK_FALSE(node.process().wait_exit(std::chrono::milliseconds(300)));
    node.process().signal(SIGINT);
    CHECK(node.process().wait_exit() == 0);
  }
}

TEST_CASE("p2pnode prints help and version and rejects bad flags") {
  auto help = run_program(P2PNODE_PATH, {"--help"});
  CHECK(help.exit_code == 0);
  for (const char* flag : {"--config", "--host", "--port", "--id", "--data-dir", "--shared-dir", "--download-dir",
                           "--log-level", "--no-console", "--version"})
    CHECK(help.output.find(flag) != std::string::npos);
  auto version = run_program(P2PNODE_PATH, {"--version"});
  CHECK(version.exit_code == 0);
  CHECK(version.output.find("p2pnode 0.1.0") != std::string::npos);
  auto out_of_range = run_program(P2PNODE_PATH, {"--port", "70000"});
  CHECK(out_of_range.exit_code != 0);
  CHECK(out_of_range.output.find("not in range 0 to 65535") != std::string::npos);
  auto not_a_number = run_program(P2PNODE_PATH, {"--port", "abc"});
  CHECK(not_a_number.exit_code != 0);
  CHECK(not_a_number.output.find("--port: not a number: abc") != std::string::npos);
  CHECK(run_program(P2PNODE_PATH, {"--log-level", "loud"}).exit_code != 0);
  auto bad_id = run_program(P2PNODE_PATH, {"--id", "xyz", "--port", "0", "--no-console"});
  CHECK(bad_id.exit_code == 1);
  CHECK(bad_id.output.find("node id must be 64 lowercase hex characters") != std::string::npos);
}

TEST_CASE("a broken node.toml stops start-up with file:line:column") {
  TempDir dir;
  auto config = dir / "node.toml";
  std::ofstream(config) << "[node]\nport = 9000\nmax_connections = \"many\"\n";
  auto result = run_program(P2PNODE_PATH, {"--config", config.string(), "--no-console"});
  CHECK(result.exit_code == 1);
  CHECK(result.output.find(config.string() + ":3:19: node.max_connections: expected an integer") != std::string::npos);

  std::ofstream(config) << "[plugins.nosuch]\n";
  result = run_program(P2PNODE_PATH, {"--config", config.string(), "--no-console", "--data-dir", (dir / "d").string()});
  CHECK(result.exit_code == 1);
  CHECK(result.output.find("error: [plugins.nosuch] plugin 'nosuch': p2pnet_nosuch.so not found") != std::string::npos);
}

TEST_CASE("a relative plugin path in node.toml is found beside node.toml - whatever the current directory") {
  TempDir dir;
  std::filesystem::create_directories(dir / "mine");
  std::filesystem::copy_file(std::filesystem::path(P2PNET_TEST_PLUGIN_DIR) / "p2pnet_abi10.so",
                             dir / "mine" / "p2pnet_abi10.so");
  auto config = dir / "node.toml";
  std::ofstream(config) << "[plugins.abi10]\npath = \"mine/p2pnet_abi10.so\"\n";
  REQUIRE(std::filesystem::current_path() != dir.path());
  NodeProcess node(P2PNODE_PATH, config.string());
  CHECK(node.command("abi10 hello", "^abi10 built with ABI 1\\.0, host has ABI 1\\.[0-9]+$"));
}
