// This node's address as the rest of the network sees it, learned from what
// peers say in their hello (`observed`). Behind a NAT that is the router's
// public address, which the node cannot know from its own interfaces.
//
// One peer can lie, and one operator can run many peers: an address counts as
// confirmed only once peers from kConfirmingNetworks different networks
// (/24, /64) have named it, and each network has one vote, its latest.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace p2pnet {

class ExternalAddress {
 public:
  static constexpr size_t kConfirmingNetworks = 2;
  static constexpr size_t kMaxVotingNetworks = 64;  // the oldest voter makes room

  struct Observation {
    std::string host;
    uint16_t port = 0;    // the port the latest of its voters saw (a NAT's mapping, for a node behind one)
    size_t networks = 0;  // how many networks named it
  };

  // A peer at `peer_address` says it sees this node as `observed_host`.
  // Returns the host when this observation confirmed it (a change), else
  // nothing. Addresses that say nothing about the internet (loopback,
  // private, link-local, unspecified) are ignored, as are loopback peers.
  std::optional<std::string> observe(const std::string& peer_address, const std::string& observed_host,
                                     uint16_t observed_port = 0);

  // The confirmed address, if any, with how many networks name it now.
  std::optional<Observation> confirmed() const;
  // The best-supported address, confirmed or not; empty before any vote.
  Observation leading() const;

 private:
  Observation leading_locked() const;
  size_t support_locked(const std::string& host) const;
  uint16_t latest_port_locked(const std::string& host) const;

  mutable std::mutex mutex_;
  struct Vote {
    std::string host;
    uint16_t port = 0;
    uint64_t sequence = 0;  // for eviction of the oldest
  };
  std::map<std::string, Vote> votes_;  // network of the peer -> its vote
  uint64_t next_sequence_ = 0;
  std::string confirmed_;
};

}  // namespace p2pnet
