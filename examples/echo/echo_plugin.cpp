#include <p2pnet/fields.hpp>
#include <p2pnet/plugin.hpp>
#include <p2pnet/settings.hpp>

// echo: answers every "echo" message with an "echo_reply" carrying the same
// text and body; `echo ID TEXT` sends one and prints the reply.
class EchoPlugin : public p2pnet::Plugin {
 public:
  void on_load(const p2pnet::json& table) override {
    p2pnet::Settings settings(table, "echo");
    max_text_ = settings.integer("max_text", 1000, 1, 65536);  // plugins.echo.max_text

    handle("echo", [this](const p2pnet::PeerRef& peer, const p2pnet::Message& m) {
      auto text = p2pnet::fields::string(m.header, "text", max_text_);
      if (!text) return count("malformed");  // never trust a peer
      send(peer.id(), {{"type", "echo_reply"}, {"text", *text}}, m.body);
    });
    handle("echo_reply", [this](const p2pnet::PeerRef& peer, const p2pnet::Message& m) {
      print(std::string(peer.id().substr(0, 12)) + " echoed: " +
            p2pnet::fields::string(m.header, "text", max_text_).value_or("?"));
    });
    command("echo", "echo ID TEXT", "send TEXT to a peer and print its echo", [this](p2pnet::Command& cmd) {
      if (cmd.args().size() != 2) return cmd.print("usage: echo ID TEXT");
      int status = send(cmd.args()[0], {{"type", "echo"}, {"text", cmd.args()[1]}});
      if (status != P2PNET_OK) cmd.print("error: cannot send (" + std::to_string(status) + ")");
    });
  }

 private:
  size_t max_text_ = 1000;
};

P2PNET_PLUGIN(EchoPlugin, "echo", "1.0.0", "echoes messages back")
