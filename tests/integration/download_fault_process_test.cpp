// Faults with p2pnode processes (issue 6): a full disk, peers killed with
// SIGKILL at each phase of a transfer, a downloading node killed and
// restarted, a plugin that fails to load. Nothing may be lost: the nodes that
// live on keep serving, NAME.part and its record of verified chunks survive,
// the download resumes without fetching verified chunks again, and only a
// file that matches its SHA-256 is ever renamed into place.
#include "download_processes.hpp"

#include <algorithm>
#include <csignal>

#include <sys/resource.h>

using namespace p2pnet::test;
using namespace p2pnet::test::download_tests;
namespace fs = std::filesystem;

namespace {

// Sends `download ...` and waits for its outcome line.
template <class Node>
std::optional<std::string> run_download(Node& node, const std::string& args) {
  return node.command("download " + args, R"(^(saved .*|error: .*)$)", kDownloadTimeout);
}

std::optional<std::string> outcome_after(Process& node, size_t from) {
  auto line = node.wait_for_line(std::regex(R"(^(saved .*|error: .*)$)"), kDownloadTimeout, from);
  if (!line) return std::nullopt;
  return node.stdout_lines()[line->first];
}

bool printed_since(Process& node, size_t from, const std::string& line) {
  auto lines = node.stdout_lines();
  return std::find(lines.begin() + static_cast<std::ptrdiff_t>(std::min(from, lines.size())), lines.end(), line) !=
         lines.end();
}

// "... (PATH kept, K of N chunks verified; ...)" -> K.
std::optional<int64_t> kept_chunks(const std::string& line) {
  static const std::regex pattern(R"( kept, (\d+) of \d+ chunks verified;)");
  std::smatch match;
  if (!std::regex_search(line, match, pattern)) return std::nullopt;
  return std::stoll(match[1]);
}

}  // namespace

TEST_CASE(
    "a full disk during a download keeps the part file and its record - the download resumes once there is space") {
  TempDir dir("setup"), data("data");
  const size_t size = 4 * 1024 * 1024;
  const int64_t chunks = 64;
  auto sha = write_random_file(dir / "shared" / "huge.iso", size, 31);
  NodeProcess a(P2PNODE_PATH, write_config(dir, "a", dir / "shared", dir / "a-downloads").string());
  // C may write no file beyond 1 MiB (RLIMIT_FSIZE, in 512-byte blocks for
  // dash's ulimit): with SIGXFSZ ignored, a write past it fails with EFBIG
  // as one on a full disk fails with ENOSPC. Only the soft limit is set, so
  // the test can lift it later: space was freed.
  NodeProcess c(P2PNODE_PATH, write_config(dir, "c", {}, dir / "c-downloads", "chunk_size = 65536\n").string(), {},
                NodeSetup(data.path(), "trap '' XFSZ; ulimit -S -f 2048"));
  REQUIRE(c.command("connect 127.0.0.1 " + port_of(a), "^connected to " + a.id()));
  REQUIRE(search_finds(c, "huge.iso", 1));
  auto failed = run_download(c, "1");
  REQUIRE(failed);
  const auto part = dir / "c-downloads" / "huge.iso.part";
  const auto record = dir / "c-downloads" / "huge.iso.part.json";
  CHECK(failed->rfind("error: cannot write " + part.string() + ": File too large (" + part.string() + " kept, ", 0) ==
        0);
  auto kept = kept_chunks(*failed);
  REQUIRE(kept);
  CHECK(*kept > 0);  // at least the first requests fit below the limit
  CHECK(*kept < chunks);
  CHECK(fs::exists(part));
  CHECK_FALSE(fs::exists(dir / "c-downloads" / "huge.iso"));
  // The record lists what the error line counts (it is written just after).
  CHECK(wait_until([&] { return recorded_chunks(record) == *kept; }));

  struct rlimit limit {};
  REQUIRE(::prlimit(c.process().pid(), RLIMIT_FSIZE, nullptr, &limit) == 0);
  limit.rlim_cur = limit.rlim_max;
  REQUIRE(::prlimit(c.process().pid(), RLIMIT_FSIZE, &limit, nullptr) == 0);
  const int64_t fetched_before = stats_counter(c.process(), "download.chunks_fetched");
  REQUIRE(fetched_before >= 0);
  size_t from = c.process().line_count();
  auto saved = run_download(c, "1");
  REQUIRE(saved);
  CHECK(*saved == saved_line(dir / "c-downloads" / "huge.iso", size));
  CHECK(printed_since(c.process(), from,
                      "resuming huge.iso: " + std::to_string(*kept) + " of 64 chunks already verified"));
  CHECK(sha256_hex(read_file(dir / "c-downloads" / "huge.iso")) == sha);
  CHECK(stats_counter(c.process(), "download.chunks_fetched") - fetched_before == chunks - *kept);
  CHECK(no_partial_files(dir / "c-downloads"));
}

