// Each node its own folders, from flags: --shared-dir and --download-dir win
// over node.toml, and scripts/run.sh passes its default config only when the
// arguments name none.
#include "download_processes.hpp"

#include <fstream>

using namespace p2pnet::test;
using namespace p2pnet::test::download_tests;
namespace fs = std::filesystem;

TEST_CASE("flags --shared-dir and --download-dir override node.toml") {
  TempDir dir("setup");
  const size_t size = 300 * 1024 + 5;
  auto sha = write_random_file(dir / "flag-shared" / "song.ogg", size, 31);
  write_random_file(dir / "toml-shared" / "decoy.ogg", 1000, 32);
  NodeProcess a(P2PNODE_PATH, write_config(dir, "a", dir / "toml-shared", dir / "a-downloads").string(),
                {"--shared-dir", (dir / "flag-shared").string()});
  NodeProcess b(P2PNODE_PATH, write_config(dir, "b", {}, dir / "toml-downloads").string(),
                {"--download-dir", (dir / "flag-downloads").string()});
  CHECK(wait_until([&] { return a.command("shared", R"(^song\.ogg  )", std::chrono::seconds(2)).has_value(); }));
  CHECK_FALSE(a.command("shared", R"(^decoy\.ogg  )", std::chrono::seconds(1)));
  REQUIRE(b.command("connect 127.0.0.1 " + port_of(a), "^connected to " + a.id()));
  REQUIRE(search_finds(b, "song.ogg", 1));
  auto saved = b.command("download 1", R"(^(saved .*|error: .*)$)", std::chrono::seconds(60));
  REQUIRE(saved);
  CHECK(*saved == saved_line(dir / "flag-downloads" / "song.ogg", size));
  CHECK(sha256_hex(read_file(dir / "flag-downloads" / "song.ogg")) == sha);
  CHECK_FALSE(fs::exists(dir / "toml-downloads" / "song.ogg"));
}

TEST_CASE("a folder flag for a plugin the configuration lacks is a warning") {
  TempDir dir("setup");
  auto config = dir / "bare.toml";
  std::ofstream(config) << "[node]\nlog_level = \"warn\"\n";
  NodeProcess node(P2PNODE_PATH, config.string(), {"--shared-dir", (dir / "x").string()});
  node.process().write_line("stop");
  REQUIRE(node.process().wait_exit() == 0);
  node.process().drain_output();
  CHECK(node.process().stderr_text().find("warning: --shared-dir ignored: the configuration has no [plugins.search]") !=
        std::string::npos);
}

TEST_CASE("scripts/run.sh --config FILE starts p2pnode with that file alone") {
  // run.sh as shipped, beside a build.sh that builds nothing, so the test
  // neither reconfigures this build nor waits for one.
  TempDir dir("run-sh");
  fs::create_directories(dir / "scripts");
  fs::copy_file(fs::path(P2PNET_SOURCE_DIR) / "scripts" / "run.sh", dir / "scripts" / "run.sh");
  std::ofstream(dir / "scripts" / "build.sh") << "#!/bin/sh\nexit 0\n";
  fs::permissions(dir / "scripts" / "build.sh", fs::perms::owner_exec, fs::perm_options::add);
  auto build_dir = fs::path(P2PNODE_PATH).parent_path().parent_path();
  auto config = dir / "mine.toml";
  std::ofstream(config) << "[node]\nmax_connections = \"many\"\n";
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"BUILD_DIR=" + build_dir.string(), "bash", (dir / "scripts" / "run.sh").string()});
    return run_program("/usr/bin/env", args);
  };

  // The file given is read: its error is reported, and nothing about two configs.
  for (const auto& flag :
       {std::vector<std::string>{"--config", config.string()}, std::vector<std::string>{"-c", config.string()},
        std::vector<std::string>{"--config=" + config.string()}}) {
    auto args = flag;
    args.push_back("--no-console");
    auto result = run(args);
    INFO(result.output);
    CHECK(result.exit_code == 1);
    CHECK(result.output.find(config.string() + ":2:19: node.max_connections: expected an integer") !=
          std::string::npos);
  }
  // Without --config, the script's default (config/node.toml beside it) is passed.
  auto defaulted = run({"--no-console"});
  INFO(defaulted.output);
  CHECK(defaulted.exit_code != 0);
  CHECK(defaulted.output.find((dir / "config" / "node.toml").string()) != std::string::npos);
}
