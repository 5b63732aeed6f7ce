// What a new request from a peer costs a plugin that answers or relays it: a
// token from the peer's budget, one from its address's (so many connections
// from one address share one budget), and room in the plugin's table of
// request ids, of which one peer may hold only a share. All are checked
// before any is spent, and only requests new to the plugin should be
// charged: honest copies of one request arriving over several paths then
// cost nothing.
#pragma once

#include "p2pnet/token_buckets.hpp"

#include <cstddef>
#include <string>

namespace p2pnet {

class RequestBudgets {
 public:
  // Rates per second (0: no limit), each with a burst of one second's worth.
  RequestBudgets(double per_peer, double per_address, size_t table_share_per_peer)
      : per_peer_(per_peer, per_peer), per_address_(per_address, per_address), table_share_(table_share_per_peer) {}

  // Charges a request from `peer_id` at `address`, which already holds
  // `held_in_table` ids in the plugin's table; nullptr when charged, else
  // why it is refused (for a log line).
  const char* charge(const std::string& peer_id, const std::string& address, size_t held_in_table) {
    auto now = TokenBuckets::Clock::now();
    if (!per_peer_.has_token(peer_id, now)) return "its budget of requests per second is spent";
    if (!per_address_.has_token(address, now)) return "its address's budget of requests per second is spent";
    if (held_in_table >= table_share_) return "it holds its whole share of the request table";
    per_peer_.spend(peer_id, now);
    per_address_.spend(address, now);
    return nullptr;
  }

  // A peer that left starts afresh if it comes back; its address does not.
  void forget_peer(const std::string& peer_id) { per_peer_.forget(peer_id); }
  // Drops the address budgets that are full again; call now and then.
  void sweep() { per_address_.sweep(); }

 private:
  TokenBuckets per_peer_;
  TokenBuckets per_address_;
  size_t table_share_;
};

}  // namespace p2pnet
