// A test plugin for loading, unloading and reloading while the node runs.
// Built several times from this source: LIVE_VERSION tells the builds apart
// (a "rebuild"), LIVE_FAIL_LOAD makes one whose load hook fails. With
// busy = true it keeps every kind of callback going: a timer every
// millisecond that broadcasts a message and starts a background job.
#include <p2pnet/plugin.hpp>
#include <p2pnet/settings.hpp>

#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>

#ifndef LIVE_VERSION
#define LIVE_VERSION "1.0.0"
#endif

namespace {

class LivePlugin : public p2pnet::Plugin {
 public:
  void on_load(const p2pnet::json& table) override {
#ifdef LIVE_FAIL_LOAD
    throw std::runtime_error("this build of live fails to load, as built");
#endif
    p2pnet::Settings settings(table, "live");
    busy_ = settings.boolean("busy", false);
    handle("live", [this](const p2pnet::PeerRef&, const p2pnet::Message&) {
      ++received_;
      count("received");
    });
    command("live-version", "live-version", "print this build's version",
            [](p2pnet::Command& cmd) { cmd.print("live " LIVE_VERSION); });
    command("live-stats", "live-stats", "what the plugin saw", [this](p2pnet::Command& cmd) {
      cmd.print("received " + std::to_string(received_) + ", jobs done " + std::to_string(jobs_done_));
    });
    command("live-timer", "live-timer MS", "start a timer", [this](p2pnet::Command& cmd) {
      after(std::stoul(cmd.args().at(0)), [] {});
      cmd.print("timer started");
    });
    command("live-job", "live-job MS", "run a background job that takes MS ms", [this](p2pnet::Command& cmd) {
      auto ms = std::stoul(cmd.args().at(0));
      auto kept = cmd.keep();
      background([ms] { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); },
                 [this, kept]() mutable {
                   ++jobs_done_;
                   kept.print("job done");
                   kept.done(0);
                 });
      cmd.print("job started");  // a test waits for this before it unloads
    });
    // Never finishes by itself: the node finishes it when the plugin goes.
    command("live-hold", "live-hold", "a command that stays in progress", [this](p2pnet::Command& cmd) {
      held_.push_back(cmd.keep());
      cmd.print("holding");
    });
  }

  void on_start() override {
    if (!busy_) return;
    every(1, [this] {
      broadcast({{"type", "live"}});
      background([] {}, [this] { ++jobs_done_; });
    });
  }

 private:
  bool busy_ = false;
  uint64_t received_ = 0;
  uint64_t jobs_done_ = 0;
  std::vector<p2pnet::Command> held_;
};

}  // namespace

P2PNET_PLUGIN(LivePlugin, "live", LIVE_VERSION, "test plugin: loaded, unloaded and reloaded while the node runs")
