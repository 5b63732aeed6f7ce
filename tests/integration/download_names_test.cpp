// A source names its file with a right-to-left override (issue 15, item 7):
// the downloader refuses to save under that name, says so with the name
// escaped, and a download by hash alone saves it under the hash prefix.
#include "download_support.hpp"

using namespace p2pnet;
using namespace p2pnet::test;
using namespace p2pnet::test::download_tests;
namespace fs = std::filesystem;

TEST_CASE("a search result named with a bidirectional override is never saved under that name") {
  TempDir shared("shared"), downloads("downloads");
  const std::string evil = "evil\xe2\x80\xaetxt.exe";  // shows as "evilexe.txt"
  const size_t size = 40000;
  auto sha = write_random_file(shared / evil, size, 31);
  TestNode a(file_node(shared.path(), {}, kFakeSearchPlugin));
  TestNode c(file_node({}, {{"download_dir", downloads.path().string()}}, kFakeSearchPlugin));
  REQUIRE(c.connect_to(a) == a.id());
  // Searched again until the answer comes: the first may leave before A's
  // index is ready or end before a slow (sanitized) A answers.
  REQUIRE(wait_until([&] { return c.run("search evil").contains("1 result"); }));

  auto refused = c.run("download --wait 1");
  INFO(refused.text());
  CHECK(refused.status == 1);
  CHECK(
      refused.contains("error: refusing to save result 1 as 'evil\\u{202E}txt.exe': it holds the bidirectional "
                       "control U+202E"));
  CHECK(counter(c, "download.names_refused") == 1);

  auto by_hash = c.run("download --wait " + sha, std::chrono::seconds(60));
  INFO(by_hash.text());
  CHECK(by_hash.status == 0);
  CHECK(by_hash.contains(saved_line(downloads / sha.substr(0, 16), size)));
  for (const auto& entry : fs::directory_iterator(downloads.path()))
    CHECK(entry.path().filename().string().find("\xe2\x80\xae") == std::string::npos);

  auto named = c.run("download --wait " + sha + " " + evil);
  CHECK(named.status == 2);
  CHECK(named.contains("cannot be used as a file name: it holds the bidirectional control U+202E"));
}
