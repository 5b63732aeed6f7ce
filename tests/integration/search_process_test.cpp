// The search plugin in p2pnode processes configured by a node.toml, the way
// users run it: console lines exactly as documented.
#include "node_process.hpp"

#include <fstream>

using namespace p2pnet::test;

TEST_CASE("p2pnode processes search each other's shared folders from node.toml") {
  TempDir dir("p2pnet-search-process");
  std::filesystem::create_directories(dir / "shared-a");
  std::filesystem::create_directories(dir / "shared-b");
  std::ofstream(dir / "shared-a" / "hello.txt") << "hello";
  for (const char* name : {"a", "b"}) {
    std::ofstream toml(dir / (std::string(name) + ".toml"));
    toml << "[plugins.search]\n"
         << "shared_dir = \"" << (dir / ("shared-" + std::string(name))).string() << "\"\n"
         << "answer_wait_ms = 2000\nanswer_quiet_ms = 300\n";
  }
  NodeProcess a(P2PNODE_PATH, (dir / "a.toml").string()), b(P2PNODE_PATH, (dir / "b.toml").string());
  REQUIRE(a.command("rescan", "^indexed 1 file \\(\\d hashed\\)$"));
  REQUIRE(b.command("connect 127.0.0.1 " + std::to_string(a.port()), "^connected to " + a.id()));
  CHECK(b.command("search HELLO", "^\\[1\\] hello\\.txt  5  2cf24dba5fb0a30e  \\(1 source\\)$"));
  CHECK(b.process().wait_for_line(std::regex("^1 result$")));
  CHECK(a.command("shared", "^hello\\.txt  5  2cf24dba5fb0a30e$"));
  CHECK(b.command("search nothing-like-it 1", "^0 results$"));
  CHECK(a.command("help", "^  search QUERY \\[DEPTH\\]"));
}
