// Which inbound peer to drop when a new one arrives and inbound is full,
// after Bitcoin Core's eviction: an attacker must beat honest peers on every
// measure at once (address diversity, recent useful traffic, age) before it
// can push one out, and it then loses its own connections first.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace p2pnet {

struct EvictionCandidate {
  uint64_t serial = 0;
  std::string address;
  std::string group;  // address_group(address)
  std::chrono::steady_clock::time_point connected_at;
  // When the peer last sent something a plugin handles (keep-alives do not
  // count); nullopt if it never did.
  std::optional<std::chrono::steady_clock::time_point> last_useful;
};

// How many peers each rule protects.
struct EvictionProtection {
  size_t by_group = 4;   // the oldest peer of each of the rarest groups
  size_t by_useful = 4;  // the most recent useful traffic
  // then half of the rest, the oldest
};

// The serial of the peer to drop, or nothing when every candidate is
// protected (the newcomer is refused instead). Among the unprotected, the
// group with the most connections loses, within it the address with the
// most, and within that its youngest connection.
std::optional<uint64_t> select_peer_to_evict(std::vector<EvictionCandidate> candidates,
                                             const EvictionProtection& protection = {});

}  // namespace p2pnet
