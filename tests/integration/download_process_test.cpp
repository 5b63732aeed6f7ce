// Sharing and downloading with p2pnode processes, the way the README says:
// three nodes in a line, and a source killed with SIGKILL midway. More faults
// (a full disk, kills at other phases, restarts) are in
// download_fault_process_test.cpp.
#include "download_processes.hpp"

#include <csignal>

using namespace p2pnet::test;
using namespace p2pnet::test::download_tests;
namespace fs = std::filesystem;

namespace {

int64_t served_chunks(NodeProcess& node) { return stats_counter(node.process(), "download.chunks_served"); }

}  // namespace

TEST_CASE("three p2pnode processes - C searches and downloads A's file through B") {
  TempDir dir("setup");
  const size_t size = 2 * 1024 * 1024 + 7;
  auto sha = write_random_file(dir / "shared" / "music.ogg", size, 21);
  NodeProcess a(P2PNODE_PATH, write_config(dir, "a", dir / "shared", dir / "a-downloads").string());
  NodeProcess b(P2PNODE_PATH, write_config(dir, "b", {}, dir / "b-downloads").string());
  NodeProcess c(P2PNODE_PATH, write_config(dir, "c", {}, dir / "c-downloads").string());
  REQUIRE(b.command("connect 127.0.0.1 " + port_of(a), "^connected to " + a.id()));
  REQUIRE(c.command("connect 127.0.0.1 " + port_of(b), "^connected to " + b.id()));
  std::optional<std::string> found;
  REQUIRE(wait_until(
      [&] {
        return (found = c.command("search music", R"(^(\[1\] music\.ogg  .*|0 results)$)")) &&
               found->rfind("[1]", 0) == 0;
      },
      std::chrono::seconds(20)));
  CHECK(*found == "[1] music.ogg  " + std::to_string(size) + "  " + sha.substr(0, 16) + "  (1 source)");
  auto saved = c.command("download 1", R"(^(saved .*|error: .*)$)", std::chrono::seconds(60));
  REQUIRE(saved);
  CHECK(*saved == saved_line(dir / "c-downloads" / "music.ogg", size));
  CHECK(sha256_hex(read_file(dir / "c-downloads" / "music.ogg")) == sha);
  CHECK(c.command("downloads", R"(^1 download \(0 active\)$)"));
}

TEST_CASE("a source killed with SIGKILL midway - the download completes from the other source") {
  TwoSourceProcesses nodes("film.mkv", 22);
  auto& [dir, sha, a, b, c] = nodes;
  const size_t size = TwoSourceProcesses::kSize;
  REQUIRE(wait_until([&] { return c.command("search film", R"(^\[1\] film\.mkv  .*\(2 sources\)$)").has_value(); },
                     std::chrono::seconds(20)));
  size_t from = c.process().line_count();
  c.process().write_line("download 1");
  REQUIRE(wait_until([&] { return served_chunks(b) >= 8; }, std::chrono::seconds(20)));
  b.process().signal(SIGKILL);
  auto saved = c.process().wait_for_line(std::regex(R"(^(saved .*|error: .*)$)"), std::chrono::seconds(60), from);
  REQUIRE(saved);
  CHECK(c.process().stdout_lines()[saved->first] == saved_line(dir / "c-downloads" / "film.mkv", size));
  CHECK(sha256_hex(read_file(dir / "c-downloads" / "film.mkv")) == sha);
}
