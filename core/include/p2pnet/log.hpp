// Logging of the node library. Log lines go to stderr by default; a program
// that embeds nodes can route them elsewhere.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace p2pnet {

enum class LogSeverity { trace = 0, debug = 1, info = 2, warn = 3, error = 4, off = 5 };

std::optional<LogSeverity> parse_log_severity(std::string_view name);
std::string_view log_severity_name(LogSeverity severity);

// Replaces where finished log lines go (process-wide). Pass {} for stderr.
void set_log_sink(std::function<void(LogSeverity, std::string_view line)> sink);

}  // namespace p2pnet
