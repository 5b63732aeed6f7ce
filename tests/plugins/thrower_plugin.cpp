// A test plugin that throws from every hook: the node must log it, count it,
// and keep serving everything else.
#include <p2pnet/plugin.hpp>
#include <p2pnet/settings.hpp>

#include <stdexcept>

namespace {

class ThrowerPlugin : public p2pnet::Plugin {
 public:
  void on_load(const p2pnet::json& table) override {
    p2pnet::Settings settings(table, "thrower");
    if (settings.boolean("fail_load", false)) throw std::runtime_error("thrower refuses to load, as configured");
    handle("thrower", [](const p2pnet::PeerRef&, const p2pnet::Message&) { throw std::runtime_error("in message"); });
    command("thrower", "thrower", "throws", [](p2pnet::Command&) { throw std::runtime_error("in command"); });
    subscribe("probe.event", [](const p2pnet::json&) { throw std::runtime_error("in event"); });
  }
  void on_start() override {
    after(1, [] { throw std::runtime_error("in timer"); });
    throw std::runtime_error("in on_start");
  }
  void on_stop() override { throw std::runtime_error("in on_stop"); }
  void on_peer_connected(const p2pnet::PeerRef&) override { throw std::runtime_error("in on_peer_connected"); }
  void on_peer_disconnected(const p2pnet::PeerRef&, std::string_view) override {
    throw std::logic_error("in on_peer_disconnected");
  }
};

}  // namespace

P2PNET_PLUGIN(ThrowerPlugin, "thrower", "1.0.0", "test plugin: throws from every hook")
