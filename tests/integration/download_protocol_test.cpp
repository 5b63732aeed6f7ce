// The serving side of the download protocol, spoken by hand: only files of
// the latest index are served, and only from inside shared_dir; every field
// of a request is checked; uploads are bounded.
#include "download_support.hpp"
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
