// The reachability check: a node asks its peers to dial back its listen
// address, and answers the same question for them (dialback_budget.hpp says
// how much). What the answers say is in reachability.hpp.
#include "node_core.hpp"

#include "network_address.hpp"

#include <fmt/core.h>

namespace p2pnet {

void NodeCore::ask_dialback(const std::shared_ptr<Connection>& peer) {
  // Peers on loopback or a private network are asked too (the check works
  // there the same way), but only peers elsewhere have a vote.
  if (!config_.reachability_check || stopping_ || !peer->hello().has_feature(wire::kDialbackFeature)) return;
  if (!dialback_asks_.take()) return;
  count_event("dialbacks_asked");
  peer->send(wire::make_frame(wire::encode_dialback_request()));
}

void NodeCore::on_dialback_request(const std::shared_ptr<Connection>& peer) {
  auto answer = [](const std::shared_ptr<Connection>& to, const wire::DialbackResult& result) {
    if (!to->closing()) to->send(wire::make_frame(wire::encode_dialback_result(result)));
  };
  if (!config_.reachability_check) return answer(peer, {false, true, "this node does not dial back"});
  if (peer->hello().port == 0) return answer(peer, {false, true, "you do not listen"});
  if (auto why = dialback_budget_.take(peer->peer_id()); !why.empty()) {
    count_event("dialbacks_refused");
    return answer(peer, {false, true, why});
  }
  count_event("dialbacks_tried");
  // Only where the request came from, at the port its hello names: nobody
  // can aim this dial at another address. Pinned to the peer's id.
  const std::string host = peer->remote_address();
  const uint16_t port = peer->hello().port;
  std::weak_ptr<Connection> asker = peer;
  connect(
      host, port,
      [weak = weak_from_this(), asker, answer, host, port](const std::string& peer_id, const std::string& error) {
        auto self = weak.lock();
        if (!self) return;
        self->dialback_budget_.finished();
        self->count_event(error.empty() ? "dialbacks_reached" : "dialbacks_unreached");
        self->log_->debug("dial-back to {}:{} for {}: {}", host, port,
                          peer_id.empty() ? "a peer" : peer_id.substr(0, 8), error.empty() ? "reached" : error);
        if (auto to = asker.lock()) answer(to, {error.empty(), false, error});
      },
      peer->peer_id(), true);
}

void NodeCore::on_dialback_result(const std::shared_ptr<Connection>& peer, const wire::FrameView& frame) {
  auto result = wire::parse_dialback_result(frame.header);
  if (!result) {
    count_event("malformed_dialback_results");
    return;
  }
  if (result->refused) {
    log_->debug("{} would not dial back: {}", peer->describe(), result->reason);
    return;
  }
  auto before = reachability_.summary().status;
  bool counted = reachability_.vote(peer->remote_address(), result->reached);
  log_->debug("{} {} this node's listen port{}{}", peer->describe(), result->reached ? "reached" : "could not reach",
              result->reason.empty() ? "" : ": " + result->reason, counted ? "" : " (no vote: not on the internet)");
  auto now = reachability_.summary().status;
  if (now != before) {
    report_peer_event(fmt::format("reachability: {}", reachability_name(now)));
    withdraw_relay_places_if_off();  // an auto relay that is public no more
  }
  maintain_reservation();
}

HandshakeVerdict NodeCore::on_dialback_hello(const std::shared_ptr<Connection>& connection, const wire::Hello& hello) {
  auto waiter = peers_.end_handshake(connection);
  auto settle = [&](const std::string& peer_id, const std::string& error) {
    if (waiter) asio::post(runtime_.io, [waiter = std::move(waiter), peer_id, error] { waiter(peer_id, error); });
  };
  if (auto refusal = check_identity(*connection, hello); !refusal.empty()) {
    settle("", refusal);
    return {false, refusal, true};
  }
  if (connection->dialback()) {  // we dialed to check: the peer answered as itself
    settle(hello.id, "");
    return {false, "dial-back done", true};
  }
  // A peer checks whether it can reach us: our hello is the answer.
  connection->answer_hello();
  count_event("dialbacks_answered");
  return {false, "dial-back answered", true};
}

}  // namespace p2pnet