TEST_CASE(
    "a source killed with SIGKILL before it answers the manifest request - the other source serves the download") {
  TwoSourceProcesses nodes("film.mkv", 32);
  auto& [dir, sha, a, b, c] = nodes;
  const size_t size = TwoSourceProcesses::kSize;
  REQUIRE(search_finds(c, "film.mkv", 2));
  // A freezes, so it cannot answer the manifest request C is about to send.
  a.process().signal(SIGSTOP);
  size_t from = c.process().line_count();
  c.process().write_line("download 1");
  // C asks all its sources at once: once B serves chunks, A's request is out.
  REQUIRE(
      wait_until([&] { return stats_counter(b.process(), "download.chunks_served") >= 1; }, std::chrono::seconds(20)));
  a.process().signal(SIGKILL);
  auto saved = outcome_after(c.process(), from);
  REQUIRE(saved);
  CHECK(*saved == saved_line(dir / "c-downloads" / "film.mkv", size));
  CHECK(sha256_hex(read_file(dir / "c-downloads" / "film.mkv")) == sha);
  CHECK(stats_counter(c.process(), "download.sources_lost") >= 1);
  CHECK(wait_until([&] { return stats_counter(b.process(), "download.chunks_served") == 64; }));
  CHECK(no_partial_files(dir / "c-downloads"));
}

TEST_CASE("the only source killed with SIGKILL after the last chunk - the download is still verified and saved") {
  TempDir dir("setup");
  const size_t size = 4 * 1024 * 1024;
  auto sha = write_random_file(dir / "shared" / "last.bin", size, 33);
  NodeProcess a(P2PNODE_PATH, write_config(dir, "a", dir / "shared", dir / "a-downloads").string());
  NodeProcess c(P2PNODE_PATH, write_config(dir, "c", {}, dir / "c-downloads", "chunk_size = 65536\n").string());
  REQUIRE(c.command("connect 127.0.0.1 " + port_of(a), "^connected to " + a.id()));
  REQUIRE(search_finds(c, "last.bin", 1));
  size_t from = c.process().line_count();
  c.process().write_line("download 1");
  // Before checking the whole file and renaming it, C records every chunk as
  // verified: then no chunk is left to ask A for. (C may also be done already.)
  const auto record = dir / "c-downloads" / "last.bin.part.json";
  const auto final_path = dir / "c-downloads" / "last.bin";
  REQUIRE(
      wait_until([&] { return recorded_chunks(record) == 64 || fs::exists(final_path); }, std::chrono::seconds(30)));
  a.process().signal(SIGKILL);
  auto saved = outcome_after(c.process(), from);
  REQUIRE(saved);
  CHECK(*saved == saved_line(final_path, size));
  CHECK(sha256_hex(read_file(final_path)) == sha);
  CHECK(no_partial_files(dir / "c-downloads"));
}

TEST_CASE("a downloader killed with SIGKILL midway - the source frees its upload slot and serves the next one") {
  TempDir dir("setup");
  const size_t size = 1024 * 1024;
  auto sha = write_random_file(dir / "shared" / "popular.bin", size, 34);
  // One upload slot that would stay taken for ten minutes if A missed C's death.
  NodeProcess a(P2PNODE_PATH, write_config(dir, "a", dir / "shared", dir / "a-downloads",
                                           "max_uploads = 1\nupload_idle_timeout_ms = 600000\n")
                                  .string());
  auto c = std::make_unique<NodeProcess>(
      P2PNODE_PATH,
      write_config(dir, "c", {}, dir / "c-downloads", "chunk_size = 16384\nmax_download_rate = 262144\n").string());
  REQUIRE(c->command("connect 127.0.0.1 " + port_of(a), "^connected to " + a.id()));
  REQUIRE(search_finds(*c, "popular.bin", 1));
  c->process().write_line("download 1");
  REQUIRE(
      wait_until([&] { return stats_counter(a.process(), "download.chunks_served") >= 8; }, std::chrono::seconds(20)));
  c->process().signal(SIGKILL);
  REQUIRE(c->process().wait_exit());
  c.reset();

  NodeProcess d(P2PNODE_PATH, write_config(dir, "d", {}, dir / "d-downloads", "busy_retry_ms = 100\n").string());
  REQUIRE(d.command("connect 127.0.0.1 " + port_of(a), "^connected to " + a.id()));
  REQUIRE(search_finds(d, "popular.bin", 1));
  auto saved = run_download(d, "1");
  REQUIRE(saved);
  CHECK(*saved == saved_line(dir / "d-downloads" / "popular.bin", size));
  CHECK(sha256_hex(read_file(dir / "d-downloads" / "popular.bin")) == sha);
  CHECK(stats_counter(a.process(), "download.uploads_started") == 2);
}

