// node.toml -> NodeConfig. Every value is checked for type and range; errors
// name file:line:column and the key, unknown keys become warnings.
#include "p2pnet/config.hpp"

#include "control_protocol.hpp"
#include "control_token.hpp"
#include "node_id.hpp"

#include <fmt/core.h>
#include <toml++/toml.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>

namespace p2pnet {
namespace {

std::string where(const std::string& source, const toml::source_region& region) {
  return fmt::format("{}:{}:{}", source, region.begin.line, region.begin.column);
}

nlohmann::json to_json(const toml::node& node) {
  if (auto* table = node.as_table()) {
    nlohmann::json out = nlohmann::json::object();
    for (auto&& [key, value] : *table) out[std::string(key.str())] = to_json(value);
    return out;
  }
  if (auto* array = node.as_array()) {
    nlohmann::json out = nlohmann::json::array();
    for (auto&& value : *array) out.push_back(to_json(value));
    return out;
  }
  if (auto v = node.value_exact<int64_t>()) return *v;
  if (auto v = node.value_exact<double>()) return *v;
  if (auto v = node.value_exact<bool>()) return *v;
  if (auto v = node.value_exact<std::string>()) return *v;
  std::ostringstream text;  // dates and times: their TOML spelling
  node.visit([&](auto&& value) { text << value; });
  return text.str();
}

// Reads the keys of one TOML table, checking each, remembering which it saw.
class TableReader {
 public:
  TableReader(const toml::table& table, std::string path, const std::string& source, std::vector<std::string>& warnings)
      : table_(table), path_(std::move(path)), source_(source), warnings_(warnings) {}

  ~TableReader() {
    for (auto&& [key, value] : table_)
      if (!known_.count(std::string(key.str())))
        warnings_.push_back(
            fmt::format("{}: unknown key '{}{}' ignored", where(source_, key.source()), prefix(), key.str()));
  }

  const std::string& source() const { return source_; }

  const toml::node* get(const std::string& key) {
    known_.insert(key);
    return table_.get(key);
  }

  template <class Int>
  void integer(const std::string& key, Int& out, int64_t min, int64_t max) {
    const toml::node* node = get(key);
    if (!node) return;
    auto value = node->value_exact<int64_t>();
    if (!value || *value < min || *value > max) fail(*node, key, fmt::format("an integer from {} to {}", min, max));
    out = static_cast<Int>(*value);
  }
  void milliseconds(const std::string& key, std::chrono::milliseconds& out, int64_t min, int64_t max) {
    int64_t count = out.count();
    integer(key, count, min, max);
    out = std::chrono::milliseconds(count);
  }
  void string(const std::string& key, std::string& out) {
    const toml::node* node = get(key);
    if (!node) return;
    auto value = node->value_exact<std::string>();
    if (!value) fail(*node, key, "a string");
    out = *value;
  }
  // true, false or "auto".
  void switch_or_auto(const std::string& key, Switch& out) {
    const toml::node* node = get(key);
    if (!node) return;
    if (auto value = node->value_exact<bool>()) {
      out = *value ? Switch::on : Switch::off;
      return;
    }
    auto text = node->value_exact<std::string>();
    if (!text || *text != "auto") fail(*node, key, "true, false or \"auto\"");
    out = Switch::automatic;
  }
  void boolean(const std::string& key, bool& out) {
    const toml::node* node = get(key);
    if (!node) return;
    auto value = node->value_exact<bool>();
    if (!value) fail(*node, key, "true or false");
    out = *value;
  }
  std::vector<std::string> strings(const std::string& key) {
    std::vector<std::string> out;
    const toml::node* node = get(key);
    if (!node) return out;
    const toml::array* array = node->as_array();
    if (!array) fail(*node, key, "an array of strings");
    for (auto&& item : *array) {
      auto value = item.value_exact<std::string>();
      if (!value) fail(item, key, "an array of strings");
      out.push_back(*value);
    }
    return out;
  }

