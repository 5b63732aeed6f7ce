// The console commands the core itself answers: help, connect, disconnect,
// peers, nodes, plugins, stats, stop.
#include "node_core.hpp"

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
    {"connect", "connect HOST PORT [ID]", "connect to the node at HOST:PORT; with ID, only if it proves that id"},
    {"disconnect", "disconnect ID", "close the connection to a peer (ID may be a unique prefix)"},
    {"peers", "peers", "list connected peers: id, host:port, direction, verified (TLS key) or not"},
    {"nodes", "nodes", "list the peer store: nodes this node knows how to reach (hearsay: named by a peer)"},
    {"plugins", "plugins", "list loaded plugins with their message types and commands"},
    {"stats", "stats", "traffic counters, refused connections, plugin counters"},
    {"address", "address", "this node's listen address and its external address as peers see it"},
    {"stop", "stop", "stop the node gracefully (also: quit, exit)"},
    {"quit", "quit", ""},
    {"exit", "exit", ""},
};

constexpr size_t kMaxHostLength = 253;

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
    if (!plugin_commands_.empty()) out("plugin commands:", false);
    for (const auto& [command_name, entry] : plugin_commands_)
      out(fmt::format("  {:<24} {} [{}]", entry.first.usage, entry.first.help, entry.second->name()), false);
    return done(0);
  }
  if (name == "connect") {
    if (args.size() != 2 && args.size() != 3) return usage("connect HOST PORT [ID]");
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
      out(fmt::format("{} {}:{} {} {}", printable(peer.id), printable(peer.host), peer.port,
                      peer.inbound ? "inbound" : "outbound", peer.authenticated ? "verified" : "unverified"),
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
  if (name == "address") {
    out(fmt::format("listening on {}:{}", listen_host(), listen_port()), false);
    auto leading = external_address_.leading();
    if (auto confirmed = external_address_.confirmed())
      out(fmt::format("external address {} (named by {})", confirmed->host,
                      counted(static_cast<long long>(confirmed->networks), "network")),
          false);
    else if (leading.networks == 0)
      out("external address unknown: no peer on another network has named one", false);
    else
      out(fmt::format("external address unknown: {} named by {}, {} needed", leading.host,
                      counted(static_cast<long long>(leading.networks), "network"),
                      ExternalAddress::kConfirmingNetworks),
          false);
    return done(0);
  }
  if (name == "plugins") {
    for (const auto& plugin : plugin_summaries())
      out(fmt::format("{} {}  types: {}  commands: {}", plugin.name, plugin.version, join(plugin.types),
                      join(plugin.commands)),
          false);
    return done(0);
  }
  if (name == "stats") {
    auto s = stats();
    out(fmt::format("total: {} messages in, {} out; {} bytes in, {} out; {} errors", s.total.messages_in,
                    s.total.messages_out, s.total.bytes_in, s.total.bytes_out, s.total.errors),
        false);
    for (const auto& [event, value] : s.events) out(fmt::format("  {} {}", event, value), false);
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

}  // namespace p2pnet
