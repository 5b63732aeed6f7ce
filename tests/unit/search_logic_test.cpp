// The search plugin's pure parts: queries and globs, name rules, merging of
// answers, the wire messages, the index cache, walking and hashing a folder.
#include "common/sha256.hpp"
#include "file_index.hpp"
#include "index_cache.hpp"
#include "messages.hpp"
#include "names.hpp"
#include "query.hpp"
#include "result_set.hpp"
#include "shared_folder.hpp"
#include "temp_dir.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <fstream>

using namespace p2pnet::search;
namespace fs = std::filesystem;

namespace {

const std::string kShaOfAbc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
const std::string kShaOfEmpty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

Query query(const std::string& text) {
  auto parsed = Query::parse(text, 256);
  REQUIRE(parsed);
  return *parsed;
}

void write(const fs::path& file, const std::string& content) {
  fs::create_directories(file.parent_path());
  std::ofstream(file, std::ios::binary) << content;
}

std::vector<std::string> paths(const WalkResult& walked) {
  std::vector<std::string> out;
  for (const auto& file : walked.files) out.push_back(file.path);
  return out;
}

}  // namespace

TEST_CASE("a plain query matches a case-insensitive part of the file name") {
  auto q = query("RePort");
  CHECK(q.kind() == Query::Kind::substring);
  CHECK(q.matches("annual-report.PDF", kShaOfAbc));
  CHECK(q.matches("REPORT", kShaOfAbc));
  CHECK_FALSE(q.matches("repo.txt", kShaOfAbc));
}

TEST_CASE("case folding is Unicode-aware - accents - Greek - Cyrillic and sharp s") {
  CHECK(query("RÉSUMÉ").matches("résumé.pdf", kShaOfAbc));
  CHECK(query("résumé").matches("MY RÉSUMÉ.PDF", kShaOfAbc));
  CHECK(query("ΣΟΦΙΑ").matches("σοφια.txt", kShaOfAbc));
  CHECK(query("москва").matches("МОСКВА.jpg", kShaOfAbc));
  CHECK(query("STRASSE").matches("straße.txt", kShaOfAbc));
  CHECK(query("*.JPG").matches("ÉTÉ.jpg", kShaOfAbc));
  CHECK_FALSE(query("résumé").matches("resume.pdf", kShaOfAbc));  // folding keeps accents
}

TEST_CASE("glob queries match the whole name with star and question mark") {
  auto q = query("*.TXT");
  CHECK(q.kind() == Query::Kind::glob);
  CHECK(q.matches("notes.txt", kShaOfAbc));
  CHECK_FALSE(q.matches("notes.txt.bak", kShaOfAbc));
  CHECK(query("rep?rt.*").matches("Report.pdf", kShaOfAbc));
  CHECK_FALSE(query("rep?rt.*").matches("repoort.pdf", kShaOfAbc));
  CHECK(glob_match("*", ""));
  CHECK(glob_match("a*b*c", "aXXbYYc"));
  CHECK_FALSE(glob_match("a*b*c", "aXXbYY"));
  CHECK(glob_match("*aab", "aaaab"));
  // '?' is one character, also when it takes several bytes in UTF-8.
  CHECK(glob_match("caf?.txt", "caf\xC3\xA9.txt"));
  CHECK_FALSE(glob_match("caf??.txt", "caf\xC3\xA9.txt"));
}

TEST_CASE("sha256 queries match one exact hash in either case") {
  auto q = query("sha256:" + std::string("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"));
  CHECK(q.kind() == Query::Kind::sha256);
  CHECK(q.matches("anything", kShaOfAbc));
  CHECK_FALSE(q.matches("anything", kShaOfEmpty));
  std::string error;
  CHECK_FALSE(Query::parse("sha256:abc", 256, &error));
  CHECK(error == "sha256: needs 64 hex digits");
}

