// Plugins loaded, unloaded and reloaded in running nodes (issue 14): real
// Node objects on loopback, so the suite also runs under ASan and TSan.
#include "raw_peer.hpp"
#include "test_node.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <future>
#include <set>

using namespace p2pnet;
using namespace p2pnet::test;

namespace {

std::filesystem::path live_build(const std::string& variant) {
  return test_plugin_dir() / ("p2pnet_" + variant + ".so");
}

// Puts a build at `target` the way a rebuild does: written beside it, then
// renamed over it.
void install_build(const std::filesystem::path& build, const std::filesystem::path& target) {
  auto temporary = target.string() + ".new";
  std::filesystem::copy_file(build, temporary, std::filesystem::copy_options::overwrite_existing);
  std::filesystem::rename(temporary, target);
}

void install_text(const std::filesystem::path& target) {
  auto temporary = target.string() + ".new";
  std::ofstream(temporary) << "this is not a shared library\n";
  std::filesystem::rename(temporary, target);
}

bool lists_plugin(TestNode& node, const std::string& name) {
  for (const auto& plugin : node->plugins())
    if (plugin.name == name) return true;
  return false;
}

// The types `node` believes its peer `peer_id` handles.
std::vector<std::string> peer_types(TestNode& node, const std::string& peer_id) {
  for (const auto& peer : node->peers())
    if (peer.id == peer_id) return peer.types;
  return {};
}

// Distinct libraries loaded from live-load copies that are still mapped.
size_t mapped_plugin_copies() {
  std::ifstream maps("/proc/self/maps");
  std::set<std::string> files;
  for (std::string line; std::getline(maps, line);)
    if (auto at = line.find("/p2pnet-plugin-"); at != std::string::npos) files.insert(line.substr(at));
  return files.size();
}

bool handles(const std::vector<std::string>& types, const std::string& type) {
  return std::find(types.begin(), types.end(), type) != types.end();
}

}  // namespace

TEST_CASE("plugin load, unload and reload at the console - peers learn the changed types", "[live]") {
  TestNode a;
  TestNode b({"probe"});
  a.connect_to(b);

  auto loaded = a.run("plugin load probe");
  INFO(loaded.text());
  CHECK(loaded.status == 0);
  CHECK(loaded.contains("loaded plugin probe 1.0.0 from "));
  CHECK(lists_plugin(a, "probe"));
  CHECK(wait_until([&] { return handles(peer_types(b, a.id()), "probe"); }));
  // The plugin was told of the peer that was already there.
  CHECK(b.run("probe-send " + a.id() + " hi").status == 0);
  CHECK(wait_until([&] { return a.run("probe-log").contains("got probe from " + b.id() + ": hi"); }));
  CHECK(a.run("probe-log").contains("connected " + b.id()));

  auto listed = a.run("plugin list");
  CHECK(listed.contains("probe 1.0.0  types: probe  commands: "));

  auto again = a.run("plugin load probe");
  CHECK(again.status == 1);
  CHECK(again.contains("error: plugin probe 1.0.0 is already loaded"));

  auto unloaded = a.run("plugin unload probe");
  INFO(unloaded.text());
  CHECK(unloaded.status == 0);
  CHECK(unloaded.contains("unloaded plugin probe"));
  CHECK_FALSE(lists_plugin(a, "probe"));
  CHECK(a.run("probe-log").contains("unknown command 'probe-log'"));
  CHECK(wait_until([&] { return !handles(peer_types(b, a.id()), "probe"); }));
  // b no longer sends what a cannot take.
  CHECK(b.run("probe-send " + a.id() + " hi").contains("status " + std::to_string(P2PNET_ERR_UNSUPPORTED)));
  CHECK(a.has_peer(b.id()));

  CHECK(a.run("plugin unload probe").contains("error: no plugin named probe is loaded"));
  CHECK(a.run("plugin load Bad/Name").status == 2);
  CHECK(a.run("plugin load nosuch").contains("p2pnet_nosuch.so not found"));
  CHECK(a.run("plugin").status == 2);
}

TEST_CASE("a reloaded rebuild answers with its new version", "[live]") {
  TempDir dir("p2pnet-live");
  auto file = dir / "p2pnet_live.so";
  install_build(live_build("live"), file);
  TestNode node;
  REQUIRE(node.run("plugin load live " + file.string()).status == 0);
  CHECK(node.run("live-version").contains("live 1.0.0"));

  install_build(live_build("live_v2"), file);
  auto reloaded = node.run("plugin reload live");
  INFO(reloaded.text());
  CHECK(reloaded.status == 0);
  CHECK(reloaded.contains("reloaded plugin live: 1.0.0 -> 2.0.0 from " + file.string()));
  CHECK(node.run("live-version").contains("live 2.0.0"));
}

TEST_CASE("a reload whose new file is broken leaves the old plugin running", "[live]") {
  TempDir dir("p2pnet-live");
  auto file = dir / "p2pnet_live.so";
  install_build(live_build("live"), file);
  TestNode node;
  REQUIRE(node.run("plugin load live " + file.string()).status == 0);

  install_text(file);
  auto text = node.run("plugin reload live");
  INFO(text.text());
  CHECK(text.status == 1);
  CHECK(text.contains("not a loadable shared library"));
  CHECK(text.contains("plugin live 1.0.0 keeps running"));
  CHECK(node.run("live-version").contains("live 1.0.0"));

  // A file that loads but whose load hook fails: the old build comes back.
  install_build(live_build("live_failing"), file);
  auto failing = node.run("plugin reload live");
  INFO(failing.text());
  CHECK(failing.status == 1);
  CHECK(failing.contains("the new one failed to load: plugin 'live' failed to load: this build of live fails"));
  CHECK(failing.contains("plugin live: the old one (1.0.0) is loaded again"));
  CHECK(node.run("live-version").contains("live 1.0.0"));
}

