// The network an address belongs to, for connection caps and eviction: one
// operator usually holds a whole /24 (IPv4) or /64 (IPv6), so counting per
// address alone lets it take every slot with neighbouring addresses.
#pragma once

#include <string>

namespace p2pnet {

// "v4:a.b.c" for an IPv4 address, "v6:" and the first 64 bits in hex for
// IPv6; the text itself for anything that does not parse (never from a socket).
std::string address_group(const std::string& address);

}  // namespace p2pnet
