// A test plugin driven through console commands: it sends what tests ask and
// remembers what it received, so tests observe routing from the outside.
#include <p2pnet/fields.hpp>
#include <p2pnet/plugin.hpp>
#include <p2pnet/settings.hpp>

#include <deque>
#include <stdexcept>

#ifndef PROBE_NAME
#define PROBE_NAME "probe"
#endif

namespace {

class ProbePlugin : public p2pnet::Plugin {
 public:
  void on_load(const p2pnet::json& table) override {
    p2pnet::Settings settings(table, PROBE_NAME);
    types_ = settings.strings("types", {PROBE_NAME});
    slow_ms_ = settings.integer("slow_ms", 0, 0, 10000);
    for (const auto& type : types_)
      handle(type, [this](const p2pnet::PeerRef& peer, const p2pnet::Message& m) { on_probe(peer, m); });
    const std::string prefix = PROBE_NAME;
    command(prefix + "-send", prefix + "-send ID TEXT [BODY_BYTES]", "send TEXT to a peer",
            [this](p2pnet::Command& cmd) { send_command(cmd); });
    command(prefix + "-broadcast", prefix + "-broadcast TEXT", "send TEXT to every peer", [this](p2pnet::Command& cmd) {
      int sent = broadcast({{"type", types_.front()}, {"text", cmd.line()}});
      cmd.print("sent to " + std::to_string(sent));
    });
    command(prefix + "-log", prefix + "-log", "print what was received", [this](p2pnet::Command& cmd) {
      for (const auto& line : log_) cmd.print(line);
      cmd.print(std::to_string(received_) + " received");
    });
    command(prefix + "-publish", prefix + "-publish EVENT TEXT", "publish a bus event", [this](p2pnet::Command& cmd) {
      if (cmd.args().size() < 2) return cmd.done(2);
      publish(cmd.args()[0], {{"text", cmd.args()[1]}});
    });
    // Hearsay as discovery or search would hand it on, so tests can name a relay that lies.
    command(prefix + "-remember-relay", prefix + "-remember-relay NODE RELAY HOST PORT",
            "say that NODE holds a place on RELAY at HOST:PORT", [this](p2pnet::Command& cmd) {
              const auto& args = cmd.args();
              if (args.size() != 4) return cmd.done(2);
              int status = remember_relay(args[0], args[1], args[2], static_cast<uint16_t>(std::stoi(args[3])));
              cmd.print("status " + std::to_string(status));
              cmd.done(status == P2PNET_OK ? 0 : 1);
            });
    subscribe("probe.event", [this](const p2pnet::json& data) { remember("event " + data.dump()); });
    // After registering, so a test sees that a failed load leaves nothing behind.
    if (settings.boolean("fail_after_registering", false))
      throw std::runtime_error(PROBE_NAME " fails after registering, as configured");
  }

  void on_peer_connected(const p2pnet::PeerRef& peer) override {
    std::string path = peer.relayed_via().empty() ? "" : " relayed via " + std::string(peer.relayed_via());
    remember("connected " + std::string(peer.id()) + (peer.inbound() ? " inbound" : " outbound") + path);
  }
  void on_peer_disconnected(const p2pnet::PeerRef& peer, std::string_view reason) override {
    remember("disconnected " + std::string(peer.id()) + " " + std::string(reason));
  }

 private:
  void on_probe(const p2pnet::PeerRef& peer, const p2pnet::Message& message) {
    if (slow_ms_) {
      auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(slow_ms_);
      while (std::chrono::steady_clock::now() < until) {
      }
    }
    ++received_;
    count("received");
    auto text = p2pnet::fields::string(message.header, "text", 1 << 20).value_or("?");
    remember("got " + std::string(message.type) + " from " + std::string(peer.id()) + ": " + text + " (" +
             std::to_string(message.body.size()) + " body bytes)");
  }

  void send_command(p2pnet::Command& cmd) {
    const auto& args = cmd.args();
    if (args.size() < 2) {
      cmd.print("usage: " PROBE_NAME "-send ID TEXT [BODY_BYTES]");
      return cmd.done(2);
    }
    std::string body(args.size() > 2 ? std::stoul(args[2]) : 0, 'x');
    int status = send(args[0], {{"type", types_.front()}, {"text", args[1]}}, p2pnet::as_bytes(body));
    cmd.print("status " + std::to_string(status));
    cmd.done(status == P2PNET_OK ? 0 : 1);
  }

  void remember(std::string line) {
    log_.push_back(std::move(line));
    if (log_.size() > 1000) log_.pop_front();
  }

  std::vector<std::string> types_;
  int64_t slow_ms_ = 0;
  std::deque<std::string> log_;
  uint64_t received_ = 0;
};

}  // namespace

P2PNET_PLUGIN(ProbePlugin, PROBE_NAME, "1.0.0", "test plugin: sends and records messages")
