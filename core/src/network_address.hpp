// Which host strings the node accepts from the network (peers naming other
// nodes): numeric addresses only, so a peer cannot make this node resolve
// names, and none that would turn the node against itself or a group.
#pragma once

#include <string>

namespace p2pnet {

// Which addresses that reach only inside this machine or this site a peer
// may name: a node on a public address has no business dialing into its own
// machine or LAN because a stranger said so.
struct LocalScopes {
  bool loopback = false;    // this node listens on loopback: its peers are on this machine
  bool site_local = false;  // this node has a private address: its peers may be on its LAN
};

// Why `host` may not be stored or dialed when a peer supplied it, or "".
std::string unusable_network_address(const std::string& host, LocalScopes allowed);

// Private (RFC 1918), shared (RFC 6598), link-local and unique-local
// (fc00::/7) addresses: reachable only inside one site.
bool is_site_local_address(const std::string& host);

// The scopes a node listening on `listen_host` may be told about: its own
// address's scope, or with an unspecified one, those of its interfaces.
LocalScopes local_scopes_of(const std::string& listen_host);

// Whether `host` is a numeric loopback address (127.0.0.0/8, ::1).
bool is_loopback_address(const std::string& host);

}  // namespace p2pnet
