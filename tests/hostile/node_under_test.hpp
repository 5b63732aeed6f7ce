// A p2pnode process run for the hostile-peer harness: started from a
// generated node.toml, driven through its console on stdin, watched through
// /proc (resident memory, whether it still runs).
#pragma once

#include "process.hpp"
#include "temp_dir.hpp"

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace p2pnet::hostile {

struct NodeStatsSnapshot {
  std::map<std::string, int64_t> counters;  // core events and plugin counters, by their `stats` name
  int64_t total_errors = 0;
  int64_t messages_in = 0;
  bool ok = false;  // the console answered
};

class NodeUnderTest {
 public:
  // `toml` is the node.toml text without the data dir (given on the command line).
  NodeUnderTest(const std::string& p2pnode, const std::string& label, const std::string& toml);

  bool started() const { return port_ != 0; }
  uint16_t port() const { return port_; }
  const std::string& id() const { return id_; }
  int pid() const { return process_->pid(); }
  test::Process& process() { return *process_; }
  const std::filesystem::path& dir() const { return dir_.path(); }

  // Sends a console command; the first stdout line after it that matches
  // `expect`, or nothing after `timeout`.
  std::optional<std::string> command(const std::string& line, const std::string& expect,
                                     std::chrono::milliseconds timeout);
  // `stats` through the console.
  NodeStatsSnapshot stats(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // Whether the process still runs (not exited, not a zombie).
  bool alive() const;
  // VmRSS in KiB, or 0 if it cannot be read.
  int64_t rss_kib() const;
  std::string stderr_tail(size_t bytes = 4000);

 private:
  test::TempDir dir_;
  std::unique_ptr<test::Process> process_;
  uint16_t port_ = 0;
  std::string id_;
};

// Samples a process's VmRSS and liveness every `interval` in the background.
class RssSampler {
 public:
  RssSampler(const NodeUnderTest& node, std::chrono::milliseconds interval);
  ~RssSampler();
  int64_t max_kib() const { return max_kib_.load(); }
  int64_t samples() const { return samples_.load(); }
  bool died() const { return died_.load(); }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> max_kib_{0};
  std::atomic<int64_t> samples_{0};
  std::atomic<bool> died_{false};
  std::thread thread_;
};

}  // namespace p2pnet::hostile
