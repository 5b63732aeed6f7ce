// A test plugin that throws from every hook: the node must log it, count it,
// and keep serving everything else. Each hook counts "reached_HOOK" before it
// throws, so a test can check that every hook ran and every throw was caught
// (hook_exceptions equals the sum of the reached_ counters).
#include <p2pnet/plugin.hpp>
#include <p2pnet/settings.hpp>

#include <stdexcept>

namespace {

class ThrowerPlugin : public p2pnet::Plugin {
 public:
  void on_load(const p2pnet::json& table) override {
    p2pnet::Settings settings(table, "thrower");
    if (settings.boolean("fail_load", false)) throw std::runtime_error("thrower refuses to load, as configured");
    handle("thrower", [this](const p2pnet::PeerRef&, const p2pnet::Message&) {
      count("reached_message");
      throw std::runtime_error("in message");
    });
    handle_raw("thrower-raw", [this](const p2pnet::PeerRef&, std::string_view, p2pnet::Bytes) {
      count("reached_raw_message");
      throw std::runtime_error("in raw message");
    });
    command("thrower", "thrower", "throws", [this](p2pnet::Command&) {
      count("reached_command");
      throw std::runtime_error("in command");
    });
    subscribe("probe.event", [this](const p2pnet::json&) {
      count("reached_event");
      throw std::runtime_error("in event");
    });
  }
  void on_start() override {
    count("reached_on_start");
    after(1, [this] {
      count("reached_timer");
      throw std::runtime_error("in timer");
    });
    // count() is a thread-safe host call, allowed in background work.
    background(
        [this] {
          count("reached_background_work");
          throw std::runtime_error("in background work");
        },
        [] {});
    background([] {},
               [this] {
                 count("reached_background_then");
                 throw std::runtime_error("in background completion");
               });
    // Port 1 on loopback refuses: the connect result arrives with an error.
    connect("127.0.0.1", 1, [this](std::optional<std::string>, std::string) {
      count("reached_connect_result");
      throw std::runtime_error("in connect result");
    });
    throw std::runtime_error("in on_start");
  }
  void on_stop() override { throw std::runtime_error("in on_stop"); }
  void on_peer_connected(const p2pnet::PeerRef&) override {
    count("reached_peer_connected");
    throw std::runtime_error("in on_peer_connected");
  }
  void on_peer_disconnected(const p2pnet::PeerRef&, std::string_view) override {
    count("reached_peer_disconnected");
    throw std::logic_error("in on_peer_disconnected");
  }
};

}  // namespace

P2PNET_PLUGIN(ThrowerPlugin, "thrower", "1.0.0", "test plugin: throws from every hook")
