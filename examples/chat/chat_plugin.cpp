// chat: the smallest useful p2pnet plugin. `say TEXT` sends TEXT to every
// peer that runs chat; what arrives is printed on the console.
#include <p2pnet/counted.hpp>
#include <p2pnet/fields.hpp>
#include <p2pnet/plugin.hpp>

class ChatPlugin : public p2pnet::Plugin {
 public:
  void on_load(const p2pnet::json&) override {
    handle("chat", [this](const p2pnet::PeerRef& from, const p2pnet::Message& message) {
      auto text = p2pnet::fields::string(message.header, "text", 1000);
      if (!text) return count("malformed");  // peers are not trusted
      print(std::string(from.id().substr(0, 12)) + " says: " + *text);
    });
    command("say", "say TEXT", "send TEXT to every chat peer", [this](p2pnet::Command& cmd) {
      int peers = broadcast({{"type", "chat"}, {"text", cmd.line()}});
      cmd.print("sent to " + p2pnet::counted(peers, "peer"));
    });
  }
};

P2PNET_PLUGIN(ChatPlugin, "chat", "1.0.0", "say things to every peer")
