// The control endpoint's wire format, shared by the node's server and the
// `p2pnode ctl` client: one JSON object per line each way.
//   client: {"id": 1, "command": "search holiday"}
//           {"id": 2, "subscribe": "events"}   from now on, the node's events
//   node:   {"event": "peer.connected", "data": {...}, "time_ms": 1764568800000}
//           {"id": 1, "line": "..."}        an output line of that command
//           {"id": 1, "progress": "..."}    a status line that the next replaces
//           {"id": 1, "status": 0}          the command ended (0: success)
//           {"error": "..."}                the request was refused; the node closes
// On TCP every request also carries the node's token: {"token": "...", ...};
// a request without it or with a wrong one is refused and the node closes.
#pragma once

#include "host_port.hpp"
#include "network_address.hpp"
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

inline std::filesystem::path token_path(const NodeConfig& config) { return config.data_dir / "control.token"; }

// Why the control endpoint may not listen on `address`, or "". Loopback
// only: requests and the token travel in clear, so reaching a node from
// another machine goes through something that encrypts (an SSH tunnel).
inline std::string unusable_tcp_address(const std::string& address) {
  auto host_port = split_host_port(address, true);
  if (!host_port) return "expected HOST:PORT, for example 127.0.0.1:7101";
  if (!is_loopback_address(host_port->first))
    return "must be a loopback address (127.0.0.1 or ::1): the token travels in clear; "
           "use an SSH tunnel to reach the node from elsewhere";
  return "";
}

}  // namespace p2pnet::control
