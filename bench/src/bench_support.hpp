// Shared pieces of the benchmarks: results with their baselines, timing,
// scratch directories, and nodes set up the way the tests set them up.
#pragma once

#include "p2pnet/node.hpp"

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace p2pnet::bench {

struct Figure {
  Figure(std::string name_, double value_, double baseline_, std::string unit_, bool higher_is_better_ = true)
      : name(std::move(name_)), value(value_), baseline(baseline_), unit(std::move(unit_)),
        higher_is_better(higher_is_better_) {}
  std::string name;      // what was measured
  double value = 0;      // p2pnet's figure
  double baseline = 0;   // the baseline's figure, same unit, same run (0: none)
  std::string unit;
  bool higher_is_better = true;
  std::string goal;      // the target, in words (e.g. ">= 0.5 x raw")
  double goal_ratio = 0;     // the ratio the goal asks for (0: no ratio goal)
  double goal_absolute = 0;  // or the value it asks for, in `unit` (0: none)
  std::string note;
  double ratio() const { return baseline > 0 ? value / baseline : 0; }
  bool goal_met() const;
};

struct Options {
  bool quick = false;  // tiny sizes: a smoke test, not a measurement
  int repeats = 3;
};

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point start);
double median(std::vector<double> values);
double percentile(std::vector<double> values, double p);

class ScratchDir {
 public:
  explicit ScratchDir(const std::string& label);
  ~ScratchDir();
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// A node on loopback with the given plugins, for benchmarks.
NodeConfig bench_config(const std::vector<std::string>& plugins, bool encryption = true);
std::unique_ptr<Node> start_node(NodeConfig config, const std::shared_ptr<Runtime>& runtime, ScratchDir& data);
// Connects a to b and waits until both list each other. Throws on failure.
void connect_nodes(Node& a, Node& b);
// Runs a console command to completion; returns its output lines. Throws on failure.
std::vector<std::string> run_command(Node& node, const std::string& line,
                                     std::chrono::seconds timeout = std::chrono::seconds(600));
// Waits until `condition` holds; throws after the timeout.
void wait_for(const std::function<bool()>& condition, std::chrono::milliseconds timeout, const std::string& what);

}  // namespace p2pnet::bench
