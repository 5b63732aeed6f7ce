// The search plugin's index of the shared folder in a running node: the
// cache across restarts, rescans, what is never shared, and bad settings.
#include "search_nodes.hpp"

#include <nlohmann/json.hpp>

#include <thread>

using namespace p2pnet;
using namespace p2pnet::test;
namespace fs = std::filesystem;

namespace {

// The relative paths `shared` lists.
std::vector<std::string> shared_paths(TestNode& node) {
  std::vector<std::string> out;
  for (const auto& line : node.run("shared").lines)
    if (auto gap = line.find("  "); gap != std::string::npos && line.rfind("not shared:", 0) != 0)
      out.push_back(line.substr(0, gap));
  return out;
}

NodeConfig persistent_config(const fs::path& shared, const fs::path& data_dir) {
  auto config = search_config(shared);
  config.data_dir = data_dir;
  return config;
}

std::unique_ptr<TestNode> restart(const NodeConfig& config) { return std::make_unique<TestNode>(config); }

}  // namespace

TEST_CASE("a restarted node takes unchanged files from its cache and hashes only what changed") {
  TempDir shared("p2pnet-shared"), data("p2pnet-data");
  write_file(shared / "a.txt", "alpha");
  write_file(shared / "sub/b.txt", "bravo");
  write_file(shared / "c.txt", "charlie");
  auto cache = data / "search" / "index.json";
  auto config = persistent_config(shared.path(), data.path());
  auto first = restart(config);
  REQUIRE(wait_until([&] { return counter(*first, "cache_writes") >= 1; }));
  CHECK(counter(*first, "files_hashed") == 3);
  first.reset();
  REQUIRE(fs::exists(cache));
  CHECK_FALSE(fs::exists(data / "search" / "index.json.tmp"));

  auto second = restart(config);
  REQUIRE(wait_until([&] { return counter(*second, "scans_completed") >= 1; }));
  CHECK(counter(*second, "cache_files_loaded") == 3);
  CHECK(counter(*second, "files_hashed") == 0);
  CHECK(shared_paths(*second) == std::vector<std::string>{"a.txt", "c.txt", "sub/b.txt"});
  // The cached index is published at start, before anything is checked.
  auto index = bus_events(*second, "search.index");
  REQUIRE(!index.empty());
  CHECK(index.front()["files"].size() == 3);
  second.reset();

  write_file(shared / "c.txt", "charlie, changed");
  auto third = restart(config);
  REQUIRE(wait_until([&] { return counter(*third, "scans_completed") >= 1; }));
  CHECK(counter(*third, "files_hashed") == 1);
  CHECK(third->run("shared").contains("c.txt  16  " + sha256_hex("charlie, changed").substr(0, 16)));
}

TEST_CASE("a corrupt index cache is ignored with a warning and rewritten") {
  TempDir shared("p2pnet-shared"), data("p2pnet-data");
  write_file(shared / "a.txt", "alpha");
  write_file(shared / "b.txt", "bravo");
  write_file(data / "search" / "index.json", "{\"format\": \"p2pnet-search-index\", \"files\": [tru");
  TestNode node(persistent_config(shared.path(), data.path()));
  REQUIRE(wait_until([&] { return counter(node, "cache_writes") >= 1; }));
  CHECK(counter(node, "cache_corrupt") == 1);
  CHECK(counter(node, "files_hashed") == 2);
  std::ifstream in(data / "search" / "index.json");
  auto rewritten = nlohmann::json::parse(in, nullptr, false);
  REQUIRE(rewritten.is_object());
  CHECK(rewritten["files"].size() == 2);
}

TEST_CASE("rescan picks up new - changed and removed files and publishes the new index") {
  SharingNode a({{"keep.txt", "keep"}, {"change.txt", "before"}, {"remove.txt", "gone soon"}});
  // The first scan's snapshot reaches the bus recorder asynchronously.
  REQUIRE(wait_until([&] { return bus_events(*a, "search.index").size() == 1; }));
  size_t published = 1;
  write_file(a.shared / "new.txt", "new");
  write_file(a.shared / "change.txt", "after, longer");
  auto result = a->run("rescan");
  CHECK(result.status == 0);
  CHECK(result.lines == std::vector<std::string>{"indexed 4 files (2 hashed)"});
  CHECK(a->run("shared").contains("change.txt  13  " + sha256_hex("after, longer").substr(0, 16)));
  REQUIRE(wait_until([&] { return bus_events(*a, "search.index").size() == published + 1; }));
  auto index = bus_events(*a, "search.index");
  CHECK(index.back()["files"].size() == 4);

  fs::remove(a.shared / "remove.txt");
  CHECK(a->run("rescan").lines == std::vector<std::string>{"indexed 3 files (0 hashed)"});
  CHECK(shared_paths(*a) == std::vector<std::string>{"change.txt", "keep.txt", "new.txt"});
  CHECK(counter(*a, "files_removed") == 2);  // change.txt's old version and remove.txt
  // Nothing changed: no new snapshot.
  CHECK(a->run("rescan").lines == std::vector<std::string>{"indexed 3 files (0 hashed)"});
  // Arguments would suggest a rescan of a part only: said, not ignored.
  auto with_argument = a->run("rescan new.txt");
  CHECK(with_argument.status == 1);
  CHECK(with_argument.lines == std::vector<std::string>{"usage: rescan (it takes no arguments)"});
  CHECK(wait_until([&] { return bus_events(*a, "search.index").size() == published + 2; }));
}

