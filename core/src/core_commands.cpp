// The console commands the core itself answers: help, connect, disconnect,
// peers, nodes, plugins, plugin load/unload/reload, reload, stats, stop.
#include "node_core.hpp"

#include "host_port.hpp"
#include "node_id.hpp"

#include <fmt/core.h>
#include <p2pnet/counted.hpp>
#include <p2pnet/printable.hpp>

#include <charconv>

namespace p2pnet {
namespace {

struct CoreCommand {
  const char* name;
  const char* usage;
  const char* help;
};

constexpr CoreCommand kCoreCommands[] = {
    {"help", "help", "list every command"},
    {"connect", "connect HOST PORT [ID] | connect ID",
     "connect to the node at HOST:PORT (with ID, only if it proves that id), or to node ID by whichever path works"},
    {"disconnect", "disconnect ID", "close the connection to a peer (ID may be a unique prefix)"},
    {"peers", "peers", "list connected peers: id, host:port, direction, verified (TLS key) or not, direct or relayed"},
    {"nodes", "nodes", "list the peer store: nodes this node knows how to reach (hearsay: named by a peer)"},
    {"plugins", "plugins", "list loaded plugins with their message types and commands (also: plugin list)"},
    {"plugin", "plugin load|unload|reload NAME [PATH]",
     "load a plugin ([plugins.NAME] in node.toml, or the file PATH), unload it, or load its file again"},
    {"reload", "reload", "read node.toml again: load, unload and reconfigure plugins as it now says (also: SIGHUP)"},
    {"stats", "stats", "traffic counters, refused connections, plugin counters"},
    {"nat", "nat", "whether peers can reach this node, and its address as they see it"},
    {"stop", "stop", "stop the node gracefully (also: quit, exit)"},
    {"quit", "quit", ""},
    {"exit", "exit", ""},
};

constexpr size_t kMaxHostLength = 253;
constexpr size_t kMaxPluginNameLength = 64;
constexpr size_t kMaxPathLength = 4096;

// The [plugins.NAME] names a console may type: what a plugin may call itself.
bool valid_plugin_name(const std::string& name) {
  return !name.empty() && name.size() <= kMaxPluginNameLength &&
         name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") ==
             std::string::npos;
}

std::optional<uint16_t> parse_port(const std::string& text) {
  unsigned value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value == 0 || value > 65535) return std::nullopt;
  return static_cast<uint16_t>(value);
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ",") + item;
  return out.empty() ? "-" : out;
}

std::string ago(int64_t then_ms) {
  int64_t seconds = std::max<int64_t>(0, (unix_millis_now() - then_ms) / 1000);
  if (seconds < 120) return fmt::format("{}s ago", seconds);
  if (seconds < 7200) return fmt::format("{}m ago", seconds / 60);
  return fmt::format("{}h ago", seconds / 3600);
}

}  // namespace

bool NodeCore::is_core_command(const std::string& name) {
  for (const auto& command : kCoreCommands)
    if (name == command.name) return true;
  return false;
}

