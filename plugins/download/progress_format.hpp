// Human-readable sizes, speeds and times for the console's progress line.
#pragma once

#include <cstdint>
#include <string>

namespace p2pnet::download {

std::string human_bytes(double bytes);        // "1.5 MiB"
std::string format_duration(double seconds);  // "0:07", "1:02:03"

// "1 source", "3 sources"
std::string count_sources(int sources);

struct ProgressFacts {
  std::string name;
  int64_t done = 0;
  int64_t total = 0;
  double bytes_per_second = 0;
  int sources = 0;
};
// NAME  DONE/TOTAL bytes  PCT%  SPEED/s  ETA M:SS  N sources
std::string progress_line(const ProgressFacts& facts);

}  // namespace p2pnet::download
