#include "bench_support.hpp"

#include <stdlib.h>
#include <algorithm>
#include <future>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace p2pnet::bench {

bool Figure::goal_met() const {
  if (goal_absolute > 0) return higher_is_better ? value >= goal_absolute : value <= goal_absolute;
  if (goal_ratio <= 0) return true;
  if (baseline <= 0) return false;  // a missing baseline proves nothing
  return higher_is_better ? ratio() >= goal_ratio : ratio() <= goal_ratio;
}

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  size_t index = static_cast<size_t>(p * static_cast<double>(values.size() - 1) + 0.5);
  return values[std::min(index, values.size() - 1)];
}

double median(std::vector<double> values) { return percentile(std::move(values), 0.5); }

ScratchDir::ScratchDir(const std::string& label) {
  std::string pattern = (std::filesystem::temp_directory_path() / ("p2pnet-bench-" + label + "-XXXXXX")).string();
  if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

ScratchDir::~ScratchDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

NodeConfig bench_config(const std::vector<std::string>& plugins, bool encryption) {
  NodeConfig config;
  config.host = "127.0.0.1";
  config.port = 0;
  config.log_level = LogSeverity::error;
  config.encryption = encryption;
  config.plugin_dirs = {P2PNET_BENCH_PLUGIN_DIR, P2PNET_STOCK_PLUGIN_DIR};
  for (const auto& name : plugins) {
    PluginConfig plugin;
    plugin.name = name;
    config.plugins.push_back(plugin);
  }
  return config;
}

std::unique_ptr<Node> start_node(NodeConfig config, const std::shared_ptr<Runtime>& runtime, ScratchDir& data) {
  static std::atomic<int> counter{0};
  if (config.data_dir.empty()) config.data_dir = data.path() / ("node" + std::to_string(counter++));
  auto node = std::make_unique<Node>(std::move(config), runtime);
  node->start();
  return node;
}

void wait_for(const std::function<bool()>& condition, std::chrono::milliseconds timeout, const std::string& what) {
  auto deadline = Clock::now() + timeout;
  while (!condition()) {
    if (Clock::now() > deadline) throw std::runtime_error("timed out waiting for " + what);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

void connect_nodes(Node& a, Node& b) {
  auto result = std::make_shared<std::promise<std::string>>();
  auto future = result->get_future();
  a.connect("127.0.0.1", b.listen_port(),
            [result](const std::string&, const std::string& error) { result->set_value(error); });
  if (future.wait_for(std::chrono::seconds(30)) != std::future_status::ready)
    throw std::runtime_error("connect timed out");
  if (auto error = future.get(); !error.empty()) throw std::runtime_error("connect failed: " + error);
  auto listed = [](Node& node, const std::string& id) {
    for (const auto& peer : node.peers())
      if (peer.id == id) return true;
    return false;
  };
  wait_for([&] { return listed(a, b.id()) && listed(b, a.id()); }, std::chrono::seconds(30), "both ends to connect");
}

std::vector<std::string> run_command(Node& node, const std::string& line, std::chrono::seconds timeout) {
  struct Shared {
    std::mutex mutex;
    std::vector<std::string> lines;
    std::promise<int> done;
  };
  auto shared = std::make_shared<Shared>();
  auto future = shared->done.get_future();
  node.execute(
      line,
      [shared](std::string_view text, bool transient) {
        if (transient) return;
        std::lock_guard lock(shared->mutex);
        shared->lines.emplace_back(text);
      },
      [shared](int status) { shared->done.set_value(status); });
  if (future.wait_for(timeout) != std::future_status::ready) throw std::runtime_error("'" + line + "' timed out");
  int status = future.get();
  std::lock_guard lock(shared->mutex);
  if (status != 0) {
    std::string output;
    for (const auto& l : shared->lines) output += "\n  " + l;
    throw std::runtime_error("'" + line + "' failed with status " + std::to_string(status) + output);
  }
  return shared->lines;
}

}  // namespace p2pnet::bench
