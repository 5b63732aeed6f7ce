// Collects the node library's log lines while alive (process-wide sink).
#pragma once

#include "p2pnet/log.hpp"

#include <mutex>
#include <string>
#include <vector>

namespace p2pnet::test {

class LogCapture {
 public:
  LogCapture() {
    set_log_sink([this](LogSeverity, std::string_view line) {
      std::lock_guard lock(mutex_);
      lines_.emplace_back(line);
    });
  }
  ~LogCapture() { set_log_sink({}); }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  bool contains(const std::string& text) {
    std::lock_guard lock(mutex_);
    for (const auto& line : lines_)
      if (line.find(text) != std::string::npos) return true;
    return false;
  }

 private:
  std::mutex mutex_;
  std::vector<std::string> lines_;
};

}  // namespace p2pnet::test
