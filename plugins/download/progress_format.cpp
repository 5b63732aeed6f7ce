#include "progress_format.hpp"

#include <p2pnet/counted.hpp>

#include <cmath>
#include <cstdio>

namespace p2pnet::download {

std::string human_bytes(double bytes) {
  static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  int unit = 0;
  while (bytes >= 1024 && unit < 5) {
    bytes /= 1024;
    ++unit;
  }
  char text[32];
  if (unit == 0)
    std::snprintf(text, sizeof text, "%.0f B", bytes);
  else
    std::snprintf(text, sizeof text, "%.1f %s", bytes, kUnits[unit]);
  return text;
}

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  auto total = static_cast<long long>(seconds + 0.5);
  char text[32];
  if (total >= 3600)
    std::snprintf(text, sizeof text, "%lld:%02lld:%02lld", total / 3600, total / 60 % 60, total % 60);
  else
    std::snprintf(text, sizeof text, "%lld:%02lld", total / 60, total % 60);
  return text;
}

std::string count_sources(int sources) { return counted(sources, "source"); }

std::string progress_line(const ProgressFacts& facts) {
  double percent = facts.total > 0 ? 100.0 * static_cast<double>(facts.done) / static_cast<double>(facts.total) : 100.0;
  char pct[16];
  std::snprintf(pct, sizeof pct, "%.1f%%", percent);
  std::string line =
      facts.name + "  " + std::to_string(facts.done) + "/" + std::to_string(facts.total) + " bytes  " + pct;
  // Speed and ETA only once a speed was measured: "0 B/s ETA ?" says nothing.
  if (facts.bytes_per_second > 0) {
    std::string eta = facts.done >= facts.total
                          ? "0:00"
                          : format_duration(static_cast<double>(facts.total - facts.done) / facts.bytes_per_second);
    line += "  " + human_bytes(facts.bytes_per_second) + "/s  ETA " + eta;
  }
  return line + "  " + count_sources(facts.sources);
}

}  // namespace p2pnet::download
