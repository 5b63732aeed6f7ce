// p2pnet::Node: the public face of NodeCore, plus runtime ownership.
#include "node_core.hpp"

namespace p2pnet {

Node::Node(NodeConfig config, std::shared_ptr<Runtime> runtime) : owns_runtime_(runtime == nullptr) {
  runtime_ = owns_runtime_ ? std::make_shared<Runtime>(config.threads) : std::move(runtime);
  core_ = std::make_shared<NodeCore>(std::move(config), runtime_->impl());
  id_ = core_->id();
  listen_host_ = core_->listen_host();
  core_->set_stop_request_handler([this] { request_stop(); });
  core_->load_plugins();
}

Node::~Node() {
  try {
    stop();
  } catch (...) {
  }
}

void Node::start() {
  if (!core_) throw StartupError("the node was stopped; create a new one");
  core_->start();
  listen_port_ = core_->listen_port();
}

void Node::stop() {
  if (!core_) return;
  core_->stop();
  // Pending handlers may still hold the core; an owned runtime's threads are
  // joined here and whatever they held is released with it.
  core_.reset();
  if (owns_runtime_) runtime_.reset();
}

const std::string& Node::id() const { return id_; }
std::string Node::listen_host() const { return listen_host_; }
uint16_t Node::listen_port() const { return listen_port_; }

void Node::connect(const std::string& host, uint16_t port, ConnectDone done, const std::string& expected_id) {
  if (core_) return core_->connect(host, port, std::move(done), expected_id);
  if (done) done("", "node is stopped");
}

bool Node::disconnect(const std::string& peer_id) {
  return core_ && core_->disconnect(peer_id, "disconnected by the application");
}

int Node::send(const std::string& peer_id, std::string_view header, std::span<const std::byte> body) {
  return core_ ? core_->send(peer_id, header, body) : P2PNET_ERR_STOPPED;
}

std::vector<PeerSummary> Node::peers() const { return core_ ? core_->peer_summaries() : std::vector<PeerSummary>{}; }
NodeStats Node::stats() const { return core_ ? core_->stats() : NodeStats{}; }
std::vector<PluginSummary> Node::plugins() const {
  return core_ ? core_->plugin_summaries() : std::vector<PluginSummary>{};
}

void Node::execute(std::string_view line, OutputSink out, std::function<void(int)> done) {
  if (core_) return core_->execute(line, std::move(out), std::move(done));
  if (out) out("error: node is stopped", false);
  if (done) done(1);
}
void Node::set_public_event_sink(PublicEventSink sink) {
  if (core_) core_->bus().set_public_listener(std::move(sink));
}

void Node::set_event_sink(OutputSink sink) {
  if (core_) core_->set_event_sink(std::move(sink));
}
void Node::set_config_source(std::function<NodeConfig()> source) {
  if (core_) core_->set_config_source(std::move(source));
}
void Node::request_stop() {
  std::lock_guard lock(stop_request_mutex_);
  stop_requested_ = true;
  stop_requested_cv_.notify_all();
}
void Node::wait_for_stop_request() {
  std::unique_lock lock(stop_request_mutex_);
  stop_requested_cv_.wait(lock, [this] { return stop_requested_; });
}

}  // namespace p2pnet
