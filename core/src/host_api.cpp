// The C function table handed to every plugin: each entry checks its
// arguments (plugins are third-party code) and forwards to the node.
#include "host_api.hpp"

#include "network_address.hpp"
#include "node_core.hpp"
#include "node_id.hpp"
#include "plugin_instance.hpp"
#include "wire/header_scan.hpp"

#include <cstring>

namespace p2pnet {
namespace {

constexpr size_t kMaxNameLength = 128;
// As long as a line typed at the console or sent to the control endpoint.
constexpr size_t kMaxCommandLineLength = 64 * 1024;

PluginInstance& instance(p2pnet_host* host) { return *host->instance; }
NodeCore& node(p2pnet_host* host) { return host->instance->node(); }
// A destroyed instance (unloaded, or its node stopped) is never forwarded to
// the node: a thread the plugin forgot to join gets refusals, not a crash.
bool gone(p2pnet_host* host) { return host == nullptr || host->instance->destroyed(); }
// Unloading has begun: nothing new is started for the plugin.
bool retiring(p2pnet_host* host) { return gone(host) || host->instance->retiring(); }

bool valid_text(const char* text, size_t max = kMaxNameLength) {
  return text != nullptr && std::strlen(text) <= max && text[0] != '\0';
}

const char* node_id(p2pnet_host* host) { return gone(host) ? "" : node(host).id().c_str(); }
const char* listen_host(p2pnet_host* host) { return gone(host) ? "" : node(host).listen_host().c_str(); }
uint16_t listen_port(p2pnet_host* host) { return gone(host) ? 0 : node(host).listen_port(); }
const char* data_dir(p2pnet_host* host) { return gone(host) ? "" : node(host).data_dir().c_str(); }

void log(p2pnet_host* host, int level, const char* text, size_t len) {
  if (!text || host == nullptr) return;
  if (level < P2PNET_LOG_TRACE) level = P2PNET_LOG_TRACE;
  if (level > P2PNET_LOG_ERROR) level = P2PNET_LOG_ERROR;
  auto severity = static_cast<LogSeverity>(level);
  const Logger& logger = instance(host).log();
  if (logger.enabled(severity)) logger.write(severity, std::string_view(text, len));
}

int answer(p2pnet_host* host, const Registration& registration) {
  if (!registration.refusal.empty()) instance(host).refuse_registration(registration.refusal);
  return registration.status;
}

int register_type(p2pnet_host* host, const char* type) {
  if (gone(host)) return P2PNET_ERR_STOPPED;
  if (!valid_text(type) || !wire::is_valid_type_name(type)) return P2PNET_ERR_INVALID;
  return answer(host, node(host).register_type(instance(host), type));
}

int register_command(p2pnet_host* host, const char* name, const char* usage, const char* help) {
  if (gone(host)) return P2PNET_ERR_STOPPED;
  if (!valid_text(name, 32)) return P2PNET_ERR_INVALID;
  for (const char* p = name; *p; ++p)
    if (*p == ' ' || *p == '\t' || static_cast<unsigned char>(*p) < 0x21) return P2PNET_ERR_INVALID;
  return answer(host,
                node(host).register_command(instance(host), CommandInfo{name, usage ? usage : name, help ? help : ""}));
}

int subscribe(p2pnet_host* host, const char* event) {
  if (gone(host)) return P2PNET_ERR_STOPPED;
  if (!valid_text(event, EventBus::kMaxEventNameLength)) return P2PNET_ERR_INVALID;
  if (!instance(host).loading()) return P2PNET_ERR_NOT_ALLOWED;  // as register_type: only in the load hook
  node(host).bus().subscribe(event, instance(host).shared_from_this());
  return P2PNET_OK;
}

int send(p2pnet_host* host, const char* peer_id, const char* header, size_t header_len, const void* body,
         size_t body_len) {
  if (gone(host)) return P2PNET_ERR_STOPPED;
  if (!peer_id || !header || (body_len && !body)) return P2PNET_ERR_INVALID;
  return node(host).send(peer_id, std::string_view(header, header_len),
                         {static_cast<const std::byte*>(body), body_len});
}

int broadcast(p2pnet_host* host, const char* header, size_t header_len, const void* body, size_t body_len,
              const char* const* except_ids, size_t except_count) {
  if (gone(host)) return P2PNET_ERR_STOPPED;
  if (!header || (body_len && !body) || (except_count && !except_ids)) return P2PNET_ERR_INVALID;
  std::set<std::string> except;
  for (size_t i = 0; i < except_count; ++i)
    if (except_ids[i]) except.insert(except_ids[i]);
  return node(host).broadcast(std::string_view(header, header_len), {static_cast<const std::byte*>(body), body_len},
                              except);
}

size_t queued_bytes(p2pnet_host* host, const char* peer_id) {
  if (gone(host)) return 0;
  if (!peer_id) return 0;
  auto connection = node(host).peer(peer_id);
  return connection ? connection->queued_bytes() : 0;
}

void list_peers(p2pnet_host* host, p2pnet_peer_visitor visit, void* user) {
  if (gone(host)) return;
  if (!visit) return;
  for (const auto& connection : node(host).established_peers()) visit(user, &connection->peer_view());
}

int get_peer(p2pnet_host* host, const char* peer_id, p2pnet_peer_visitor visit, void* user) {
  if (gone(host)) return P2PNET_ERR_STOPPED;
  if (!peer_id || !visit) return P2PNET_ERR_INVALID;
  auto connection = node(host).peer(peer_id);
  if (!connection) return P2PNET_ERR_NOT_FOUND;
  visit(user, &connection->peer_view());
  return P2PNET_OK;
}

std::atomic<uint64_t> next_connect_token{1};

NodeCore::ConnectDone report_to(p2pnet_host* host, uint64_t token) {
  auto plugin = instance(host).shared_from_this();
  return [plugin, token](const std::string& peer_id, const std::string& error) {
    plugin->connect_result(token, peer_id, error);
  };
}

int connect(p2pnet_host* host, const char* address, uint16_t port, uint64_t* token) {
  if (retiring(host)) return P2PNET_ERR_STOPPED;
  if (!valid_text(address, 255) || port == 0 || !token) return P2PNET_ERR_INVALID;
  if (node(host).stopping()) return P2PNET_ERR_STOPPED;
  *token = next_connect_token.fetch_add(1);
  node(host).connect(address, port, report_to(host, *token));
  return P2PNET_OK;
}

int connect_id(p2pnet_host* host, const char* node_id, uint64_t* token) {
  if (retiring(host)) return P2PNET_ERR_STOPPED;
  if (!node_id || !token) return P2PNET_ERR_INVALID;
  if (node(host).stopping()) return P2PNET_ERR_STOPPED;
  uint64_t assigned = next_connect_token.fetch_add(1);
  if (!node(host).connect_known(node_id, report_to(host, assigned))) return P2PNET_ERR_NOT_FOUND;
  *token = assigned;
  return P2PNET_OK;
}

int disconnect(p2pnet_host* host, const char* peer_id) {
  if (gone(host)) return P2PNET_ERR_STOPPED;
  if (!peer_id) return P2PNET_ERR_INVALID;
  return node(host).disconnect(peer_id, "disconnected by plugin " + instance(host).name()) ? P2PNET_OK
                                                                                           : P2PNET_ERR_NOT_FOUND;
}

int remember_node(p2pnet_host* host, const char* node_id, const char* address, uint16_t port) {
  if (gone(host)) return P2PNET_ERR_STOPPED;
  if (!node_id || !is_valid_node_id(node_id) || !valid_text(address, 255) || port == 0) return P2PNET_ERR_INVALID;
  auto& core = node(host);
  if (node_id == core.id()) return P2PNET_ERR_INVALID;
  // Plugins store what peers told them: hearsay, checked like any network
  // input, and never a replacement for what a handshake proved.
  if (auto why = unusable_network_address(address, core.hearsay_scopes()); !why.empty()) {
    core.count_event("hearsay_addresses_rejected");
    return P2PNET_ERR_INVALID;
  }
  switch (core.peer_store().remember_hearsay(node_id, address, port)) {
    case PeerStore::Hearsay::stored:
      return P2PNET_OK;
    case PeerStore::Hearsay::verified_kept:
      core.count_event("hearsay_verified_kept");
      return P2PNET_OK;
    case PeerStore::Hearsay::marked_bad:
      core.count_event("hearsay_bad_address");
      return P2PNET_ERR_NOT_ALLOWED;
  }
  return P2PNET_OK;
}

int own_relay(p2pnet_host* host, p2pnet_node_visitor visit, void* user) {
  if (gone(host)) return P2PNET_ERR_STOPPED;
  if (!visit) return P2PNET_ERR_INVALID;
  auto relay = node(host).own_relay();
  if (!relay) return P2PNET_ERR_NOT_FOUND;
  p2pnet_known_node view{sizeof(p2pnet_known_node), relay->relay_id.c_str(), relay->host.c_str(), relay->port, 0};
  visit(user, &view);
  return P2PNET_OK;
}

int remember_relay(p2pnet_host* host, const char* node_id, const char* relay_id, const char* relay_host,
                   uint16_t relay_port) {
  if (gone(host)) return P2PNET_ERR_STOPPED;
  if (!node_id || !is_valid_node_id(node_id) || !relay_id || !is_valid_node_id(relay_id) ||
      !valid_text(relay_host, 255) || relay_port == 0)
    return P2PNET_ERR_INVALID;
  auto& core = node(host);
  if (node_id == core.id() || std::string_view(node_id) == relay_id) return P2PNET_ERR_INVALID;
  // Hearsay like remember_node's addresses: a relay that a dial may not reach is no hint.
  if (auto why = unusable_network_address(relay_host, core.hearsay_scopes()); !why.empty()) {
    core.count_event("hearsay_addresses_rejected");
    return P2PNET_ERR_INVALID;
  }
  core.relay_hints().remember(node_id, RelayHint{relay_id, relay_host, relay_port});
  return P2PNET_OK;
}

void list_known_nodes(p2pnet_host* host, p2pnet_node_visitor visit, void* user) {
  if (gone(host)) return;
  if (!visit) return;
  for (const auto& record : node(host).peer_store().list()) {
    p2pnet_known_node view{sizeof(p2pnet_known_node), record.id.c_str(), record.host.c_str(), record.port,
                           record.last_seen_ms};
    visit(user, &view);
  }
}

int publish(p2pnet_host* host, const char* event, const char* json, size_t json_len) {
  if (gone(host)) return P2PNET_ERR_STOPPED;
  if (!valid_text(event, EventBus::kMaxEventNameLength) || !json) return P2PNET_ERR_INVALID;
  // Subscribers parse what they get: a payload that is not JSON would fail
  // in every one of them instead of once, here, where the mistake is.
  if (!nlohmann::json::accept(std::string_view(json, json_len))) return P2PNET_ERR_INVALID;
  node(host).bus().publish(event, std::string(json, json_len));
  return P2PNET_OK;
}

int publish_public(p2pnet_host* host, const char* event, const char* json, size_t json_len) {
  if (gone(host)) return P2PNET_ERR_STOPPED;
  if (!valid_text(event, EventBus::kMaxEventNameLength) || !json) return P2PNET_ERR_INVALID;
  // Public events leave the node as {"event", "data"}: clients read fields
  // from an object, so that is what they are promised.
  auto text = std::string_view(json, json_len);
  auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos || text[first] != '{' || !nlohmann::json::accept(text)) return P2PNET_ERR_INVALID;
  node(host).publish_public(event, std::string(text));
  return P2PNET_OK;
}

int subscribe_public(p2pnet_host* host) {
  if (gone(host)) return P2PNET_ERR_STOPPED;
  if (!instance(host).loading()) return P2PNET_ERR_NOT_ALLOWED;  // as subscribe: only in the load hook
  node(host).bus().subscribe_public(instance(host).shared_from_this());
  return P2PNET_OK;
}

int run_command(p2pnet_host* host, const char* line, size_t len, uint64_t* token) {
  if (retiring(host)) return P2PNET_ERR_STOPPED;
  if (!line || !token) return P2PNET_ERR_INVALID;
  if (len > kMaxCommandLineLength) return P2PNET_ERR_TOO_LARGE;
  if (node(host).stopping()) return P2PNET_ERR_STOPPED;
  return instance(host).run_command(std::string_view(line, len), *token);
}

uint64_t timer_start(p2pnet_host* host, uint64_t delay_ms, uint64_t repeat_ms) {
  if (retiring(host)) return 0;
  return instance(host).start_timer(delay_ms, repeat_ms);
}

void timer_cancel(p2pnet_host* host, uint64_t timer_id) {
  if (gone(host)) return;
  instance(host).cancel_timer(timer_id);
}

void print(p2pnet_host* host, uint64_t command_token, const char* text, size_t len, uint32_t flags) {
  if (gone(host)) return;
  if (!text) return;
  node(host).print(command_token, std::string_view(text, len), (flags & P2PNET_PRINT_TRANSIENT) != 0);
}

void command_done(p2pnet_host* host, uint64_t command_token, int status) {
  if (gone(host)) return;
  node(host).finish_command(command_token, status);
}

int run_background(p2pnet_host* host, p2pnet_work_fn work, p2pnet_work_fn done, void* user) {
  if (retiring(host)) return P2PNET_ERR_STOPPED;
  return instance(host).run_background(work, done, user);
}

void count(p2pnet_host* host, const char* counter, int64_t delta) {
  if (gone(host)) return;
  if (valid_text(counter)) instance(host).count(counter, delta);
}

}  // namespace

const p2pnet_host_api& host_api_table() {
  static const p2pnet_host_api table = {
      sizeof(p2pnet_host_api),
      P2PNET_ABI_MAJOR,
      P2PNET_ABI_MINOR,
      node_id,
      listen_host,
      listen_port,
      data_dir,
      log,
      register_type,
      register_command,
      subscribe,
      send,
      broadcast,
      queued_bytes,
      list_peers,
      get_peer,
      connect,
      connect_id,
      disconnect,
      remember_node,
      list_known_nodes,
      publish,
      timer_start,
      timer_cancel,
      print,
      command_done,
      run_background,
      count,
      publish_public,
      subscribe_public,
      run_command,
      own_relay,
      remember_relay,
  };
  return table;
}

}  // namespace p2pnet
