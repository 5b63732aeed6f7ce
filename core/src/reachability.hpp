// Whether this node can be reached from the internet, as peers that dialed
// back its listen address found (AutoNAT's question). A peer can lie and one
// operator can run many peers, so each network (/24, /64) of the answering
// peers has one vote, its latest, and peers on loopback or private networks
// have none (they say nothing about the internet). Public takes peers of two
// networks that reached the node, and more of them than not; private, more
// networks that could not than could, so one network is enough when no
// other reached it: a wrong "private" costs a relay, a wrong "public" every
// connection to the node.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace p2pnet {

class Reachability {
 public:
  static constexpr size_t kPublicNetworks = 2;
  static constexpr size_t kMaxVotingNetworks = 64;  // the oldest voter makes room

  enum class Status { unknown, reachable, unreachable };

  struct Summary {
    Status status = Status::unknown;
    size_t reached = 0;      // networks whose peers reached this node
    size_t not_reached = 0;  // networks whose peers could not
  };

  // The peer at `peer_address` dialed back and reached this node, or not.
  // False when the vote does not count (loopback or private peer).
  bool vote(const std::string& peer_address, bool reached);
  Summary summary() const;

 private:
  struct Vote {
    bool reached = false;
    uint64_t sequence = 0;
  };
  mutable std::mutex mutex_;
  std::map<std::string, Vote> votes_;  // network of the peer -> its vote
  uint64_t next_sequence_ = 0;
};

// "public", "private", "unknown"
const char* reachability_name(Reachability::Status status);

}  // namespace p2pnet
