// Sharing and downloading with p2pnode processes, the way the README says:
// three nodes in a line, a source killed with SIGKILL midway, and a download
// that hits the file size limit (standing in for a full disk).
#include "download_support.hpp"
#include "node_process.hpp"

#include <csignal>

using namespace p2pnet::test;
using namespace p2pnet::test::download_tests;
namespace fs = std::filesystem;

namespace {

// A node.toml for one node: the search plugin sharing `shared` (if given)
// and download saving to `downloads`, plus extra [plugins.download] lines.
fs::path write_config(const TempDir& dir, const std::string& name, const fs::path& shared, const fs::path& downloads,
                      const std::string& download_extra = "") {
  auto path = dir / (name + ".toml");
  std::ofstream out(path);
  out << "[node]\nlog_level = \"warn\"\nplugin_dirs = [\"" << P2PNET_TEST_PLUGIN_DIR << "\"]\n\n";
  out << "[plugins." << kSearchPlugin << "]\nanswer_wait_ms = 500\nanswer_quiet_ms = 200\n";
  out << "shared_dir = \"" << (shared.empty() ? dir / (name + "-nothing-shared") : shared).string() << "\"\n";
  if (shared.empty()) fs::create_directories(dir / (name + "-nothing-shared"));
  out << "\n[plugins.download]\ndownload_dir = \"" << downloads.string() << "\"\n" << download_extra;
  return path;
}

std::string port_of(NodeProcess& node) { return std::to_string(node.port()); }

int64_t served_chunks(NodeProcess& node) {
  auto line = node.command("stats", R"(^  download\.chunks_served \d+$)", std::chrono::seconds(2));
  return line ? std::stoll(line->substr(line->rfind(' ') + 1)) : 0;
}

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
  CHECK(*found == "[1] music.ogg  " + std::to_string(size) + "  " + sha.substr(0, 16) + "  (1 sources)");
  auto saved = c.command("download 1", R"(^(saved .*|error: .*)$)", std::chrono::seconds(60));
  REQUIRE(saved);
  CHECK(*saved == saved_line(dir / "c-downloads" / "music.ogg", size));
  CHECK(sha256_hex(read_file(dir / "c-downloads" / "music.ogg")) == sha);
  CHECK(c.command("downloads", R"(^1 downloads \(0 active\)$)"));
}

TEST_CASE("a source killed with SIGKILL midway - the download completes from the other source") {
  TempDir dir("setup");
  const size_t size = 1024 * 1024;
  auto sha = write_random_file(dir / "a-shared" / "film.mkv", size, 22);
  write_random_file(dir / "b-shared" / "film.mkv", size, 22);
  NodeProcess a(P2PNODE_PATH, write_config(dir, "a", dir / "a-shared", dir / "a-downloads").string());
  NodeProcess b(P2PNODE_PATH, write_config(dir, "b", dir / "b-shared", dir / "b-downloads").string());
  NodeProcess c(
      P2PNODE_PATH,
      write_config(dir, "c", {}, dir / "c-downloads", "chunk_size = 16384\nmax_download_rate = 393216\n").string());
  REQUIRE(c.command("connect 127.0.0.1 " + port_of(a), "^connected to " + a.id()));
  REQUIRE(c.command("connect 127.0.0.1 " + port_of(b), "^connected to " + b.id()));
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

TEST_CASE("a write error while downloading gives an error line and keeps the part file") {
  TempDir dir("setup");
  const size_t size = 4 * 1024 * 1024;
  write_random_file(dir / "shared" / "huge.iso", size, 23);
  NodeProcess a(P2PNODE_PATH, write_config(dir, "a", dir / "shared", dir / "a-downloads").string());
  // C may not write files beyond 1 MiB (RLIMIT_FSIZE, in 512-byte blocks for
  // dash's ulimit); ignoring SIGXFSZ turns that into EFBIG errors, as a full
  // disk gives ENOSPC.
  auto config = write_config(dir, "c", {}, dir / "c-downloads", "chunk_size = 65536\n");
  TempDir data("data");
  Process c("/bin/sh", {"-c", "trap '' XFSZ; ulimit -f 2048; exec \"$0\" \"$@\"", P2PNODE_PATH, "--config",
                        config.string(), "--port", "0", "--data-dir", data.path().string()});
  REQUIRE(c.wait_for_line(std::regex("^listening on ")));
  c.write_line("connect 127.0.0.1 " + std::to_string(a.port()));
  REQUIRE(c.wait_for_line(std::regex("^connected to " + a.id())));
  std::optional<std::pair<size_t, std::smatch>> found;
  REQUIRE(wait_until(
      [&] {
        size_t from = c.line_count();
        c.write_line("search huge");
        found = c.wait_for_line(std::regex(R"(^(\[1\] huge\.iso  .*|0 results)$)"), std::chrono::seconds(5), from);
        return found && c.stdout_lines()[found->first].rfind("[1]", 0) == 0;
      },
      std::chrono::seconds(20)));
  size_t from = c.line_count();
  c.write_line("download 1");
  auto failed = c.wait_for_line(std::regex(R"(^(saved .*|error: .*)$)"), std::chrono::seconds(60), from);
  REQUIRE(failed);
  const auto part = dir / "c-downloads" / "huge.iso.part";
  CHECK(c.stdout_lines()[failed->first].rfind(
            "error: cannot write " + part.string() + ": File too large (" + part.string() + " kept, ", 0) == 0);
  CHECK(fs::exists(part));
  CHECK_FALSE(fs::exists(dir / "c-downloads" / "huge.iso"));
}
