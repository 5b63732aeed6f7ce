#include "scale_bench.hpp"

#include <fmt/core.h>

#include <sys/resource.h>
#include <fstream>
#include <future>
#include <random>
#include <set>
#include <stdexcept>

namespace p2pnet::bench {
namespace {

int64_t counter(Node& node, const std::string& name) {
  auto counters = node.stats().plugin_counters;
  auto it = counters.find(name);
  return it == counters.end() ? 0 : it->second;
}

// A connected random graph: a random spanning tree, then random extra edges
// between nodes of degree below 8 until the average degree is about 6.
std::vector<std::pair<size_t, size_t>> random_mesh(size_t n, std::mt19937& random) {
  std::vector<std::pair<size_t, size_t>> edges;
  std::set<std::pair<size_t, size_t>> seen;
  std::vector<int> degree(n, 0);
  auto add = [&](size_t a, size_t b) {
    if (a == b || degree[a] >= 8 || degree[b] >= 8 || !seen.insert({std::min(a, b), std::max(a, b)}).second)
      return false;
    edges.emplace_back(a, b);
    ++degree[a];
    ++degree[b];
    return true;
  };
  for (size_t i = 1; i < n; ++i)
    while (!add(i, random() % i)) {
    }
  for (size_t attempts = 0; edges.size() < 3 * n && attempts < 100 * n; ++attempts) add(random() % n, random() % n);
  // Nodes left below degree 4 get partners too, where the graph allows.
  for (size_t i = 0; i < n; ++i)
    for (size_t attempts = 0; degree[i] < 4 && attempts < 1000; ++attempts) add(i, random() % n);
  return edges;
}

struct Mesh {
  std::shared_ptr<Runtime> runtime = std::make_shared<Runtime>(2, 1);
  ScratchDir data{"scale"};
  ScratchDir empty_share{"scale-empty"};
  ScratchDir needle_share{"scale-needle"};
  std::vector<std::unique_ptr<Node>> nodes;
  std::vector<std::pair<size_t, size_t>> edges;
  std::set<size_t> holders;  // nodes that share the needle file

  Mesh(size_t n, size_t needle_holders) {
    std::mt19937 random(20261125);
    std::ofstream(needle_share.path() / "needle.bin") << "the one file every holder shares";
    while (holders.size() < needle_holders) holders.insert(1 + random() % (n - 1));
    for (size_t i = 0; i < n; ++i) {
      auto config = bench_config({"ping", "discovery", "search"});
      config.max_connections = 64;
      config.handshake_timeout = std::chrono::seconds(60);  // a busy machine must not fail the set-up
      // Each node's reachability check has its peers dial it back (about 4,000
      // TLS handshakes for 1,000 nodes in the first seconds); spread over
      // 1,000 machines that costs nothing, but here it would share this
      // process's two threads with the discovery being timed.
      config.reachability_check = false;
      for (auto& plugin : config.plugins) {
        if (plugin.name == "ping") plugin.settings = {{"keepalive_interval_ms", 0}};
        if (plugin.name == "search")
          plugin.settings = {{"shared_dir", (holders.count(i) ? needle_share : empty_share).path().string()},
                             {"rescan_interval_ms", 0},
                             {"max_incoming_searches_per_s", 0}};
      }
      nodes.push_back(start_node(config, runtime, data));
    }
    edges = random_mesh(n, random);
    std::vector<std::future<std::string>> pending;
    for (const auto& [a, b] : edges) {
      auto done = std::make_shared<std::promise<std::string>>();
      pending.push_back(done->get_future());
      nodes[a]->connect("127.0.0.1", nodes[b]->listen_port(),
                        [done](const std::string&, const std::string& error) { done->set_value(error); });
    }
    for (auto& result : pending)
      if (auto error = result.get(); !error.empty()) throw std::runtime_error("mesh connect failed: " + error);
    wait_for(
        [&] {
          size_t links = 0;
          for (auto& node : nodes) links += node->peers().size();
          return links == 2 * edges.size();
        },
        std::chrono::seconds(120), "the mesh to connect");
    for (auto& node : nodes)  // every holder has indexed its file
      wait_for([&] { return counter(*node, "search.scans_completed") >= 1; }, std::chrono::seconds(120), "scans");
  }
  ~Mesh() {
    for (auto& node : nodes) node->stop();
  }
};

std::vector<Figure> measure(size_t n, size_t needle_holders) {
  Mesh mesh(n, needle_holders);
  Node& origin = *mesh.nodes[0];
  auto start = Clock::now();
  origin.execute("discover -1", {}, {});
  wait_for([&] { return counter(origin, "discovery.answers_received") >= static_cast<int64_t>(n - 1); },
           std::chrono::seconds(120), "every discover answer");
  double discovery_seconds = seconds_since(start);
  int64_t messages = 0;
  for (auto& node : mesh.nodes) messages += counter(*node, "discovery.discover_messages_sent");
  double per_edge = static_cast<double>(messages) / static_cast<double>(mesh.edges.size());

  start = Clock::now();
  origin.execute("search needle -1", {}, {});
  wait_for([&] { return counter(origin, "search.results_received") >= static_cast<int64_t>(needle_holders); },
           std::chrono::seconds(120), "every search answer");
  double search_seconds = seconds_since(start);

  std::string shape = fmt::format("{} nodes, {} edges", n, mesh.edges.size());
  Figure discovery(fmt::format("full discovery (depth -1), {}", shape), discovery_seconds, 0, "s", false);
  Figure messages_per_edge(fmt::format("discover messages per edge, {}", shape), per_edge, 0, "msg", false);
  if (n >= 1000) {
    discovery.goal = "<= 2 s";
    discovery.goal_absolute = 2;
    messages_per_edge.goal = "<= 2 per edge";
    messages_per_edge.goal_absolute = 2;
  }
  Figure search(fmt::format("search returning all {} matches, {}", needle_holders, shape), search_seconds, 0, "s",
                false);
  return {discovery, messages_per_edge, search};
}

}  // namespace

std::vector<Figure> scale_bench(const Options& options) {
  rlimit files{};
  getrlimit(RLIMIT_NOFILE, &files);
  files.rlim_cur = files.rlim_max;
  setrlimit(RLIMIT_NOFILE, &files);
  std::vector<Figure> figures;
  for (size_t n : options.quick ? std::vector<size_t>{12} : std::vector<size_t>{100, 1000}) {
    auto part = measure(n, options.quick ? 3 : 10);
    figures.insert(figures.end(), part.begin(), part.end());
  }
  return figures;
}

}  // namespace p2pnet::bench
