// The download history file and the scan for unfinished downloads: both are
// read back from disk as hostile input.
#include "download_history.hpp"
#include "part_record.hpp"
#include "temp_dir.hpp"

#include <catch2/catch.hpp>

#include <fstream>

using namespace p2pnet::download;
using p2pnet::test::TempDir;
namespace fs = std::filesystem;

namespace {

const std::string kSha(64, 'a');

void write_text(const fs::path& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

EndedDownload ended(uint64_t id, const std::string& name) {
  return {id, name, kSha, 1234, "saved", "saved x (1234 bytes, sha256 verified)", 1.5, 2};
}

}  // namespace

TEST_CASE("the download history is written atomically and read back") {
  TempDir dir("history");
  const auto path = history_path(dir.path());
  std::deque<EndedDownload> history{ended(1, "one.bin"), ended(2, "two.bin")};
  REQUIRE(write_history(path, history).empty());
  CHECK_FALSE(fs::exists(fs::path(path.string() + ".tmp")));
  std::string warning;
  auto read = read_history(path, warning);
  CHECK(warning.empty());
  REQUIRE(read.size() == 2);
  CHECK(read[1].id == 2);
  CHECK(read[1].name == "two.bin");
  CHECK(read[1].state == "saved");
  CHECK(read[1].elapsed_seconds == Approx(1.5));
  CHECK(read[1].sources == 2);
}

TEST_CASE("a damaged download history is ignored or skipped entry by entry, with a warning") {
  TempDir dir("history");
  const auto path = history_path(dir.path());
  std::string warning;
  CHECK(read_history(path, warning).empty());  // none yet: no warning
  CHECK(warning.empty());

  write_text(path, "{not json");
  CHECK(read_history(path, warning).empty());
  CHECK(warning.find("ignored") != std::string::npos);

  write_text(path, std::string(2 * 1024 * 1024, ' '));
  warning.clear();
  CHECK(read_history(path, warning).empty());
  CHECK(warning.find("larger than") != std::string::npos);

  // Bad entries: a non-hex hash, an unknown state, a huge id, a name with a
  // control character (kept, escaped).
  write_text(path, R"({"version": 1, "downloads": [
    {"id": 1, "name": "a", "sha256": "xyz", "size": 1, "state": "saved", "outcome": "", "elapsed_ms": 1, "sources": 1},
    {"id": 2, "name": "b", "sha256": ")" +
                       kSha + R"(", "size": 1, "state": "odd", "outcome": "", "elapsed_ms": 1, "sources": 1},
    {"id": 99999999999, "name": "c", "sha256": ")" +
                       kSha + R"(", "size": 1, "state": "saved", "outcome": "", "elapsed_ms": 1, "sources": 1},
    {"id": 4, "name": "d\u001b[2J", "sha256": ")" +
                       kSha + R"(", "size": 1, "state": "failed", "outcome": "error: x", "elapsed_ms": 1, "sources": 0}
  ]})");
  warning.clear();
  auto read = read_history(path, warning);
  REQUIRE(read.size() == 1);
  CHECK(read[0].id == 4);
  CHECK(read[0].name.find('\x1b') == std::string::npos);
  CHECK(warning.find("3 damaged entries skipped") != std::string::npos);
}

TEST_CASE("the history keeps the newest entries only") {
  TempDir dir("history");
  std::deque<EndedDownload> history;
  for (uint64_t id = 1; id <= kMaxHistory + 20; ++id) history.push_back(ended(id, "f" + std::to_string(id)));
  REQUIRE(write_history(history_path(dir.path()), history).empty());
  std::string warning;
  auto read = read_history(history_path(dir.path()), warning);
  REQUIRE(read.size() == kMaxHistory);
  CHECK(read.front().id == 21);
  CHECK(read.back().id == kMaxHistory + 20);
}

TEST_CASE("unfinished downloads are NAME.part with a valid NAME.part.json") {
  TempDir dir("downloads");
  PartRecord record{kSha, 100000, 16384, std::string(64, 'b'), std::vector<bool>(7, false)};
  record.verified[0] = record.verified[1] = true;
  write_text(dir / "movie.mkv.part", "");
  write_text(dir / "movie.mkv.part.json", encode_record(record).dump());
  write_text(dir / "orphan.bin.part.json", encode_record(record).dump());  // no .part
  write_text(dir / "broken.bin.part", "");
  write_text(dir / "broken.bin.part.json", "{\"version\": 1}");
  auto parts = find_unfinished_parts(dir.path());
  REQUIRE(parts.size() == 1);
  CHECK(parts[0].name == "movie.mkv");
  CHECK(parts[0].sha256 == kSha);
  CHECK(parts[0].size == 100000);
  CHECK(parts[0].verified_bytes == 2 * 16384);
  CHECK(find_unfinished_parts(dir / "missing").empty());
}
