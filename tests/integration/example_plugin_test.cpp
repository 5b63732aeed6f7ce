// The out-of-tree example plugin, built against the installed SDK by the
// example_builds_out_of_tree fixture, runs in two installed p2pnodes.
#include "node_process.hpp"

#include <fstream>

using namespace p2pnet::test;

TEST_CASE("the out-of-tree chat plugin exchanges messages both ways") {
  std::string work = P2PNET_EXAMPLE_WORK;
  std::string p2pnode = work + "/prefix/bin/p2pnode";
  TempDir dir;
  auto config = dir / "chat.toml";
  std::ofstream(config) << "[plugins.chat]\npath = \"" << work << "/build/p2pnet_chat.so\"\n";
  NodeProcess a(p2pnode, config.string()), b(p2pnode, config.string());
  REQUIRE(b.command("connect 127.0.0.1 " + std::to_string(a.port()), "^connected to"));
  REQUIRE(a.process().wait_for_line(std::regex("^peer connected: " + b.id())));
  CHECK(b.command("say hello from b", "^sent to 1 peer$"));
  CHECK(a.process().wait_for_line(std::regex("^" + b.id().substr(0, 12) + " says: hello from b$")));
  CHECK(a.command("say hi back", "^sent to 1 peer$"));
  CHECK(b.process().wait_for_line(std::regex("^" + a.id().substr(0, 12) + " says: hi back$")));
}
