// ping: round trips to peers on a monotonic clock, and an optional keep-alive
// that drops peers which stop answering.
#include <p2pnet/fields.hpp>
#include <p2pnet/plugin.hpp>
#include <p2pnet/printable.hpp>
#include <p2pnet/settings.hpp>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <map>
#include <random>
#include <set>

namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kMaxOutstanding = 10000;
constexpr size_t kMaxNonceLength = 32;

std::string format_ms(Clock::duration elapsed) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3f", std::chrono::duration<double, std::milli>(elapsed).count());
  return text;
}

class PingPlugin : public p2pnet::Plugin {
 public:
  void on_load(const p2pnet::json& table) override {
    p2pnet::Settings settings(table, "ping");
    timeout_ms_ = settings.integer("timeout_ms", 5000, 10, 600000);
    keepalive_ms_ = settings.integer("keepalive_interval_ms", 15000, 0, 86400000);
    max_missed_ = static_cast<int>(settings.integer("keepalive_max_missed", 3, 1, 1000));
    for (const auto& key : settings.unknown_keys()) warn("unknown setting " + key + " ignored");

    handle("ping", [this](const p2pnet::PeerRef& peer, const p2pnet::Message& m) { on_ping(peer, m); });
    handle("pong", [this](const p2pnet::PeerRef& peer, const p2pnet::Message& m) { on_pong(peer, m); });
    command("ping", "ping [ID | HOST PORT]", "round trip to every peer, one node by id, or an address",
            [this](p2pnet::Command& cmd) { run_ping_command(cmd); });
  }

  void on_start() override {
    if (keepalive_ms_ > 0) every(static_cast<uint64_t>(keepalive_ms_), [this] { keepalive_round(); });
  }

  // Pings to a peer that is gone will never be answered: a waiting command
  // hears it now rather than at the timeout, and nothing about the peer is
  // kept (a node that runs for weeks sees many peers come and go).
  void on_peer_disconnected(const p2pnet::PeerRef& peer, std::string_view reason) override {
    std::string id(peer.id());
    missed_.erase(id);
    for (auto it = outstanding_.begin(); it != outstanding_.end();) {
      if (it->second.peer_id != id) {
        ++it;
        continue;
      }
      if (it->second.timeout) cancel(it->second.timeout);
      if (it->second.round)
        it->second.round->answer("no pong from " + id + " (disconnected: " + std::string(reason) + ")");
      it = outstanding_.erase(it);
    }
  }

 private:
  // A console `ping` and how many answers (or timeouts) it still waits for.
  struct Round {
    p2pnet::Command command;
    size_t remaining;
    void answer(const std::string& line) {
      command.print(line);
      if (--remaining == 0) command.done();
    }
  };
  struct Outstanding {
    std::string peer_id;
    Clock::time_point sent;
    std::shared_ptr<Round> round;  // null for keep-alive pings
    p2pnet::TimerId timeout = 0;
  };

  void on_ping(const p2pnet::PeerRef& peer, const p2pnet::Message& message) {
    auto nonce = p2pnet::fields::string(message.header, "nonce", kMaxNonceLength);
    if (!nonce) {
      count("malformed");
      return;
    }
    count("pings_answered");
    send(peer.id(), {{"type", "pong"}, {"nonce", *nonce}});
  }

  void on_pong(const p2pnet::PeerRef& peer, const p2pnet::Message& message) {
    auto nonce = p2pnet::fields::string(message.header, "nonce", kMaxNonceLength);
    auto it = nonce ? outstanding_.find(*nonce) : outstanding_.end();
    if (it == outstanding_.end() || it->second.peer_id != peer.id()) {
      count("unexpected_pongs");
      return;
    }
    auto elapsed = Clock::now() - it->second.sent;
    missed_[it->second.peer_id] = 0;
    count("pongs");
    if (it->second.timeout) cancel(it->second.timeout);
    if (it->second.round)
      it->second.round->answer("pong from " + it->second.peer_id + " in " + format_ms(elapsed) + " ms");
    outstanding_.erase(it);
  }

