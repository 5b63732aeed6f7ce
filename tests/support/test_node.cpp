#include "test_node.hpp"

#include "build_paths.hpp"

#include <future>

namespace p2pnet::test {

bool CommandResult::contains(const std::string& text) const {
  for (const auto& line : lines)
    if (line.find(text) != std::string::npos) return true;
  return false;
}

std::string CommandResult::text() const {
  std::string out;
  for (const auto& line : lines) out += line + "\n";
  return out;
}

namespace {
std::mutex runtime_mutex;
std::shared_ptr<Runtime> runtime;
}  // namespace

std::shared_ptr<Runtime> shared_runtime() {
  std::lock_guard lock(runtime_mutex);
  if (!runtime) runtime = std::make_shared<Runtime>(2, 2);
  return runtime;
}

void release_shared_runtime() {
  std::shared_ptr<Runtime> last;
  {
    std::lock_guard lock(runtime_mutex);
    last.swap(runtime);
  }
}

std::filesystem::path stock_plugin_dir() { return P2PNET_STOCK_PLUGIN_DIR; }
std::filesystem::path test_plugin_dir() { return P2PNET_TEST_PLUGIN_DIR; }

PluginConfig plugin(const std::string& name, nlohmann::json settings) {
  PluginConfig config;
  config.name = name;
  config.settings = std::move(settings);
  return config;
}

NodeConfig test_config(const std::vector<std::string>& plugins) {
  NodeConfig config;
  config.host = "127.0.0.1";
  config.port = 0;
  config.log_level = LogSeverity::warn;
  config.handshake_timeout = std::chrono::milliseconds(3000);
  config.plugin_dirs = {stock_plugin_dir(), test_plugin_dir()};
  for (const auto& name : plugins) config.plugins.push_back(plugin(name));
  return config;
}

NodeConfig plaintext_config(const std::vector<std::string>& plugins) {
  auto config = test_config(plugins);
  config.encryption = false;
  return config;
}

TestNode::TestNode(NodeConfig config, std::shared_ptr<Runtime> runtime)
    : data_dir_(std::make_unique<TempDir>("p2pnet-node")) {
  if (config.data_dir.empty()) config.data_dir = data_dir_->path();
  node_ = std::make_unique<Node>(std::move(config), std::move(runtime));
  node_->set_event_sink([this](std::string_view line, bool transient) {
    if (transient) return;  // a status area update, not an event
    std::lock_guard lock(events_mutex_);
    events_.emplace_back(line);
  });
  node_->start();
}

TestNode::~TestNode() { node_->stop(); }

CommandResult TestNode::run(const std::string& line, std::chrono::milliseconds timeout) {
  struct Shared {
    std::mutex mutex;
    CommandResult result;
    std::promise<void> finished;
  };
  auto shared = std::make_shared<Shared>();
  auto future = shared->finished.get_future();
  node_->execute(
      line,
      [shared](std::string_view text, bool) {
        std::lock_guard lock(shared->mutex);
        shared->result.lines.emplace_back(text);
      },
      [shared](int status) {
        {
          std::lock_guard lock(shared->mutex);
          shared->result.status = status;
        }
        shared->finished.set_value();
      });
  future.wait_for(timeout);
  std::lock_guard lock(shared->mutex);
  return shared->result;
}

std::string TestNode::connect_to(TestNode& other) {
  auto result = std::make_shared<std::promise<std::pair<std::string, std::string>>>();
  auto future = result->get_future();
  node_->connect("127.0.0.1", other.port(), [result](const std::string& id, const std::string& error) {
    result->set_value({id, error});
  });
  if (future.wait_for(std::chrono::seconds(10)) != std::future_status::ready) return "";
  auto [id, error] = future.get();
  if (!error.empty()) return "";
  std::string my_id = this->id();
  if (!wait_until([&] { return other.has_peer(my_id) && has_peer(id); })) return "";
  return id;
}

bool TestNode::has_peer(const std::string& id) {
  for (const auto& peer : node_->peers())
    if (peer.id == id) return true;
  return false;
}

uint64_t TestNode::event_count(const std::string& name) {
  auto events = node_->stats().events;
  auto it = events.find(name);
  return it == events.end() ? 0 : it->second;
}

std::vector<std::string> TestNode::events() {
  std::lock_guard lock(events_mutex_);
  return events_;
}

}  // namespace p2pnet::test
