#include "node_under_test.hpp"

#include <fstream>
#include <regex>
#include <sstream>

namespace p2pnet::hostile {
namespace {

// "  name value" lines of `stats`.
const std::regex kCounterLine(R"(^  (\S+) (-?\d+)$)");
const std::regex kTotalLine(R"(^total: (\d+) messages in, \d+ out; \d+ bytes in, \d+ out; (\d+) errors$)");

std::optional<std::string> proc_status_field(int pid, const std::string& field) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind(field + ":", 0) == 0) return line.substr(field.size() + 1);
  return std::nullopt;
}

}  // namespace

NodeUnderTest::NodeUnderTest(const std::string& p2pnode, const std::string& label, const std::string& toml)
    : dir_("p2pnet-hostile-" + label) {
  auto config = dir_ / "node.toml";
  std::ofstream(config) << toml;
  process_ = std::make_unique<test::Process>(
      p2pnode,
      std::vector<std::string>{"--config", config.string(), "--port", "0", "--data-dir", (dir_ / "data").string()},
      dir_.path().string());
  auto listening = process_->wait_for_line(std::regex(R"(listening on 127\.0\.0\.1:(\d+) id ([0-9a-f]{64}))"),
                                           std::chrono::seconds(60));
  if (!listening) return;
  port_ = static_cast<uint16_t>(std::stoi(listening->second[1]));
  id_ = listening->second[2];
}

std::optional<std::string> NodeUnderTest::command(const std::string& line, const std::string& expect,
                                                  std::chrono::milliseconds timeout) {
  size_t from = process_->line_count();
  if (!process_->write_line(line)) return std::nullopt;
  auto match = process_->wait_for_line(std::regex(expect), timeout, from);
  if (!match) return std::nullopt;
  return process_->stdout_lines()[match->first];
}

NodeStatsSnapshot NodeUnderTest::stats(std::chrono::milliseconds timeout) {
  NodeStatsSnapshot snapshot;
  size_t from = process_->line_count();
  // `stats` has no last line of its own; `peers` after it ends with "N peers".
  if (!process_->write_line("stats") || !process_->write_line("peers")) return snapshot;
  auto end = process_->wait_for_line(std::regex(R"(^\d+ peers?$)"), timeout, from);
  if (!end) return snapshot;
  auto lines = process_->stdout_lines();
  bool in_stats = false;
  for (size_t i = from; i < end->first && i < lines.size(); ++i) {
    std::smatch match;
    if (std::regex_match(lines[i], match, kTotalLine)) {
      in_stats = true;
      snapshot.messages_in = std::stoll(match[1]);
      snapshot.total_errors = std::stoll(match[2]);
    } else if (in_stats && std::regex_match(lines[i], match, kCounterLine)) {
      snapshot.counters[match[1]] = std::stoll(match[2]);
    }
  }
  snapshot.ok = in_stats;
  return snapshot;
}

bool NodeUnderTest::alive() const {
  auto state = proc_status_field(process_->pid(), "State");
  return state && state->find('Z') == std::string::npos && state->find('X') == std::string::npos;
}

int64_t NodeUnderTest::rss_kib() const {
  auto rss = proc_status_field(process_->pid(), "VmRSS");
  if (!rss) return 0;
  std::istringstream in(*rss);
  int64_t kib = 0;
  in >> kib;
  return kib;
}

std::string NodeUnderTest::stderr_tail(size_t bytes) {
  auto text = process_->stderr_text();
  return text.size() > bytes ? text.substr(text.size() - bytes) : text;
}

RssSampler::RssSampler(const NodeUnderTest& node, std::chrono::milliseconds interval) {
  thread_ = std::thread([this, &node, interval] {
    while (!stop_.load()) {
      if (!node.alive()) {
        died_ = true;
        return;
      }
      int64_t rss = node.rss_kib();
      if (rss > max_kib_.load()) max_kib_ = rss;
      ++samples_;
      std::this_thread::sleep_for(interval);
    }
  });
}

RssSampler::~RssSampler() {
  stop_ = true;
  thread_.join();
}

}  // namespace p2pnet::hostile
