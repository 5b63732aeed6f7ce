// Faults with in-process nodes (issue 6): a plugin that throws from every
// hook, and shared files that become unreadable, shrink or vanish while they
// are being served. Nothing may be lost: the nodes keep serving, a download
// either completes from another source or stops with an error line that
// keeps NAME.part and its record, and only a verified file is saved.
#include "download_support.hpp"

#include <future>
#include <numeric>

#include <unistd.h>

using namespace p2pnet;
using namespace p2pnet::test;
using namespace p2pnet::test::download_tests;
namespace fs = std::filesystem;

namespace {

// The thrower first, so its hooks (on_stop too) run before the others'.
NodeConfig with_thrower(NodeConfig config) {
  config.plugins.insert(config.plugins.begin(), plugin("thrower"));
  config.plugins.push_back(plugin("probe"));
  return config;
}

int64_t thrower_hooks_reached(TestNode& node) {
  int64_t total = 0;
  for (const auto& [name, value] : node->stats().plugin_counters)
    if (name.rfind("thrower.reached_", 0) == 0) total += value;
  return total;
}

// "... (PATH kept, K of N chunks verified; ...)" -> K.
std::optional<int64_t> kept_chunks(const std::string& line) {
  static const std::regex pattern(R"( kept, (\d+) of \d+ chunks verified;)");
  std::smatch match;
  if (!std::regex_search(line, match, pattern)) return std::nullopt;
  return std::stoll(match[1]);
}

int64_t refusals(TestNode& source) {
  return counter(source, "download.refused_missing_files") + counter(source, "download.refused_changed_files") +
         counter(source, "download.requests_unknown");
}

// Makes a shared file unreadable the way a user might. Root reads a file
// whatever its mode, so a test running as root replaces it by a directory.
void make_unreadable(const fs::path& file) {
  if (::geteuid() != 0) return fs::permissions(file, fs::perms::none);
  fs::remove(file);
  fs::create_directory(file);
}

}  // namespace

TEST_CASE("a plugin throwing from every hook is contained - downloads and other plugins keep working") {
  TempDir shared("shared"), downloads("downloads");
  const size_t size = 300 * 1024;
  auto sha = write_random_file(shared / "steady.bin", size, 41);
  TestNode a(with_thrower(file_node(shared.path())));
  TestNode c(with_thrower(file_node({}, {{"download_dir", downloads.path().string()}})));
  REQUIRE(c.connect_to(a) == a.id());

  // Reach the hooks that need a poke: a message (parsed and raw), a command, a bus event.
  CHECK(c->send(a.id(), R"({"type":"thrower"})") == P2PNET_OK);
  CHECK(c->send(a.id(), R"({"type":"thrower-raw"})") == P2PNET_OK);
  auto command = c.run("thrower");
  CHECK(command.status == 1);
  CHECK(command.contains("error: command failed"));
  c.run("probe-publish probe.event x");
  for (const char* hook : {"on_start", "timer", "background_work", "background_then", "connect_result",
                           "peer_connected", "command", "event"}) {
    INFO(hook);
    CHECK(wait_until([&] { return counter(c, std::string("thrower.reached_") + hook) >= 1; }));
  }
  CHECK(wait_until([&] { return counter(a, "thrower.reached_message") == 1; }));
  CHECK(wait_until([&] { return counter(a, "thrower.reached_raw_message") == 1; }));
  // Every throw was caught and counted; none escaped into the node.
  CHECK(wait_until([&] { return counter(c, "thrower.hook_exceptions") == thrower_hooks_reached(c); }));
  CHECK(wait_until([&] { return counter(a, "thrower.hook_exceptions") == thrower_hooks_reached(a); }));

  // The other plugins of both nodes work as before.
  REQUIRE(search_until(c, "steady.bin", 1));
  auto download = c.run("download --wait 1", kDownloadTimeout);
  INFO(download.text());
  CHECK(last_line(download) == saved_line(downloads / "steady.bin", size));
  CHECK(sha256_hex(read_file(downloads / "steady.bin")) == sha);
  c.run("probe-send " + a.id() + " alive");
  CHECK(wait_until([&] { return a.run("probe-log").contains(": alive ("); }));
  CHECK(c.has_peer(a.id()));
}

TEST_CASE("a plugin throwing in on_stop does not keep the download plugin from keeping its part file") {
  TempDir shared("shared"), downloads("downloads");
  const size_t size = 1024 * 1024;
  auto sha = write_random_file(shared / "stopped.bin", size, 42);
  TestNode a(file_node(shared.path()));
  auto c = std::make_unique<TestNode>(with_thrower(file_node(
      {}, {{"download_dir", downloads.path().string()}, {"chunk_size", 16384}, {"max_download_rate", 256 * 1024}})));
  REQUIRE(c->connect_to(a) == a.id());
  auto pending = std::async(std::launch::async,
                            [&] { return c->run("download --wait " + sha + " stopped.bin", kDownloadTimeout); });
  const auto record = downloads / "stopped.bin.part.json";
  REQUIRE(wait_until([&] { return fs::exists(record) && recorded_chunks(record) >= 8; }, std::chrono::seconds(20)));
  c.reset();  // the thrower's on_stop throws first
  auto stopped = pending.get();
  INFO(stopped.text());
  CHECK(last_line(stopped).rfind(
            "error: the node is stopping (" + (downloads / "stopped.bin.part").string() + " kept, ", 0) == 0);
  auto kept = kept_chunks(last_line(stopped));
  REQUIRE(kept);
  CHECK(recorded_chunks(record) == *kept);  // the node waited for the record before it stopped

  // The source still serves, and the next download resumes from what was kept.
  TestNode d(file_node({}, {{"download_dir", downloads.path().string()}, {"chunk_size", 16384}}));
  REQUIRE(d.connect_to(a) == a.id());
  auto download = d.run("download --wait " + sha + " stopped.bin", kDownloadTimeout);
  INFO(download.text());
  CHECK(download.contains("resuming stopped.bin: " + std::to_string(*kept) + " of 64 chunks already verified"));
  CHECK(last_line(download) == saved_line(downloads / "stopped.bin", size));
  CHECK(sha256_hex(read_file(downloads / "stopped.bin")) == sha);
  CHECK(counter(d, "download.chunks_fetched") == 64 - *kept);
}