  // Sends one ping; the answer or the timeout goes to `round` if given.
  void ping_peer(const std::string& peer_id, const std::shared_ptr<Round>& round) {
    if (outstanding_.size() >= kMaxOutstanding) {
      if (round) round->answer("no pong from " + peer_id + " (too many pings outstanding)");
      return;
    }
    std::string nonce = std::to_string(random_());
    // Before the send: the frame may be written inside send(), and that time
    // is part of the round trip.
    auto sent_at = Clock::now();
    int status = send(peer_id, {{"type", "ping"}, {"nonce", nonce}});
    if (status != P2PNET_OK) {
      if (round)
        round->answer("no pong from " + peer_id +
                      (status == P2PNET_ERR_UNSUPPORTED ? std::string(" (it does not handle ping)")
                                                        : " (cannot send: status " + std::to_string(status) + ")"));
      return;
    }
    count("pings_sent");
    Outstanding entry{peer_id, sent_at, round, 0};
    entry.timeout = after(static_cast<uint64_t>(timeout_ms_), [this, nonce] { expire(nonce); });
    outstanding_.emplace(nonce, std::move(entry));
  }

  void expire(const std::string& nonce) {
    auto it = outstanding_.find(nonce);
    if (it == outstanding_.end()) return;
    count("timeouts");
    if (it->second.round) {
      it->second.round->answer("no pong from " + it->second.peer_id);
    } else if (++missed_[it->second.peer_id] >= max_missed_) {
      warn("peer " + it->second.peer_id + " missed " + std::to_string(max_missed_) +
           " pongs in a row; disconnecting it as dead");
      count("dead_peers");
      std::string dead = it->second.peer_id;
      missed_.erase(dead);
      disconnect(dead);
    }
    outstanding_.erase(it);
  }

  void keepalive_round() {
    for (const auto& peer : peers())
      if (peer.handles("ping")) ping_peer(peer.id, nullptr);
  }

  void run_ping_command(p2pnet::Command& cmd) {
    const auto& args = cmd.args();
    if (args.size() > 2) {
      cmd.print("usage: ping [ID | HOST PORT]");
      return cmd.done(2);
    }
    if (args.empty()) {
      std::vector<std::string> targets;
      for (const auto& peer : peers())
        if (peer.handles("ping")) targets.push_back(peer.id);
      if (targets.empty()) {
        cmd.print("no connected peer handles ping");
        return;
      }
      auto round = std::make_shared<Round>(Round{cmd.keep(), targets.size()});
      for (const auto& id : targets) ping_peer(id, round);
      return;
    }
    auto kept = cmd.keep();
    auto then_ping = [this, kept](std::optional<std::string> peer_id, std::string error) mutable {
      if (!peer_id) {
        kept.print("no pong from " + p2pnet::printable_excerpt(kept.args()[0]) + " (" + error + ")");
        return kept.done(1);
      }
      ping_peer(*peer_id, std::make_shared<Round>(Round{kept, 1}));
    };
    if (args.size() == 2) {
      int port = 0;
      const auto& text = args[1];
      auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), port);
      if (error != std::errc() || end != text.data() + text.size() || port < 1 || port > 65535) {
        kept.print("usage: ping HOST PORT (PORT is 1 to 65535)");
        return kept.done(2);
      }
      return connect(args[0], static_cast<uint16_t>(port), then_ping);
    }
    auto matches = match_node(args[0]);
    if (matches.size() != 1) {
      kept.print("no pong from " + p2pnet::printable_excerpt(args[0]) +
                 (matches.empty() ? " (no connected or known node matches)" : " (more than one node matches)"));
      return kept.done(1);
    }
    const std::string id = *matches.begin();
    connect_to(id, then_ping);
  }

  // The connected or known nodes whose id starts with `prefix`.
  std::set<std::string> match_node(const std::string& prefix) {
    std::set<std::string> matches;
    if (prefix.empty()) return matches;
    for (const auto& peer : peers())
      if (peer.id.rfind(prefix, 0) == 0) matches.insert(peer.id);
    for (const auto& node : known_nodes())
      if (node.id.rfind(prefix, 0) == 0) matches.insert(node.id);
    return matches;
  }

  int64_t timeout_ms_ = 5000;
  int64_t keepalive_ms_ = 15000;
  int max_missed_ = 3;
  std::mt19937_64 random_{std::random_device{}()};
  std::map<std::string, Outstanding> outstanding_;
  std::map<std::string, int> missed_;
};

}  // namespace

P2PNET_PLUGIN(PingPlugin, "ping", "1.0.0", "ping/pong round trips and keep-alive")