void NodeCore::run_core_command(const std::string& name, const std::vector<std::string>& args, const OutputSink& out,
                                const std::function<void(int)>& done) {
  auto usage = [&](const char* text) {
    out(fmt::format("usage: {}", text), false);
    done(2);
  };
  if (name == "help") {
    out("core commands:", false);
    for (const auto& command : kCoreCommands)
      if (*command.help) out(fmt::format("  {:<24} {}", command.usage, command.help), false);
    auto commands = plugins_.commands();
    if (!commands.empty()) out("plugin commands:", false);
    for (const auto& [command, plugin] : commands)
      out(fmt::format("  {:<24} {} [{}]", command.usage, command.help, plugin), false);
    return done(0);
  }
  if (name == "connect" && args.size() == 1) return connect_by_id(args[0], out, done);
  if (name == "connect") {
    if (args.size() != 2 && args.size() != 3) return usage("connect HOST PORT [ID] | connect ID");
    auto port = parse_port(args[1]);
    if (!port) return usage("connect HOST PORT [ID] (PORT is 1 to 65535)");
    std::string expected = args.size() == 3 ? args[2] : "";
    if (!expected.empty() && !is_valid_node_id(expected))
      return usage("connect HOST PORT [ID] (ID is 64 hex characters)");
    if (!expected.empty() && !config_.encryption) {
      out("error: an id can only be proven with encryption = true", false);
      return done(1);
    }
    // A host name is at most 253 characters of printable text (RFC 1035);
    // anything else is refused here, shown short and escaped, not resolved.
    if (args[0].size() > kMaxHostLength || first_unprintable(args[0]).kind != Unprintable::none) {
      out(fmt::format("error: not a host name or address: '{}'", printable_excerpt(args[0])), false);
      return done(2);
    }
    std::string target = fmt::format("{}:{}", args[0], *port);
    connect(
        args[0], *port,
        [out, done, target](const std::string& peer_id, const std::string& error) {
          if (!error.empty()) {
            out(fmt::format("error: cannot connect to {}: {}", target, error), false);
            return done(1);
          }
          out(fmt::format("connected to {} at {}", peer_id, target), false);
          done(0);
        },
        expected);
    return;
  }
  if (name == "disconnect") {
    if (args.size() != 1) return usage("disconnect ID");
    auto id = resolve_peer_id(args[0]);
    if (!id || !disconnect(*id, "disconnected at the console")) {
      out(fmt::format("error: no connected peer matches '{}'", printable_excerpt(args[0])), false);
      return done(1);
    }
    out(fmt::format("disconnecting {}", *id), false);
    return done(0);
  }
  if (name == "peers") {
    auto peers = peer_summaries();
    for (const auto& peer : peers)
      out(fmt::format("{} {}:{} {} {} {}", printable(peer.id), printable(peer.host), peer.port,
                      peer.inbound ? "inbound" : "outbound", peer.authenticated ? "verified" : "unverified",
                      path_name(peer.relayed_via)),
          false);
    out(counted(static_cast<long long>(peers.size()), "peer"), false);
    return done(0);
  }
  if (name == "nodes") {
    auto nodes = peer_store_.list();
    for (const auto& node : nodes)
      out(fmt::format("{} {}:{} seen {}{}{}", printable(node.id), printable(node.host), node.port,
                      ago(node.last_seen_ms), peer(node.id) ? " (connected)" : "", node.verified ? "" : " (hearsay)"),
          false);
    out(counted(static_cast<long long>(nodes.size()), "known node"), false);
    return done(0);
  }
  if (name == "nat") {
    auto reach = reachability_.summary();
    if (reach.reached + reach.not_reached == 0)
      out(fmt::format("reachability: {} (no peer on the internet has dialed back yet)",
                      reachability_name(reach.status)),
          false);
    else
      out(fmt::format("reachability: {} (reached by peers of {}, not by peers of {})", reachability_name(reach.status),
                      counted(static_cast<long long>(reach.reached), "network"),
                      counted(static_cast<long long>(reach.not_reached), "network")),
          false);
    auto leading = external_address_.leading();
    if (auto confirmed = external_address_.confirmed())
      out(fmt::format("observed address: {} (from peers of {})", join_host_port(confirmed->host, confirmed->port),
                      counted(static_cast<long long>(confirmed->networks), "network")),
          false);
    else if (leading.networks == 0)
      out("observed address: unknown (no peer on another network has named one)", false);
    else
      out(fmt::format("observed address: unknown ({} named by peers of {}, {} needed)",
                      join_host_port(leading.host, leading.port),
                      counted(static_cast<long long>(leading.networks), "network"),
                      ExternalAddress::kConfirmingNetworks),
          false);
    auto relay_id = reservation_relay();
    auto relay = relay_id.empty() ? nullptr : peer(relay_id);
    if (relay)
      out(fmt::format("relay: {} {}", relay_id, join_host_port(relay->remote_address(), relay->hello().port)), false);
    else
      out(wants_reservation() ? "relay: none (looking for one among the peers)" : "relay: none", false);
    auto service = relay_summary();
    out(fmt::format("relay service: {} ({}, {})", relay_service_on() ? "on" : "off",
                    counted(static_cast<long long>(service.reservations), "reservation"),
                    counted(static_cast<long long>(service.circuits), "circuit")),
        false);
    out(fmt::format("listening on {}:{}", listen_host(), listen_port()), false);
    return done(0);
  }
  if (name == "plugin") return run_plugin_command(args, out, done);
  if (name == "reload") {
    if (!args.empty()) return usage("reload");
    return run_live([this](const OutputSink& sink) { return reload_config(sink); }, out, done);
  }
  if (name == "plugins") {
    auto plugins = plugin_summaries();
    for (const auto& plugin : plugins)
      out(fmt::format("{} {}  types: {}  commands: {}", plugin.name, plugin.version, join(plugin.types),
                      join(plugin.commands)),
          false);
    out(counted(static_cast<long long>(plugins.size()), "plugin") + " loaded", false);
    return done(0);
  }
  if (name == "stats") {
    auto s = stats();
    out(fmt::format("total: {} messages in, {} out; {} bytes in, {} out; {} errors", s.total.messages_in,
                    s.total.messages_out, s.total.bytes_in, s.total.bytes_out, s.total.errors),
        false);
    for (const auto& [event, value] : s.events) out(fmt::format("  {} {}", event, value), false);
    auto relay = relay_summary();
    if (relay.reservations + relay.circuits + relay.bytes > 0)
      out(fmt::format("relay: {} held, {} open, {} bytes carried",
                      counted(static_cast<long long>(relay.reservations), "reservation"),
                      counted(static_cast<long long>(relay.circuits), "circuit"), relay.bytes),
          false);
    for (const auto& [counter, value] : s.plugin_counters) out(fmt::format("  {} {}", counter, value), false);
    for (const auto& peer : s.peers)
      out(fmt::format("peer {}: {} messages in, {} out; {} bytes in, {} out; {} errors", peer.id.substr(0, 12),
                      peer.traffic.messages_in, peer.traffic.messages_out, peer.traffic.bytes_in,
                      peer.traffic.bytes_out, peer.traffic.errors),
          false);
    return done(0);
  }
  if (name == "stop" || name == "quit" || name == "exit") {
    out("stopping", false);
    request_stop();
    return done(0);
  }
}