TEST_CASE("queries that are empty - too long or hold control characters are refused") {
  std::string error;
  CHECK_FALSE(Query::parse("", 256, &error));
  CHECK(error == "empty query");
  CHECK_FALSE(Query::parse(std::string(257, 'a'), 256, &error));
  CHECK(Query::parse(std::string(256, 'a'), 256));
  CHECK_FALSE(Query::parse("a\nb", 256));
  CHECK_FALSE(Query::parse("\xFF\xFE", 256));
}

TEST_CASE("names and relative paths that may be shared") {
  CHECK(is_safe_name("r\xC3\xA9sum\xC3\xA9.pdf"));
  CHECK_FALSE(is_safe_name(""));
  CHECK_FALSE(is_safe_name(".."));
  CHECK_FALSE(is_safe_name("a/b"));
  CHECK_FALSE(is_safe_name("bell\a"));
  CHECK_FALSE(is_safe_name("\xC0\xAF"));  // an overlong '/'
  CHECK_FALSE(is_safe_name(std::string(256, 'x')));
  CHECK(name_refusal("bell\a") == "holds the control character U+0007");
  CHECK(name_refusal("\xE2\x80\xAEtxt.exe") == "holds the bidirectional control U+202E, which reorders what is shown");
  CHECK(name_refusal(std::string(256, 'x')) == "longer than 255 bytes");
  CHECK(name_refusal("fine.txt").empty());
  CHECK(is_safe_relative_path("a/b/c.txt"));
  CHECK_FALSE(is_safe_relative_path("/etc/passwd"));
  CHECK_FALSE(is_safe_relative_path("a/../../b"));
  CHECK_FALSE(is_safe_relative_path("a//b"));
  CHECK(is_partial_download("movie.mkv.part"));
  CHECK(is_partial_download("movie.mkv.part.json"));
  CHECK_FALSE(is_partial_download("movie.part.mkv"));
}

TEST_CASE("answers for one hash from several nodes merge into one numbered result") {
  ResultSet results(10, 5);
  AnsweredFile song{"Song.mp3", 4000, kShaOfAbc}, other{"apple.txt", 3, kShaOfEmpty};
  results.add({std::string(64, 'a'), "10.0.0.1", 9001}, {song});
  results.add({std::string(64, 'b'), "10.0.0.2", 9002}, {song, other});
  results.add({std::string(64, 'b'), "10.0.0.2", 9002}, {song});  // a repeat adds no source
  auto numbered = results.numbered();
  REQUIRE(numbered.size() == 2);
  CHECK(numbered[0].index == 1);
  CHECK(numbered[0].file.name == "apple.txt");  // sorted by name, case-insensitively
  CHECK(numbered[1].index == 2);
  CHECK(numbered[1].sources.size() == 2);
  CHECK(format_result_line(numbered[1]) == "[2] Song.mp3  4000  ba7816bf8f01cfea  (2 sources)");
  auto json = results_json("r1", "song", numbered);
  CHECK(json["results"][1]["sources"][1]["port"] == 9002);
  CHECK(json["results"][1]["sha256"] == kShaOfAbc);
}

TEST_CASE("a result set keeps at most its bounds of results and sources") {
  ResultSet results(2, 1);
  std::vector<AnsweredFile> files;
  for (int i = 0; i < 5; ++i) files.push_back({"f" + std::to_string(i), 1, std::string(63, 'a') + char('0' + i)});
  CHECK(results.add({std::string(64, 'a'), "h", 1}, files) == 3);
  CHECK(results.add({std::string(64, 'b'), "h", 2}, {files[0]}) == 1);
  CHECK(results.size() == 2);
}

