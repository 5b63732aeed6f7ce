#include "config_changes.hpp"

namespace p2pnet {
namespace {

bool same_peers(const std::vector<PeerAddress>& a, const std::vector<PeerAddress>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const PeerAddress& x, const PeerAddress& y) {
    return x.host == y.host && x.port == y.port && x.persistent == y.persistent;
  });
}

}  // namespace

std::vector<std::string> restart_only_changes(const NodeConfig& running, const NodeConfig& fresh) {
  std::vector<std::string> keys;
  auto check = [&](const char* key, bool changed) {
    if (changed) keys.emplace_back(key);
  };
  const auto& a = running;
  const auto& b = fresh;
  check("host", a.host != b.host);
  check("port", a.port != b.port);
  check("id", a.id != b.id);
  check("data_dir", a.data_dir != b.data_dir);
  check("log_level", a.log_level != b.log_level);
  check("encryption", a.encryption != b.encryption);
  check("network_key", a.network_key != b.network_key);
  check("threads", a.threads != b.threads);
  check("max_connections", a.max_connections != b.max_connections);
  check("max_inbound_per_address", a.max_inbound_per_address != b.max_inbound_per_address);
  check("max_inbound_per_group", a.max_inbound_per_group != b.max_inbound_per_group);
  check("outbound_reserved", a.outbound_reserved != b.outbound_reserved);
  check("cap_loopback_inbound", a.cap_loopback_inbound != b.cap_loopback_inbound);
  check("inbound_idle_timeout_ms", a.inbound_idle_timeout != b.inbound_idle_timeout);
  check("idle_message_types", a.idle_message_types != b.idle_message_types);
  check("handshake_timeout_ms", a.handshake_timeout != b.handshake_timeout);
  check("max_header_bytes", a.max_header_bytes != b.max_header_bytes);
  check("max_body_bytes", a.max_body_bytes != b.max_body_bytes);
  check("write_queue_limit_bytes", a.write_queue_limit_bytes != b.write_queue_limit_bytes);
  check("max_total_queued_bytes", a.max_total_queued_bytes != b.max_total_queued_bytes);
  check("write_stall_timeout_ms", a.write_stall_timeout != b.write_stall_timeout);
  check("plugin_queue_limit_bytes", a.plugin_queue_limit_bytes != b.plugin_queue_limit_bytes);
  check("max_known_nodes", a.max_known_nodes != b.max_known_nodes);
  check("max_hearsay_nodes", a.max_hearsay_nodes != b.max_hearsay_nodes);
  check("max_known_nodes_per_group", a.max_known_nodes_per_group != b.max_known_nodes_per_group);
  check("max_known_dials_per_s", a.max_known_dials_per_s != b.max_known_dials_per_s);
  check("reachability_check", a.reachability_check != b.reachability_check);
  check("use_relays", a.relay.use_relays != b.relay.use_relays);
  check("connection_reversal", a.relay.reversal != b.relay.reversal);
  check("hole_punching", a.relay.punching != b.relay.punching);
  check("relay_max_reservations", a.relay.max_reservations != b.relay.max_reservations);
  check("relay_max_circuits", a.relay.max_circuits != b.relay.max_circuits);
  check("relay_max_circuit_bytes", a.relay.max_circuit_bytes != b.relay.max_circuit_bytes);
  check("relay_max_circuit_seconds", a.relay.max_circuit_seconds != b.relay.max_circuit_seconds);
  check("reconnect_initial_ms", a.reconnect_initial != b.reconnect_initial);
  check("reconnect_max_ms", a.reconnect_max != b.reconnect_max);
  check("peers", !same_peers(a.peers, b.peers));
  check("control", a.control.enabled != b.control.enabled || a.control.socket != b.control.socket ||
                       a.control.max_clients != b.control.max_clients);
  return keys;
}

}  // namespace p2pnet
