// Connection reversal, Gnutella's PUSH: a node that can be dialed wants one
// that cannot, and asks the relays among its peers to have the node, if it
// holds a place there, dial it back. The transfer then needs no relay.
// Nobody can aim that dial: the relay names the address the asking node's
// own link comes from and the port its hello listens on, the dial is pinned
// to the asking node's id, and a node dials back at most four at a time and
// once a minute per asking node (dialback_budget.hpp).
#include "node_core.hpp"

#include "host_port.hpp"
#include "network_address.hpp"

#include <fmt/core.h>

namespace p2pnet {

bool NodeCore::wants_reversal() const {
  // A node found private would ask in vain: nothing can dial it back.
  return config_.relay.reversal && listen_port_ != 0 &&
         reachability_.summary().status != Reachability::Status::unreachable;
}

bool NodeCore::ask_reversal(const std::vector<std::shared_ptr<Connection>>& relays, const std::string& node_id,
                            ReversalWaits::Done done) {
  std::set<std::string> asked;
  for (const auto& relay : relays) asked.insert(relay->peer_id());
  // The wait is there before any relay hears of it: the link can come first.
  // The node's dial has handshake_timeout; the request's trip the rest.
  if (!reversal_waits_->begin(node_id, asked, 2 * config_.handshake_timeout, std::move(done))) return false;
  count_event("reversals_asked");
  for (const auto& relay : relays) relay->send(wire::make_frame(wire::encode_relay_reverse(node_id)));
  return true;
}

void NodeCore::on_relay_reverse(const std::shared_ptr<Connection>& peer, const wire::FrameView& frame) {
  auto target_id = wire::parse_relay_reverse(frame.header);
  if (!target_id) return count_event("relay_malformed_reversals");
  auto answer = [&](const std::string& refusal) {
    if (!refusal.empty()) count_event("relay_reversals_refused");
    peer->send(wire::make_frame(wire::encode_relay_reversal({*target_id, refusal.empty(), refusal})));
  };
  if (peer->hello().port == 0) return answer("you do not listen, so nobody can dial you back");
  auto target = relay_service_->holds(*target_id) ? this->peer(*target_id) : nullptr;
  if (!target) return answer(fmt::format("no reservation here for {}", target_id->substr(0, 8)));
  // Each pair at most once a minute: the reserved node's link carries no
  // flood of requests it would refuse anyway.
  auto why = reversal_forwards_.take(peer->peer_id() + ">" + *target_id);
  if (why.empty()) reversal_forwards_.finished();  // a frame, not a dial: nothing stays running
  if (!why.empty()) return answer(fmt::format("{} was asked for you {}", target_id->substr(0, 8), why));
  count_event("relay_reversals_passed_on");
  target->send(
      wire::make_frame(wire::encode_relay_connect_back({peer->peer_id(), peer->remote_address(), peer->hello().port})));
  answer("");
}

void NodeCore::on_relay_reversal(const std::shared_ptr<Connection>& peer, const wire::FrameView& frame) {
  auto answer = wire::parse_relay_reversal(frame.header);
  if (!answer) return count_event("reversal_malformed_answers");
  if (!reversal_waits_->answered(peer->peer_id(), answer->target_id, answer->passed_on, answer->reason))
    return count_event("reversal_unasked_answers");
  if (!answer->passed_on)
    log_->debug("relay {} did not ask {} to dial back: {}", peer->describe(), answer->target_id.substr(0, 8),
                answer->reason);
}

void NodeCore::on_relay_connect_back(const std::shared_ptr<Connection>& peer, const wire::FrameView& frame) {
  auto request = wire::parse_relay_connect_back(frame.header);
  if (!request) return count_event("reversal_malformed_requests");
  // Only the relay holding this node's place speaks for those who want it.
  if (reservation_relay() != peer->peer_id()) return count_event("reversal_unexpected_requests");
  if (!config_.relay.reversal || request->node_id == id_ || this->peer(request->node_id))
    return count_event("reversal_requests_ignored");
  auto refuse = [&](const std::string& why) {
    count_event("reversal_requests_refused");
    log_->info("not dialing back {} at {}: {}", request->node_id.substr(0, 8),
               join_host_port(request->host, request->port), why);
  };
  if (auto why = unusable_network_address(request->host, hearsay_scopes_); !why.empty()) return refuse(why);
  if (auto why = reversal_budget_.take(request->node_id); !why.empty()) return refuse(why);
  count_event("reversal_dials_tried");
  connect(
      request->host, request->port,
      [weak = weak_from_this(), request = *request](const std::string&, const std::string& error) {
        auto self = weak.lock();
        if (!self) return;
        self->reversal_budget_.finished();
        self->count_event(error.empty() ? "reversal_dials_connected" : "reversal_dials_failed");
        if (error.empty())
          self->log_->info("dialed back {} at {}, as it asked through the relay", request.node_id.substr(0, 8),
                           join_host_port(request.host, request.port));
        else
          self->log_->info("could not dial back {} at {}: {}", request.node_id.substr(0, 8),
                           join_host_port(request.host, request.port), error);
      },
      request->node_id);
}

}  // namespace p2pnet
