// A test plugin that subscribes to the bus events its settings name (and,
// with public = true, to every public event) and prints what it got, so tests
// see what the node and other plugins publish. It also drives its node the
// way a remote-control plugin does: it runs console lines and prints what
// they said.
#include <p2pnet/plugin.hpp>
#include <p2pnet/settings.hpp>

#include <deque>
#include <memory>
#include <thread>
#include <vector>

namespace {

class RecorderPlugin : public p2pnet::Plugin {
 public:
  static constexpr uint16_t abi_minor = 2;

  ~RecorderPlugin() override {
    for (auto& thread : threads_) thread.join();
  }

  void on_load(const p2pnet::json& table) override {
    p2pnet::Settings settings(table, "recorder");
    for (const auto& event : settings.strings("events", {}))
      subscribe(event, [this, event](const p2pnet::json& data) { record(event + " " + data.dump()); });
    if (settings.boolean("public", false))
      subscribe_public([this](std::string_view event, const p2pnet::json& data) {
        record("public " + std::string(event) + " " + data.dump());
      });
    command("recorder-log", "recorder-log", "print the bus events received", [this](p2pnet::Command& cmd) {
      for (const auto& line : events_) cmd.print(line);
      cmd.print(std::to_string(events_.size()) + " events");
    });
    command("recorder-publish", "recorder-publish EVENT JSON", "publish a public event", [this](p2pnet::Command& cmd) {
      if (cmd.args().size() != 2) return cmd.print("usage: recorder-publish EVENT JSON"), cmd.done(2);
      auto data = p2pnet::json::parse(cmd.args()[1], nullptr, false);
      cmd.print("status " + std::to_string(publish_public(cmd.args()[0], data)));
    });
    command("recorder-post", "recorder-post", "finish from a thread of the plugin's own, through post()",
            [this](p2pnet::Command& cmd) {
              auto kept = std::make_shared<p2pnet::Command>(cmd.keep());
              threads_.emplace_back([this, kept] {
                post([kept] {
                  kept->print("posted from another thread");
                  kept->done(0);
                });
              });
            });
    command("recorder-run", "recorder-run [xN] LINE", "run LINE (N times at once) and print its output",
            [this](p2pnet::Command& cmd) { run(cmd); });
  }

 private:
  void record(std::string line) {
    if (events_.size() >= 10000) events_.pop_front();
    events_.push_back(std::move(line));
  }

  // Prints each output line as "out: LINE", then "status: N" when it ends;
  // a run the node refused prints "refused: N".
  void run(p2pnet::Command& cmd) {
    std::string line = cmd.line();
    int copies = 1;
    if (line.size() > 1 && line[0] == 'x' && line.find(' ') != std::string::npos) {
      copies = std::stoi(line.substr(1, line.find(' ') - 1));
      line = line.substr(line.find(' ') + 1);
    }
    auto kept = std::make_shared<p2pnet::Command>(cmd.keep());
    auto waiting = std::make_shared<int>(0);
    for (int i = 0; i < copies; ++i) {
      int status = run_command(
          line, [kept](std::string_view text, bool) { kept->print("out: " + std::string(text)); },
          [kept, waiting](int status) {
            kept->print("status: " + std::to_string(status));
            if (--*waiting == 0) kept->done(0);
          });
      if (status == P2PNET_OK)
        ++*waiting;
      else
        kept->print("refused: " + std::to_string(status));
    }
    if (*waiting == 0) kept->done(0);
  }

  std::deque<std::string> events_;
  std::vector<std::thread> threads_;
};

}  // namespace

P2PNET_PLUGIN(RecorderPlugin, "recorder", "1.0.0", "test plugin: records bus events and runs commands")
