// Live plugin changes in a p2pnode process (issue 14): a download keeps
// going while `plugin reload search` and `reload` (node.toml edited to
// disable, then enable ping) run through p2pnode ctl; no peer drops.
#include "download_processes.hpp"

#include <csignal>
#include <fstream>
#include <sstream>

using namespace p2pnet::test;
using namespace p2pnet::test::download_tests;

namespace {

struct CtlRun {
  int status = -1;
  std::string text;
};

// Runs `p2pnode ctl` with the command's words as its arguments.
CtlRun ctl(const NodeProcess& node, const std::string& command) {
  std::vector<std::string> args{"ctl", "-d", node.data_dir().string()};
  std::istringstream words(command);
  for (std::string word; words >> word;) args.push_back(word);
  Process process(P2PNODE_PATH, args);
  auto status = process.wait_exit(std::chrono::seconds(30));
  REQUIRE(status);
  process.drain_output();
  CtlRun run{*status, ""};
  for (const auto& line : process.stdout_lines()) run.text += line + "\n";
  run.text += process.stderr_text();
  return run;
}

void write_with_ping(const std::filesystem::path& config, const std::string& base, bool ping_enabled) {
  std::ofstream(config) << base << "\n[plugins.ping]\nenabled = " << (ping_enabled ? "true" : "false") << "\n";
}

bool has_line_containing(Process& process, const std::string& text) {
  for (const auto& line : process.stdout_lines())
    if (line.find(text) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("a download keeps running while plugins are reloaded and node.toml is applied again", "[live]") {
  TempDir dir("live");
  const size_t size = 3 * 1024 * 1024;
  auto sha = write_random_file(dir / "b-shared" / "film.mkv", size, 41);
  NodeProcess b(P2PNODE_PATH, write_config(dir, "b", dir / "b-shared", dir / "b-downloads").string());
  // c downloads at 512 KiB/s: about six seconds to change plugins in.
  auto c_config = write_config(dir, "c", {}, dir / "c-downloads", "chunk_size = 16384\nmax_download_rate = 524288\n");
  std::string base;
  {
    std::ifstream in(c_config);
    base.assign(std::istreambuf_iterator<char>(in), {});
  }
  write_with_ping(c_config, base, true);
  NodeProcess c(P2PNODE_PATH, c_config.string(), {"--control"});
  REQUIRE(c.command("connect 127.0.0.1 " + port_of(b), "^connected to " + b.id()));
  REQUIRE(wait_until([&] { return c.command("search film", R"(^\[1\] film\.mkv  .*\(1 source\)$)").has_value(); },
                     std::chrono::seconds(20)));
  size_t from = c.process().line_count();
  c.process().write_line("download 1");
  REQUIRE(
      wait_until([&] { return stats_counter(b.process(), "download.chunks_served") >= 4; }, std::chrono::seconds(20)));

  auto reloaded = ctl(c, "plugin reload search");
  INFO(reloaded.text);
  CHECK(reloaded.status == 0);
  CHECK(reloaded.text.find("reloaded plugin search: ") != std::string::npos);

  write_with_ping(c_config, base, false);
  auto disabled = ctl(c, "reload");
  INFO(disabled.text);
  CHECK(disabled.status == 0);
  CHECK(disabled.text.find("plugin ping: disabled; unloaded") != std::string::npos);
  CHECK(ctl(c, "plugins").text.find("ping ") == std::string::npos);

  write_with_ping(c_config, base, true);
  auto enabled = ctl(c, "reload");
  INFO(enabled.text);
  CHECK(enabled.status == 0);
  CHECK(enabled.text.find("plugin ping: enabled; loaded ") != std::string::npos);
  auto ping = ctl(c, "ping " + b.id());
  INFO(ping.text);
  CHECK(ping.status == 0);

  // A broken node.toml changes nothing and says where it is broken.
  std::ofstream(c_config) << "[node\n";
  auto broken = ctl(c, "reload");
  INFO(broken.text);
  CHECK(broken.status == 1);
  CHECK(broken.text.find("c.toml:1:") != std::string::npos);
  CHECK(broken.text.find("nothing changed") != std::string::npos);

  auto saved = c.process().wait_for_line(std::regex(R"(^(saved .*|error: .*)$)"), std::chrono::seconds(60), from);
  REQUIRE(saved);
  CHECK(c.process().stdout_lines()[saved->first] == saved_line(dir / "c-downloads" / "film.mkv", size));
  CHECK(sha256_hex(read_file(dir / "c-downloads" / "film.mkv")) == sha);
  CHECK(ctl(c, "peers").text.find("1 peer") != std::string::npos);
  CHECK_FALSE(has_line_containing(c.process(), "peer disconnected"));
  CHECK_FALSE(has_line_containing(b.process(), "peer disconnected"));
}

TEST_CASE("SIGHUP applies node.toml again - a setting only a restart applies is named", "[live]") {
  TempDir dir("live");
  auto config = dir / "node.toml";
  std::ofstream(config) << "[node]\nlog_level = \"warn\"\n\n[plugins.ping]\n";
  NodeProcess node(P2PNODE_PATH, config.string());
  std::ofstream(config) << "[node]\nlog_level = \"warn\"\nmax_connections = 7\n\n[plugins.ping]\nenabled = false\n";
  size_t from = node.process().line_count();
  node.process().signal(SIGHUP);
  REQUIRE(node.process().wait_for_line(std::regex("^max_connections: changes take effect after a restart$"),
                                       std::chrono::seconds(15), from));
  REQUIRE(
      node.process().wait_for_line(std::regex("^plugin ping: disabled; unloaded$"), std::chrono::seconds(15), from));
  CHECK(node.command("plugins", R"(^(ping .*|\d+ plugins? loaded)$)") == "0 plugins loaded");
}
