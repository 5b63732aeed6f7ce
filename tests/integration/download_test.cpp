// The download plugin between real nodes on loopback: search and download
// across a line of nodes, several sources, sources that vanish or lie, a node
// restarted midway, name clashes, unusable download dirs.
#include "download_support.hpp"

#include <algorithm>
#include <future>

using namespace p2pnet;
using namespace p2pnet::test;
using namespace p2pnet::test::download_tests;
namespace fs = std::filesystem;

TEST_CASE("three nodes in a line - C finds A's file through B and downloads it from A") {
  TempDir shared("shared"), downloads("downloads");
  const size_t size = 3 * 1024 * 1024 + 12345;
  auto sha = write_random_file(shared / "hello.bin", size, 1);
  TestNode a(file_node(shared.path()));
  TestNode b(file_node({}));
  TestNode c(file_node({}, {{"download_dir", downloads.path().string()}}));
  REQUIRE(b.connect_to(a) == a.id());
  REQUIRE(c.connect_to(b) == b.id());
  REQUIRE_FALSE(c.has_peer(a.id()));

  auto result = search_until(c, "hello.bin", 1);
  REQUIRE(result);
  // The stand-in prints bytes; another SIZE format is not this test's business.
  if (std::all_of(result->size.begin(), result->size.end(), ::isdigit)) CHECK(result->size == std::to_string(size));
  CHECK(sha.rfind(result->sha_prefix, 0) == 0);

  auto download = c.run("download --wait " + std::to_string(result->index), kDownloadTimeout);
  INFO(download.text());
  CHECK(download.status == 0);
  CHECK(last_line(download) == saved_line(downloads / "hello.bin", size));
  CHECK(sha256_hex(read_file(downloads / "hello.bin")) == sha);
  CHECK(no_partial_files(downloads.path()));
  CHECK(c.has_peer(a.id()));  // straight from the source, not through B
  CHECK(counter(a, "download.chunks_served") > 0);
  CHECK(counter(b, "download.chunks_served") == 0);
  CHECK(c.run("downloads").contains("[1] hello.bin  saved  3.0 MiB  "));
}

TEST_CASE("two sources serve one download at the same time") {
  TempDir shared_a("shared"), shared_b("shared"), downloads("downloads");
  const size_t size = 1024 * 1024;
  auto sha = write_random_file(shared_a / "both.bin", size, 2);
  write_random_file(shared_b / "sub" / "both.bin", size, 2);
  TestNode a(file_node(shared_a.path())), b(file_node(shared_b.path()));
  TestNode c(file_node(
      {}, {{"download_dir", downloads.path().string()}, {"chunk_size", 16384}, {"max_download_rate", 1024 * 1024}}));
  REQUIRE(c.connect_to(a) == a.id());
  REQUIRE(c.connect_to(b) == b.id());
  auto result = search_until(c, "both.bin", 2);
  REQUIRE(result);

  auto download = c.run("download --wait " + std::to_string(result->index), kDownloadTimeout);
  INFO(download.text());
  CHECK(last_line(download) == saved_line(downloads / "both.bin", size));
  CHECK(sha256_hex(read_file(downloads / "both.bin")) == sha);
  // Each chunk once, from both sources (counted once sent, so wait a moment).
  CHECK(wait_until([&] { return counter(a, "download.chunks_served") + counter(b, "download.chunks_served") == 64; }));
  CHECK(counter(a, "download.chunks_served") > 0);
  CHECK(counter(b, "download.chunks_served") > 0);
  CHECK(counter(c, "download.chunks_verified") == 64);
  // Progress lines: bytes, percent, speed, ETA, sources.
  const std::regex progress(
      R"(^both\.bin  \d+/1048576 bytes  \d+\.\d%(  [0-9.]+ (B|KiB|MiB)/s  ETA \d+:\d\d)?  [12] sources?$)");
  CHECK(std::any_of(download.lines.begin(), download.lines.end(),
                    [&](const std::string& line) { return std::regex_match(line, progress); }));
  // Nothing it does not know yet: never a zero speed or an unknown ETA.
  CHECK(std::none_of(download.lines.begin(), download.lines.end(), [](const std::string& line) {
    return line.find(" 0 B/s") != std::string::npos || line.find("ETA ?") != std::string::npos;
  }));
}

