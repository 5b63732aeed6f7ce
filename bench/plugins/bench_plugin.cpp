// bench: a message sink and a windowed sender, for measuring the routing
// path (socket -> frame -> router -> plugin) between two nodes.
#include <p2pnet/fields.hpp>
#include <p2pnet/plugin.hpp>

#include <optional>
#include <string>

namespace {

constexpr int64_t kAckEvery = 256;

class BenchPlugin : public p2pnet::Plugin {
 public:
  void on_load(const p2pnet::json&) override {
    // The sink reads only what it acknowledges, like a plugin on a hot path
    // would: the node has already validated the header.
    handle_raw("bench_msg", [this](const p2pnet::PeerRef& peer, std::string_view header, p2pnet::Bytes) {
      ++received_;
      int64_t seq = number_after(header, "\"seq\":");
      bool last = header.find("\"last\":true") != std::string_view::npos;
      if (last || (seq + 1) % kAckEvery == 0) send(peer.id(), {{"type", "bench_ack"}, {"upto", seq + 1}});
    });
    handle("bench_ack", [this](const p2pnet::PeerRef&, const p2pnet::Message& m) {
      if (!run_) return;
      run_->acked = p2pnet::fields::integer(m.header, "upto", 0, INT64_MAX).value_or(run_->acked);
      pump();
    });
    // bench-send ID COUNT PAYLOAD_BYTES WINDOW: ends when every message is acknowledged.
    command("bench-send", "bench-send ID COUNT PAYLOAD WINDOW", "send COUNT messages, at most WINDOW unacknowledged",
            [this](p2pnet::Command& cmd) {
              const auto& a = cmd.args();
              if (a.size() != 4) return cmd.done(2);
              run_ = Run{cmd.keep(), a[0], std::stoll(a[1]), std::string(std::stoul(a[2]), 'x'), std::stoll(a[3])};
              pump();
            });
    command("bench-received", "bench-received", "messages received so far",
            [this](p2pnet::Command& cmd) { cmd.print(std::to_string(received_)); });
  }

 private:
  struct Run {
    p2pnet::Command command;
    std::string peer;
    int64_t count;
    std::string padding;
    int64_t window;
    int64_t sent = 0;
    int64_t acked = 0;
  };

  static int64_t number_after(std::string_view text, std::string_view key) {
    auto at = text.find(key);
    if (at == std::string_view::npos) return -1;
    int64_t value = 0;
    for (size_t i = at + key.size(); i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i)
      value = value * 10 + (text[i] - '0');
    return value;
  }

  void pump() {
    while (run_->sent < run_->count && run_->sent - run_->acked < run_->window) {
      // Built as text: a sender on a hot path need not build a JSON tree.
      std::string message = "{\"type\":\"bench_msg\",\"seq\":" + std::to_string(run_->sent) + ",\"pad\":\"" +
                            run_->padding + "\"" + (run_->sent + 1 == run_->count ? ",\"last\":true}" : "}");
      if (send_text(run_->peer, message) != P2PNET_OK) {
        run_->command.print("error: send failed");
        run_->command.done(1);
        run_.reset();
        return;
      }
      ++run_->sent;
    }
    if (run_->acked >= run_->count) {
      run_->command.done(0);
      run_.reset();
    }
  }

  int64_t received_ = 0;
  std::optional<Run> run_;
};

}  // namespace

P2PNET_PLUGIN(BenchPlugin, "bench", "1.0.0", "benchmark sink and windowed sender")
