// The serving side of the download protocol, spoken by hand: only files of
// the latest index are served, and only from inside shared_dir; every field
// of a request is checked; uploads are bounded.
#include "download_support.hpp"
#include "log_capture.hpp"
#include "raw_peer.hpp"

#include <p2pnet/hex.hpp>

#include <sys/stat.h>

using namespace p2pnet;
using namespace p2pnet::test;
using namespace p2pnet::test::download_tests;
namespace fs = std::filesystem;

namespace {

// A sharing node that RawPeer can talk to: RawPeer speaks plaintext frames,
// so a core that encrypts connections must be told not to for this node.
template <class Config>
Config plaintext(Config config) {
  if constexpr (requires { config.encryption; }) config.encryption = false;
  return config;
}

const std::vector<std::string> kDownloaderTypes = {"download.manifest", "download.chunk", "download.error"};

// The next frame that is not a hello or a ping.
std::optional<RawFrame> next_answer(RawPeer& peer) {
  for (int i = 0; i < 20; ++i) {
    auto frame = peer.read_frame();
    if (!frame) return std::nullopt;
    if (frame->type().rfind("download.", 0) == 0) return frame;
  }
  return std::nullopt;
}

nlohmann::json ask(RawPeer& peer, nlohmann::json request, std::string* body = nullptr) {
  if (!peer.send_json(request)) return {};
  auto answer = next_answer(peer);
  if (!answer) return {};
  if (body) *body = answer->body;
  return answer->json();
}

nlohmann::json manifest_request(int64_t id, const std::string& sha, int64_t chunk_size = 4096) {
  return {{"type", "download.get_manifest"}, {"id", id}, {"sha256", sha}, {"chunk_size", chunk_size}};
}

nlohmann::json chunk_request(int64_t id, const std::string& sha, int64_t index, int64_t chunk_size = 4096) {
  return {{"type", "download.get_chunk"}, {"id", id}, {"sha256", sha}, {"chunk_size", chunk_size}, {"index", index}};
}

std::string hex(const std::string& bytes) {
  return to_hex(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
}

int64_t mtime_seconds(const fs::path& path) {
  struct stat info {};
  ::stat(path.c_str(), &info);
  return info.st_mtime;
}

}  // namespace

TEST_CASE("a source serves indexed files and refuses unknown hashes and paths outside shared_dir") {
  TempDir root("root");
  const auto shared = root / "shared";
  const auto outside = root / "outside";
  auto ok_sha = write_random_file(shared / "ok.bin", 10000, 11);
  auto dots_sha = write_random_file(outside / "dots.bin", 1000, 12);
  auto absolute_sha = write_random_file(outside / "absolute.bin", 1000, 13);
  auto link_sha = write_random_file(outside / "linked.bin", 1000, 14);
  fs::create_symlink(outside / "linked.bin", shared / "link.bin");
  TestNode a(plaintext(file_node(shared, {}, kFakeSearchPlugin)));
  REQUIRE(a.run("fake-rescan").contains("indexed 1 file"));  // the symlink is not indexed...
  // ... but an index that lists such entries must not make them readable.
  auto add = [&](const std::string& path, const fs::path& file, const std::string& sha) {
    return a.run("fake-index-add " + path + " " + std::to_string(fs::file_size(file)) + " " + sha + " " +
                 std::to_string(mtime_seconds(file)));
  };
  REQUIRE(add("../outside/dots.bin", outside / "dots.bin", dots_sha).status == 0);
  REQUIRE(add((outside / "absolute.bin").string(), outside / "absolute.bin", absolute_sha).status == 0);
  REQUIRE(add("link.bin", outside / "linked.bin", link_sha).status == 0);

  RawPeer peer(a.port());
  REQUIRE(peer.handshake(random_id(), kDownloaderTypes));

  SECTION("an indexed file: manifest and chunks") {
    std::string body;
    auto manifest = ask(peer, manifest_request(1, ok_sha), &body);
    REQUIRE(manifest.value("type", "") == "download.manifest");
    CHECK(manifest["id"] == 1);
    CHECK(manifest["size"] == 10000);
    CHECK(manifest["chunk_size"] == 4096);
    CHECK(manifest["chunks"] == 3);
    const std::string data = read_file(shared / "ok.bin");
    REQUIRE(body.size() == 3 * 32);
    for (size_t i = 0; i < 3; ++i) CHECK(hex(body.substr(i * 32, 32)) == sha256_hex(data.substr(i * 4096, 4096)));
    std::string chunk;
    auto answer = ask(peer, chunk_request(2, ok_sha, 2), &chunk);
    CHECK(answer.value("type", "") == "download.chunk");
    CHECK(answer["index"] == 2);
    CHECK(chunk == data.substr(8192));
    // Counted once sent, so perhaps just after the answer arrived.
    CHECK(wait_until([&] { return counter(a, "download.manifests_served") == 1; }));
    CHECK(wait_until([&] { return counter(a, "download.chunks_served") == 1; }));
  }
  SECTION("unknown hashes and paths that leave shared_dir are refused") {
    auto unknown = ask(peer, manifest_request(1, std::string(64, 'f')));
    CHECK(unknown.value("type", "") == "download.error");
    CHECK(unknown.value("code", "") == "unknown");
    CHECK(unknown["id"] == 1);
    int64_t id = 10;
    for (const auto& sha : {dots_sha, absolute_sha, link_sha}) {
      auto manifest = ask(peer, manifest_request(++id, sha));
      CHECK(manifest.value("code", "") == "unavailable");
      auto chunk = ask(peer, chunk_request(++id, sha, 0));
      CHECK(chunk.value("code", "") == "unavailable");
    }
    CHECK(counter(a, "download.refused_unsafe_paths") == 6);
    CHECK(counter(a, "download.requests_unknown") == 1);
    CHECK(counter(a, "download.chunks_served") == 0);
  }
  SECTION("a file changed since it was indexed is refused") {
    std::ofstream(shared / "ok.bin", std::ios::app) << "more";
    auto chunk = ask(peer, chunk_request(1, ok_sha, 0));
    CHECK(chunk.value("code", "") == "unavailable");
    CHECK(counter(a, "download.refused_changed_files") == 1);
  }
  SECTION("malformed requests get bad_request") {
    CHECK(ask(peer, chunk_request(1, ok_sha, 3)).value("code", "") == "bad_request");  // past the end
    CHECK(ask(peer, chunk_request(2, ok_sha, -1)).value("code", "") == "bad_request");
    CHECK(ask(peer, manifest_request(3, ok_sha, 100)).value("code", "") == "bad_request");  // chunk too small
    CHECK(ask(peer, manifest_request(4, ok_sha, int64_t{1} << 40)).value("code", "") == "bad_request");
    CHECK(ask(peer, manifest_request(5, "ABC")).value("code", "") == "bad_request");
    CHECK(ask(peer, {{"type", "download.get_chunk"}, {"sha256", ok_sha}}).value("code", "") == "bad_request");
    CHECK(ask(peer, {{"type", "download.get_manifest"}, {"id", "7"}, {"sha256", ok_sha}, {"chunk_size", 4096}})
              .value("code", "") == "bad_request");
    CHECK(counter(a, "download.bad_requests") == 7);
    // The connection survives all of it.
    CHECK(ask(peer, manifest_request(8, ok_sha)).value("type", "") == "download.manifest");
  }
}

TEST_CASE("a chunk size that is not a power of two is refused - the source computes no manifest for it") {
  TempDir shared("shared");
  auto sha = write_random_file(shared / "sizes.bin", 100000, 15);
  TestNode a(plaintext(file_node(shared.path(), {}, kFakeSearchPlugin)));
  REQUIRE(a.run("fake-rescan").contains("indexed 1 file"));
  RawPeer peer(a.port());
  REQUIRE(peer.handshake(random_id(), kDownloaderTypes));
  int64_t id = 0;
  for (int64_t size : {5000, 4097, 12288, 262143, 8388607}) {
    auto answer = ask(peer, manifest_request(++id, sha, size));
    INFO(size);
    CHECK(answer.value("code", "") == "bad_request");
  }
  CHECK(ask(peer, chunk_request(++id, sha, 0, 12288)).value("code", "") == "bad_request");
  CHECK(counter(a, "download.bad_requests") == 6);
  CHECK(counter(a, "download.manifests_served") == 0);
  CHECK(ask(peer, manifest_request(++id, sha, 8192)).value("type", "") == "download.manifest");
}

TEST_CASE("a chunk_size setting that is not a power of two stops start-up with the key named") {
  auto start_with = [](int64_t chunk_size) -> std::string {
    auto config = test_config();
    config.plugins.push_back(plugin("download", {{"chunk_size", chunk_size}}));
    try {
      TestNode node(config);
    } catch (const StartupError& e) {
      return e.what();
    }
    return "";
  };
  CHECK(start_with(100000).find("plugins.download.chunk_size: expected a power of two from 4096 to 8388608, got "
                                "100000") != std::string::npos);
  CHECK(start_with(65536).empty());
}

TEST_CASE("uploads are bounded - extra downloaders are told busy until a slot is released") {
  TempDir shared("shared");
  auto sha = write_random_file(shared / "popular.bin", 20000, 15);
  auto other = write_random_file(shared / "other.bin", 20000, 16);
  TestNode a(plaintext(file_node(shared.path(), {{"max_uploads", 2}}, kFakeSearchPlugin)));
  REQUIRE(a.run("fake-rescan").contains("indexed 2 files"));
  RawPeer first(a.port()), second(a.port()), third(a.port());
  for (auto* peer : {&first, &second, &third}) REQUIRE(peer->handshake(random_id(), kDownloaderTypes));
  CHECK(ask(first, manifest_request(1, sha)).value("type", "") == "download.manifest");
  // One peer holds at most half of the slots, however many files it asks for.
  CHECK(ask(first, manifest_request(2, other)).value("code", "") == "busy");
  CHECK(ask(second, manifest_request(1, sha)).value("type", "") == "download.manifest");
  CHECK(ask(third, manifest_request(1, sha)).value("code", "") == "busy");
  CHECK(ask(third, chunk_request(2, sha, 0)).value("code", "") == "busy");
  CHECK(ask(first, chunk_request(3, sha, 0)).value("type", "") == "download.chunk");
  REQUIRE(first.send_json({{"type", "download.release"}, {"sha256", sha}}));
  CHECK(wait_until([&] { return ask(third, manifest_request(3, sha)).value("type", "") == "download.manifest"; }));
  CHECK(counter(a, "download.busy_refusals") >= 3);
}

// --- Manifests computed while indexing ------------------------------------------
//
// The stock search plugin hashes each chunk (at the default chunk size) in the
// same pass as the whole file and stores the manifest in the data dir, so the
// first manifest request is answered without reading the file again.

namespace {

constexpr int64_t kDefaultChunk = 256 * 1024;
constexpr size_t kThreeChunks = 2 * kDefaultChunk + 1000;

// The chunk hashes of `data`, as a manifest body holds them.
std::string chunk_digests(const std::string& data, size_t chunk_size) {
  std::string out;
  for (size_t offset = 0; offset < data.size(); offset += chunk_size) {
    std::string hex_digest = sha256_hex(data.substr(offset, chunk_size));
    for (size_t i = 0; i < hex_digest.size(); i += 2)
      out.push_back(static_cast<char>(std::stoi(hex_digest.substr(i, 2), nullptr, 16)));
  }
  return out;
}

fs::path stored_manifest(TestNode& node, const std::string& sha) {
  return node.data_dir() / "search" / "manifests" / (sha + ".chunks");
}

bool first_scan_done(TestNode& node) { return counter(node, "search.scans_completed") >= 1; }

// The manifest `node` serves for `sha` at `chunk_size`: its body, or "" with
// the error printed. Asked again while the hash is unknown: the index reaches
// the download plugin over the bus a moment after the scan ends.
std::string served_digests(TestNode& node, const std::string& sha, int64_t chunk_size = kDefaultChunk) {
  RawPeer peer(node.port());
  if (!peer.handshake(random_id(), kDownloaderTypes)) return "";
  std::string body;
  nlohmann::json answer;
  int64_t id = 0;
  wait_until([&] {
    answer = ask(peer, manifest_request(++id, sha, chunk_size), &body);
    return answer.value("code", "") != "unknown";
  });
  INFO(answer.dump());
  CHECK(answer.value("type", "") == "download.manifest");
  return body;
}

}  // namespace

TEST_CASE("a file's manifest is ready once it is indexed - the first request does not hash the file") {
  TempDir shared("shared");
  auto sha = write_random_file(shared / "big.bin", kThreeChunks, 21);
  auto small_sha = write_random_file(shared / "small.bin", 1000, 22);
  TestNode a(plaintext(file_node(shared.path())));
  REQUIRE(wait_until([&] { return first_scan_done(a); }));
  // Stored for the file of three chunks; a file of one chunk needs none (its hash is the chunk's).
  CHECK(counter(a, "search.manifests_saved") == 1);
  CHECK(fs::exists(stored_manifest(a, sha)));
  CHECK_FALSE(fs::exists(stored_manifest(a, small_sha)));

  const std::string data = read_file(shared / "big.bin");
  CHECK(served_digests(a, sha) == chunk_digests(data, kDefaultChunk));
  CHECK(served_digests(a, small_sha) == chunk_digests(read_file(shared / "small.bin"), kDefaultChunk));
  CHECK(wait_until([&] { return counter(a, "download.manifests_from_index") == 2; }));
  CHECK(counter(a, "download.manifests_computed") == 0);
  // Another chunk size than the one indexing used is hashed when asked, as before.
  CHECK(served_digests(a, sha, 65536) == chunk_digests(data, 65536));
  CHECK(wait_until([&] { return counter(a, "download.manifests_computed") == 1; }));
  // Visible to the user too.
  auto stats = a.run("stats");
  CHECK(stats.contains("  download.manifests_from_index 2"));
  CHECK(stats.contains("  download.manifests_computed 1"));
}

TEST_CASE("a restarted node serves the manifests it stored - without hashing anything again") {
  TempDir shared("shared"), data("data");
  auto sha = write_random_file(shared / "big.bin", kThreeChunks, 23);
  auto config = plaintext(file_node(shared.path()));
  config.data_dir = data.path();
  {
    TestNode first(config);
    REQUIRE(wait_until([&] { return first_scan_done(first) && counter(first, "search.cache_writes") >= 1; }));
    CHECK(counter(first, "search.manifests_saved") == 1);
  }
  TestNode second(config);
  REQUIRE(wait_until([&] { return first_scan_done(second); }));
  CHECK(counter(second, "search.files_hashed") == 0);
  CHECK(served_digests(second, sha) == chunk_digests(read_file(shared / "big.bin"), kDefaultChunk));
  CHECK(wait_until([&] { return counter(second, "download.manifests_from_index") == 1; }));
  CHECK(counter(second, "download.manifests_computed") == 0);
}

TEST_CASE("a damaged or stale stored manifest is refused with a warning - the file is hashed instead") {
  TempDir shared("shared");
  auto sha = write_random_file(shared / "big.bin", kThreeChunks, 24);
  LogCapture log;
  TestNode a(plaintext(file_node(shared.path())));
  REQUIRE(wait_until([&] { return first_scan_done(a); }));
  const fs::path stored = stored_manifest(a, sha);
  REQUIRE(fs::exists(stored));
  std::string text = read_file(stored);
  const size_t header_end = text.find('\n');
  REQUIRE(header_end != std::string::npos);
  auto header = nlohmann::json::parse(text.substr(0, header_end));
  const std::string digests = text.substr(header_end + 1);
  auto rewrite = [&](const std::string& content) {
    std::ofstream(stored, std::ios::binary | std::ios::trunc) << content;
  };

  SECTION("a flipped bit in the digests") {
    text.back() = static_cast<char>(text.back() ^ 1);
    rewrite(text);
  }
  SECTION("truncated") { rewrite(text.substr(0, text.size() - 10)); }
  SECTION("oversized") { rewrite(text + std::string(5 << 20, '\0')); }
  SECTION("a header that is not JSON") { rewrite("{\"format\": tru\n" + digests); }
  SECTION("a chunk count that does not fit the size") {
    header["size"] = header["size"].get<int64_t>() + kDefaultChunk;
    rewrite(header.dump() + "\n" + digests);
  }
  SECTION("made for an earlier version of the file (another mtime)") {
    header["mtime"] = header["mtime"].get<int64_t>() - 1;
    rewrite(header.dump() + "\n" + digests);
  }
  CHECK(served_digests(a, sha) == chunk_digests(read_file(shared / "big.bin"), kDefaultChunk));
  CHECK(wait_until([&] { return counter(a, "download.manifests_computed") == 1; }));
  CHECK(counter(a, "download.stored_manifests_refused") == 1);
  CHECK(counter(a, "download.manifests_from_index") == 0);
  CHECK(log.contains("ignoring the stored chunk manifest of " + sha));
}

TEST_CASE("a file changed after indexing is refused until rescanned - then served with its new manifest") {
  TempDir shared("shared");
  auto old_sha = write_random_file(shared / "big.bin", kThreeChunks, 25);
  TestNode a(plaintext(file_node(shared.path())));
  REQUIRE(wait_until([&] { return first_scan_done(a); }));
  REQUIRE(fs::exists(stored_manifest(a, old_sha)));
  // Same size, other content: only the mtime tells.
  auto new_sha = write_random_file(shared / "big.bin", kThreeChunks, 26);
  RawPeer peer(a.port());
  REQUIRE(peer.handshake(random_id(), kDownloaderTypes));
  CHECK(ask(peer, manifest_request(1, old_sha, kDefaultChunk)).value("code", "") == "unavailable");
  CHECK(counter(a, "download.refused_changed_files") == 1);

  REQUIRE(a.run("rescan").lines == std::vector<std::string>{"indexed 1 file (1 hashed)"});
  CHECK(served_digests(a, new_sha) == chunk_digests(read_file(shared / "big.bin"), kDefaultChunk));
  CHECK(wait_until([&] { return counter(a, "download.manifests_from_index") == 1; }));
  CHECK(counter(a, "download.manifests_computed") == 0);
  CHECK(ask(peer, manifest_request(2, old_sha, kDefaultChunk)).value("code", "") == "unknown");
  // The old version's manifest goes with the next scan.
  CHECK(a.run("rescan").status == 0);
  CHECK_FALSE(fs::exists(stored_manifest(a, old_sha)));
  CHECK(fs::exists(stored_manifest(a, new_sha)));
}