TEST_CASE("unloading a plugin with a pending timer, a running job and a command in progress", "[live]") {
  TestNode node;
  REQUIRE(node.run("plugin load live").status == 0);
  CHECK(node.run("live-timer 60000").status == 0);

  struct Pending {
    std::mutex mutex;
    std::vector<std::string> lines;
    std::promise<int> status;
  };
  auto run_async = [&](const std::string& line, const std::shared_ptr<Pending>& pending) {
    node->execute(
        line,
        [pending](std::string_view text, bool) {
          std::lock_guard lock(pending->mutex);
          pending->lines.emplace_back(text);
        },
        [pending](int status) { pending->status.set_value(status); });
  };
  auto held = std::make_shared<Pending>();
  auto job = std::make_shared<Pending>();
  run_async("live-hold", held);
  run_async("live-job 400", job);
  auto held_status = held->status.get_future();
  auto job_status = job->status.get_future();
  // Both commands reached the plugin (the job runs) before it goes; they
  // queue on its strand in either order.
  REQUIRE(wait_until([&] {
    std::scoped_lock lock(held->mutex, job->mutex);
    return !held->lines.empty() && !job->lines.empty();
  }));

  auto unloaded = node.run("plugin unload live");
  INFO(unloaded.text());
  CHECK(unloaded.status == 0);
  CHECK(unloaded.contains("unloaded plugin live"));
  CHECK_FALSE(unloaded.contains("still running"));  // the job ended within the wait
  REQUIRE(held_status.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  CHECK(held_status.get() == 1);
  {
    std::lock_guard lock(held->mutex);
    CHECK(std::find(held->lines.begin(), held->lines.end(), "error: plugin live unloaded") != held->lines.end());
  }
  // The job's own completion ran before destroy and ended its command.
  REQUIRE(job_status.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  CHECK(job_status.get() == 0);
  CHECK_FALSE(lists_plugin(node, "live"));
  CHECK(node.run("plugin load live").status == 0);
}

TEST_CASE("200 load and unload cycles of a busy plugin", "[live]") {
  auto busy = [] {
    auto config = test_config();
    config.plugins.push_back(plugin("live", {{"busy", true}}));
    return config;
  };
  TestNode a(busy());
  TestNode b(busy());
  a.connect_to(b);
  REQUIRE(wait_until(
      [&] { return a.run("live-stats").contains("received ") && !a.run("live-stats").contains("received 0,"); }));

  // Each instance is unloaded busy: it has received messages and finished
  // background jobs, and its timer keeps firing.
  auto busy_now = [&] {
    auto stats = a.run("live-stats");
    return !stats.contains("received 0,") && !stats.contains("jobs done 0") && stats.contains("received");
  };
  for (int cycle = 0; cycle < 200; ++cycle) {
    REQUIRE(wait_until(busy_now));
    auto unloaded = a.run("plugin unload live");
    REQUIRE(unloaded.status == 0);
    auto loaded = a.run("plugin load live");
    INFO(loaded.text());
    REQUIRE(loaded.status == 0);
  }
  // The last instance gets b's messages again once b has learnt a's types.
  CHECK(wait_until([&] { return !a.run("live-stats").contains("received 0,"); }));
  CHECK(a.has_peer(b.id()));
  CHECK(b.has_peer(a.id()));
  // Each unloaded build was really unloaded, not left mapped for ever.
  auto copies = mapped_plugin_copies();
  CHECK(copies >= 1);  // the loaded one: the probe sees them
  CHECK(copies <= 2);
}

TEST_CASE("a peer's p2pnet.types update replaces the types the node sends it - a malformed one is ignored", "[live]") {
  TestNode node(plaintext_config({"probe"}));
  RawPeer peer(node.port());
  const std::string peer_id = random_id();
  REQUIRE(peer.handshake(peer_id, {}));
  REQUIRE(wait_until([&] { return node.has_peer(peer_id); }));
  CHECK(node.run("probe-send " + peer_id + " hi").contains("status " + std::to_string(P2PNET_ERR_UNSUPPORTED)));

  REQUIRE(peer.send_json({{"type", "p2pnet.types"}, {"types", {"probe"}}}));
  CHECK(wait_until([&] { return node.run("probe-send " + peer_id + " hi").contains("status 0"); }));

  // Not a list of type names: ignored and counted, the connection stays.
  REQUIRE(peer.send_json({{"type", "p2pnet.types"}, {"types", {"probe", 7}}}));
  REQUIRE(peer.send_json({{"type", "p2pnet.types"}, {"types", "probe"}}));
  CHECK(wait_until([&] { return node->stats().events["malformed_types_updates"] == 2; }));
  CHECK(node.has_peer(peer_id));
  CHECK(node.run("probe-send " + peer_id + " hi").contains("status 0"));

  REQUIRE(peer.send_json({{"type", "p2pnet.types"}, {"types", nlohmann::json::array()}}));
  CHECK(wait_until([&] {
    return node.run("probe-send " + peer_id + " hi").contains("status " + std::to_string(P2PNET_ERR_UNSUPPORTED));
  }));
}
