// Downloads in the background with p2pnode processes: the console takes
// other commands while a rate-limited transfer runs, `stop` does not wait
// for transfers, and `pause`, `resume`, `cancel`, `downloads` and max_active
// manage them, across a restart too.
#include "download_processes.hpp"

#include <fstream>

using namespace p2pnet::test;
using namespace p2pnet::test::download_tests;
namespace fs = std::filesystem;

namespace {

// Slow enough that a transfer is still running while the test looks at it.
const std::string kSlow = "chunk_size = 16384\nmax_download_rate = 65536\n";
const std::string kOutcome = R"(^(saved .*|error: .*)$)";

// A shares `files` (name -> size); C downloads with `c_extra` settings and a data dir that outlives it.
struct Line {
  TempDir dir{"setup"};
  TempDir c_data{"c-data"};
  std::map<std::string, std::string> sha;  // by name
  std::unique_ptr<NodeProcess> a;
  std::unique_ptr<NodeProcess> c;
  fs::path c_config;

  Line(const std::map<std::string, size_t>& files, const std::string& c_extra) {
    uint64_t seed = 40;
    for (const auto& [name, size] : files) sha[name] = write_random_file(dir / "shared" / name, size, ++seed);
    a = std::make_unique<NodeProcess>(P2PNODE_PATH,
                                      write_config(dir, "a", dir / "shared", dir / "a-downloads").string());
    c_config = write_config(dir, "c", {}, dir / "c-downloads", c_extra);
    start_c();
  }

  // Again with the same data dir and download_dir, and other settings.
  void restart_c(const std::string& c_extra) {
    c->process().write_line("stop");
    REQUIRE(c->process().wait_exit(std::chrono::seconds(5)) == 0);
    c.reset();
    c_config = write_config(dir, "c", {}, dir / "c-downloads", c_extra);
    start_c();
  }

  void start_c() {
    c = std::make_unique<NodeProcess>(P2PNODE_PATH, c_config.string(), std::vector<std::string>{},
                                      NodeSetup(c_data.path()));
    REQUIRE(c->command("connect 127.0.0.1 " + port_of(*a), "^connected to " + a->id()));
  }

  fs::path downloads() const { return dir / "c-downloads"; }

  // Searches until result 1 is `name`, then downloads it in the background.
  std::string start(const std::string& name, const std::string& id) {
    REQUIRE(search_finds(*c, name, 1));
    auto started = c->command("download 1", "^(started|queued) " + id + ": .*|^error: .*");
    REQUIRE(started);
    return *started;
  }

  // Verified bytes C reports for download `id` (from `downloads`), -1 if not listed.
  int64_t verified(const std::string& id, const std::string& state) {
    auto line = c->command("downloads", R"(^\[)" + id + R"(\] .*|^no downloads$)");
    std::smatch match;
    if (!line || !std::regex_search(*line, match, std::regex("  " + state + R"(  (\d+)/\d+ bytes)"))) return -1;
    return std::stoll(match[1]);
  }
};

}  // namespace

TEST_CASE("peers and search answer while a rate-limited download runs in the background") {
  Line line({{"slow.bin", 4 * 1024 * 1024}}, kSlow);
  CHECK(line.start("slow.bin", "1") == "started 1: slow.bin (4.0 MiB)");
  REQUIRE(wait_until([&] { return line.verified("1", "active") > 0; }, std::chrono::seconds(20)));
  CHECK(line.c->command("peers", "^1 peer$", std::chrono::seconds(5)));
  CHECK(line.c->command("search slow", R"(^\[1\] slow\.bin  .*)", std::chrono::seconds(5)));
  // Still running: the commands did not wait for it.
  CHECK(line.verified("1", "active") > 0);
  CHECK(line.c->command("downloads", R"(^1 download \(1 active\)$)"));
  // The source says what it serves, to whom.
  CHECK(line.a->command("uploads", R"(^slow\.bin  to )" + line.c->id().substr(0, 12) +
                                       R"( \(127\.0\.0\.1\)  .* sent  .*/s  elapsed \d+:\d\d$)"));
  CHECK(line.a->command("uploads", "^1 upload$"));
}

TEST_CASE("stop during two downloads exits at once, and resume all finishes both after a restart") {
  Line line({{"one.bin", 1024 * 1024}, {"two.bin", 1024 * 1024}}, kSlow);
  line.start("one.bin", "1");
  line.start("two.bin", "2");
  const auto one = line.downloads() / "one.bin.part.json", two = line.downloads() / "two.bin.part.json";
  REQUIRE(wait_until([&] { return fs::exists(one) && fs::exists(two); }, std::chrono::seconds(20)));
  line.c->process().write_line("stop");
  // A wait timeout, not a timing goal: without concurrent commands `stop`
  // would wait for both transfers (a minute at this rate).
  REQUIRE(line.c->process().wait_exit(std::chrono::seconds(5)) == 0);
  CHECK(fs::exists(line.downloads() / "one.bin.part"));
  CHECK(fs::exists(two));

  line.c.reset();
  line.c_config = write_config(line.dir, "c", {}, line.downloads());  // now at full speed
  line.start_c();                                                     // same data dir and download_dir; A still runs
  auto listed = line.c->command("downloads", R"(^2 downloads \(0 active, 2 paused\)$)");
  if (!listed) INFO(line.c->process().stdout_lines().back());
  REQUIRE(listed);
  size_t from = line.c->process().line_count();
  REQUIRE(line.c->command("resume all", "^resumed [0-9]+: two.bin$"));
  for (const std::string name : {"one.bin", "two.bin"}) {
    auto saved = line.c->process().wait_for_line(std::regex("^(saved .*" + name + " .*|error: .*)$"),
                                                 std::chrono::seconds(120), from);
    REQUIRE(saved);
    CHECK(line.c->process().stdout_lines()[saved->first] == saved_line(line.downloads() / name, 1024 * 1024));
    CHECK(sha256_hex(read_file(line.downloads() / name)) == line.sha[name]);
  }
  CHECK(no_partial_files(line.downloads()));
}

