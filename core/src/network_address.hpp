// Which host strings the node accepts from the network (peers naming other
// nodes): numeric addresses only, so a peer cannot make this node resolve
// names, and none that would turn the node against itself or a group.
#pragma once

#include <string>

namespace p2pnet {

// Why `host` may not be stored or dialed when a peer supplied it, or "".
// Loopback is accepted only when `loopback_allowed` (this node itself
// listens on loopback, so its peers are on this machine).
std::string unusable_network_address(const std::string& host, bool loopback_allowed);

// Whether `host` is a numeric loopback address (127.0.0.0/8, ::1).
bool is_loopback_address(const std::string& host);

}  // namespace p2pnet
