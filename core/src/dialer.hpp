// The dials the node decides on itself, as opposed to a console `connect`:
// the configured peers, kept connected with exponential backoff, and dials
// by node id from the peer store, pinned to that id and limited to
// max_known_dials_per_s. The place where the choice of a path to a node by
// id (direct, reversal, hole punching, relay) belongs.
#pragma once

#include "dial_budget.hpp"
#include "logger.hpp"
#include "peer_store.hpp"

#include "p2pnet/config.hpp"

#include <asio.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace p2pnet {

class Dialer : public std::enable_shared_from_this<Dialer> {
 public:
  using ConnectDone = std::function<void(const std::string& peer_id, const std::string& error)>;
  // What the dialer needs of the node: dial (pinned to an id when one is
  // given), find a connected peer, count an event.
  struct Node {
    std::function<void(const std::string& host, uint16_t port, ConnectDone done, const std::string& expected_id)>
        connect;
    std::function<bool(const std::string& peer_id)> connected;
    // Through the relays among the peers (reversal, then a circuit); false
    // at once when there is none.
    std::function<bool(const std::string& node_id, ConnectDone done)> connect_through_relays;
    // Whether a peer named a relay the node holds its place on: a node
    // behind a router, whose own address answers no dial.
    std::function<bool(const std::string& node_id)> behind_relay;
    std::function<void(const std::string& event)> count;
  };

  Dialer(const NodeConfig& config, asio::io_context& io, PeerStore& peer_store, std::shared_ptr<Logger> log, Node node);

  // Dials every configured peer; persistent ones are redialed whenever they
  // drop or cannot be reached.
  void start();
  // Cancels every pending redial; later drops are not redialed.
  void stop();
  // A connected peer went away: redial it if it is a persistent one.
  void peer_lost(const std::string& peer_id);
  // Dials the peer store's address for node_id, pinned to that id, and
  // when that fails (or the store has none) tries the relays among the
  // peers; done at once when already connected. False when the id is
  // unknown and no relay could be asked.
  bool dial_known(const std::string& node_id, ConnectDone done);

 private:
  struct ConfiguredPeer {
    PeerAddress address;
    std::chrono::milliseconds backoff;
    std::string peer_id;  // while connected
    std::shared_ptr<asio::steady_timer> timer;
  };
  void dial(size_t index);
  void retry_locked(size_t index);

  const std::chrono::milliseconds reconnect_initial_;
  const std::chrono::milliseconds reconnect_max_;
  const double max_known_dials_per_s_;
  PeerStore& peer_store_;
  std::shared_ptr<Logger> log_;
  Node node_;
  DialBudget known_dials_;

  std::mutex mutex_;  // guards everything below
  std::vector<ConfiguredPeer> configured_;
  bool stopped_ = false;
};

}  // namespace p2pnet
