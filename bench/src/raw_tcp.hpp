// Baselines: the same work done over a plain TCP socket pair on loopback,
// with no JSON, no plugin and no node, measured in the same run.
#pragma once

#include <cstddef>
#include <filesystem>
#include <vector>

namespace p2pnet::bench {

// Length-prefixed frames of `payload` bytes, sent as fast as TCP takes them;
// returns frames per second received and parsed.
double raw_framed_throughput(size_t frames, size_t payload);

// Round trips of a `payload`-byte frame; returns each round trip in ms.
std::vector<double> raw_ping_pong(size_t rounds, size_t payload);

// Copies `source` to `target` over loopback TCP: sendfile on the sending side,
// read and write on the receiving side, then fsync when `sync` (as a
// verified download does before renaming into place). Returns MB/s (10^6 B/s).
double raw_file_copy(const std::filesystem::path& source, const std::filesystem::path& target, bool sync);

}  // namespace p2pnet::bench
