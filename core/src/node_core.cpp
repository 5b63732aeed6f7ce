#include "node_core.hpp"

#include "address_group.hpp"
#include "connection_slots.hpp"
#include "host_api.hpp"
#include "network_address.hpp"
#include "node_id.hpp"
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
constexpr auto kMaxSweepInterval = std::chrono::milliseconds(1000);
constexpr auto kMinSweepInterval = std::chrono::milliseconds(50);
// How long an address that proved to be another node is not dialed for the
// id it was stored under.
constexpr int64_t kBadAddressMs = 10 * 60 * 1000;

}  // namespace

NodeCore::NodeCore(NodeConfig config, Runtime::Impl& runtime)
    : config_(std::move(config)),
      runtime_(runtime),
      acceptor_(asio::make_strand(runtime.io)),
      peer_store_(config_.max_known_nodes, config_.max_hearsay_nodes, config_.max_known_nodes_per_group,
                  config_.cap_loopback_inbound),
      known_dials_(config_.max_known_dials_per_s) {
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
  acceptor_.bind(endpoint, error);
  if (error) throw fail("bind");
  acceptor_.listen(asio::socket_base::max_listen_connections, error);
  if (error) throw fail("listen");
  listen_port_ = acceptor_.local_endpoint(error).port();
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
  {
    std::lock_guard lock(persistent_mutex_);
    for (const auto& peer : config_.peers)
      persistent_.push_back(
          PersistentPeer{peer, config_.reconnect_initial, "", std::make_shared<asio::steady_timer>(runtime_.io)});
  }
  for (size_t i = 0; i < config_.peers.size(); ++i) dial_persistent(i);
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
  {
    std::lock_guard lock(persistent_mutex_);
    for (auto& peer : persistent_) peer.timer->cancel();
  }
  if (sweep_timer_) asio::post(sweep_timer_->get_executor(), [timer = sweep_timer_] { timer->cancel(); });
  // A load or unload under way finishes first; later ones see stopping_.
  live_worker_.shut_down();

  const auto plugins = plugin_list();
  for (const auto& plugin : plugins) plugin->stop_and_wait();

  std::vector<std::shared_ptr<Connection>> open;
  {
    std::lock_guard lock(peers_mutex_);
    for (const auto& [id, connection] : peers_) open.push_back(connection);
    for (const auto& [serial, connection] : handshaking_) open.push_back(connection);
  }
  for (const auto& connection : open) connection->close("node is stopping", true);
  {
    std::unique_lock lock(peers_mutex_);
    if (!all_closed_.wait_for(lock, kCloseWait,
                              [this] { return peers_.empty() && handshaking_.empty() && closes_being_reported_ == 0; }))
      log_->warn("{} connections still open after {} s; closing anyway", peers_.size() + handshaking_.size(),
                 kCloseWait.count());
  }

  // Connection handlers may still be walking the plugin list, so it stays;
  // each instance lets go of the node instead, which breaks the cycle
  // between them.
  for (const auto& plugin : plugins) {
    plugin->destroy_and_wait();
    plugin->release_node();
  }

  std::map<uint64_t, PendingCommand> unfinished;
  {
    std::lock_guard lock(commands_mutex_);
    unfinished.swap(pending_commands_);
  }
  for (auto& [token, command] : unfinished) {
    if (command.out) command.out("error: node stopped before the command finished", false);
    if (command.done) command.done(1);
  }
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

// Returns why the connection may not have a slot, or nothing; sets `evicted`
// to an inbound peer that must make room for it.
std::string NodeCore::admit_locked(const std::shared_ptr<Connection>& connection,
                                   std::shared_ptr<Connection>& evicted) {
  if (stopping_) return "node is stopping";
  std::vector<SlotHolder> holders;
  std::map<uint64_t, std::shared_ptr<Connection>> by_serial;
  auto add = [&](const std::shared_ptr<Connection>& holder) {
    if (evicting_.count(holder->serial())) return;
    by_serial[holder->serial()] = holder;
    holders.push_back({holder->inbound(),
                       {holder->serial(), holder->remote_address(), address_group(holder->remote_address()),
                        holder->connected_at(), holder->last_useful_traffic()}});
  };
  for (const auto& [id, holder] : peers_) add(holder);
  for (const auto& [serial, holder] : handshaking_) add(holder);
  SlotLimits limits{config_.max_connections, config_.max_inbound_per_address, config_.max_inbound_per_group,
                    config_.outbound_reserved, config_.cap_loopback_inbound};
  auto decision = decide_slot(holders, connection->inbound(), connection->remote_address(), limits);
  if (decision.kind == SlotDecision::Kind::refuse) {
    count_event(decision.counter);
    return decision.reason;
  }
  if (decision.kind == SlotDecision::Kind::admit_after_evicting) {
    evicted = by_serial.at(decision.evict_serial);
    evicting_.insert(decision.evict_serial);
  }
  return "";
}

void NodeCore::adopt(asio::ip::tcp::socket socket, bool inbound, ConnectDone done, const std::string& expected_id) {
  ConnectionLimits limits = limits_for(socket, inbound);
  auto connection =
      std::make_shared<Connection>(std::move(socket), inbound, weak_from_this(), limits, log_, tls_.get());
  connection->expect_peer_id(expected_id);
  std::string refusal;
  std::shared_ptr<Connection> evicted;
  {
    std::lock_guard lock(peers_mutex_);
    refusal = admit_locked(connection, evicted);
    if (refusal.empty()) {
      handshaking_[connection->serial()] = connection;
      if (done) connect_waiters_[connection->serial()] = std::move(done);
    }
  }
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

void NodeCore::connect(const std::string& host, uint16_t port, ConnectDone done, const std::string& expected_id) {
  if (!done) done = [](const std::string&, const std::string&) {};
  if (stopping_) return done("", "node is stopping");
  auto self = shared_from_this();
  auto strand = asio::make_strand(runtime_.io);
  auto resolver = std::make_shared<asio::ip::tcp::resolver>(strand);
  resolver->async_resolve(
      host, std::to_string(port),
      [self, strand, resolver, host, port, done, expected_id](const std::error_code& error,
                                                              asio::ip::tcp::resolver::results_type results) {
        if (error) return done("", fmt::format("cannot resolve the host: {}", error.message()));
        auto socket = std::make_shared<asio::ip::tcp::socket>(strand);
        auto deadline = std::make_shared<asio::steady_timer>(strand, self->config_.handshake_timeout);
        deadline->async_wait([socket](const std::error_code& e) {
          if (!e) {
            std::error_code ignored;
            socket->close(ignored);
          }
        });
        asio::async_connect(*socket, results,
                            [self, socket, deadline, host, port, done, expected_id](const std::error_code& e,
                                                                                    const asio::ip::tcp::endpoint&) {
                              deadline->cancel();
                              if (e) {
                                std::string why = e == asio::error::operation_aborted ? "timed out" : e.message();
                                return done("", why);  // callers say where they tried
                              }
                              self->adopt(std::move(*socket), false, done, expected_id);
                            });
      });
}

bool NodeCore::connect_known(const std::string& node_id, ConnectDone done) {
  if (auto existing = peer(node_id)) {
    done(node_id, "");
    return true;
  }
  auto record = peer_store_.find(node_id);
  if (!record) return false;
  if (!known_dials_.take()) {
    count_event("known_dials_throttled");
    log_->debug("not dialing {} at {}:{}: more than max_known_dials_per_s ({}) dials by id this second", node_id,
                record->host, record->port, config_.max_known_dials_per_s);
    done("", "too many dials by id this second (max_known_dials_per_s); try again shortly");
    return true;
  }
  // Pinned: whoever answers at that address must prove this id, so a forged
  // record can neither impersonate the node nor be reached under its name.
  connect(record->host, record->port, std::move(done), node_id);
  return true;
}

bool NodeCore::disconnect(const std::string& peer_id, const std::string& reason) {
  auto connection = peer(peer_id);
  if (!connection) return false;
  connection->close(reason, true);
  return true;
}

std::shared_ptr<Connection> NodeCore::peer(const std::string& peer_id) const {
  std::lock_guard lock(peers_mutex_);
  auto it = peers_.find(peer_id);
  return it == peers_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<Connection>> NodeCore::established_peers() const {
  std::lock_guard lock(peers_mutex_);
  std::vector<std::shared_ptr<Connection>> out;
  out.reserve(peers_.size());
  for (const auto& [id, connection] : peers_) out.push_back(connection);
  return out;
}

std::optional<std::string> NodeCore::resolve_peer_id(const std::string& id_or_prefix) const {
  if (id_or_prefix.empty()) return std::nullopt;
  std::lock_guard lock(peers_mutex_);
  std::optional<std::string> match;
  for (const auto& [id, connection] : peers_) {
    if (id.compare(0, id_or_prefix.size(), id_or_prefix) != 0) continue;
    if (match) return std::nullopt;  // ambiguous
    match = id;
  }
  return match;
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
  std::shared_ptr<Connection> replaced;
  ConnectDone waiter;
  auto settle = [&](const std::string& peer_id, const std::string& error) {
    if (waiter) asio::post(runtime_.io, [waiter = std::move(waiter), peer_id, error] { waiter(peer_id, error); });
  };
  {
    std::lock_guard lock(peers_mutex_);
    handshaking_.erase(connection->serial());
    all_closed_.notify_all();
    if (auto node = connect_waiters_.extract(connection->serial())) waiter = std::move(node.mapped());
    if (stopping_) {
      settle("", "node is stopping");
      return {false, "node is stopping", true};
    }
    if (auto refusal = check_identity(*connection, hello); !refusal.empty()) {
      settle("", refusal);
      return {false, refusal, true};
    }
    connection->answer_hello();  // before any plugin can send it a frame
    if (hello.id == id_) {
      count_event("self_connections");
      log_->info("closing connection {}: it leads back to this node", connection->describe());
      settle("", "that address leads back to this node");
      return {false, "connected to itself", false};
    }
    auto existing = peers_.find(hello.id);
    if (existing != peers_.end()) {
      // Both ends pick the same survivor: the connection dialed by the node
      // with the smaller id; between two dialed by the same node, the older.
      const auto& old = existing->second;
      auto initiator = [&](const Connection& c) { return c.inbound() ? hello.id : id_; };
      bool keep_new = initiator(*old) != initiator(*connection) && initiator(*connection) < initiator(*old);
      // Without TLS the id is only claimed: a stranger elsewhere could claim
      // it to take the real peer's place. Two ends that dial each other at
      // once connect from the same address, so only such a duplicate may win.
      if (keep_new && !connection->encrypted() && connection->remote_address() != old->remote_address()) {
        count_event("unproven_duplicates_refused");
        log_->warn("refusing {}: it claims id {}, which is connected from {}, and without TLS it cannot prove it",
                   connection->describe(), hello.id, old->remote_address());
        settle("", "that id is already connected from another address");
        return {false, "duplicate connection from another address", true};
      }
      if (!keep_new) {
        count_event("duplicate_connections");
        log_->info("closing duplicate connection {}: already connected to {}", connection->describe(),
                   hello.id.substr(0, 12));
        settle(hello.id, "");
        return {false, "duplicate connection", true};
      }
      replaced = old;
      existing->second = connection;
    } else {
      peers_.emplace(hello.id, connection);
    }
  }
  if (replaced) {
    count_event("duplicate_connections");
    log_->info("replacing connection {} with {}: both ends keep the same one", replaced->describe(),
               connection->describe());
    for (const auto& plugin : plugin_list()) plugin->peer_disconnected(replaced, "replaced by a newer connection");
    replaced->close("duplicate connection", true);
  }
  send_types_if_stale(connection);
  if (hello.port != 0) peer_store_.remember_verified(hello.id, connection->remote_address(), hello.port);
  const char* direction = connection->inbound() ? "inbound" : "outbound";
  report_peer_event(
      fmt::format("peer connected: {} {}:{} {}", hello.id, connection->remote_address(), hello.port, direction));
  publish_public("peer.connected", nlohmann::json{{"id", hello.id},
                                                  {"host", connection->remote_address()},
                                                  {"port", hello.port},
                                                  {"inbound", connection->inbound()},
                                                  {"authenticated", connection->encrypted()}}
                                       .dump());
  if (auto confirmed = external_address_.observe(connection->remote_address(), hello.observed_host))
    report_peer_event("external address " + *confirmed);
  for (const auto& plugin : plugin_list()) plugin->peer_connected(connection);
  settle(hello.id, "");
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
  return wire::encode_hello(hello);
}

// Whether the peer is who it says, in the network we are in, and the one the
// caller asked for. Returns why not, or nothing. Never logs the network key.
std::string NodeCore::check_identity(const Connection& connection, const wire::Hello& hello) {
  if (connection.encrypted() && hello.id != connection.peer_key_id()) {
    count_event("spoofed_ids");
    log_->warn("rejecting {}: it claims id {} but its key proves id {}", connection.describe(), hello.id,
               connection.peer_key_id());
    return "the claimed id does not match the key";
  }
  if (!config_.network_key.empty() &&
      !proofs_equal(hello.network_proof, connection.network_proof(config_.network_key, false))) {
    count_event("network_key_rejected");
    log_->warn("rejecting {} ({}): it does not hold this private network's key", connection.describe(),
               hello.id.substr(0, 12));
    return "network key required: this is a private network";
  }
  if (config_.network_key.empty() && !hello.network_proof.empty()) {
    count_event("network_key_rejected");
    log_->warn("rejecting {} ({}): it belongs to a private network (network_key) and this node has no key",
               connection.describe(), hello.id.substr(0, 12));
    return "the peer is in a private network and this node has no network key";
  }
  if (!connection.expected_peer_id().empty() && hello.id != connection.expected_peer_id())
    return on_pinned_mismatch(connection, hello.id);
  return "";
}

// Under TLS the connection finds this before any hello (from the key), in
// plaintext check_identity does (from the hello): either way the address is
// not dialed for that id again for a while.
std::string NodeCore::on_pinned_mismatch(const Connection& connection, const std::string& actual_id) {
  count_event("pinned_id_mismatch");
  log_->warn("refusing {}: its id is {}, not the expected {}; that address is not dialed for {} again for {} s",
             connection.describe(), actual_id, connection.expected_peer_id(), connection.expected_peer_id(),
             kBadAddressMs / 1000);
  peer_store_.mark_bad(connection.expected_peer_id(), connection.remote_address(), connection.remote_port(),
                       unix_millis_now() + kBadAddressMs);
  return fmt::format("the peer's id is {}, not the expected {}", actual_id, connection.expected_peer_id());
}

void NodeCore::on_frame(const std::shared_ptr<Connection>& connection, const std::string& type,
                        const wire::FrameView& frame) {
  if (type == wire::kTypesUpdateType) return on_types_update(connection, frame);
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
  bool was_peer = false;
  bool was_handshaking = false;
  ConnectDone waiter;
  {
    std::lock_guard lock(peers_mutex_);
    was_handshaking = handshaking_.erase(connection->serial()) > 0;
    evicting_.erase(connection->serial());
    if (connection->established()) {
      auto it = peers_.find(connection->peer_id());
      if (it != peers_.end() && it->second == connection) {
        peers_.erase(it);
        was_peer = true;
        ++closes_being_reported_;  // stop() waits for the report and the plugins' notice too
      }
    }
    if (auto node = connect_waiters_.extract(connection->serial())) waiter = std::move(node.mapped());
    const auto& counters = connection->counters();
    retired_traffic_.messages_in += counters.messages_in;
    retired_traffic_.messages_out += counters.messages_out;
    retired_traffic_.bytes_in += counters.bytes_in;
    retired_traffic_.bytes_out += counters.bytes_out;
    retired_traffic_.errors += counters.errors;
    all_closed_.notify_all();
  }
  if (waiter) waiter("", reason);
  if (!was_peer) {
    if (was_handshaking) {
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
  {
    std::lock_guard lock(persistent_mutex_);
    for (size_t i = 0; i < persistent_.size(); ++i)
      if (persistent_[i].peer_id == id) {
        persistent_[i].peer_id.clear();
        retry_persistent(i);
      }
  }
  std::lock_guard lock(peers_mutex_);
  --closes_being_reported_;
  all_closed_.notify_all();
}

// --- Sweeping stalled and idle connections ----------------------------------

void NodeCore::schedule_sweep() {
  auto interval =
      std::clamp(std::min(config_.write_stall_timeout, config_.inbound_idle_timeout) / 4,
                 std::chrono::milliseconds(kMinSweepInterval), std::chrono::milliseconds(kMaxSweepInterval));
  sweep_timer_->expires_after(interval);
  sweep_timer_->async_wait([weak = weak_from_this()](const std::error_code& error) {
    auto self = weak.lock();
    if (error || !self || self->stopping_) return;
    self->sweep_connections();
    self->schedule_sweep();
  });
}

// A peer that does not read holds its queue (and the node-wide budget) until
// it is dropped; an inbound peer that only keeps itself alive holds a slot
// an honest peer could use.
void NodeCore::sweep_connections() {
  std::vector<std::shared_ptr<Connection>> connections;
  {
    std::lock_guard lock(peers_mutex_);
    for (const auto& [id, connection] : peers_) connections.push_back(connection);
    for (const auto& [serial, connection] : handshaking_) connections.push_back(connection);
  }
  const auto now = std::chrono::steady_clock::now();
  for (const auto& connection : connections) {
    if (connection->closing()) continue;
    if (connection->write_stalled_for(now) >= config_.write_stall_timeout) {
      count_event("write_stalls");
      log_->warn("dropping {}: {} bytes queued and none written for {} ms (it does not read)", connection->describe(),
                 connection->queued_bytes(), config_.write_stall_timeout.count());
      connection->close(fmt::format("not reading: nothing written for {} ms", config_.write_stall_timeout.count()),
                        false);
      continue;
    }
    if (!connection->inbound() || !connection->established()) continue;
    auto last = connection->last_useful_traffic().value_or(connection->connected_at());
    if (now - last >= config_.inbound_idle_timeout) {
      count_event("inbound_idle_timeouts");
      log_->info("dropping inbound {}: nothing but keep-alives for {} ms", connection->describe(),
                 config_.inbound_idle_timeout.count());
      connection->close(fmt::format("idle for {} ms", config_.inbound_idle_timeout.count()), true);
    }
  }
}

// --- Configured and persistent peers ----------------------------------------

void NodeCore::dial_persistent(size_t index) {
  PeerAddress address;
  {
    std::lock_guard lock(persistent_mutex_);
    address = persistent_[index].address;
  }
  connect(address.host, address.port,
          [weak = weak_from_this(), index, address](const std::string& peer_id, const std::string& error) {
            auto self = weak.lock();
            if (!self) return;
            std::lock_guard lock(self->persistent_mutex_);
            auto& peer = self->persistent_[index];
            if (error.empty()) {
              peer.peer_id = peer_id;
              peer.backoff = self->config_.reconnect_initial;
              return;
            }
            self->log_->info("configured peer {}:{} unreachable: {}{}", address.host, address.port, error,
                             address.persistent ? fmt::format("; retrying in {} ms", peer.backoff.count()) : "");
            self->retry_persistent(index);
          });
}

void NodeCore::retry_persistent(size_t index) {
  auto& peer = persistent_[index];
  if (!peer.address.persistent || stopping_) return;
  peer.timer->expires_after(peer.backoff);
  peer.backoff = std::min(peer.backoff * 2, config_.reconnect_max);
  peer.timer->async_wait([weak = weak_from_this(), index](const std::error_code& error) {
    auto self = weak.lock();
    if (!error && self && !self->stopping_) self->dial_persistent(index);
  });
}

// --- Console ----------------------------------------------------------------

void NodeCore::execute(std::string_view line, OutputSink out, std::function<void(int)> done) {
  if (!out) out = [](std::string_view, bool) {};
  if (!done) done = [](int) {};
  if (auto quote = unterminated_quote(line)) {
    out(fmt::format("error: unterminated quote at column {}", *quote + 1), false);
    return done(2);
  }
  auto args = split_command_line(line);
  if (args.empty()) return done(0);
  std::string name = args.front();
  args.erase(args.begin());
  if (is_core_command(name)) return run_core_command(name, args, out, done);
  std::shared_ptr<PluginInstance> plugin;
  {
    std::lock_guard lock(plugins_mutex_);
    if (auto it = plugin_commands_.find(name); it != plugin_commands_.end()) plugin = it->second.second;
  }
  if (!plugin) {
    out(fmt::format("unknown command '{}'; type help for the list", printable_excerpt(name)), false);
    return done(1);
  }
  if (stopping_) {
    out("error: node is stopping", false);
    return done(1);
  }
  uint64_t token;
  {
    std::lock_guard lock(commands_mutex_);
    token = next_command_++;
    pending_commands_[token] = PendingCommand{out, done, plugin.get()};
  }
  // The rest of the line, untouched, so a plugin can parse its own syntax.
  auto start = line.find_first_not_of(" \t");
  auto rest = line.substr(std::min(line.size(), start + name.size()));
  auto first = rest.find_first_not_of(" \t");
  plugin->command(token, name, first == std::string_view::npos ? "" : std::string(rest.substr(first)));
}

void NodeCore::print(uint64_t token, std::string_view text, bool transient) {
  OutputSink out;
  {
    std::lock_guard lock(commands_mutex_);
    auto it = pending_commands_.find(token);
    if (it != pending_commands_.end()) out = it->second.out;
  }
  if (out) return out(text, transient);
  // Outside any command, a transient line is the node's status area; a
  // plugin's other lines are notices (`saved PATH (...)` of a background
  // download), which programs following the node's events get too.
  print_event(std::string(text), transient);
  if (!transient)
    publish_public("notice",
                   nlohmann::json{{"text", text}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

void NodeCore::finish_command(uint64_t token, int status) {
  std::function<void(int)> done;
  {
    std::lock_guard lock(commands_mutex_);
    auto it = pending_commands_.find(token);
    if (it == pending_commands_.end()) return;
    done = std::move(it->second.done);
    pending_commands_.erase(it);
  }
  if (done) done(status);
}

void NodeCore::set_event_sink(OutputSink sink) {
  std::lock_guard lock(event_sink_mutex_);
  event_sink_ = std::move(sink);
}

bool NodeCore::print_event(const std::string& line, bool transient) {
  // Called under the lock so that once stop() clears the sink, no call to
  // it is still running: the embedder may destroy what it captured.
  std::lock_guard lock(event_sink_mutex_);
  if (!event_sink_) return false;
  event_sink_(line, transient);
  return true;
}

void NodeCore::report_peer_event(const std::string& line) {
  // One place says it: the console when there is one (p2pnode), else the log
  // at info. A terminal would otherwise show every peer event twice.
  bool printed = print_event(line);
  log_->log(printed ? LogSeverity::debug : LogSeverity::info, "{}", line);
}

void NodeCore::publish_public(const std::string& event, std::string json) {
  bus_.publish(event, std::move(json), true);
}

void NodeCore::set_stop_request_handler(std::function<void()> handler) {
  std::lock_guard lock(commands_mutex_);
  stop_request_handler_ = std::move(handler);
}

void NodeCore::request_stop() {
  std::function<void()> handler;
  {
    std::lock_guard lock(commands_mutex_);
    handler = stop_request_handler_;
  }
  if (handler) handler();
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
  {
    std::lock_guard lock(peers_mutex_);
    stats.total = retired_traffic_;
    for (const auto& [serial, connection] : handshaking_) {
      const auto& c = connection->counters();
      stats.total.bytes_in += c.bytes_in;
      stats.total.bytes_out += c.bytes_out;
      stats.total.errors += c.errors;
    }
  }
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