TEST_CASE("a source stopped midway - the download completes from the other") {
  TempDir shared_a("shared"), shared_b("shared"), downloads("downloads");
  const size_t size = 1024 * 1024;
  auto sha = write_random_file(shared_a / "big.bin", size, 3);
  write_random_file(shared_b / "big.bin", size, 3);
  TestNode a(file_node(shared_a.path()));
  auto b = std::make_unique<TestNode>(file_node(shared_b.path()));
  TestNode c(file_node(
      {}, {{"download_dir", downloads.path().string()}, {"chunk_size", 16384}, {"max_download_rate", 512 * 1024}}));
  REQUIRE(c.connect_to(a) == a.id());
  REQUIRE(c.connect_to(*b) == b->id());
  auto result = search_until(c, "big.bin", 2);
  REQUIRE(result);

  auto pending = std::async(
      std::launch::async, [&] { return c.run("download --wait " + std::to_string(result->index), kDownloadTimeout); });
  REQUIRE(wait_until([&] { return counter(*b, "download.chunks_served") >= 8; }));
  auto served_by_b = counter(*b, "download.chunks_served");
  b.reset();
  auto download = pending.get();
  INFO(download.text());
  CHECK(last_line(download) == saved_line(downloads / "big.bin", size));
  CHECK(sha256_hex(read_file(downloads / "big.bin")) == sha);
  CHECK(served_by_b < 64);
  CHECK(counter(a, "download.chunks_served") > 0);
  CHECK(counter(c, "download.chunks_verified") == 64);
  CHECK(counter(c, "download.sources_lost") >= 1);
}

TEST_CASE("the only source stopped midway - a new search finds another one") {
  TempDir shared_a("shared"), shared_b("shared"), downloads("downloads");
  const size_t size = 512 * 1024;
  auto sha = write_random_file(shared_a / "lonely.bin", size, 4);
  write_random_file(shared_b / "lonely.bin", size, 4);
  auto a = std::make_unique<TestNode>(file_node(shared_a.path()));
  TestNode c(file_node({}, {{"download_dir", downloads.path().string()},
                            {"chunk_size", 16384},
                            {"max_download_rate", 256 * 1024},
                            {"search_timeout_ms", 1000},
                            {"max_searches", 10}}));
  REQUIRE(c.connect_to(*a) == a->id());
  REQUIRE(search_until(c, "lonely.bin", 1));

  auto pending =
      std::async(std::launch::async, [&] { return c.run("download --wait " + sha + " lonely.bin", kDownloadTimeout); });
  REQUIRE(wait_until([&] { return counter(*a, "download.chunks_served") >= 4; }));
  a.reset();
  TestNode b(file_node(shared_b.path()));
  REQUIRE(c.connect_to(b) == b.id());
  auto download = pending.get();
  INFO(download.text());
  CHECK(last_line(download) == saved_line(downloads / "lonely.bin", size));
  CHECK(sha256_hex(read_file(downloads / "lonely.bin")) == sha);
  CHECK(counter(b, "download.chunks_served") > 0);
  CHECK(counter(c, "download.searches") >= 2);
}

TEST_CASE("a downloading node restarted midway resumes without fetching verified chunks again") {
  TempDir shared("shared"), downloads("downloads");
  const size_t size = 1024 * 1024;
  const int64_t chunks = 64;
  auto sha = write_random_file(shared / "resume.bin", size, 5);
  TestNode a(file_node(shared.path()));
  nlohmann::json settings = {{"download_dir", downloads.path().string()}, {"chunk_size", 16384}};
  auto slow = settings;
  slow["max_download_rate"] = 256 * 1024;

  auto c1 = std::make_unique<TestNode>(file_node({}, slow));
  REQUIRE(c1->connect_to(a) == a.id());
  auto pending = std::async(std::launch::async,
                            [&] { return c1->run("download --wait " + sha + " resume.bin", kDownloadTimeout); });
  const auto record = downloads / "resume.bin.part.json";
  REQUIRE(wait_until([&] { return fs::exists(record) && recorded_chunks(record) >= 16; }));
  c1.reset();
  auto stopped = pending.get();
  INFO(stopped.text());
  CHECK(stopped.status == 1);
  CHECK(last_line(stopped).rfind("error: the node is stopping (" + (downloads / "resume.bin.part").string() + " kept, ",
                                 0) == 0);
  const int64_t verified = recorded_chunks(record);
  REQUIRE(verified >= 16);
  REQUIRE(verified < chunks);
  REQUIRE(fs::exists(downloads / "resume.bin.part"));

  TestNode c2(file_node({}, settings));
  REQUIRE(c2.connect_to(a) == a.id());
  auto download = c2.run("download --wait " + sha + " resume.bin", kDownloadTimeout);
  INFO(download.text());
  CHECK(download.contains("resuming resume.bin: " + std::to_string(verified) + " of 64 chunks already verified"));
  CHECK(last_line(download) == saved_line(downloads / "resume.bin", size));
  CHECK(sha256_hex(read_file(downloads / "resume.bin")) == sha);
  CHECK(counter(c2, "download.chunks_fetched") == chunks - verified);
  CHECK(no_partial_files(downloads.path()));
}

