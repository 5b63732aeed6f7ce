// The node behind p2pnet::Node: the glue that owns its parts, each with one
// job and its own lock (PeerTable: connections by state; Dialer: the dials
// the node decides on; PluginRegistry: plugins and their commands;
// RunningCommands: plugin commands under way; Router, EventBus, PeerStore),
// and says what happens to them. Its methods are spread by concern:
// node_core.cpp (lifecycle, connections, the handshake), peer_policing.cpp,
// node_console.cpp, core_commands.cpp and live_plugins.cpp.
#pragma once

#include "connection.hpp"
#include "data_dir_lock.hpp"
#include "dialback_budget.hpp"
#include "dialer.hpp"
#include "event_bus.hpp"
#include "external_address.hpp"
#include "logger.hpp"
#include "network_address.hpp"
#include "node_key.hpp"
#include "peer_store.hpp"
#include "peer_table.hpp"
#include "plugin_instance.hpp"
#include "plugin_registry.hpp"
#include "reachability.hpp"
#include "relay_hints.hpp"
#include "relay_service.hpp"
#include "reversal_waits.hpp"
#include "router.hpp"
#include "running_commands.hpp"
#include "runtime.hpp"
#include "serial_worker.hpp"
#include "wire/relay.hpp"
#include "write_budget_groups.hpp"

#include "p2pnet/node.hpp"

#include <p2pnet/command_line.hpp>