TEST_CASE("cancel removes the .part, cancel --keep keeps it") {
  Line line({{"gone.bin", 4 * 1024 * 1024}}, kSlow);
  const auto part = line.downloads() / "gone.bin.part", record = line.downloads() / "gone.bin.part.json";
  line.start("gone.bin", "1");
  REQUIRE(wait_until([&] { return fs::exists(record); }, std::chrono::seconds(20)));
  CHECK(line.c->command("cancel 1", "^cancelled 1: .*|^error: .*") ==
        "cancelled 1: gone.bin (" + part.string() + " removed)");
  CHECK_FALSE(fs::exists(part));
  CHECK_FALSE(fs::exists(record));

  line.start("gone.bin", "2");
  REQUIRE(wait_until([&] { return fs::exists(record); }, std::chrono::seconds(20)));
  CHECK(line.c->command("cancel 2 --keep", "^cancelled 2: .*|^error: .*") ==
        "cancelled 2: gone.bin (" + part.string() + " kept)");
  CHECK(fs::exists(part));
  CHECK(fs::exists(record));
  CHECK(line.c->command("cancel 2", "^error: .*") == "error: download 2 has ended; see downloads");
  CHECK(line.c->command("cancel x", "^usage: .*") == "usage: cancel ID [--keep]");
}

TEST_CASE("pause holds a download where it is - resume continues it to the end") {
  Line line({{"held.bin", 512 * 1024}}, kSlow);
  line.start("held.bin", "1");
  REQUIRE(wait_until([&] { return line.verified("1", "active") > 0; }, std::chrono::seconds(20)));
  auto paused = line.c->command("pause 1", "^paused 1: .*|^error: .*");
  REQUIRE(paused);
  std::smatch match;
  REQUIRE(std::regex_match(*paused, match, std::regex(R"(paused 1: held\.bin at (\d+) of 524288 bytes)")));
  const int64_t at = std::stoll(match[1]);
  // A search goes to A and back: had the transfer still asked for chunks,
  // their answers would have arrived by then.
  REQUIRE(search_finds(*line.c, "held.bin", 1));
  CHECK(line.verified("1", "paused") == at);
  CHECK(line.c->command("pause 1", "^error: .*") == "error: download 1 is already paused");

  size_t from = line.c->process().line_count();
  CHECK(line.c->command("resume 1", "^resumed 1: .*|^error: .*") == "resumed 1: held.bin");
  auto saved = line.c->process().wait_for_line(std::regex(kOutcome), std::chrono::seconds(120), from);
  REQUIRE(saved);
  CHECK(line.c->process().stdout_lines()[saved->first] == saved_line(line.downloads() / "held.bin", 512 * 1024));
  CHECK(sha256_hex(read_file(line.downloads() / "held.bin")) == line.sha["held.bin"]);
}

TEST_CASE("max_active queues the rest - downloads lists ended ones after a restart") {
  Line line({{"first.bin", 4 * 1024 * 1024}, {"second.bin", 64 * 1024}}, kSlow + "max_active = 1\n");
  CHECK(line.start("first.bin", "1") == "started 1: first.bin (4.0 MiB)");
  CHECK(line.start("second.bin", "2") == "queued 2: second.bin (64.0 KiB); 1 running (max_active)");
  CHECK(line.c->command("downloads", R"(^\[2\] .*)") == "[2] second.bin  queued  64.0 KiB");
  size_t from = line.c->process().line_count();
  CHECK(line.c->command("cancel 1", "^cancelled 1: .*"));
  REQUIRE(line.c->process().wait_for_line(std::regex("^started 2: second.bin"), std::chrono::seconds(10), from));
  auto saved = line.c->process().wait_for_line(std::regex(kOutcome), std::chrono::seconds(60), from);
  REQUIRE(saved);
  CHECK(line.c->process().stdout_lines()[saved->first] == saved_line(line.downloads() / "second.bin", 64 * 1024));

  line.restart_c(kSlow);
  CHECK(line.c->command("downloads", R"(^\[1\] .*)")->rfind("[1] first.bin  cancelled  4.0 MiB", 0) == 0);
  CHECK(line.c->command("downloads", R"(^\[2\] .*)")->rfind("[2] second.bin  saved  64.0 KiB", 0) == 0);
  CHECK(line.c->command("downloads", R"(^2 downloads .*)") == "2 downloads (0 active)");
  // Ids go on from the history: the next download is 3.
  CHECK(line.start("first.bin", "3") == "started 3: first.bin (4.0 MiB)");
}

TEST_CASE("piped commands - end of input stops the node once download --wait has ended") {
  Line line({{"piped.bin", 256 * 1024}}, kSlow);
  REQUIRE(search_finds(*line.c, "piped.bin", 1));
  size_t from = line.c->process().line_count();
  line.c->process().write_line("download --wait 1");
  line.c->process().close_stdin();
  auto saved = line.c->process().wait_for_line(std::regex(kOutcome), std::chrono::seconds(60), from);
  REQUIRE(saved);
  CHECK(line.c->process().stdout_lines()[saved->first] == saved_line(line.downloads() / "piped.bin", 256 * 1024));
  CHECK(line.c->process().wait_exit(std::chrono::seconds(10)) == 0);
}
