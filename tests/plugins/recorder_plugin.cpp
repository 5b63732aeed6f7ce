// A test plugin that subscribes to the bus events its settings name and
// prints what it got, so tests see what other plugins publish.
#include <p2pnet/plugin.hpp>
#include <p2pnet/settings.hpp>

#include <deque>

namespace {

class RecorderPlugin : public p2pnet::Plugin {
 public:
  void on_load(const p2pnet::json& table) override {
    p2pnet::Settings settings(table, "recorder");
    for (const auto& event : settings.strings("events", {}))
      subscribe(event, [this, event](const p2pnet::json& data) {
        if (events_.size() >= 10000) events_.pop_front();
        events_.push_back(event + " " + data.dump());
      });
    command("recorder-log", "recorder-log", "print the bus events received", [this](p2pnet::Command& cmd) {
      for (const auto& line : events_) cmd.print(line);
      cmd.print(std::to_string(events_.size()) + " events");
    });
  }

 private:
  std::deque<std::string> events_;
};

}  // namespace

P2PNET_PLUGIN(RecorderPlugin, "recorder", "1.0.0", "test plugin: records bus events")