std::string NodeCore::path_name(const std::string& relayed_via) {
  return relayed_via.empty() ? "direct" : "relayed via " + relayed_via.substr(0, 8);
}

void NodeCore::connect_by_id(const std::string& text, const OutputSink& out, const std::function<void(int)>& done) {
  if (!is_valid_node_id(text)) {
    out(fmt::format("usage: connect HOST PORT [ID] | connect ID (ID is 64 hex characters, not '{}')",
                    printable_excerpt(text)),
        false);
    return done(2);
  }
  if (text == id_) {
    out("error: that is this node's own id", false);
    return done(1);
  }
  auto finish = [this, out, done, text](const std::string& peer_id, const std::string& error) {
    auto connection = error.empty() ? peer(peer_id) : nullptr;
    if (!connection) {
      out(fmt::format("error: cannot connect to {}: {}", text, error.empty() ? "the link closed at once" : error),
          false);
      return done(1);
    }
    uint16_t port = connection->relayed() ? connection->remote_port() : connection->hello().port;
    out(fmt::format("connected to {} at {} ({})", peer_id, join_host_port(connection->remote_address(), port),
                    path_name(connection->relayed_via())),
        false);
    done(0);
  };
  if (!connect_known(text, finish)) {
    out(fmt::format("error: cannot connect to {}: no address known for it and no relay among the peers", text), false);
    done(1);
  }
}

void NodeCore::run_plugin_command(const std::vector<std::string>& args, const OutputSink& out,
                                  const std::function<void(int)>& done) {
  constexpr const char* kUsage = "plugin load NAME [PATH] | plugin unload NAME | plugin reload NAME | plugin list";
  auto usage = [&](const std::string& why) {
    out(fmt::format("usage: {}{}", kUsage, why), false);
    done(2);
  };
  if (args.size() == 1 && args[0] == "list") return run_core_command("plugins", {}, out, done);
  if (args.size() < 2) return usage("");
  const std::string& verb = args[0];
  const std::string& name = args[1];
  if (!valid_plugin_name(name))
    return usage(fmt::format(" ('{}' is not a plugin name: letters, digits, '_' and '-', at most {})",
                             printable_excerpt(name), kMaxPluginNameLength));
  if (verb == "load" && args.size() <= 3) {
    std::string path = args.size() == 3 ? args[2] : "";
    if (path.size() > kMaxPathLength || first_unprintable(path).kind != Unprintable::none) {
      out(fmt::format("error: not a usable path: '{}'", printable_excerpt(path)), false);
      return done(2);
    }
    return run_live([this, name, path](const OutputSink& sink) { return load_plugin_live(name, path, sink); }, out,
                    done);
  }
  if (verb == "unload" && args.size() == 2)
    return run_live([this, name](const OutputSink& sink) { return unload_plugin_live(name, sink); }, out, done);
  if (verb == "reload" && args.size() == 2)
    return run_live([this, name](const OutputSink& sink) { return reload_plugin_live(name, sink); }, out, done);
  usage("");
}

}  // namespace p2pnet
