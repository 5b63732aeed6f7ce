// Node configuration: what node.toml and the command line can set.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "p2pnet/log.hpp"

namespace p2pnet {

// A configuration that cannot be used; what() is one line naming the file,
// position or key, and what was expected.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct PeerAddress {
  std::string host;
  uint16_t port = 0;
  bool persistent = false;  // reconnect with backoff whenever the connection drops
};

struct PluginConfig {
  std::string name;  // the [plugins.NAME] table
  bool enabled = true;
  // A plugin that fails to load stops start-up; false: skipped with a warning.
  bool required = true;
  // Explicit library path; empty: search plugin_dirs. load_config_file makes
  // a relative path relative to node.toml's directory.
  std::filesystem::path path;
  nlohmann::json settings = nlohmann::json::object();  // the rest of the table
};

// The control endpoint: other programs (p2pnode ctl, scripts) run console
// commands on a running node through a Unix socket only its user can open.
struct ControlConfig {
  bool enabled = false;
  std::filesystem::path socket;  // empty: control.sock in the data dir
  size_t max_clients = 8;
  std::string tcp;    // "HOST:PORT" on loopback, also served; empty: the Unix socket only
  std::string token;  // what TCP clients must send; empty: control.token in the data dir
};

enum class Switch { off, on, automatic };

// The relay: a public node links two peers that cannot reach each other,
// carrying their own TLS session end to end; a private node holds a place
// on one so that others can reach it by id.
struct RelayConfig {
  Switch service = Switch::automatic;  // automatic: on while this node finds itself public
  // automatic: hold a place on a relay while private; on: always; off:
  // never, nor reach others through relays.
  Switch use_relays = Switch::automatic;
  // Connection reversal: ask, through the relays, a node that cannot be
  // dialed to dial this node back, and dial back when asked so.
  bool reversal = true;
  // TCP hole punching: replace a relayed link by a direct one when both
  // ends' NATs keep ports (the listener takes SO_REUSEPORT for it).
  bool punching = true;
  size_t max_reservations = 64;
  size_t max_circuits = 32;
  uint64_t max_circuit_bytes = uint64_t{4} << 30;
  int64_t max_circuit_seconds = 3600;
};

struct NodeConfig {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  std::string id;                  // empty: generated once and kept in data_dir
  std::filesystem::path data_dir;  // empty: nothing is persisted (embedded use)
  LogSeverity log_level = LogSeverity::info;
  bool encryption = true;   // TLS 1.3 with node keys; false: plaintext (debugging)
  std::string network_key;  // non-empty: a private network only its holders can join
  unsigned threads = 1;     // network threads when the node owns its runtime

  size_t max_connections = 128;
  // Inbound slots: one address, and one /24 (IPv4) or /64 (IPv6), may hold
  // at most these; the last outbound_reserved slots are only ever dialed.
  size_t max_inbound_per_address = 4;
  size_t max_inbound_per_group = 16;
  size_t outbound_reserved = 8;
  // Loopback peers are this machine's own nodes and tools (and a local proxy
  // would make every peer look like one): by default the per-address and
  // per-group caps leave them alone.
  bool cap_loopback_inbound = false;
  // An inbound peer that sends nothing but idle_message_types (keep-alives,
  // which alone do not keep a slot) for this long is dropped. The core names
  // no plugin's types: node.toml lists them.
  std::chrono::milliseconds inbound_idle_timeout{600000};
  std::vector<std::string> idle_message_types;
  std::chrono::milliseconds handshake_timeout{5000};
  uint32_t max_header_bytes = 256 * 1024;
  uint32_t max_body_bytes = 16 * 1024 * 1024;
  size_t write_queue_limit_bytes = 64 * 1024 * 1024;
  // All peers' write queues together; a frame beyond it is refused.
  size_t max_total_queued_bytes = 256 * 1024 * 1024;
  // A peer whose queue makes no progress for this long is dropped.
  std::chrono::milliseconds write_stall_timeout{10000};
  // Bytes from one peer handed to plugins and not yet handled: reading from
  // that peer pauses above it and resumes at half, so a slow plugin slows its
  // peers instead of filling memory.
  size_t plugin_queue_limit_bytes = 8 * 1024 * 1024;
  size_t max_known_nodes = 10000;
  // Nodes other peers named (hearsay), kept apart from the verified ones.
  size_t max_hearsay_nodes = 10000;
  // Records of one /24 or /64 in each of those tables: one network with many
  // keys then churns only its own records, never everyone else's.
  size_t max_known_nodes_per_group = 64;
  // Node-wide: new connections per second to nodes dialed by id from the
  // peer store (ping ID, target_peers, downloads), so that learned
  // addresses cannot turn the node into a connection flood.
  unsigned max_known_dials_per_s = 10;
  // Ask peers to dial this node back (and dial back for them) to learn
  // whether it can be reached from the internet: `nat` says what they found.
  bool reachability_check = true;
  RelayConfig relay;

  std::vector<PeerAddress> peers;
  std::chrono::milliseconds reconnect_initial{1000};
  std::chrono::milliseconds reconnect_max{60000};

  std::vector<std::filesystem::path> plugin_dirs;
  std::vector<PluginConfig> plugins;
  ControlConfig control;
};

struct LoadedConfig {
  NodeConfig config;
  std::vector<std::string> warnings;  // unknown keys, each naming file:line:column
};

// Parses node.toml text; `source` names it in messages. Throws ConfigError.
LoadedConfig parse_config(std::string_view toml_text, const std::string& source);
LoadedConfig load_config_file(const std::filesystem::path& file);

}  // namespace p2pnet