#include <asio.hpp>

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace p2pnet {

class NodeCore : public ConnectionOwner, public std::enable_shared_from_this<NodeCore> {
 public:
  NodeCore(NodeConfig config, Runtime::Impl& runtime);
  ~NodeCore() override;

  void load_plugins();  // throws StartupError
  void start();
  void stop();

  // --- Facts ----------------------------------------------------------------
  const NodeConfig& config() const { return config_; }
  const std::string& id() const { return id_; }
  std::string short_id() const { return id_.substr(0, 8); }
  const std::string& listen_host() const { return listen_host_; }
  uint16_t listen_port() const { return listen_port_; }
  const std::string& data_dir() const { return data_dir_text_; }
  const std::shared_ptr<Logger>& log() const { return log_; }
  bool stopping() const { return stopping_.load(); }

  // --- Connections ----------------------------------------------------------
  using ConnectDone = std::function<void(const std::string& peer_id, const std::string& error)>;
  // With expected_id, the connection is refused unless the peer proves that id.
  // A dial-back probe (dialback) proves the peer listens there, then closes.
  void connect(const std::string& host, uint16_t port, ConnectDone done, const std::string& expected_id = "",
               bool dialback = false);
  // Dials a node by id from the peer store, pinned to that id; at most
  // max_known_dials_per_s new dials a second. False when the id is unknown.
  bool connect_known(const std::string& node_id, ConnectDone done);
  bool disconnect(const std::string& peer_id, const std::string& reason);
  std::shared_ptr<Connection> peer(const std::string& peer_id) const;
  std::vector<std::shared_ptr<Connection>> established_peers() const;
  // A peer id, or a unique prefix of one (for typing at the console).
  std::optional<std::string> resolve_peer_id(const std::string& id_or_prefix) const;

  // P2PNET_* status.
  int send(const std::string& peer_id, std::string_view header, std::span<const std::byte> body);
  int broadcast(std::string_view header, std::span<const std::byte> body, const std::set<std::string>& except);

  PeerStore& peer_store() { return peer_store_; }
  // Which local scopes a peer-supplied address may be in: loopback only when
  // this node listens on loopback, private ones only when it has one.
  LocalScopes hearsay_scopes() const { return hearsay_scopes_; }
  EventBus& bus() { return bus_; }
  const Router& router() const { return router_; }

  // --- Registration from plugins (load phase only) ---------------------------
  // A P2PNET_* status, and why the node refused, if it did.
  Registration register_type(PluginInstance& plugin, const std::string& type);
  Registration register_command(PluginInstance& plugin, const CommandInfo& command);

  // --- Live plugins (live_plugins.cpp) ---------------------------------------
  // Where `reload` and SIGHUP read the configuration again (p2pnode: node.toml
  // with the command line's overrides). Throws ConfigError.
  void set_config_source(std::function<NodeConfig()> source);
  // Each runs on the live-plugin worker, prints what it did and why, and
  // returns a console status. Peers stay connected throughout.
  int load_plugin_live(const std::string& name, const std::string& path, const OutputSink& out);
  int unload_plugin_live(const std::string& name, const OutputSink& out);
  int reload_plugin_live(const std::string& name, const OutputSink& out);
  int reload_config(const OutputSink& out);
  // Runs `operation` on the live-plugin worker, one at a time, then done(status).
  void run_live(std::function<int(const OutputSink&)> operation, OutputSink out, std::function<void(int)> done);

  // --- Console ----------------------------------------------------------------
  void execute(std::string_view line, OutputSink out, std::function<void(int)> done);
  void print(uint64_t token, std::string_view text, bool transient);
  void finish_command(uint64_t token, int status);
  void set_event_sink(OutputSink sink);
  // False when no sink took the line (an embedder that set none).
  bool print_event(const std::string& line, bool transient = false);
  void report_peer_event(const std::string& line);
  // A public event (see EventBus): plugins that follow them all, and the
  // embedder's listener (Node::set_public_event_sink).
  void publish_public(const std::string& event, std::string json);
  void set_stop_request_handler(std::function<void()> handler);
  void request_stop();  // the `stop` command: the embedder decides

  // --- Introspection ----------------------------------------------------------
  std::vector<PeerSummary> peer_summaries() const;
  NodeStats stats() const;
  std::vector<PluginSummary> plugin_summaries() const;
  void count_event(const std::string& name) override;

  // --- ConnectionOwner --------------------------------------------------------
  std::string hello_for(const Connection& connection) override;
  HandshakeVerdict on_hello(const std::shared_ptr<Connection>& connection, const wire::Hello& hello) override;
  void on_frame(const std::shared_ptr<Connection>& connection, const std::string& type,
                const wire::FrameView& frame) override;
  std::string on_pinned_mismatch(const Connection& connection, const std::string& actual_id) override;
  void on_closed(const std::shared_ptr<Connection>& connection, const std::string& reason) override;
  void on_relay_opening(asio::ip::tcp::socket socket) override { relay_service_->take_opening(std::move(socket)); }
  // What `nat` and `stats` say of the relay: the one holding this node's
  // place (id, or ""), and the service's own figures.
  std::string reservation_relay() const;
  RelayService::Summary relay_summary() const { return relay_service_->summary(); }
  // The relay holding this node's place, as this node reaches it; what the
  // node names in its answers so that others reach it by id.
  std::optional<RelayHint> own_relay() const;
  // What peers named as other nodes' relays (host_api's remember_relay).
  RelayHints& relay_hints() { return relay_hints_; }

 private:
  void load_enabled_plugins();
  // Finds and loads one plugin's library and adds an instance of it (a
  // private copy of the file while the node runs); returns why it was
  // refused, or "".
  std::string load_plugin(const PluginConfig& plugin_config, bool private_copy);
  // Creates an instance of a loaded library and, once the node runs, starts
  // it, tells it of the connected peers and routes its types to it.
  std::string add_instance(const PluginConfig& plugin_config, const std::shared_ptr<const PluginLibrary>& library);
  // Takes it out of the node, then drains and destroys it (bounded); says what happened.
  int remove_instance(const std::shared_ptr<PluginInstance>& plugin, const OutputSink& out);
  // Checks the new file, swaps the instances, brings the old one back if the
  // new one's load hook fails. 0 when the new one runs.
  int reload_instance(const std::shared_ptr<PluginInstance>& old, const PluginConfig& plugin_config,
                      const OutputSink& out);
  std::shared_ptr<PluginInstance> find_plugin(const std::string& name) const;
  std::vector<std::shared_ptr<PluginInstance>> plugin_list() const;
  std::filesystem::path plugin_file_for(const PluginConfig& plugin_config) const;  // throws PluginLoadError
  // The hello template follows the router; peers get a "p2pnet.types" update.
  void advertise_types();
  void on_types_update(const std::shared_ptr<Connection>& connection, const wire::FrameView& frame);
  void send_types_if_stale(const std::shared_ptr<Connection>& connection);
  void connect_by_id(const std::string& text, const OutputSink& out, const std::function<void(int)>& done);
  static std::string path_name(const std::string& relayed_via);  // "direct" or "relayed via ID8"
  void run_plugin_command(const std::vector<std::string>& args, const OutputSink& out,
                          const std::function<void(int)>& done);
  void accept_next();
  void adopt(asio::ip::tcp::socket socket, bool inbound, ConnectDone done, const std::string& expected_id = "",
             bool dialback = false, const std::string& relayed_via = "",
             const std::string& peer_host_seen_by_relay = "");
  // A TCP connection and nothing more (bounded by handshake_timeout): null and why not, or the socket.
  using SocketDone = std::function<void(std::shared_ptr<asio::ip::tcp::socket> socket, const std::string& error)>;
  void dial_socket(const std::string& host, uint16_t port, SocketDone done);
  // The relay, both ways (relay_client.cpp): holding a reservation while
  // private, taking circuits the relay announces, reaching others through
  // relays among the peers.
  bool relay_service_on() const;
  // The relay service's switch (relay_switch.cpp): `reload` sets it and
  // prints the change. A service that is off (so, or auto and not public)
  // withdraws every place it still holds, telling each holder; returns how
  // many it withdrew.
  void apply_relay_service(Switch fresh, const OutputSink& out);
  size_t withdraw_relay_places_if_off();
  bool wants_reservation() const;
  void maintain_reservation();
  // A relay refused or never answered; and whether it is still left alone
  // (both under reservation_mutex_).
  void note_refusal(const std::string& relay_id, std::chrono::steady_clock::time_point now);
  bool refusing(const std::string& relay_id, std::chrono::steady_clock::time_point now) const;
  void on_relay_reserve(const std::shared_ptr<Connection>& peer);
  void on_relay_reserved(const std::shared_ptr<Connection>& peer, const wire::FrameView& frame);
  void on_relay_incoming(const std::shared_ptr<Connection>& peer, const wire::FrameView& frame);
  void relay_link_lost(const std::string& peer_id);
  // Through the relays among the peers (at most kMaxRelaysTried): reversal
  // first, then a circuit through one relay after another; false when none
  // could be asked.
  bool connect_through_relays(const std::string& node_id, ConnectDone done);
  // Links to a relay a peer named for node_id, then goes through the relays
  // among the peers (that one first).
  void link_named_relay(RelayHint relay, std::string node_id, ConnectDone done);
  bool connect_through_linked_relays(const std::string& node_id, ConnectDone done);
  void try_relays(std::vector<std::shared_ptr<Connection>> relays, size_t index, std::string node_id,
                  std::string errors, ConnectDone done);
  // The relay line exchange on a fresh socket to a relay, then the link as a peer.
  void open_circuit(const std::shared_ptr<Connection>& relay, const wire::RelayOpening& opening, bool inbound,
                    ConnectDone done);
  // Connection reversal (connection_reversal.cpp): asking relays to have a
  // node dial this one back, passing such requests on as a relay, and
  // dialing back when the relay holding our place asks.
  bool wants_reversal() const;
  // False when too many waits run already.
  bool ask_reversal(const std::vector<std::shared_ptr<Connection>>& relays, const std::string& node_id,
                    ReversalWaits::Done done);
  void on_relay_reverse(const std::shared_ptr<Connection>& peer, const wire::FrameView& frame);
  void on_relay_reversal(const std::shared_ptr<Connection>& peer, const wire::FrameView& frame);
  void on_relay_connect_back(const std::shared_ptr<Connection>& peer, const wire::FrameView& frame);
  // Hole punching over relayed links (hole_punch.cpp).
  bool wants_punch(const Connection& link) const;
  // On a circuit this node opened: tries for a direct link and calls done
  // once there is one or the relayed link stays; false when it does not try.
  bool start_punch(const std::string& peer_id, ConnectDone done);
  void send_punch_connect(const std::shared_ptr<Connection>& link);
  void on_punch_frame(const std::shared_ptr<Connection>& link, const std::string& type);
  // False when no dial is under way (refused, or failed before its SYN).
  bool punch_dial(const std::weak_ptr<Connection>& link, bool opener);
  void retry_punch(const std::weak_ptr<Connection>& link, const std::string& peer_id, const std::string& error);
  void end_punch(const std::string& peer_id, const std::string& error);
  void end_punches(const std::string& why);  // at stop: every punch under way
  void punch_link_lost(const std::string& peer_id);
  // A TCP connection from the listen port (SO_REUSEPORT), bounded by
  // handshake_timeout and at most kMaxPunchDialTime (hole_punch.cpp).
  // False when it failed before connecting (done has been called).
  bool dial_from_listen_port(const std::string& host, uint16_t port, SocketDone done);
  // The reachability check (reachability_check.cpp).
  void ask_dialback(const std::shared_ptr<Connection>& peer);
  void on_dialback_request(const std::shared_ptr<Connection>& peer);
  void on_dialback_result(const std::shared_ptr<Connection>& peer, const wire::FrameView& frame);
  HandshakeVerdict on_dialback_hello(const std::shared_ptr<Connection>& connection, const wire::Hello& hello);
  std::string check_identity(const Connection& connection, const wire::Hello& hello);
  void resolve_connect(std::shared_ptr<Connection> connection, const std::string& peer_id, const std::string& error);
  static constexpr size_t kWriteBudgetGroupShare = 8;
  // Nodes whose relays peers named; each named relay costs about 150 bytes.
  static constexpr size_t kMaxRelayHintNodes = 4096;
  ConnectionLimits limits_for(const asio::ip::tcp::socket& socket, bool inbound);
  void schedule_sweep();
  void sweep_connections();
  static bool is_core_command(const std::string& name);
  void run_core_command(const std::string& name, const std::vector<std::string>& args, const OutputSink& out,
                        const std::function<void(int)>& done);

  NodeConfig config_;
  Runtime::Impl& runtime_;
  std::shared_ptr<Logger> log_;
  DataDirLock data_dir_lock_;
  std::optional<NodeKey> key_;
  std::unique_ptr<asio::ssl::context> tls_;  // null when encryption = false
  std::string id_;
  std::string data_dir_text_;
  std::string listen_host_;
  LocalScopes hearsay_scopes_;
  uint16_t listen_port_ = 0;
  asio::ip::tcp::endpoint listen_endpoint_;  // set before start, read by hole punching
  ConnectionLimits limits_;
  wire::Hello hello_template_;

  asio::ip::tcp::acceptor acceptor_;
  std::atomic<bool> started_{false};
  std::atomic<bool> stopping_{false};

  PeerStore peer_store_;
  ExternalAddress external_address_;
  Reachability reachability_;
  DialbackBudget dialback_budget_;
  DialbackAsks dialback_asks_;
  std::shared_ptr<Dialer> dialer_;
  std::shared_ptr<RelayService> relay_service_;
  // relay_service as node.toml said last (start-up, then `reload`): read on
  // every thread, where config_ keeps the start-up value.
  std::atomic<Switch> relay_service_switch_{Switch::automatic};
  struct RelayReservation {
    std::string held;     // the relay's id, while it holds a place for this node
    std::string pending;  // the relay asked, no answer yet
    std::chrono::steady_clock::time_point pending_since{};
    // Relays that refused a reservation (most auto relays while private),
    // not asked again for a while, longer after each refusal; forgotten
    // when their link closes, so bounded by the peers there are.
    struct Refusal {
      std::chrono::steady_clock::time_point until{};
      std::chrono::milliseconds pause{0};
    };
    std::map<std::string, Refusal> refused;
    std::chrono::steady_clock::time_point next_try{};
    std::chrono::milliseconds backoff{1000};
  };
  RelayHints relay_hints_{kMaxRelayHintNodes};
  mutable std::mutex reservation_mutex_;
  RelayReservation reservation_;
  std::atomic<int> incoming_circuits_{0};  // being opened at a relay's word
  std::shared_ptr<ReversalWaits> reversal_waits_;
  struct Punch {                   // per relayed peer, while its link lasts
    bool connect_pending = false;  // opener: a punch.connect awaits its answer
    bool dialing = false;          // opener: its punch dial is under way
    int tries = 0;
    bool awaiting_sync = false;                    // the other end: answered, the sync comes next
    std::shared_ptr<asio::steady_timer> deadline;  // opener: set while a punch is under way
    std::vector<ConnectDone> waiters;
  };
  std::mutex punch_mutex_;
  std::map<std::string, Punch> punches_;
  std::atomic<int> punch_dials_{0};
  DialbackBudget reversal_budget_;    // dials back at a relay's word
  DialbackBudget reversal_forwards_;  // requests passed on as a relay, by asking node and target
  WriteBudgetGroups write_groups_;
  EventBus bus_;
  Router router_;
  PluginRegistry plugins_;
  // As node.toml said last (start-up, then `reload`); the worker's only once running.
  std::vector<std::filesystem::path> plugin_dirs_;  // node.toml's, then the stock plugins'
  std::vector<PluginConfig> plugin_tables_;
  mutable std::mutex hello_mutex_;  // guards hello_template_
  // When the advertised types last changed (steady clock, ns): a peer whose
  // handshake overlapped it may hold our old hello and gets an update.
  std::atomic<int64_t> types_changed_ns_{0};
  SerialWorker live_worker_;
  std::mutex config_source_mutex_;
  std::function<NodeConfig()> config_source_;

  PeerTable peers_{id_, stopping_};
  std::atomic<size_t> refusals_in_tls_{0};  // refused dialers being told so inside TLS
  std::set<std::string> idle_message_types_;
  std::shared_ptr<asio::steady_timer> sweep_timer_;

  mutable std::mutex events_mutex_;
  std::map<std::string, uint64_t> events_;

  RunningCommands running_commands_;
  std::mutex event_sink_mutex_;
  OutputSink event_sink_;

  std::mutex stop_mutex_;
  bool stopped_ = false;

  std::mutex stop_request_mutex_;
  std::function<void()> stop_request_handler_;
};

}  // namespace p2pnet
