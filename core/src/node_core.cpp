#include "node_core.hpp"

#include "address_group.hpp"
#include "connection_slots.hpp"
#include "host_api.hpp"
#include "network_address.hpp"
#include "node_id.hpp"
#include "socket_deadline.hpp"
#include "tls_identity.hpp"
#include "wire/header_scan.hpp"

#include <fmt/core.h>
#include <p2pnet/printable.hpp>

#include <algorithm>
#include <future>

namespace p2pnet {
namespace {

constexpr auto kCloseWait = std::chrono::seconds(3);
constexpr auto kAcceptRetry = std::chrono::milliseconds(200);
constexpr const char* kAgent = "p2pnet/0.1.0";
constexpr size_t kRecommendedNetworkKeyBytes = 32;
constexpr size_t kMaxRefusalsInTls = 16;

}  // namespace

NodeCore::NodeCore(NodeConfig config, Runtime::Impl& runtime)
    : config_(std::move(config)),
      runtime_(runtime),
      acceptor_(asio::make_strand(runtime.io)),
      peer_store_(config_.max_known_nodes, config_.max_hearsay_nodes, config_.max_known_nodes_per_group,
                  config_.cap_loopback_inbound) {
  if (!config_.data_dir.empty()) {
    data_dir_lock_ = DataDirLock(config_.data_dir);
    data_dir_text_ = config_.data_dir.string();
  }
  key_ = NodeKey::load_or_create(config_.data_dir);
  if (!config_.id.empty() && !is_valid_node_id(config_.id))
    throw StartupError("node id must be 64 lowercase hex characters");
  if (!config_.id.empty() && config_.id != key_->id())
    throw StartupError(
        fmt::format("the configured id {} does not match the node key in {} (its id is {}); "
                    "an id is the SHA-256 of the node's public key",
                    config_.id, config_.data_dir.empty() ? "memory" : config_.data_dir.string(), key_->id()));
  id_ = key_->id();
  if (config_.encryption) tls_ = make_tls_context(*key_);
  log_ = std::make_shared<Logger>(short_id(), config_.log_level);
  listen_host_ = config_.host;
  hearsay_scopes_ = local_scopes_of(listen_host_);
  limits_.frames = {config_.max_header_bytes, config_.max_body_bytes};
  limits_.write_queue_limit_bytes = config_.write_queue_limit_bytes;
  limits_.plugin_queue_limit_bytes = config_.plugin_queue_limit_bytes;
  limits_.handshake_timeout = config_.handshake_timeout;
  limits_.max_total_queued_bytes = config_.max_total_queued_bytes;
  limits_.inbound_hello_after_peer = tls_ && !config_.network_key.empty();
  idle_message_types_ = {config_.idle_message_types.begin(), config_.idle_message_types.end()};
  hello_template_.id = id_;
  hello_template_.agent = kAgent;
  hello_template_.max_header_bytes = config_.max_header_bytes;
  hello_template_.max_body_bytes = config_.max_body_bytes;
  if (config_.reachability_check) hello_template_.features.push_back(std::string(wire::kDialbackFeature));
  relay_service_switch_ = config_.relay.service;
  if (config_.relay.service != Switch::off) hello_template_.features.push_back(std::string(wire::kRelayFeature));
  if (config_.relay.punching) hello_template_.features.push_back(std::string(wire::kPunchFeature));
  // The dialer lives and dies with this core, and stop() stops it first.
  dialer_ = std::make_shared<Dialer>(
      config_, runtime_.io, peer_store_, log_,
      Dialer::Node{[this](const std::string& host, uint16_t port, ConnectDone done, const std::string& expected_id) {
                     connect(host, port, std::move(done), expected_id);
                   },
                   [this](const std::string& peer_id) { return peer(peer_id) != nullptr; },
                   [this](const std::string& node_id, ConnectDone done) {
                     return connect_through_relays(node_id, std::move(done));
                   },
                   [this](const std::string& node_id) { return !relay_hints_.of(node_id).empty(); },
                   [this](const std::string& event) { count_event(event); }});
  reversal_waits_ = std::make_shared<ReversalWaits>(runtime_.io);
  relay_service_ =
      std::make_shared<RelayService>(config_.relay, config_.handshake_timeout, runtime_.io, log_,
                                     RelayService::Node{[this] { return relay_service_on(); },
                                                        [this](const std::string& peer_id) { return peer(peer_id); },
                                                        [this](const std::string& event) { count_event(event); }});
  if (!config_.network_key.empty() && config_.network_key.size() < kRecommendedNetworkKeyBytes)
    log_->warn(
        "network_key has {} characters; a node that dials a stranger shows it a proof that can be attacked "
        "offline, so use {} random bytes (network_key_file, e.g. from `head -c 32 /dev/urandom | base64`)",
        config_.network_key.size(), kRecommendedNetworkKeyBytes);
}

NodeCore::~NodeCore() = default;

// --- Lifecycle --------------------------------------------------------------

void NodeCore::start() {
  if (started_.exchange(true)) return;
  std::error_code error;
  asio::ip::tcp::endpoint endpoint;
  auto address = asio::ip::make_address(config_.host, error);
  if (!error) {
    endpoint = {address, config_.port};
  } else {
    asio::ip::tcp::resolver resolver(runtime_.io);
    auto results = resolver.resolve(config_.host, std::to_string(config_.port), error);
    if (error || results.empty())
      throw StartupError(fmt::format("cannot listen on {}:{}: cannot resolve the host: {}", config_.host, config_.port,
                                     error ? error.message() : "no address"));
    endpoint = results.begin()->endpoint();
  }
  auto fail = [&](const char* step) {
    return StartupError(
        fmt::format("cannot listen on {}:{}: {} failed: {}", config_.host, config_.port, step, error.message()));
  };
  acceptor_.open(endpoint.protocol(), error);
  if (error) throw fail("open");
  acceptor_.set_option(asio::socket_base::reuse_address(true), error);
  if (config_.relay.punching && endpoint.port() != 0) {
    // Hole punching dials from the listen port, which takes SO_REUSEPORT on
    // the listener too; that would also let a second node bind the port,
    // so a plain bind tries it first and keeps "in use" an error.
    asio::ip::tcp::acceptor probe(runtime_.io);
    probe.open(endpoint.protocol(), error);
    if (!error) probe.set_option(asio::socket_base::reuse_address(true), error);
    if (!error) probe.bind(endpoint, error);
    if (error) throw fail("bind");
  }
  if (config_.relay.punching)
    acceptor_.set_option(asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>(true), error);
  acceptor_.bind(endpoint, error);
  if (error) throw fail("bind");
  acceptor_.listen(asio::socket_base::max_listen_connections, error);
  if (error) throw fail("listen");
  listen_endpoint_ = acceptor_.local_endpoint(error);
  listen_port_ = listen_endpoint_.port();
  {
    std::lock_guard lock(hello_mutex_);
    hello_template_.port = listen_port_;
  }
  // A console (an event sink) prints its own "listening on" line; the log
  // repeats it at info only when it has more to say: plaintext.
  bool has_console = false;
  {
    std::lock_guard lock(event_sink_mutex_);
    has_console = static_cast<bool>(event_sink_);
  }
  log_->log(has_console && tls_ ? LogSeverity::debug : LogSeverity::info, "listening on {}:{} as node {} ({})",
            listen_host_, listen_port_, id_, tls_ ? "TLS 1.3" : "plaintext, encryption = false");

  asio::post(acceptor_.get_executor(), [self = shared_from_this()] { self->accept_next(); });
  sweep_timer_ = std::make_shared<asio::steady_timer>(asio::make_strand(runtime_.io));
  schedule_sweep();
  for (const auto& plugin : plugin_list()) plugin->start();
  dialer_->start();
}

void NodeCore::stop() {
  {
    std::lock_guard lock(stop_mutex_);
    if (stopped_) return;
    stopped_ = true;
  }
  if (runtime_.on_network_thread())
    throw std::logic_error("Node::stop() called from one of the node's own threads; call it from another thread");
  stopping_ = true;
  log_->info("stopping");

  std::promise<void> acceptor_closed;
  asio::post(acceptor_.get_executor(), [this, &acceptor_closed] {
    std::error_code ignored;
    acceptor_.close(ignored);
    acceptor_closed.set_value();
  });
  acceptor_closed.get_future().wait();
  dialer_->stop();
  relay_service_->stop();
  reversal_waits_->stop();
  end_punches("node is stopping");
  if (sweep_timer_) asio::post(sweep_timer_->get_executor(), [timer = sweep_timer_] { timer->cancel(); });
  // A load or unload under way finishes first; later ones see stopping_.
  live_worker_.shut_down();

  const auto plugins = plugin_list();
  for (const auto& plugin : plugins) plugin->stop_and_wait();

  for (const auto& connection : peers_.all()) connection->close("node is stopping", true);
  if (auto open = peers_.wait_until_empty(kCloseWait))
    log_->warn("{} connections still open after {} s; closing anyway", open, kCloseWait.count());

  // Connection handlers may still be walking the plugin list, so it stays;
  // each instance lets go of the node instead, which breaks the cycle
  // between them.
  for (const auto& plugin : plugins) {
    plugin->destroy_and_wait();
    plugin->release_node();
  }

  running_commands_.fail_all(nullptr, "error: node stopped before the command finished");
  bus_.clear();
  set_event_sink({});
  set_stop_request_handler({});
  data_dir_lock_ = DataDirLock();  // a new node may take the directory at once
  log_->info("stopped");
}

// --- Connections ------------------------------------------------------------

void NodeCore::accept_next() {
  acceptor_.async_accept(
      runtime_.io, [self = shared_from_this()](const std::error_code& error, asio::ip::tcp::socket socket) {
        if (self->stopping_ || error == asio::error::operation_aborted) return;
        if (error) {
          // Out of file descriptors and the like: wait a little rather than spin.
          self->log_->warn("accept failed: {}", error.message());
          auto timer = std::make_shared<asio::steady_timer>(self->acceptor_.get_executor(), kAcceptRetry);
          timer->async_wait([self, timer](const std::error_code&) {
            if (!self->stopping_) self->accept_next();
          });
          return;
        }
        self->adopt(std::move(socket), true, {});
        self->accept_next();
      });
}

// Inbound peers of one address group share an eighth of the node's write
// budget (loopback ones only when it is capped like any other address, as
// for connection slots).
ConnectionLimits NodeCore::limits_for(const asio::ip::tcp::socket& socket, bool inbound) {
  ConnectionLimits limits = limits_;
  std::error_code error;
  auto remote = socket.remote_endpoint(error).address();
  if (!inbound || error || (remote.is_loopback() && !config_.cap_loopback_inbound)) return limits;
  limits.group_queued_bytes = write_groups_.counter_for(address_group(remote.to_string()));
  limits.max_group_queued_bytes = limits_.max_total_queued_bytes / kWriteBudgetGroupShare;
  return limits;
}

void NodeCore::adopt(asio::ip::tcp::socket socket, bool inbound, ConnectDone done, const std::string& expected_id,
                     bool dialback, const std::string& relayed_via, const std::string& peer_host_seen_by_relay) {
  ConnectionLimits limits = limits_for(socket, inbound);
  auto connection =
      std::make_shared<Connection>(std::move(socket), inbound, weak_from_this(), limits, log_, tls_.get());
  connection->expect_peer_id(expected_id);
  if (dialback) connection->mark_dialback();
  if (!relayed_via.empty()) connection->mark_relayed(relayed_via, peer_host_seen_by_relay);
  SlotLimits slots{config_.max_connections, config_.max_inbound_per_address, config_.max_inbound_per_group,
                   config_.outbound_reserved, config_.cap_loopback_inbound};
  auto admission = peers_.admit(connection, slots, done);
  const std::string& refusal = admission.refusal;
  const auto& evicted = admission.evicted;
  if (!admission.counter.empty()) count_event(admission.counter);
  if (evicted) {
    count_event("inbound_evicted");
    log_->info("evicting inbound {} to make room for {}", evicted->describe(), connection->describe());
    // A bye only to an established peer: one still in its TLS handshake cannot read it.
    evicted->close("evicted to make room for another peer (the node is full)", evicted->established());
  }
  if (refusal.empty()) return connection->start();
  count_event("refused_connections");
  log_->info("refusing {} connection {}: {}", inbound ? "inbound" : "outbound", connection->describe(), refusal);
  if (done) done("", refusal);
  // A TLS handshake per refusal is worth its cost only while few are open:
  // beyond that a refused dialer is closed without a word.
  if (inbound && tls_ && refusals_in_tls_.fetch_add(1) < kMaxRefusalsInTls) return connection->refuse(refusal);
  if (inbound && tls_) {
    refusals_in_tls_.fetch_sub(1);
    return connection->close(refusal, false);
  }
  connection->close(refusal, inbound);
}

void NodeCore::connect(const std::string& host, uint16_t port, ConnectDone done, const std::string& expected_id,
                       bool dialback) {
  if (!done) done = [](const std::string&, const std::string&) {};
  dial_socket(host, port,
              [self = shared_from_this(), done, expected_id, dialback](std::shared_ptr<asio::ip::tcp::socket> socket,
                                                                       const std::string& error) {
                if (!socket) return done("", error);  // callers say where they tried
                self->adopt(std::move(*socket), false, done, expected_id, dialback);
              });
}

void NodeCore::dial_socket(const std::string& host, uint16_t port, SocketDone done) {
  if (stopping_) return done(nullptr, "node is stopping");
  auto self = shared_from_this();
  auto strand = asio::make_strand(runtime_.io);
  auto resolver = std::make_shared<asio::ip::tcp::resolver>(strand);
  resolver->async_resolve(
      host, std::to_string(port),
      [self, strand, resolver, done](const std::error_code& error, asio::ip::tcp::resolver::results_type results) {
        if (error) return done(nullptr, fmt::format("cannot resolve the host: {}", error.message()));
        auto socket = std::make_shared<asio::ip::tcp::socket>(strand);
        auto deadline = close_after(socket, self->config_.handshake_timeout);
        asio::async_connect(*socket, results,
                            [socket, deadline, done](const std::error_code& e, const asio::ip::tcp::endpoint&) {
                              deadline->cancel();
                              if (e) return done(nullptr, connect_failure(e));
                              done(socket, "");
                            });
      });
}

bool NodeCore::connect_known(const std::string& node_id, ConnectDone done) {
  return dialer_->dial_known(node_id, std::move(done));
}

bool NodeCore::disconnect(const std::string& peer_id, const std::string& reason) {
  auto connection = peer(peer_id);
  if (!connection) return false;
  connection->close(reason, true);
  return true;
}

std::shared_ptr<Connection> NodeCore::peer(const std::string& peer_id) const { return peers_.peer(peer_id); }

std::vector<std::shared_ptr<Connection>> NodeCore::established_peers() const { return peers_.peers(); }

std::optional<std::string> NodeCore::resolve_peer_id(const std::string& id_or_prefix) const {
  return peers_.resolve(id_or_prefix);
}

int NodeCore::send(const std::string& peer_id, std::string_view header, std::span<const std::byte> body) {
  if (stopping_) return P2PNET_ERR_STOPPED;
  auto scan = wire::scan_header(header);
  if (!scan.ok || Router::reserved(scan.type)) return P2PNET_ERR_INVALID;
  auto connection = peer(peer_id);
  if (!connection) return P2PNET_ERR_NOT_FOUND;
  const auto& hello = connection->hello();
  if (header.size() > hello.max_header_bytes || body.size() > hello.max_body_bytes) return P2PNET_ERR_TOO_LARGE;
  if (!connection->handles(scan.type)) return P2PNET_ERR_UNSUPPORTED;
  return connection->send(wire::make_frame(header, body)) ? P2PNET_OK : P2PNET_ERR_QUEUE_FULL;
}

int NodeCore::broadcast(std::string_view header, std::span<const std::byte> body, const std::set<std::string>& except) {
  if (stopping_) return P2PNET_ERR_STOPPED;
  auto scan = wire::scan_header(header);
  if (!scan.ok || Router::reserved(scan.type)) return P2PNET_ERR_INVALID;
  wire::SharedFrame frame;
  int sent = 0;
  for (const auto& connection : established_peers()) {
    const auto& hello = connection->hello();
    if (except.count(hello.id) || !connection->handles(scan.type)) continue;
    if (header.size() > hello.max_header_bytes || body.size() > hello.max_body_bytes) continue;
    if (!frame) frame = wire::make_frame(header, body);
    if (connection->send(frame)) ++sent;
  }
  return sent;
}

// --- Handshake and traffic --------------------------------------------------

HandshakeVerdict NodeCore::on_hello(const std::shared_ptr<Connection>& connection, const wire::Hello& hello) {
  if (hello.dialback || connection->dialback()) return on_dialback_hello(connection, hello);
  using Outcome = PeerTable::Establishment::Outcome;
  auto result = peers_.establish(connection, hello.id, [&] {
    auto refusal = check_identity(*connection, hello);
    if (refusal.empty()) connection->answer_hello();  // before any plugin can send it a frame
    return refusal;
  });
  auto settle = [&](const std::string& peer_id, const std::string& error) {
    if (result.waiter)
      asio::post(runtime_.io, [waiter = std::move(result.waiter), peer_id, error] { waiter(peer_id, error); });
  };
  switch (result.outcome) {
    case Outcome::stopping:
      settle("", "node is stopping");
      return {false, "node is stopping", true};
    case Outcome::refused:
      settle("", result.refusal);
      return {false, result.refusal, true};
    case Outcome::itself:
      count_event("self_connections");
      log_->info("closing connection {}: it leads back to this node", connection->describe());
      settle("", "that address leads back to this node");
      return {false, "connected to itself", false};
    case Outcome::unproven_duplicate:
      count_event("unproven_duplicates_refused");
      log_->warn("refusing {}: it claims id {}, which is connected from {}, and without TLS it cannot prove it",
                 connection->describe(), hello.id, result.replaced->remote_address());
      settle("", "that id is already connected from another address");
      return {false, "duplicate connection from another address", true};
    case Outcome::duplicate:
      count_event("duplicate_connections");
      log_->info("closing duplicate connection {}: already connected to {}", connection->describe(),
                 hello.id.substr(0, 12));
      settle(hello.id, "");
      return {false, "duplicate connection", true};
    case Outcome::replaced:
      count_event("duplicate_connections");
      log_->info("replacing connection {} with {}: both ends keep the same one", result.replaced->describe(),
                 connection->describe());
      for (const auto& plugin : plugin_list())
        plugin->peer_disconnected(result.replaced, "replaced by a newer connection");
      result.replaced->close("duplicate connection", true);
      break;
    case Outcome::added:
      break;
  }
  send_types_if_stale(connection);
  // On a relayed link the address is the relay's: it says nothing of the
  // peer's own, nor of how the internet sees this node.
  const bool relayed = connection->relayed();
  if (hello.port != 0 && !relayed) peer_store_.remember_verified(hello.id, connection->remote_address(), hello.port);
  const char* direction = connection->inbound() ? "inbound" : "outbound";
  report_peer_event(
      fmt::format("peer connected: {} {}:{} {}", hello.id, connection->remote_address(), hello.port, direction));
  publish_public("peer.connected", nlohmann::json{{"id", hello.id},
                                                  {"host", connection->remote_address()},
                                                  {"port", hello.port},
                                                  {"inbound", connection->inbound()},
                                                  {"authenticated", connection->encrypted()},
                                                  {"relayed_via", connection->relayed_via()}}
                                       .dump());
  if (!relayed) {
    if (auto confirmed =
            external_address_.observe(connection->remote_address(), hello.observed_host, hello.observed_port))
      report_peer_event("external address " + *confirmed);
    ask_dialback(connection);  // before the plugins hear of the peer: what they see, it has been asked
  }
  maintain_reservation();
  for (const auto& plugin : plugin_list()) plugin->peer_connected(connection);
  settle(hello.id, "");
  reversal_waits_->arrived(hello.id);
  return {true, "", false};
}

std::string NodeCore::hello_for(const Connection& connection) {
  wire::Hello hello;
  {
    std::lock_guard lock(hello_mutex_);
    hello = hello_template_;
  }
  if (!config_.network_key.empty()) hello.network_proof = connection.network_proof(config_.network_key, true);
  hello.observed_host = connection.remote_address();
  hello.observed_port = connection.remote_port();
  hello.dialback = connection.dialback();
  return wire::encode_hello(hello);
}

void NodeCore::on_frame(const std::shared_ptr<Connection>& connection, const std::string& type,
                        const wire::FrameView& frame) {
  if (type == wire::kTypesUpdateType) return on_types_update(connection, frame);
  if (wire::is_punch_type(type)) return on_punch_frame(connection, type);
  if (wire::is_link_control_type(type)) {
    // On a relayed link the address is the relay's: a dial-back would go
    // there, a vote would speak for the relay's network, and a relay needs a
    // direct link. Such frames are dropped.
    if (connection->relayed()) return count_event("relayed_link_control_dropped");
    if (type == wire::kDialbackRequestType) return on_dialback_request(connection);
    if (type == wire::kDialbackResultType) return on_dialback_result(connection, frame);
    if (type == wire::kRelayReserveType) return on_relay_reserve(connection);
    if (type == wire::kRelayReservedType) return on_relay_reserved(connection, frame);
    if (type == wire::kRelayIncomingType) return on_relay_incoming(connection, frame);
    if (type == wire::kRelayReverseType) return on_relay_reverse(connection, frame);
    if (type == wire::kRelayReversalType) return on_relay_reversal(connection, frame);
    if (type == wire::kRelayConnectBackType) return on_relay_connect_back(connection, frame);
  }
  auto plugin = router_.owner(type);
  if (!plugin) {
    count_event("unknown_type");
    log_->debug("dropped message of unknown type '{}' from {}", type, connection->describe());
    return;
  }
  if (!idle_message_types_.count(type)) connection->note_useful_traffic();
  plugin->message(connection, type, frame);
}

void NodeCore::on_closed(const std::shared_ptr<Connection>& connection, const std::string& reason) {
  if (connection->refusing() && tls_) refusals_in_tls_.fetch_sub(1);
  auto removal = peers_.remove(connection);
  if (removal.waiter) removal.waiter("", reason);
  if (!removal.was_peer) {
    if (removal.was_handshaking && !connection->handed_to_relay()) {
      count_event("handshakes_failed");
      log_->info("connection {} closed before the handshake finished: {}", connection->describe(), reason);
    }
    return;
  }
  const std::string& id = connection->peer_id();
  report_peer_event(fmt::format("peer disconnected: {} ({})", id, reason));
  publish_public("peer.disconnected", nlohmann::json{{"id", id}, {"reason", reason}}.dump(
                                          -1, ' ', false, nlohmann::json::error_handler_t::replace));
  for (const auto& plugin : plugin_list()) plugin->peer_disconnected(connection, reason);
  dialer_->peer_lost(id);
  relay_service_->release(id);
  relay_link_lost(id);
  reversal_waits_->relay_lost(id);
  punch_link_lost(id);
  peers_.reported();
}

// --- Introspection ----------------------------------------------------------

void NodeCore::count_event(const std::string& name) {
  std::lock_guard lock(events_mutex_);
  ++events_[name];
}

std::vector<PeerSummary> NodeCore::peer_summaries() const {
  std::vector<PeerSummary> out;
  for (const auto& connection : established_peers()) {
    const auto& counters = connection->counters();
    PeerSummary summary;
    summary.id = connection->peer_id();
    summary.host = connection->remote_address();
    summary.port = connection->hello().port;
    summary.inbound = connection->inbound();
    summary.authenticated = connection->encrypted();
    summary.relayed_via = connection->relayed_via();
    if (connection->relayed())
      summary.port = connection->remote_port();  // where the relay is, not a port of the peer's
    summary.types = connection->types();
    summary.traffic = {counters.messages_in, counters.messages_out, counters.bytes_in, counters.bytes_out,
                       counters.errors};
    out.push_back(std::move(summary));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return out;
}

NodeStats NodeCore::stats() const {
  NodeStats stats;
  stats.peers = peer_summaries();
  stats.total = peers_.traffic_outside_peers();
  for (const auto& peer : stats.peers) {
    stats.total.messages_in += peer.traffic.messages_in;
    stats.total.messages_out += peer.traffic.messages_out;
    stats.total.bytes_in += peer.traffic.bytes_in;
    stats.total.bytes_out += peer.traffic.bytes_out;
    stats.total.errors += peer.traffic.errors;
  }
  {
    std::lock_guard lock(events_mutex_);
    stats.events = events_;
  }
  if (auto evicted = peer_store_.evictions()) stats.events["known_nodes_evicted"] = evicted;
  if (auto evicted = peer_store_.group_evictions()) stats.events["known_nodes_group_full"] = evicted;
  if (auto queued = limits_.node_queued_bytes->load(std::memory_order_relaxed)) stats.events["queued_bytes"] = queued;
  for (const auto& plugin : plugin_list())
    for (const auto& [name, value] : plugin->counters()) stats.plugin_counters[plugin->name() + "." + name] = value;
  return stats;
}

std::vector<PluginSummary> NodeCore::plugin_summaries() const {
  std::vector<PluginSummary> out;
  for (const auto& plugin : plugin_list()) {
    PluginSummary summary{plugin->name(),
                          plugin->library().version,
                          plugin->library().description,
                          plugin->library().file.string(),
                          plugin->types,
                          {}};
    for (const auto& command : plugin->commands) summary.commands.push_back(command.name);
    out.push_back(std::move(summary));
  }
  return out;
}

}  // namespace p2pnet
