// A node's folders: --shared-dir and --download-dir win over node.toml,
// scripts/run.sh passes its default config only when the arguments name none,
// and a file already in download_dir or shared is not fetched again.
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

TEST_CASE("a file already in download_dir or shared is not fetched again unless --force") {
  TempDir dir("setup");
  const size_t size = 200 * 1024 + 3;
  auto sha = write_random_file(dir / "a-shared" / "clip.mp4", size, 41);
  write_random_file(dir / "b-shared" / "mine.mp4", size, 41);  // B shares its own copy too
  NodeProcess a(P2PNODE_PATH, write_config(dir, "a", dir / "a-shared", dir / "a-downloads").string());
  NodeProcess b(P2PNODE_PATH, write_config(dir, "b", {}, dir / "b-downloads").string());
  REQUIRE(b.command("connect 127.0.0.1 " + port_of(a), "^connected to " + a.id()));
  REQUIRE(search_finds(b, "clip.mp4", 1));
  const std::string outcome = R"(^(saved .*|already have .*|error: .*)$)";
  REQUIRE(b.command("download 1", outcome, std::chrono::seconds(60)) ==
          saved_line(dir / "b-downloads" / "clip.mp4", size));

  // The same file again: found in download_dir by its size, then its hash.
  CHECK(b.command("download 1", outcome) ==
        "already have " + (dir / "b-downloads" / "clip.mp4").string() + " (sha256 verified)");
  CHECK(b.command("download " + sha, outcome) ==
        "already have " + (dir / "b-downloads" / "clip.mp4").string() + " (sha256 verified)");
  CHECK_FALSE(fs::exists(dir / "b-downloads" / "clip (1).mp4"));

  // --force fetches it anyway, under a new name.
  CHECK(b.command("download --force 1", outcome, std::chrono::seconds(60)) ==
        saved_line(dir / "b-downloads" / "clip (1).mp4", size));

  // A copy with the same size but other bytes is no copy.
  fs::remove(dir / "b-downloads" / "clip.mp4");
  fs::remove(dir / "b-downloads" / "clip (1).mp4");
  write_random_file(dir / "b-downloads" / "clip.mp4", size, 99);
  CHECK(b.command("download 1", outcome, std::chrono::seconds(60)) ==
        saved_line(dir / "b-downloads" / "clip (1).mp4", size));
}

TEST_CASE("a file this node shares is found through the search index before any search") {
  TempDir dir("setup");
  const size_t size = 50 * 1024;
  auto sha = write_random_file(dir / "shared" / "sub" / "notes.pdf", size, 42);
  NodeProcess node(P2PNODE_PATH, write_config(dir, "n", dir / "shared", dir / "downloads").string());
  REQUIRE(
      wait_until([&] { return node.command("shared", R"(^sub/notes\.pdf  )", std::chrono::seconds(2)).has_value(); }));
  auto canonical_shared = fs::canonical(dir / "shared");
  CHECK(node.command("download " + sha, R"(^(already have .*|error: .*)$)") ==
        "already have " + (canonical_shared / "sub" / "notes.pdf").string() + " (sha256 verified)");
  CHECK((!fs::exists(dir / "downloads") || fs::is_empty(dir / "downloads")));
}
