// The node's data dir is never shared (issue 15, item 8): with shared_dir
// equal to it, around it or inside it, another node finds nothing there and
// node_key.pem is never served, even if an index lists it.
#include "download_support.hpp"
#include "raw_peer.hpp"

using namespace p2pnet;
using namespace p2pnet::test;
using namespace p2pnet::test::download_tests;
namespace fs = std::filesystem;

namespace {

const std::vector<std::string> kDownloaderTypes = {"download.manifest", "download.chunk", "download.error"};

// The next download answer (hellos and pings skipped).
nlohmann::json ask(RawPeer& peer, const nlohmann::json& request) {
  if (!peer.send_json(request)) return {};
  for (int i = 0; i < 20; ++i) {
    auto frame = peer.read_frame();
    if (!frame) return {};
    if (frame->type().rfind("download.", 0) == 0) return frame->json();
  }
  return {};
}

// A node whose data dir is `data` and whose stock search plugin shares `shared`.
NodeConfig sharing_node(const fs::path& data, const fs::path& shared, const std::string& search = kSearchPlugin) {
  auto config = file_node(shared, {}, search);
  config.data_dir = data;
  return config;
}

}  // namespace

TEST_CASE("a shared_dir that is the data dir shares nothing - another node's search finds no node_key") {
  TempDir data("p2pnet-data");
  TestNode a(sharing_node(data.path(), data.path()));
  REQUIRE(fs::exists(data / "node_key.pem"));
  auto rescan = a.run("rescan");
  CHECK(rescan.status == 1);
  CHECK(rescan.contains("is the node's data dir"));
  CHECK(a.run("shared").contains("0 files"));

  TestNode b(file_node({}));
  REQUIRE(b.connect_to(a) == a.id());
  auto search = b.run("search node_key");
  INFO(search.text());
  CHECK(search.contains("0 results"));
  CHECK_FALSE(search.contains("node_key.pem"));
}

TEST_CASE("a shared_dir around or inside the data dir is refused as well") {
  TempDir root("p2pnet-root");
  fs::create_directories(root / "data" / "inner");
  {
    TestNode around(sharing_node(root / "data", root.path()));
    CHECK(around.run("rescan").contains("contains the node's data dir"));
  }
  {
    TestNode inside(sharing_node(root / "data", root / "data" / "inner"));
    CHECK(inside.run("rescan").contains("lies inside the node's data dir"));
  }
}

TEST_CASE("node_key.pem is never served, even when the index lists it") {
  TempDir data("p2pnet-data");
  // The test stand-in indexes whatever it finds, node_key.pem included: the
  // download plugin must still refuse to read it.
  auto config = sharing_node(data.path(), data.path(), kFakeSearchPlugin);
  config.encryption = false;  // RawPeer speaks plaintext frames
  TestNode a(config);
  REQUIRE(fs::exists(data / "node_key.pem"));
  REQUIRE(a.run("fake-rescan").status == 0);
  const std::string key_sha = sha256_hex(read_file(data / "node_key.pem"));

  RawPeer peer(a.port());
  REQUIRE(peer.handshake(random_id(), kDownloaderTypes));
  auto manifest = ask(peer, {{"type", "download.get_manifest"}, {"id", 1}, {"sha256", key_sha}, {"chunk_size", 4096}});
  CHECK(manifest.value("type", "") == "download.error");
  CHECK(manifest.value("code", "") == "unavailable");
  auto chunk =
      ask(peer, {{"type", "download.get_chunk"}, {"id", 2}, {"sha256", key_sha}, {"chunk_size", 4096}, {"index", 0}});
  CHECK(chunk.value("code", "") == "unavailable");
  CHECK(counter(a, "download.refused_private_files") == 2);
  CHECK(counter(a, "download.chunks_served") == 0);
}