TEST_CASE("a corrupted chunk is rejected and fetched again") {
  TempDir shared("shared"), downloads("downloads");
  const size_t size = 200 * 1024;
  auto sha = write_random_file(shared / "fragile.bin", size, 6);
  TestNode a(file_node(shared.path(), {{"test_corrupt_chunk", 2}, {"test_corrupt_count", 1}}));
  TestNode c(file_node({}, {{"download_dir", downloads.path().string()}, {"chunk_size", 16384}}));
  REQUIRE(c.connect_to(a) == a.id());
  REQUIRE(search_until(c, "fragile.bin", 1));
  auto download = c.run("download --wait 1", kDownloadTimeout);
  INFO(download.text());
  CHECK(last_line(download) == saved_line(downloads / "fragile.bin", size));
  CHECK(sha256_hex(read_file(downloads / "fragile.bin")) == sha);
  CHECK(counter(a, "download.test_corrupted_chunks") == 1);
  CHECK(counter(c, "download.chunks_rejected") == 1);
  CHECK(wait_until([&] { return counter(a, "download.chunks_served") == 13 + 1; }));  // 13 chunks, one twice
}

TEST_CASE("a source that corrupts every chunk is dropped and the other source supplies them") {
  TempDir shared_a("shared"), shared_b("shared"), downloads("downloads");
  const size_t size = 512 * 1024;
  auto sha = write_random_file(shared_a / "liar.bin", size, 7);
  write_random_file(shared_b / "liar.bin", size, 7);
  TestNode a(file_node(shared_a.path(), {{"test_corrupt_chunk", -2}, {"test_corrupt_count", 1000000}}));
  TestNode b(file_node(shared_b.path()));
  TestNode c(file_node(
      {}, {{"download_dir", downloads.path().string()}, {"chunk_size", 16384}, {"max_download_rate", 512 * 1024}}));
  REQUIRE(c.connect_to(a) == a.id());
  REQUIRE(c.connect_to(b) == b.id());
  REQUIRE(search_until(c, "liar.bin", 2));
  auto download = c.run("download --wait 1", kDownloadTimeout);
  INFO(download.text());
  CHECK(last_line(download) == saved_line(downloads / "liar.bin", size));
  CHECK(sha256_hex(read_file(downloads / "liar.bin")) == sha);
  CHECK(counter(c, "download.chunks_rejected") >= 1);
  CHECK(counter(c, "download.sources_dropped") == 1);
  CHECK(wait_until([&] { return counter(b, "download.chunks_served") == 32; }));  // every chunk, each once
}

TEST_CASE("a name clash in download_dir never overwrites - a new name is chosen and printed") {
  TempDir shared("shared"), downloads("downloads");
  const size_t size = 100 * 1024;
  auto sha = write_random_file(shared / "report.txt", size, 8);
  std::ofstream(downloads / "report.txt") << "my own report";
  TestNode a(file_node(shared.path()));
  TestNode c(file_node({}, {{"download_dir", downloads.path().string()}}));
  REQUIRE(c.connect_to(a) == a.id());
  REQUIRE(search_until(c, "report.txt", 1));

  auto first = c.run("download --wait 1", kDownloadTimeout);
  INFO(first.text());
  CHECK(first.contains("report.txt exists in " + downloads.path().string() + "; saving as report (1).txt"));
  CHECK(last_line(first) == saved_line(downloads / "report (1).txt", size));
  // The same file again is already here; --force fetches it under the next free name.
  auto again = c.run("download --wait " + sha, kDownloadTimeout);
  CHECK(last_line(again) == "already have " + (downloads / "report (1).txt").string() + " (sha256 verified)");
  auto second = c.run("download --wait --force " + sha, kDownloadTimeout);
  INFO(second.text());
  CHECK(last_line(second) == saved_line(downloads / "report (2).txt", size));
  CHECK(read_file(downloads / "report.txt") == "my own report");
  CHECK(sha256_hex(read_file(downloads / "report (1).txt")) == sha);
  CHECK(sha256_hex(read_file(downloads / "report (2).txt")) == sha);
}