TEST_CASE("a shared file truncated while it is served - the download finishes from the other source") {
  TempDir shared_a("shared"), shared_b("shared"), downloads("downloads");
  const size_t size = 1024 * 1024;
  auto sha = write_random_file(shared_a / "shrinks.bin", size, 43);
  write_random_file(shared_b / "shrinks.bin", size, 43);
  TestNode a(file_node(shared_a.path())), b(file_node(shared_b.path()));
  TestNode c(file_node(
      {}, {{"download_dir", downloads.path().string()}, {"chunk_size", 16384}, {"max_download_rate", 512 * 1024}}));
  REQUIRE(c.connect_to(a) == a.id());
  REQUIRE(c.connect_to(b) == b.id());
  REQUIRE(search_until(c, "shrinks.bin", 2));
  auto pending = std::async(std::launch::async, [&] { return c.run("download --wait 1", kDownloadTimeout); });
  REQUIRE(wait_until([&] { return counter(b, "download.chunks_served") >= 4; }, std::chrono::seconds(20)));
  fs::resize_file(shared_b / "shrinks.bin", size / 2);
  auto download = pending.get();
  INFO(download.text());
  CHECK(last_line(download) == saved_line(downloads / "shrinks.bin", size));
  CHECK(sha256_hex(read_file(downloads / "shrinks.bin")) == sha);
  CHECK(counter(b, "download.refused_changed_files") >= 1);
  CHECK(counter(c, "download.sources_dropped") == 1);
  CHECK(no_partial_files(downloads.path()));
  CHECK(c.has_peer(b.id()));  // a refusal, not a lost connection
}

namespace {

// C downloads from B alone; `fault` strikes B's copy midway. The download
// must stop with an error line that keeps the part file, B must keep serving
// its other files, and once B has the file back the download resumes.
void only_source_loses_its_file(const std::function<void(const fs::path&)>& fault, uint64_t seed) {
  TempDir shared("shared"), downloads("downloads");
  const size_t size = 512 * 1024;
  const std::string data = random_bytes(size, seed);
  const std::string sha = sha256_hex(data);
  std::ofstream(shared / "rare.bin", std::ios::binary) << data;
  auto other_sha = write_random_file(shared / "other.bin", 20000, seed + 1);
  TestNode b(file_node(shared.path()));
  TestNode c(file_node({}, {{"download_dir", downloads.path().string()},
                            {"chunk_size", 16384},
                            {"max_download_rate", 256 * 1024},
                            {"search_timeout_ms", 300},
                            {"max_searches", 1}}));
  REQUIRE(c.connect_to(b) == b.id());
  REQUIRE(search_until(c, "rare.bin", 1));
  auto pending = std::async(std::launch::async, [&] { return c.run("download --wait 1", kDownloadTimeout); });
  REQUIRE(wait_until([&] { return counter(b, "download.chunks_served") >= 4; }, std::chrono::seconds(20)));
  fault(shared / "rare.bin");
  auto failed = pending.get();
  INFO(failed.text());
  const auto part = downloads / "rare.bin.part";
  CHECK(failed.status == 1);
  CHECK(last_line(failed).rfind("error: no source left for rare.bin (" + part.string() + " kept, ", 0) == 0);
  auto kept = kept_chunks(last_line(failed));
  REQUIRE(kept);
  CHECK(*kept > 0);  // what arrived before the fault
  CHECK(*kept < 32);
  CHECK(fs::exists(part));
  CHECK_FALSE(fs::exists(downloads / "rare.bin"));
  CHECK(refusals(b) >= 1);

  // B still serves its other files.
  REQUIRE(search_until(c, "other.bin", 1));
  auto other = c.run("download --wait 1", kDownloadTimeout);
  INFO(other.text());
  CHECK(last_line(other) == saved_line(downloads / "other.bin", 20000));
  CHECK(sha256_hex(read_file(downloads / "other.bin")) == other_sha);

  // The file comes back: the download resumes from what it kept.
  std::error_code ignored;
  fs::remove_all(shared / "rare.bin", ignored);
  std::ofstream(shared / "rare.bin", std::ios::binary) << data;
  CHECK(b.run("rescan").status == 0);
  REQUIRE(wait_until([&] { return recorded_chunks(downloads / "rare.bin.part.json") == *kept; }));
  auto resumed = c.run("download --wait " + sha + " rare.bin", kDownloadTimeout);
  INFO(resumed.text());
  CHECK(resumed.contains("resuming rare.bin: " + std::to_string(*kept) + " of 32 chunks already verified"));
  CHECK(last_line(resumed) == saved_line(downloads / "rare.bin", size));
  CHECK(sha256_hex(read_file(downloads / "rare.bin")) == sha);
  CHECK(no_partial_files(downloads.path()));
}

}  // namespace

TEST_CASE("the only source's file made unreadable midway - the download stops and keeps its part file") {
  only_source_loses_its_file(make_unreadable, 44);
}

TEST_CASE("the only source's file deleted midway - the download stops and keeps its part file") {
  only_source_loses_its_file([](const fs::path& file) { fs::remove(file); }, 46);
}
