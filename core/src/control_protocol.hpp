// The control endpoint's wire format, shared by the node's server and the
// `p2pnode ctl` client: one JSON object per line each way.
//   client: {"id": 1, "command": "search holiday"}
//           {"id": 2, "subscribe": "events"}   from now on, the node's events
//   node:   {"event": "peer connected: ...", "time_ms": 1764568800000}
//           {"id": 1, "line": "..."}        an output line of that command
//           {"id": 1, "progress": "..."}    a status line that the next replaces
//           {"id": 1, "status": 0}          the command ended (0: success)
//           {"error": "..."}                the request was refused; the node closes
#pragma once

#include "p2pnet/config.hpp"

#include <cstddef>
#include <filesystem>

namespace p2pnet::control {

// A request line, like a console line, is at most this long.
constexpr size_t kMaxRequestBytes = 64 * 1024;
// Output waiting for a client that does not read; beyond it the client goes.
constexpr size_t kMaxQueuedOutputBytes = 4 * 1024 * 1024;
// Commands one client may have running at once.
constexpr size_t kMaxCommandsPerClient = 16;

inline std::filesystem::path socket_path(const NodeConfig& config) {
  if (!config.control.socket.empty()) return config.control.socket;
  return config.data_dir / "control.sock";
}

}  // namespace p2pnet::control