TEST_CASE("answers arriving through one peer fill at most a quarter of a file's sources") {
  ResultSet results(10, 8);  // two sources per peer
  AnsweredFile song{"Song.mp3", 4000, kShaOfAbc};
  size_t crowded = 0;
  for (char id : {'a', 'b', 'c', 'd'})
    results.add({std::string(64, id), "10.0.0.1", 9001}, {song}, "attacker", &crowded);
  CHECK(crowded == 2);
  CHECK(results.add({std::string(64, 'e'), "10.0.0.2", 9002}, {song}, "honest", &crowded) == 0);
  auto numbered = results.numbered();
  REQUIRE(numbered.size() == 1);
  CHECK(numbered[0].sources.size() == 3);
  CHECK(numbered[0].sources.back().node_id == std::string(64, 'e'));
}

TEST_CASE("search messages are checked field by field") {
  SearchRequest request{"abc123", "report", 3};
  auto parsed = parse_search(make_search(request), 256);
  REQUIRE(parsed);
  CHECK(parsed->depth == 3);
  for (int bad_depth : {0, -2, 256}) {
    auto message = make_search(request);
    message["depth"] = bad_depth;
    CHECK_FALSE(parse_search(message, 256));
  }
  CHECK_FALSE(parse_search({{"type", "search"}, {"query", "x"}, {"depth", 1}}, 256));
  CHECK_FALSE(parse_search(make_search({"has space", "x", 1}), 256));
  CHECK_FALSE(parse_search(make_search({"id", std::string(300, 'q'), 1}), 256));

  SearchAnswer answer{"abc123", std::string(64, 'e'), "127.0.0.1", 9000, {{"a.txt", 3, kShaOfAbc}}};
  auto message = make_search_result(answer);
  message["files"].push_back({{"name", "../../etc/passwd"}, {"size", 1}, {"sha256", kShaOfAbc}});
  message["files"].push_back({{"name", "b.txt"}, {"size", -1}, {"sha256", kShaOfAbc}});
  size_t bad = 0;
  auto checked = parse_search_result(message, &bad);
  REQUIRE(checked);
  CHECK(bad == 2);
  CHECK(checked->files.size() == 1);
  message["node_id"] = "not-an-id";
  CHECK_FALSE(parse_search_result(message, &bad));
}

TEST_CASE("a search answer names the answering node's relay, and a malformed relay is left out") {
  const std::string relay_id(64, 'c'), node(64, 'e');
  SearchAnswer answer{
      "abc123", node, "10.0.1.2", 9000, {{"a.txt", 3, kShaOfAbc}}, p2pnet::RelayAddress{relay_id, "192.0.2.10", 9000}};
  auto message = make_search_result(answer);
  auto checked = parse_search_result(message, nullptr);
  REQUIRE(checked);
  REQUIRE(checked->relay);
  CHECK(checked->relay->id == relay_id);
  CHECK(checked->relay->host == "192.0.2.10");
  CHECK(checked->relay->port == 9000);
  CHECK_FALSE(parse_search_result(make_search_result({"abc123", node, "10.0.1.2", 9000, {{"a.txt", 3, kShaOfAbc}}, {}}),
                                  nullptr)
                  ->relay);
  for (auto bad_relay : {nlohmann::json(7), nlohmann::json{{"id", node}, {"host", "192.0.2.10"}, {"port", 9000}},
                         nlohmann::json{{"id", relay_id}, {"host", ""}, {"port", 9000}}}) {
    message["relay"] = bad_relay;
    auto without = parse_search_result(message, nullptr);
    REQUIRE(without);  // the files stand
    CHECK(without->files.size() == 1);
    CHECK_FALSE(without->relay);
  }
}

