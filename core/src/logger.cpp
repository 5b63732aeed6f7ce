#include "logger.hpp"

#include "terminal_output.hpp"

#include <p2pnet/printable.hpp>

#include <chrono>
#include <ctime>
#include <mutex>

namespace p2pnet {
namespace {

std::mutex sink_mutex;
std::function<void(LogSeverity, std::string_view)> custom_sink;

std::string timestamp() {
  using namespace std::chrono;
  auto now = system_clock::now();
  std::time_t seconds = system_clock::to_time_t(now);
  auto millis = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%H:%M:%S", &utc);
  return fmt::format("{}.{:03}", text, millis);
}

}  // namespace

std::optional<LogSeverity> parse_log_severity(std::string_view name) {
  for (int i = 0; i <= static_cast<int>(LogSeverity::off); ++i)
    if (name == log_severity_name(static_cast<LogSeverity>(i))) return static_cast<LogSeverity>(i);
  return std::nullopt;
}

std::string_view log_severity_name(LogSeverity severity) {
  switch (severity) {
    case LogSeverity::trace: return "trace";
    case LogSeverity::debug: return "debug";
    case LogSeverity::info: return "info";
    case LogSeverity::warn: return "warn";
    case LogSeverity::error: return "error";
    case LogSeverity::off: return "off";
  }
  return "?";
}

void set_log_sink(std::function<void(LogSeverity, std::string_view)> sink) {
  std::lock_guard lock(sink_mutex);
  custom_sink = std::move(sink);
}

void Logger::write(LogSeverity severity, std::string_view message) const {
  // Log lines quote peers (ids, hosts, names): one escaping here covers
  // every line, the core's and the plugins'.
  std::string line =
      fmt::format("{} {:5} [{}] {}", timestamp(), log_severity_name(severity), name_, printable(message));
  {
    std::lock_guard lock(sink_mutex);
    if (custom_sink) {
      custom_sink(severity, line);
      return;
    }
  }
  TerminalOutput::instance().write_line(TerminalOutput::Stream::err, line);
}

}  // namespace p2pnet
