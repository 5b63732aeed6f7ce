// The download plugin's pure parts: chunking and stored chunk manifests, path safety, the resume record, file
// names, the .part lifecycle on disk, the rate limiter and the progress line.
#include "common/chunk_hasher.hpp"
#include "common/chunk_manifest.hpp"
#include "common/sha256.hpp"
#include "part_file.hpp"
#include "part_record.hpp"
#include "progress_format.hpp"
#include "protocol.hpp"
#include "rate_limiter.hpp"
#include "search_results.hpp"
#include "shared_index.hpp"
#include "temp_dir.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

using namespace p2pnet;
using namespace p2pnet::download;
namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string digests_of(const std::string& data, int64_t chunk_size) {
  std::string out;
  for (size_t offset = 0; offset < data.size(); offset += static_cast<size_t>(chunk_size)) {
    auto digest = sha256_of(std::string_view(data).substr(offset, static_cast<size_t>(chunk_size)));
    out.append(reinterpret_cast<const char*>(digest.data()), digest.size());
  }
  return out;
}

}  // namespace

TEST_CASE("sha256 hex matches the known vector and only lowercase hex is accepted") {
  CHECK(to_hex(sha256_of("abc")) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(is_sha256_hex(to_hex(sha256_of(""))));
  CHECK_FALSE(is_sha256_hex("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"));
  CHECK_FALSE(is_sha256_hex("abc"));
}

TEST_CASE("only relative paths without dot components are safe") {
  CHECK(is_safe_relative_path("a.txt"));
  CHECK(is_safe_relative_path("dir/sub/a.txt"));
  CHECK(is_safe_relative_path("..hidden/a..b"));
  CHECK_FALSE(is_safe_relative_path(""));
  CHECK_FALSE(is_safe_relative_path("/etc/passwd"));
  CHECK_FALSE(is_safe_relative_path("../secret"));
  CHECK_FALSE(is_safe_relative_path("dir/../../secret"));
  CHECK_FALSE(is_safe_relative_path("dir//a"));
  CHECK_FALSE(is_safe_relative_path("dir/./a"));
  CHECK_FALSE(is_safe_relative_path("dir/"));
}

TEST_CASE("an indexed mtime matches in seconds - milliseconds - microseconds or nanoseconds") {
  struct stat info {};
  info.st_mtim.tv_sec = 1700000000;
  info.st_mtim.tv_nsec = 123456789;
  CHECK(mtime_matches(1700000000, info));
  CHECK(mtime_matches(1700000000123, info));
  CHECK(mtime_matches(1700000000123456, info));
  CHECK(mtime_matches(1700000000123456789, info));
  CHECK_FALSE(mtime_matches(1700000001, info));
  CHECK_FALSE(mtime_matches(0, info));
}

TEST_CASE("an index snapshot keeps valid entries and counts the rest") {
  const std::string sha(64, 'a');
  nlohmann::json event = {{"shared_dir", "/srv/share"},
                          {"files",
                           {{{"path", "a.txt"}, {"size", 3}, {"sha256", sha}, {"mtime", 5}},
                            {{"path", "b.txt"}, {"size", -1}, {"sha256", sha}, {"mtime", 5}},
                            {{"path", "c.txt"}, {"size", 3}, {"sha256", "XYZ"}, {"mtime", 5}},
                            "garbage"}}};
  auto index = parse_index(event);
  REQUIRE(index);
  CHECK(index->find(sha).size() == 1);
  CHECK(index->rejected == 3);
  CHECK_FALSE(parse_index({{"shared_dir", "relative"}, {"files", nlohmann::json::array()}}));
  CHECK_FALSE(parse_index({{"files", nlohmann::json::array()}}));
}

TEST_CASE("the record round-trips and damaged records are ignored") {
  PartRecord record{std::string(64, 'b'), 100000, 16384, std::string(64, 'c'), std::vector<bool>(7, false)};
  record.verified[0] = record.verified[1] = record.verified[4] = true;
  auto json = encode_record(record);
  CHECK(json["verified"] == nlohmann::json::parse("[[0,2],[4,5]]"));
  auto back = decode_record(json);
  REQUIRE(back);
  CHECK(back->verified == record.verified);
  CHECK(back->verified_count() == 3);

  auto broken = json;
  broken["chunks"] = 8;  // inconsistent with size and chunk_size
  CHECK_FALSE(decode_record(broken));
  broken = json;
  broken["verified"] = nlohmann::json::parse("[[0,9]]");
  CHECK_FALSE(decode_record(broken));
  broken = json;
  broken["verified"] = nlohmann::json::parse("[[4,5],[0,2]]");  // unsorted
  CHECK_FALSE(decode_record(broken));
  CHECK_FALSE(decode_record(nlohmann::json::array()));
}

TEST_CASE("file names from the network are reduced to a safe base name") {
  CHECK(sanitize_file_name("report.txt") == "report.txt");
  CHECK(sanitize_file_name("../../etc/passwd") == "passwd");
  CHECK(sanitize_file_name("dir\\evil.exe") == "evil.exe");
  CHECK(sanitize_file_name("a\nb\tc") == "abc");
  CHECK(sanitize_file_name("..").empty());
  CHECK(sanitize_file_name("dir/").empty());
  CHECK(sanitize_file_name("movie.part") == "movie.part_");
  CHECK(sanitize_file_name("x.part.json") == "x.part.json_");
  CHECK(sanitize_file_name(std::string(300, 'n')).size() == 200);
  CHECK(numbered_name("report.txt", 0) == "report.txt");
  CHECK(numbered_name("report.txt", 2) == "report (2).txt");
  CHECK(numbered_name("archive.tar.gz", 1) == "archive.tar (1).gz");
  CHECK(numbered_name(".bashrc", 1) == ".bashrc (1)");
  CHECK(numbered_name("README", 3) == "README (3)");
}

TEST_CASE("a part file is created beside existing files - resumed by hash - verified and renamed without overwriting") {
  p2pnet::test::TempDir dir("parts");
  const std::string data = std::string(10000, 'x') + std::string(5000, 'y');
  const std::string sha = to_hex(sha256_of(data));
  const int64_t chunk_size = 4096;
  const std::string digests = digests_of(data, chunk_size);
  std::ofstream(dir / "file.bin") << "mine";

  auto prepared = prepare_part(dir.path(), "file.bin", sha);
  REQUIRE(prepared.error.empty());
  CHECK(prepared.paths.name == "file (1).bin");
  CHECK_FALSE(prepared.record);
  for (int64_t chunk = 0; chunk < 4; ++chunk) {
    auto piece = data.substr(static_cast<size_t>(chunk * chunk_size), static_cast<size_t>(chunk_size));
    REQUIRE(prepared.file->write(chunk * chunk_size, piece.data(), piece.size()).empty());
  }
  PartRecord record{
      sha, static_cast<int64_t>(data.size()), chunk_size, to_hex(sha256_of(digests)), {true, true, false, false}};
  REQUIRE(write_record(*prepared.file, prepared.paths.record, record).empty());

  // Another hash never resumes this .part; the same hash does.
  auto other = prepare_part(dir.path(), "file.bin", std::string(64, '0'));
  CHECK(other.paths.name == "file (2).bin");
  auto resumed = prepare_part(dir.path(), "file.bin", sha);
  REQUIRE(resumed.record);
  CHECK(resumed.paths.name == "file (1).bin");
  CHECK(resumed.record->verified_count() == 2);

  // A chunk damaged on disk is found by the final check and nothing is renamed.
  REQUIRE(resumed.file->write(5000, "zz", 2).empty());
  auto bad = finish_part(*resumed.file, dir.path(), resumed.paths, static_cast<int64_t>(data.size()), chunk_size,
                         digests, sha);
  CHECK(bad.error.empty());
  CHECK_FALSE(bad.verified);
  CHECK(bad.bad_chunks == std::vector<int64_t>{1});
  CHECK_FALSE(fs::exists(dir / "file (1).bin"));

  REQUIRE(resumed.file->write(4096, data.data() + 4096, 4096).empty());
  std::ofstream(dir / "file (1).bin") << "appeared meanwhile";
  auto good = finish_part(*resumed.file, dir.path(), resumed.paths, static_cast<int64_t>(data.size()), chunk_size,
                          digests, sha);
  CHECK(good.error.empty());
  REQUIRE(good.verified);
  CHECK(good.saved == dir / "file (2).bin");  // (1) appeared meanwhile; a .part does not take a final name
  CHECK(slurp(good.saved) == data);
  CHECK(slurp(dir / "file.bin") == "mine");
  CHECK(slurp(dir / "file (1).bin") == "appeared meanwhile");
  CHECK_FALSE(fs::exists(resumed.paths.part));
  CHECK_FALSE(fs::exists(resumed.paths.record));
}

TEST_CASE("the whole-file hash taken while downloading matches the file - a wrong one makes the end read it again") {
  p2pnet::test::TempDir dir("parts");
  std::string data;
  for (int64_t i = 0; data.size() < 3 * 1024 * 1024 + 777; ++i) data += std::to_string(i * 7919) + ",";
  const std::string sha = to_hex(sha256_of(data));
  const int64_t size = static_cast<int64_t>(data.size());
  const int64_t chunk_size = 65536;
  auto prepared = prepare_part(dir.path(), "whole.bin", sha);
  REQUIRE(prepared.error.empty());
  REQUIRE(prepared.file->write(0, data.data(), data.size()).empty());

  // Hashed in steps that do not fall on chunk or buffer boundaries.
  Sha256 hash;
  REQUIRE(hash_range(*prepared.file, 0, 1000, hash).empty());
  REQUIRE(hash_range(*prepared.file, 1000, 2 * 1024 * 1024 + 3, hash).empty());
  REQUIRE(hash_range(*prepared.file, 2 * 1024 * 1024 + 3, size, hash).empty());
  CHECK(to_hex(hash.finish()) == sha);
  Sha256 beyond;
  CHECK(hash_range(*prepared.file, size - 10, size + 10, beyond).find("file is short") != std::string::npos);

  auto finished = finish_part(*prepared.file, dir.path(), prepared.paths, size, chunk_size,
                              digests_of(data, chunk_size), sha, std::string(64, '0'));
  CHECK(finished.error.empty());
  REQUIRE(finished.verified);
  CHECK(slurp(dir / "whole.bin") == data);
}

TEST_CASE("an unusable download_dir is reported") {
  p2pnet::test::TempDir dir("parts");
  std::ofstream(dir / "plain") << "x";
  auto prepared = prepare_part(dir / "plain" / "sub", "a.bin", std::string(64, 'a'));
  CHECK(prepared.error.rfind("cannot create download_dir " + (dir / "plain" / "sub").string() + ": ", 0) == 0);
}

TEST_CASE("the rate limiter keeps the long-run rate") {
  using namespace std::chrono;
  auto start = RateLimiter::Clock::time_point{};
  RateLimiter limiter(100000, start);
  int64_t taken = 0;
  for (int ms = 0; ms <= 2000; ++ms) {
    auto now = start + milliseconds(ms);
    while (limiter.try_take(1000, now)) taken += 1000;
  }
  CHECK(taken >= 200000);
  CHECK(taken <= 212000);  // two seconds at 100 kB/s plus the initial burst
  CHECK(limiter.wait(start + milliseconds(2000)).count() > 0);
  CHECK(RateLimiter(0).try_take(1 << 30));
}

TEST_CASE("the progress line shows bytes - percent - speed - eta and sources") {
  CHECK(progress_line({"a.bin", 512, 1024, 256, 2}) == "a.bin  512/1024 bytes  50.0%  256 B/s  ETA 0:02  2 sources");
  // No speed measured yet: neither a speed nor an ETA is shown.
  CHECK(progress_line({"a.bin", 0, 3 << 20, 0, 1}) == "a.bin  0/3145728 bytes  0.0%  1 source");
  CHECK(human_bytes(1536) == "1.5 KiB");
  CHECK(format_duration(3725) == "1:02:05");
}

TEST_CASE("search results are read with bounds") {
  const std::string sha(64, 'd'), node(64, 'e');
  nlohmann::json event = {
      {"request", ""},
      {"query", "q"},
      {"results",
       {{{"index", 1},
         {"name", "x"},
         {"size", 10},
         {"sha256", sha},
         {"sources", {{{"node_id", node}, {"host", "127.0.0.1"}, {"port", 9000}}, {{"node_id", "short"}}}}},
        {{"index", 2}, {"name", "y"}, {"size", -5}, {"sha256", sha}, {"sources", nlohmann::json::array()}}}}};
  auto results = parse_search_results(event);
  REQUIRE(results);
  REQUIRE(results->results.size() == 1);
  REQUIRE(results->find(1));
  CHECK(results->find(1)->sources.size() == 1);
  CHECK(results->find(1)->sources[0].port == 9000);
  CHECK_FALSE(results->find(2));
  CHECK_FALSE(parse_search_results({{"results", nlohmann::json::array()}}));
}

TEST_CASE("chunk arithmetic covers the last short chunk") {
  CHECK(chunk_count(0, 4096) == 0);
  CHECK(chunk_count(4096, 4096) == 1);
  CHECK(chunk_count(4097, 4096) == 2);
  CHECK(chunk_length(4097, 4096, 1) == 1);
  CHECK(chunk_length(8192, 4096, 1) == 4096);
}

TEST_CASE("a file's chunk size doubles until it has at most the chunk limit - the rule search and download share") {
  CHECK(chunk_size_for(0, kDefaultChunkSize) == kDefaultChunkSize);
  CHECK(chunk_size_for(kMaxChunks * kDefaultChunkSize, kDefaultChunkSize) == kDefaultChunkSize);
  CHECK(chunk_size_for(kMaxChunks * kDefaultChunkSize + 1, kDefaultChunkSize) == 2 * kDefaultChunkSize);
  CHECK(chunk_size_for(int64_t{1} << 50, kDefaultChunkSize) == kMaxChunkSize);
}

TEST_CASE("chunk hashes do not depend on how the data is fed") {
  std::string data(3 * 4096 + 17, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7);
  std::string expected;
  for (size_t offset = 0; offset < data.size(); offset += 4096) {
    Digest digest = sha256_of(std::string_view(data).substr(offset, 4096));
    expected.append(reinterpret_cast<const char*>(digest.data()), digest.size());
  }
  for (size_t piece : {size_t{1}, size_t{1000}, size_t{4096}, size_t{5000}, data.size()}) {
    ChunkHasher hasher(4096);
    for (size_t offset = 0; offset < data.size(); offset += piece)
      hasher.update(data.data() + offset, std::min(piece, data.size() - offset));
    INFO(piece);
    CHECK(hasher.finish() == expected);
  }
  CHECK(ChunkHasher(4096).finish().empty());
}

TEST_CASE("a stored chunk manifest reads back - and every kind of damage is refused with the reason") {
  p2pnet::test::TempDir dir("manifests");
  const std::string sha(64, 'a');
  ChunkManifest manifest{sha, 3 * 4096 + 1, 1234567890123456789, 4096, std::string(4 * kDigestSize, 'x')};
  save_chunk_manifest(dir.path(), manifest);
  const auto file = chunk_manifest_path(dir.path(), sha);
  CHECK_FALSE(fs::exists(file.string() + ".tmp"));
  auto loaded = load_chunk_manifest(dir.path(), sha);
  REQUIRE(loaded.manifest);
  CHECK(loaded.manifest->size == manifest.size);
  CHECK(loaded.manifest->mtime == manifest.mtime);
  CHECK(loaded.manifest->chunk_size == 4096);
  CHECK(loaded.manifest->digests == manifest.digests);

  CHECK(load_chunk_manifest(dir.path(), std::string(64, 'b')).missing);
  CHECK(load_chunk_manifest(dir.path(), "../" + sha).problem == "not a SHA-256: ../" + sha);

  const std::string good = slurp(file);
  auto refusal = [&](const std::string& content) {
    std::ofstream(file, std::ios::binary | std::ios::trunc) << content;
    auto load = load_chunk_manifest(dir.path(), sha);
    CHECK_FALSE(load.manifest);
    CHECK_FALSE(load.missing);
    return load.problem;
  };
  const size_t header_end = good.find('\n');
  auto header = nlohmann::json::parse(good.substr(0, header_end));
  const std::string digests = good.substr(header_end + 1);
  auto with = [&](const std::string& key, const nlohmann::json& value) {
    auto changed = header;
    changed[key] = value;
    return changed.dump() + "\n" + digests;
  };
  CHECK(refusal(good.substr(0, good.size() - 1)) == "holds 127 bytes of digests, not 128");
  CHECK(refusal(good + std::string(5 << 20, 'x')).find("more than a manifest can be") != std::string::npos);
  CHECK(refusal(std::string(2000, ' ') + "\n") == "no header line");
  CHECK(refusal("[1]\n" + digests) == "the header is not a JSON object");
  CHECK(refusal(with("version", 2)) == "unknown format or version");
  CHECK(refusal(with("sha256", std::string(64, 'c'))) == "made for another file (cccccccccccccccc...)");
  CHECK(refusal(with("chunk_size", 5000)) == "chunk_size is not a power of two");
  CHECK(refusal(with("size", 4096)) == "the chunk count does not fit the size");
  CHECK(refusal(with("size", -1)) == "a header field is missing or bad");
  std::string flipped = good;
  flipped.back() = 'y';
  CHECK(refusal(flipped) == "the digests do not match their check");
}