TEST_CASE("an unusable download_dir gives an error line") {
  TempDir shared("shared"), scratch("scratch");
  auto sha = write_random_file(shared / "data.bin", 50000, 9);
  std::ofstream(scratch / "plain-file") << "not a directory";
  TestNode a(file_node(shared.path()));
  TestNode c(file_node({}, {{"download_dir", (scratch / "plain-file" / "downloads").string()}}));
  REQUIRE(c.connect_to(a) == a.id());
  REQUIRE(search_until(c, "data.bin", 1));
  auto download = c.run("download --wait 1", kDownloadTimeout);
  INFO(download.text());
  CHECK(download.status == 1);
  CHECK(last_line(download).rfind(
            "error: cannot create download_dir " + (scratch / "plain-file" / "downloads").string(), 0) == 0);
}

TEST_CASE("download without sources or with bad arguments explains itself") {
  TempDir downloads("downloads");
  TestNode c(
      file_node({}, {{"download_dir", downloads.path().string()}, {"search_timeout_ms", 300}, {"max_searches", 2}}));
  CHECK(c.run("download").lines ==
        std::vector<std::string>{"usage: download [--wait] [--force] K | download [--wait] [--force] SHA256 [NAME]"});
  CHECK(c.run("download --wait 1 2").status == 2);
  CHECK(c.run("download --wait 3").lines == std::vector<std::string>{"error: no search results yet; run search first"});
  CHECK(c.run("search nothing-matches").contains("0 results"));
  CHECK(c.run("download --wait 3").lines ==
        std::vector<std::string>{"error: no result 3 in the last search (0 results)"});
  const std::string missing(64, 'a');
  CHECK(c.run("download --wait " + missing + " ../evil").lines ==
        std::vector<std::string>{"error: NAME must be a file name, not a path"});
  auto none = c.run("download --wait " + missing, kDownloadTimeout);
  CHECK(none.status == 1);
  CHECK(last_line(none) == "error: no source found for " + missing);
  CHECK(c.run("downloads").contains("1 download (0 active)"));
}

TEST_CASE("an empty file downloads and is verified") {
  TempDir shared("shared"), downloads("downloads");
  auto sha = write_random_file(shared / "empty.txt", 0, 10);
  TestNode a(file_node(shared.path()));
  TestNode c(file_node({}, {{"download_dir", downloads.path().string()}}));
  REQUIRE(c.connect_to(a) == a.id());
  REQUIRE(search_until(c, "empty.txt", 1));
  auto download = c.run("download --wait 1", kDownloadTimeout);
  INFO(download.text());
  CHECK(last_line(download) == saved_line(downloads / "empty.txt", 0));
  CHECK(fs::file_size(downloads / "empty.txt") == 0);
  CHECK(no_partial_files(downloads.path()));
}

TEST_CASE("a download takes a direct source before one reached through a relay") {
  TempDir shared_a("shared"), shared_c("shared"), downloads("downloads");
  const size_t size = 512 * 1024;
  auto sha = write_random_file(shared_a / "both.bin", size, 3);
  write_random_file(shared_c / "both.bin", size, 3);
  auto relay_config = file_node({});
  relay_config.relay.service = Switch::on;
  auto alice_config = file_node(shared_a.path());
  alice_config.relay.use_relays = Switch::on;  // loopback never makes her private
  auto bob_config = file_node({}, {{"download_dir", downloads.path().string()}, {"max_sources", 1}});
  bob_config.relay.reversal = false;  // his link to alice stays relayed
  bob_config.relay.punching = false;
  TestNode relay(relay_config), alice(alice_config), carol(file_node(shared_c.path())), bob(bob_config);
  REQUIRE(alice.connect_to(relay) == relay.id());
  REQUIRE(bob.connect_to(relay) == relay.id());
  REQUIRE(wait_until([&] { return alice.run("nat").contains("relay: " + relay.id()); }));
  REQUIRE(bob.run("connect " + alice.id()).contains("(relayed via " + relay.id().substr(0, 8) + ")"));
  REQUIRE(bob.connect_to(carol) == carol.id());

  auto result = search_until(bob, "both.bin", 2);
  REQUIRE(result);
  auto download = bob.run("download --wait " + std::to_string(result->index), kDownloadTimeout);
  INFO(download.text());
  CHECK(last_line(download) == saved_line(downloads / "both.bin", size));
  CHECK(sha256_hex(read_file(downloads / "both.bin")) == sha);
  // One source at a time: carol's direct link, not alice's relayed one.
  CHECK(counter(carol, "download.chunks_served") > 0);
  CHECK(counter(alice, "download.chunks_served") == 0);
}
