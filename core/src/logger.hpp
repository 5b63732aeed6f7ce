// A named logger with its own threshold; every node and plugin instance has
// one, so lines from many nodes in one process stay attributable.
#pragma once

#include "p2pnet/log.hpp"

#include <fmt/core.h>

#include <atomic>
#include <string>

namespace p2pnet {

class Logger {
 public:
  Logger(std::string name, LogSeverity threshold) : name_(std::move(name)), threshold_(threshold) {}

  bool enabled(LogSeverity severity) const { return severity >= threshold_.load(std::memory_order_relaxed); }
  void set_threshold(LogSeverity severity) { threshold_ = severity; }
  LogSeverity threshold() const { return threshold_; }
  const std::string& name() const { return name_; }

  void write(LogSeverity severity, std::string_view message) const;

  template <class... Args>
  void log(LogSeverity severity, fmt::format_string<Args...> format, Args&&... args) const {
    if (enabled(severity)) write(severity, fmt::format(format, std::forward<Args>(args)...));
  }
  template <class... Args>
  void trace(fmt::format_string<Args...> f, Args&&... a) const {
    log(LogSeverity::trace, f, std::forward<Args>(a)...);
  }
  template <class... Args>
  void debug(fmt::format_string<Args...> f, Args&&... a) const {
    log(LogSeverity::debug, f, std::forward<Args>(a)...);
  }
  template <class... Args>
  void info(fmt::format_string<Args...> f, Args&&... a) const {
    log(LogSeverity::info, f, std::forward<Args>(a)...);
  }
  template <class... Args>
  void warn(fmt::format_string<Args...> f, Args&&... a) const {
    log(LogSeverity::warn, f, std::forward<Args>(a)...);
  }
  template <class... Args>
  void error(fmt::format_string<Args...> f, Args&&... a) const {
    log(LogSeverity::error, f, std::forward<Args>(a)...);
  }

 private:
  std::string name_;
  std::atomic<LogSeverity> threshold_;
};

}  // namespace p2pnet
