// A test plugin that plays the download plugin's side of the search bus
// contract: it records search.index and search.results events and publishes
// search.request, so tests check the contract from outside the search plugin.
#include <p2pnet/plugin.hpp>

#include <deque>

namespace {

class SearchProbePlugin : public p2pnet::Plugin {
 public:
  void on_load(const p2pnet::json&) override {
    for (const char* event : {"search.index", "search.results"})
      subscribe(event, [this, name = std::string(event)](const p2pnet::json& data) {
        log_.push_back(name + " " + data.dump());
        if (log_.size() > 200) log_.pop_front();
      });
    command("searchprobe-request", "searchprobe-request ID QUERY [DEPTH]", "publish search.request",
            [this](p2pnet::Command& cmd) {
              const auto& args = cmd.args();
              if (args.size() < 2) return cmd.done(2);
              p2pnet::json request = {{"request", args[0]}, {"query", args[1]}};
              if (args.size() > 2) request["depth"] = std::stoi(args[2]);
              publish("search.request", request);
            });
    command("searchprobe-log", "searchprobe-log", "print the search events seen: EVENT JSON",
            [this](p2pnet::Command& cmd) {
              for (const auto& line : log_) cmd.print(line);
              cmd.print(std::to_string(log_.size()) + " events");
            });
  }

 private:
  std::deque<std::string> log_;
};

}  // namespace

P2PNET_PLUGIN(SearchProbePlugin, "searchprobe", "1.0.0", "records search bus events for tests")