TEST_CASE("a periodic rescan finds new files without a command") {
  SharingNode a({{"first.txt", "1"}}, {{"rescan_interval_ms", 100}});
  write_file(a.shared / "second.txt", "2");
  CHECK(wait_until([&] { return shared_paths(*a).size() == 2; }));
}

TEST_CASE("partial downloads and symlinks leading outside the folder are never shared") {
  TempDir outside("p2pnet-outside");
  write_file(outside / "secret.txt", "secret");
  SharingNode a({{"real.txt", "real"},
                 {"sub/in.txt", "inside"},
                 {"movie.mkv.part", "half a movie"},
                 {"movie.mkv.part.json", "{}"}},
                {{"rescan_interval_ms", 0}});
  fs::create_symlink(outside / "secret.txt", a.shared / "escape.txt");
  fs::create_symlink(outside.path(), a.shared / "escape-dir");
  fs::create_symlink(a.shared / "real.txt", a.shared / "alias.txt");
  fs::create_symlink("sub", a.shared / "linked-sub");
  CHECK(a->run("rescan").lines == std::vector<std::string>{"indexed 4 files (2 hashed)"});
  CHECK(shared_paths(*a) == std::vector<std::string>{"alias.txt", "linked-sub/in.txt", "real.txt", "sub/in.txt"});
  CHECK(a->run("shared").contains(
      "not shared: 2 partial downloads, 2 symlinks leading outside, 0 unusable names, 0 special files"));

  SharingNode c;
  REQUIRE(c->connect_to(*a) == a->id());
  CHECK(c->run("search secret").lines == std::vector<std::string>{"0 results"});
  CHECK(c->run("search movie").lines == std::vector<std::string>{"0 results"});
  CHECK(c->run("search alias").lines.back() == "1 result");
}

TEST_CASE("shared lists each refused name escaped - with the reason") {
  SharingNode a({{"good.txt", "good"}, {"sub/bell\a.txt", "ring"}, {"evil\xE2\x80\xAEtxt.exe", "x"}},
                {{"rescan_interval_ms", 0}});
  auto listing = a->run("shared");
  INFO(listing.text());
  CHECK(
      listing.contains("refused: evil\\u{202E}txt.exe (holds the bidirectional control U+202E, which reorders what "
                       "is shown)"));
  CHECK(listing.contains("refused: sub/bell\\x07.txt (holds the control character U+0007)"));
  CHECK(listing.contains(
      "not shared: 0 partial downloads, 0 symlinks leading outside, 2 unusable names, 0 special files"));
  CHECK(listing.lines.back() == "1 file");
}

TEST_CASE("a missing shared_dir is a warning - the node runs and shares once the folder appears") {
  TempDir parent("p2pnet-shared");
  auto folder = parent / "not-yet";
  TestNode node(search_config(folder));
  REQUIRE(wait_until([&] { return counter(node, "scans_completed") >= 1; }));
  auto listing = node.run("shared");
  CHECK(listing.contains("not sharing: shared_dir " + folder.string() + ": No such file or directory"));
  CHECK(listing.lines.back() == "0 files");
  auto failed = node.run("rescan");
  CHECK(failed.status == 1);
  CHECK(failed.contains("error: shared_dir " + folder.string()));

  write_file(folder / "late.txt", "late");
  CHECK(node.run("rescan").lines == std::vector<std::string>{"indexed 1 file (1 hashed)"});
  CHECK_FALSE(node.run("shared").contains("not sharing"));
}

TEST_CASE("a shared_dir that is a file - or empty - shares nothing and says why") {
  TempDir parent("p2pnet-shared");
  write_file(parent / "file", "not a folder");
  TestNode file_node(search_config(parent / "file"));
  REQUIRE(wait_until([&] { return counter(file_node, "scans_completed") >= 1; }));
  CHECK(file_node.run("shared").contains("is not a directory"));

  auto config = test_config();
  config.plugins.push_back(plugin("search", {{"shared_dir", ""}}));
  TestNode off(config);
  CHECK(off.run("shared").contains("not sharing: sharing is off (shared_dir is empty)"));
  CHECK(off.run("rescan").status == 1);
}

TEST_CASE("settings of the wrong type or out of range stop start-up with the key named") {
  auto start_with = [](nlohmann::json settings) -> std::string {
    auto config = test_config();
    config.plugins.push_back(plugin("search", std::move(settings)));
    try {
      TestNode node(config);
    } catch (const StartupError& e) {
      return e.what();
    }
    return "";
  };
  CHECK(start_with({{"shared_dir", 5}}).find("plugins.search.shared_dir: expected a string") != std::string::npos);
  CHECK(start_with({{"default_depth", 0}}).find("plugins.search.default_depth") != std::string::npos);
  CHECK(start_with({{"max_answer_files", 5000}}).find("plugins.search.max_answer_files") != std::string::npos);
}