  [[noreturn]] void fail(const toml::node& node, const std::string& key, const std::string& expected) const {
    std::ostringstream got;
    node.visit([&](auto&& value) { got << value; });
    std::string shown = got.str();
    if (shown.size() > 60) shown = shown.substr(0, 57) + "...";
    throw ConfigError(
        fmt::format("{}: {}{}: expected {}, got {}", where(source_, node.source()), prefix(), key, expected, shown));
  }
  // For values that must not be echoed (secrets).
  [[noreturn]] void refuse(const toml::node& node, const std::string& key, const std::string& why) const {
    throw ConfigError(fmt::format("{}: {}{}: {}", where(source_, node.source()), prefix(), key, why));
  }

 private:
  std::string prefix() const { return path_.empty() ? "" : path_ + "."; }

  const toml::table& table_;
  std::string path_;
  const std::string& source_;
  std::vector<std::string>& warnings_;
  std::set<std::string> known_;
};

void read_control_table(TableReader& control, ControlConfig& config) {
  control.boolean("enabled", config.enabled);
  std::string socket;
  control.string("socket", socket);
  if (!socket.empty()) config.socket = socket;
  control.integer("max_clients", config.max_clients, 1, 1024);
  control.string("tcp", config.tcp);
  if (const toml::node* tcp = control.get("tcp"); tcp && !config.tcp.empty())
    if (auto why = control::unusable_tcp_address(config.tcp); !why.empty()) control.refuse(*tcp, "tcp", why);
  control.string("token", config.token);
  if (const toml::node* token = control.get("token"))
    if (auto why = unusable_control_token(config.token); !why.empty()) control.refuse(*token, "token", why);
}

void read_node_table(TableReader& node, NodeConfig& config) {
  node.string("host", config.host);
  node.integer("port", config.port, 0, 65535);
  if (const toml::node* id = node.get("id")) {
    node.string("id", config.id);
    if (!config.id.empty() && !is_valid_node_id(config.id)) node.fail(*id, "id", "64 lowercase hex characters");
  }
  std::string data_dir;
  node.string("data_dir", data_dir);
  if (!data_dir.empty()) config.data_dir = data_dir;
  if (const toml::node* level = node.get("log_level")) {
    std::string name;
    node.string("log_level", name);
    auto severity = parse_log_severity(name);
    if (!severity) node.fail(*level, "log_level", "one of trace, debug, info, warn, error, off");
    config.log_level = *severity;
  }
  node.boolean("encryption", config.encryption);
  if (const toml::node* key = node.get("network_key")) {
    node.string("network_key", config.network_key);
    if (!config.network_key.empty() && config.network_key.size() < 16)  // never echo a secret back
      throw ConfigError(fmt::format("{}: node.network_key: expected at least 16 characters (a long random secret)",
                                    where(node.source(), key->source())));
  }
  if (const toml::node* file = node.get("network_key_file")) {
    std::string path;
    node.string("network_key_file", path);
    if (!config.network_key.empty())
      node.fail(*file, "network_key_file", "either network_key or network_key_file, not both");
    std::ifstream in(path, std::ios::binary);
    std::string key((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    while (!key.empty() && (key.back() == '\n' || key.back() == '\r' || key.back() == ' ')) key.pop_back();
    if (!in.good() && !in.eof()) node.fail(*file, "network_key_file", "a readable file");
    if (key.size() < 16) node.fail(*file, "network_key_file", "a readable file holding at least 16 characters");
    config.network_key = key;
  }
  node.integer("threads", config.threads, 1, 64);
  node.integer("max_connections", config.max_connections, 1, 100000);
  node.integer("max_inbound_per_address", config.max_inbound_per_address, 1, 100000);
  node.integer("max_inbound_per_group", config.max_inbound_per_group, 1, 100000);
  node.integer("outbound_reserved", config.outbound_reserved, 0, 100000);
  node.boolean("cap_loopback_inbound", config.cap_loopback_inbound);
  if (const toml::node* reserved = node.get("outbound_reserved")) {
    if (config.outbound_reserved >= config.max_connections)
      node.fail(*reserved, "outbound_reserved", "fewer than max_connections (inbound needs at least one slot)");
  } else {
    // Unset: at most a quarter of the slots, so a small max_connections alone
    // does not silently leave inbound a single slot.
    config.outbound_reserved = std::min(config.outbound_reserved, config.max_connections / 4);
  }
  node.milliseconds("inbound_idle_timeout_ms", config.inbound_idle_timeout, 1000, 86400000);
  if (node.get("idle_message_types")) config.idle_message_types = node.strings("idle_message_types");
  node.milliseconds("handshake_timeout_ms", config.handshake_timeout, 100, 600000);
  node.integer("max_header_bytes", config.max_header_bytes, 1024, 16 * 1024 * 1024);
  node.integer("max_body_bytes", config.max_body_bytes, 0, 1024 * 1024 * 1024);
  node.integer("write_queue_limit_bytes", config.write_queue_limit_bytes, 64 * 1024, int64_t{1} << 34);
  node.integer("max_total_queued_bytes", config.max_total_queued_bytes, 64 * 1024, int64_t{1} << 40);
  node.milliseconds("write_stall_timeout_ms", config.write_stall_timeout, 100, 3600000);
  node.integer("plugin_queue_limit_bytes", config.plugin_queue_limit_bytes, 64 * 1024, int64_t{1} << 34);
  node.integer("max_known_nodes", config.max_known_nodes, 1, 10000000);
  node.integer("max_hearsay_nodes", config.max_hearsay_nodes, 1, 10000000);
  node.integer("max_known_nodes_per_group", config.max_known_nodes_per_group, 1, 10000000);
  node.integer("max_known_dials_per_s", config.max_known_dials_per_s, 1, 100000);
  node.boolean("reachability_check", config.reachability_check);
  node.switch_or_auto("relay_service", config.relay.service);
  node.switch_or_auto("use_relays", config.relay.use_relays);
  node.boolean("connection_reversal", config.relay.reversal);
  node.boolean("hole_punching", config.relay.punching);
  node.integer("relay_max_reservations", config.relay.max_reservations, 0, 100000);
  node.integer("relay_max_circuits", config.relay.max_circuits, 0, 100000);
  node.integer("relay_max_circuit_bytes", config.relay.max_circuit_bytes, 1024, int64_t{1} << 50);
  node.integer("relay_max_circuit_seconds", config.relay.max_circuit_seconds, 1, 7 * 24 * 3600);
  node.milliseconds("reconnect_initial_ms", config.reconnect_initial, 10, 3600000);
  node.milliseconds("reconnect_max_ms", config.reconnect_max, 10, 86400000);
  for (auto& dir : node.strings("plugin_dirs")) config.plugin_dirs.emplace_back(dir);
}

void read_peers(const toml::node& node, const std::string& source, NodeConfig& config,
                std::vector<std::string>& warnings) {
  const toml::array* peers = node.as_array();
  if (!peers || !peers->is_array_of_tables())
    throw ConfigError(
        fmt::format("{}: peers: expected [[peers]] tables with host and port", where(source, node.source())));
  for (auto&& item : *peers) {
    TableReader peer(*item.as_table(), "peers", source, warnings);
    PeerAddress address;
    peer.string("host", address.host);
    peer.integer("port", address.port, 1, 65535);
    peer.boolean("persistent", address.persistent);
    if (address.host.empty() || address.port == 0)
      throw ConfigError(fmt::format("{}: peers: each peer needs host and port", where(source, item.source())));
    config.peers.push_back(address);
  }
}

void read_plugins(const toml::node& node, const std::string& source, NodeConfig& config) {
  const toml::table* plugins = node.as_table();
  if (!plugins)
    throw ConfigError(
        fmt::format("{}: plugins: expected a table of [plugins.NAME] tables", where(source, node.source())));
  // toml++ iterates tables by key; plugins load in the order the file lists them.
  std::vector<std::pair<toml::key, const toml::node*>> ordered;
  for (auto&& [key, value] : *plugins) ordered.emplace_back(key, &value);
  std::sort(ordered.begin(), ordered.end(), [](const auto& a, const auto& b) {
    auto pa = a.first.source().begin;
    auto pb = b.first.source().begin;
    return pa.line != pb.line ? pa.line < pb.line : pa.column < pb.column;
  });
  for (auto&& [key, node_pointer] : ordered) {
    const toml::node& value = *node_pointer;
    const toml::table* table = value.as_table();
    std::string name(key.str());
    if (!table)
      throw ConfigError(
          fmt::format("{}: plugins.{}: expected a table ([plugins.{}])", where(source, value.source()), name, name));
    PluginConfig plugin;
    plugin.name = name;
    nlohmann::json settings = to_json(*table);
    if (const toml::node* enabled = table->get("enabled")) {
      auto flag = enabled->value_exact<bool>();
      if (!flag)
        throw ConfigError(
            fmt::format("{}: plugins.{}.enabled: expected true or false", where(source, enabled->source()), name));
      plugin.enabled = *flag;
      settings.erase("enabled");
    }
    if (const toml::node* path = table->get("path")) {
      auto text = path->value_exact<std::string>();
      if (!text || text->empty())
        throw ConfigError(
            fmt::format("{}: plugins.{}.path: expected a file path", where(source, path->source()), name));
      plugin.path = *text;
      settings.erase("path");
    }
    if (const toml::node* required = table->get("required")) {
      auto flag = required->value_exact<bool>();
      if (!flag)
        throw ConfigError(
            fmt::format("{}: plugins.{}.required: expected true or false", where(source, required->source()), name));
      plugin.required = *flag;
      settings.erase("required");
    }
    plugin.settings = std::move(settings);
    config.plugins.push_back(std::move(plugin));
  }
}

}  // namespace

LoadedConfig parse_config(std::string_view toml_text, const std::string& source) {
  LoadedConfig loaded;
  toml::table root;
  try {
    root = toml::parse(toml_text, source);
  } catch (const toml::parse_error& e) {
    throw ConfigError(fmt::format("{}: invalid TOML: {}", where(source, e.source()), e.description()));
  }
  TableReader top(root, "", source, loaded.warnings);
  if (const toml::node* node = top.get("node")) {
    const toml::table* table = node->as_table();
    if (!table) top.fail(*node, "node", "a table ([node])");
    TableReader reader(*table, "node", source, loaded.warnings);
    read_node_table(reader, loaded.config);
  }
  if (const toml::node* node = top.get("control")) {
    const toml::table* table = node->as_table();
    if (!table) top.fail(*node, "control", "a table ([control])");
    TableReader reader(*table, "control", source, loaded.warnings);
    read_control_table(reader, loaded.config.control);
  }
  if (const toml::node* peers = top.get("peers")) read_peers(*peers, source, loaded.config, loaded.warnings);
  if (const toml::node* plugins = top.get("plugins")) read_plugins(*plugins, source, loaded.config);
  if (loaded.config.reconnect_max < loaded.config.reconnect_initial)
    loaded.config.reconnect_max = loaded.config.reconnect_initial;
  if (!loaded.config.network_key.empty() && !loaded.config.encryption)
    throw ConfigError(source + ": node.network_key needs encryption = true (the proof is bound to the TLS session)");
  return loaded;
}

LoadedConfig load_config_file(const std::filesystem::path& file) {
  constexpr std::uintmax_t max_config_bytes = 1024 * 1024;
  std::error_code size_error;
  auto size = std::filesystem::file_size(file, size_error);
  if (!size_error && size > max_config_bytes)
    throw ConfigError(
        fmt::format("{}: config file is {} bytes, more than the {} allowed", file.string(), size, max_config_bytes));
  std::ifstream in(file, std::ios::binary);
  if (!in) throw ConfigError(fmt::format("{}: cannot read config file", file.string()));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw ConfigError(fmt::format("{}: cannot read config file", file.string()));
  auto loaded = parse_config(text.str(), file.string());
  // A plugin path travels with the file that names it (a config beside its
  // plugins), whatever directory p2pnode is started in.
  for (auto& plugin : loaded.config.plugins)
    if (!plugin.path.empty() && plugin.path.is_relative()) plugin.path = file.parent_path() / plugin.path;
  return loaded;
}

}  // namespace p2pnet