TEST_CASE("the index cache round-trips and a corrupt one is reported as corrupt") {
  p2pnet::test::TempDir dir("p2pnet-search-cache");
  auto file = dir / "search" / "index.json";
  CHECK(load_index_cache(file).status == CacheLoad::Status::missing);
  CachedIndex index{"/srv/shared", {{"a/b.txt", 3, kShaOfAbc, 1700000000123456789}, {"c", 0, kShaOfEmpty, -5}}};
  save_index_cache(file, index);
  CHECK_FALSE(fs::exists(dir / "search" / "index.json.tmp"));
  auto loaded = load_index_cache(file);
  REQUIRE(loaded.status == CacheLoad::Status::loaded);
  CHECK(loaded.index.shared_dir == "/srv/shared");
  CHECK(loaded.index.files == index.files);

  write(file, "{\"format\":\"p2pnet-search-index\",\"version\":1,\"shared_dir\":\"/x\",\"fil");
  CHECK(load_index_cache(file).status == CacheLoad::Status::corrupt);
  index.files.push_back({"../escape", 1, kShaOfAbc, 0});
  save_index_cache(file, index);
  auto refused = load_index_cache(file);
  CHECK(refused.status == CacheLoad::Status::corrupt);
  CHECK(refused.problem.find("../escape") != std::string::npos);
}

TEST_CASE("walking a folder skips partial downloads - special files and symlinks that lead outside") {
  p2pnet::test::TempDir outside("p2pnet-outside"), shared("p2pnet-shared");
  write(outside / "secret.txt", "secret");
  write(shared / "real.txt", "abc");
  write(shared / "sub" / "deep.txt", "deep");
  write(shared / "movie.mkv.part", "partial");
  write(shared / "movie.mkv.part.json", "{}");
  write(shared / "state" / "node_id", "identity");
  fs::create_symlink(shared / "real.txt", shared / "alias.txt");
  fs::create_symlink("sub", shared / "sub-link");
  fs::create_symlink(outside / "secret.txt", shared / "escape.txt");
  fs::create_symlink(outside.path(), shared / "escape-dir");
  fs::create_symlink("..", shared / "sub" / "loop");
  fs::create_symlink(shared / "nowhere", shared / "dangling");
  REQUIRE(::mkfifo((shared / "pipe").c_str(), 0600) == 0);

  std::atomic<bool> stop{false};
  auto walked = walk_shared_folder(shared.path(), {shared / "state"}, stop);
  REQUIRE(walked.error.empty());
  CHECK(walked.root == fs::canonical(shared.path()));
  CHECK(paths(walked) == std::vector<std::string>{"alias.txt", "real.txt", "sub-link/deep.txt", "sub/deep.txt"});
  CHECK(walked.partial_downloads == 2);
  CHECK(walked.symlinks_outside == 3);
  CHECK(walked.special_files == 1);
  CHECK(walked.files[1].size == 3);

  auto missing = walk_shared_folder(shared / "nope", {}, stop);
  CHECK(missing.error.find("shared_dir") != std::string::npos);
  auto not_dir = walk_shared_folder(shared / "real.txt", {}, stop);
  CHECK(not_dir.error.find("is not a directory") != std::string::npos);
}

TEST_CASE("the hasher gives the SHA-256 of each file across as many steps as it takes") {
  p2pnet::test::TempDir shared("p2pnet-shared");
  std::string big(3 * 1000 * 1000 + 7, 'z');
  write(shared / "abc.txt", "abc");
  write(shared / "empty", "");
  write(shared / "big.bin", big);
  p2pnet::Sha256 expected;
  expected.update(big.data(), big.size());
  std::string big_sha = p2pnet::to_hex(expected.finish());

  std::atomic<bool> stop{false};
  auto walked = walk_shared_folder(shared.path(), {}, stop);
  Hasher hasher(walked.root, walked.files);
  std::map<std::string, std::string> hashes;
  int steps = 0;
  while (!hasher.done() && steps < 1000) {
    auto step = hasher.step(256 * 1024, std::chrono::seconds(5), stop);
    CHECK(step.failed.empty());
    for (const auto& file : step.hashed) hashes[file.path] = file.sha256;
    ++steps;
  }
  CHECK(steps >= 12);  // 3 MB in 256 KiB steps
  CHECK(hashes["abc.txt"] == kShaOfAbc);
  CHECK(hashes["empty"] == kShaOfEmpty);
  CHECK(hashes["big.bin"] == big_sha);
  CHECK(big_sha != kShaOfEmpty);
}
