// The node's connections, by state, under one lock: those in their handshake
// (by serial) with the dial waiting on each, the established peers (by id)
// with the rule that keeps one connection per peer, and the traffic of the
// ones already closed. Counting and logging stay with the caller.
#pragma once

#include "connection.hpp"
#include "connection_slots.hpp"

#include "p2pnet/node.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace p2pnet {

class PeerTable {
 public:
  using ConnectDone = std::function<void(const std::string& peer_id, const std::string& error)>;

  // Nothing is admitted or established once `stopping` is set. Both belong
  // to the node, which outlives the table (the id is set once it is known).
  PeerTable(const std::string& own_id, const std::atomic<bool>& stopping) : own_id_(own_id), stopping_(stopping) {}

  struct Admission {
    std::string refusal;                  // "" when admitted
    std::string counter;                  // the event a refusal counts
    std::shared_ptr<Connection> evicted;  // an inbound peer that must make room
  };
  // Gives the new connection a slot (among those held now, by `limits`) and
  // keeps `done` for the end of its handshake.
  Admission admit(const std::shared_ptr<Connection>& connection, const SlotLimits& limits, ConnectDone done);

  struct Establishment {
    enum class Outcome { added, replaced, stopping, refused, itself, duplicate, unproven_duplicate };
    Outcome outcome = Outcome::refused;
    std::string refusal;                   // from `verify`
    std::shared_ptr<Connection> replaced;  // the older connection to the same peer, now out of the table
    ConnectDone waiter;                    // the dial that waited for this handshake, if any
  };
  // The handshake ended with `hello`. `verify` runs under the table's lock
  // (so that stop() sees the connection either here or not at all) and
  // returns why the peer is refused, or "". Between two connections to one
  // peer both ends keep the one dialed by the node with the smaller id
  // (between two dialed by the same node, the older); without TLS only a
  // duplicate from the same address may win, as a stranger could claim the id.
  Establishment establish(const std::shared_ptr<Connection>& connection, const std::string& peer_id,
                          const std::function<std::string()>& verify);

  // The handshake ended in something that is no peer (a dial-back probe):
  // out of the table, with the dial that waited for it.
  ConnectDone end_handshake(const std::shared_ptr<Connection>& connection);

  struct Removal {
    bool was_peer = false;         // it was an established peer: the caller reports it, then calls reported()
    bool was_handshaking = false;  // it closed before its handshake ended
    ConnectDone waiter;
  };
  Removal remove(const std::shared_ptr<Connection>& connection);
  // The close remove() said was a peer's has been told to everyone.
  void reported();

  std::shared_ptr<Connection> peer(const std::string& peer_id) const;
  std::vector<std::shared_ptr<Connection>> peers() const;
  // Established and handshaking alike.
  std::vector<std::shared_ptr<Connection>> all() const;
  // A peer id, or a unique prefix of one (for typing at the console).
  std::optional<std::string> resolve(const std::string& id_or_prefix) const;
  // Until every connection closed and was reported; how many have not.
  size_t wait_until_empty(std::chrono::milliseconds timeout);
  // Closed connections' traffic and the bytes of those in their handshake.
  TrafficCounters traffic_outside_peers() const;

 private:
  const std::string& own_id_;
  const std::atomic<bool>& stopping_;
  mutable std::mutex mutex_;  // guards everything below
  std::unordered_map<std::string, std::shared_ptr<Connection>> peers_;
  std::map<uint64_t, std::shared_ptr<Connection>> handshaking_;
  std::map<uint64_t, ConnectDone> waiters_;  // by connection serial
  std::set<uint64_t> evicting_;              // serials closing to make room: no longer hold a slot
  TrafficCounters retired_;
  size_t closes_being_reported_ = 0;
  std::condition_variable changed_;
};

}  // namespace p2pnet
