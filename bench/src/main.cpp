// p2pnet_bench: every benchmark beside its own baseline, measured in this
// run on this machine; prints a table and writes the figures as JSON.
#include "bench_support.hpp"
#include "download_bench.hpp"
#include "footprint_bench.hpp"
#include "messaging_bench.hpp"
#include "scale_bench.hpp"

#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <sys/utsname.h>
#include <thread>

using namespace p2pnet::bench;

namespace {

using BenchFunction = std::vector<Figure> (*)(const Options&);

const std::vector<std::pair<std::string, BenchFunction>> kBenches = {
    {"routing", routing_bench},
    {"ping", ping_bench},
    {"scale", scale_bench},
    {"download", download_bench},
    {"memory", memory_bench},
    {"startup", startup_bench},
};

std::string machine() {
  utsname name{};
  uname(&name);
  return fmt::format("{} {} {}, {} hardware threads", name.sysname, name.release, name.machine,
                     std::thread::hardware_concurrency());
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  std::vector<std::string> only;
  std::string json_path;
  CLI::App app{"p2pnet_bench: p2pnet's speed, scale and memory as ratios against baselines measured in the same run"};
  app.add_flag("--quick", options.quick, "tiny sizes: check that every benchmark runs, measure nothing");
  app.add_option("--repeats", options.repeats, "runs of each pair, medians reported")->check(CLI::Range(1, 50));
  app.add_option("--only", only, "run only these benchmarks");
  app.add_option("--json", json_path, "write the figures to this file");
  CLI11_PARSE(app, argc, argv);

  nlohmann::json report = {{"machine", machine()}, {"quick", options.quick}, {"figures", nlohmann::json::array()}};
  fmt::print("{:<58} {:>14} {:>14} {:>8}  {}\n", "benchmark", "p2pnet", "baseline", "ratio", "goal");
  int failures = 0;
  for (const auto& [name, run] : kBenches) {
    if (!only.empty() && std::find(only.begin(), only.end(), name) == only.end()) continue;
    try {
      for (const auto& figure : run(options)) {
        std::string baseline = figure.baseline > 0 ? fmt::format("{:.4g} {}", figure.baseline, figure.unit) : "-";
        std::string ratio = figure.baseline > 0 ? fmt::format("{:.2f}", figure.ratio()) : "-";
        std::string goal = figure.goal.empty() ? "" : figure.goal + (figure.goal_met() ? " (met)" : " (NOT met)");
        fmt::print("{:<58} {:>14} {:>14} {:>8}  {}\n", figure.name, fmt::format("{:.4g} {}", figure.value, figure.unit),
                   baseline, ratio, goal);
        if (!figure.note.empty()) fmt::print("    {}\n", figure.note);
        report["figures"].push_back({{"benchmark", name},
                                     {"name", figure.name},
                                     {"value", figure.value},
                                     {"baseline", figure.baseline},
                                     {"ratio", figure.ratio()},
                                     {"unit", figure.unit},
                                     {"goal", figure.goal},
                                     {"goal_met", figure.goal_met()},
                                     {"note", figure.note}});
      }
    } catch (const std::exception& e) {
      ++failures;
      fmt::print("{:<58} error: {}\n", name, e.what());
      report["figures"].push_back({{"benchmark", name}, {"error", e.what()}});
    }
    std::fflush(stdout);
  }
  if (!json_path.empty()) std::ofstream(json_path) << report.dump(2) << "\n";
  return failures == 0 ? 0 : 1;
}
