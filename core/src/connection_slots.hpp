// Who gets a connection slot. Inbound connections are capped per address
// and per address group, can never take the slots kept for this node's own
// dials, and when inbound is full the least useful inbound peer makes room
// (eviction.hpp) instead of everyone being refused while an attacker stays.
#pragma once

#include "eviction.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace p2pnet {

struct SlotLimits {
  size_t max_connections = 128;
  size_t max_inbound_per_address = 4;
  size_t max_inbound_per_group = 16;
  size_t outbound_reserved = 8;  // at most max_connections - 1 takes effect
  bool cap_loopback = false;     // whether the per-address and per-group caps apply to loopback peers
};

struct SlotHolder {
  bool inbound = false;
  EvictionCandidate candidate;
};

struct SlotDecision {
  enum class Kind { admit, admit_after_evicting, refuse };
  Kind kind = Kind::refuse;
  uint64_t evict_serial = 0;  // admit_after_evicting
  std::string reason;         // refuse: told to the peer and logged
  std::string counter;        // refuse: the specific counter in stats
};

// `holders` are the connections that hold a slot now, handshakes included.
SlotDecision decide_slot(const std::vector<SlotHolder>& holders, bool inbound, const std::string& address,
                         const SlotLimits& limits);

}  // namespace p2pnet