TEST_CASE("a downloading p2pnode killed with SIGKILL resumes from its part file after a restart") {
  TempDir dir("setup"), data("data");
  const size_t size = 1024 * 1024;
  const int64_t chunks = 64;
  auto sha = write_random_file(dir / "shared" / "resume.bin", size, 35);
  NodeProcess a(P2PNODE_PATH, write_config(dir, "a", dir / "shared", dir / "a-downloads").string());
  const auto downloads = dir / "c-downloads";
  auto c = std::make_unique<NodeProcess>(
      P2PNODE_PATH, write_config(dir, "c", {}, downloads, "chunk_size = 16384\nmax_download_rate = 262144\n").string(),
      std::vector<std::string>{}, NodeSetup(data.path()));
  const std::string id = c->id();
  REQUIRE(c->command("connect 127.0.0.1 " + port_of(a), "^connected to " + a.id()));
  REQUIRE(search_finds(*c, "resume.bin", 1));
  c->process().write_line("download 1");
  const auto record = downloads / "resume.bin.part.json";
  REQUIRE(wait_until([&] { return recorded_chunks(record) >= 16; }, std::chrono::seconds(20)));
  c->process().signal(SIGKILL);
  REQUIRE(c->process().wait_exit());
  c.reset();
  // What SIGKILL left behind: the record (written only after NAME.part was
  // flushed, and replaced atomically) and the data it describes.
  const int64_t verified = recorded_chunks(record);
  REQUIRE(verified >= 16);
  REQUIRE(verified < chunks);
  REQUIRE(fs::exists(downloads / "resume.bin.part"));

  // The same data dir: the killed node's lock does not linger, its identity stays.
  NodeProcess restarted(P2PNODE_PATH, write_config(dir, "c-again", {}, downloads, "chunk_size = 16384\n").string(), {},
                        NodeSetup(data.path()));
  CHECK(restarted.id() == id);
  REQUIRE(restarted.command("connect 127.0.0.1 " + port_of(a), "^connected to " + a.id()));
  size_t from = restarted.process().line_count();
  auto saved = run_download(restarted, sha + " resume.bin");
  REQUIRE(saved);
  CHECK(*saved == saved_line(downloads / "resume.bin", size));
  CHECK(printed_since(restarted.process(), from,
                      "resuming resume.bin: " + std::to_string(verified) + " of 64 chunks already verified"));
  CHECK(sha256_hex(read_file(downloads / "resume.bin")) == sha);
  CHECK(stats_counter(restarted.process(), "download.chunks_fetched") == chunks - verified);
  CHECK(no_partial_files(downloads));
}

TEST_CASE("a plugin that fails to load stops p2pnode with one line and leaves its data dir as it was") {
  TempDir dir("setup"), data("data");
  auto good = write_config(dir, "good", {}, dir / "downloads");
  std::string id;
  {
    NodeProcess node(P2PNODE_PATH, good.string(), {}, NodeSetup(data.path()));
    id = node.id();
    node.process().write_line("stop");
    REQUIRE(node.process().wait_exit() == 0);
  }
  auto bad = dir / "bad.toml";
  {
    std::ifstream in(good);
    std::ofstream out(bad);
    out << in.rdbuf() << "\n[plugins.thrower]\nfail_load = true\n";
  }
  auto refused = run_program(
      P2PNODE_PATH, {"--config", bad.string(), "--port", "0", "--data-dir", data.path().string(), "--no-console"},
      std::chrono::seconds(30));
  CHECK(refused.exit_code == 1);
  CHECK(refused.output.find("error: [plugins.thrower] plugin 'thrower' failed to load: thrower refuses to load, as "
                            "configured (") != std::string::npos);
  CHECK(refused.output.find("listening on") == std::string::npos);
  // Fixed, the node starts again with the same identity from the same data dir.
  NodeProcess again(P2PNODE_PATH, good.string(), {}, NodeSetup(data.path()));
  CHECK(again.id() == id);
}
