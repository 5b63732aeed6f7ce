// The relay from a client's side: a node that finds itself private holds a
// place on a relay among its peers, opens the circuits the relay announces
// for it, and reaches nodes no dial reaches through the relays it knows.
// The relay service itself is relay_service.cpp.
#include "node_core.hpp"

#include "host_port.hpp"
#include "relay_line.hpp"
#include "socket_deadline.hpp"

#include <fmt/core.h>

#include <algorithm>

namespace p2pnet {
namespace {

constexpr size_t kMaxRelaysTried = 8;
constexpr auto kReservationAnswerWait = std::chrono::seconds(30);
// A relay that refused is asked again after 5 s, then after twice as long
// each time, up to 10 minutes: an auto relay refuses until it finds itself
// public, which the very node it refused may be about to tell it.
constexpr auto kFirstRefusalPause = std::chrono::milliseconds(5000);
constexpr auto kMaxRefusalPause = std::chrono::milliseconds(10 * 60 * 1000);
constexpr int kMaxIncomingCircuits = 8;
constexpr auto kMaxReservationBackoff = std::chrono::milliseconds(60000);

}  // namespace

bool NodeCore::wants_reservation() const {
  if (config_.relay.use_relays == Switch::automatic)
    return reachability_.summary().status == Reachability::Status::unreachable;
  return config_.relay.use_relays == Switch::on;
}

std::string NodeCore::reservation_relay() const {
  std::lock_guard lock(reservation_mutex_);
  return reservation_.held;
}

void NodeCore::note_refusal(const std::string& relay_id, std::chrono::steady_clock::time_point now) {
  auto& refusal = reservation_.refused[relay_id];
  refusal.pause = refusal.pause.count() == 0 ? kFirstRefusalPause : std::min(refusal.pause * 2, kMaxRefusalPause);
  refusal.until = now + refusal.pause;
}

bool NodeCore::refusing(const std::string& relay_id, std::chrono::steady_clock::time_point now) const {
  auto refusal = reservation_.refused.find(relay_id);
  return refusal != reservation_.refused.end() && refusal->second.until > now;
}

void NodeCore::maintain_reservation() {
  if (stopping_ || !wants_reservation()) return;
  std::shared_ptr<Connection> relay;
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(reservation_mutex_);
    if (!reservation_.held.empty()) return;
    if (!reservation_.pending.empty()) {
      if (now - reservation_.pending_since < kReservationAnswerWait) return;
      note_refusal(reservation_.pending, now);  // it never answered
      reservation_.pending.clear();
    }
    if (now < reservation_.next_try) return;
    for (const auto& peer : established_peers()) {
      if (peer->relayed() || peer->closing() || peer->hello().port == 0) continue;
      if (!peer->hello().has_feature(wire::kRelayFeature) || refusing(peer->peer_id(), now)) continue;
      if (!relay || (relay->inbound() && !peer->inbound())) relay = peer;  // one we dialed: it listens where we know
    }
    if (!relay) return;
    reservation_.pending = relay->peer_id();
    reservation_.pending_since = now;
  }
  count_event("relay_reservations_asked");
  relay->send(wire::make_frame(wire::encode_relay_reserve()));
}

void NodeCore::on_relay_reserve(const std::shared_ptr<Connection>& peer) {
  auto refusal = relay_service_->reserve(peer);
  if (refusal.empty()) {
    peer->note_useful_traffic();
    log_->info("relay: holding a place for {}", peer->describe());
  }
  peer->send(wire::make_frame(wire::encode_relay_reserved({refusal.empty(), refusal})));
}

void NodeCore::on_relay_reserved(const std::shared_ptr<Connection>& peer, const wire::FrameView& frame) {
  auto answer = wire::parse_relay_reserved(frame.header);
  bool withdrawn = false;
  {
    std::lock_guard lock(reservation_mutex_);
    if (reservation_.pending != peer->peer_id()) {
      // Unasked, only a refusal from the relay holding our place means
      // something: it withdrew the place (its service turned off).
      if (!answer || answer->granted || reservation_.held != peer->peer_id())
        return count_event("relay_unasked_answers");
      reservation_.held.clear();
      note_refusal(peer->peer_id(), std::chrono::steady_clock::now());
      withdrawn = true;
    } else {
      reservation_.pending.clear();
      if (!answer || !answer->granted) {
        // Try again later, with another relay if there is one.
        note_refusal(peer->peer_id(), std::chrono::steady_clock::now());
        reservation_.next_try = std::chrono::steady_clock::now() + reservation_.backoff;
        reservation_.backoff = std::min(reservation_.backoff * 2, kMaxReservationBackoff);
      } else {
        reservation_.held = peer->peer_id();
        reservation_.refused.erase(peer->peer_id());
        reservation_.backoff = std::chrono::milliseconds(1000);
      }
    }
  }
  if (withdrawn) {
    report_peer_event(fmt::format("relay: lost {}{}", peer->peer_id().substr(0, 8),
                                  answer->reason.empty() ? "" : " (" + answer->reason + ")"));
    return maintain_reservation();  // another relay among the peers, if there is one
  }
  if (!answer || !answer->granted)
    return log_->info("relay {} refused a reservation: {}", peer->describe(),
                      answer ? answer->reason : "malformed answer");
  report_peer_event(
      fmt::format("relay: {} {}", peer->peer_id(), join_host_port(peer->remote_address(), peer->hello().port)));
}

void NodeCore::relay_link_lost(const std::string& peer_id) {
  {
    std::lock_guard lock(reservation_mutex_);
    if (reservation_.pending == peer_id) reservation_.pending.clear();
    reservation_.refused.erase(peer_id);
    if (reservation_.held != peer_id) return;
    reservation_.held.clear();
  }
  report_peer_event(fmt::format("relay: lost {}", peer_id.substr(0, 8)));
  maintain_reservation();
}

void NodeCore::on_relay_incoming(const std::shared_ptr<Connection>& peer, const wire::FrameView& frame) {
  auto token = wire::parse_relay_incoming(frame.header);
  if (!token) return count_event("relay_malformed_incoming");
  // Only the relay holding our place may send us dialing, and only to itself.
  if (reservation_relay() != peer->peer_id()) return count_event("relay_unexpected_incoming");
  if (incoming_circuits_.fetch_add(1) >= kMaxIncomingCircuits) {
    incoming_circuits_.fetch_sub(1);
    return count_event("relay_incoming_dropped");
  }
  open_circuit(peer, {wire::RelayOpening::Kind::accept, "", *token}, true,
               [self = shared_from_this()](const std::string&, const std::string& error) {
                 self->incoming_circuits_.fetch_sub(1);
                 if (!error.empty()) self->log_->info("relayed circuit not opened: {}", error);
               });
}

std::optional<RelayHint> NodeCore::own_relay() const {
  auto relay_id = reservation_relay();
  if (relay_id.empty()) return std::nullopt;
  auto link = peer(relay_id);
  if (!link) return std::nullopt;
  return RelayHint{relay_id, link->remote_address(), link->hello().port};
}

bool NodeCore::connect_through_relays(const std::string& node_id, ConnectDone done) {
  if (config_.relay.use_relays == Switch::off || stopping_) return false;
  // One named relay per dial, the one named last: a dial by id costs one
  // dial whatever a peer named (max_known_dials_per_s bounds them).
  for (auto& named : relay_hints_.of(node_id)) {
    if (named.relay_id == id() || named.relay_id == node_id || peer(named.relay_id)) continue;
    link_named_relay(std::move(named), node_id, std::move(done));
    return true;
  }
  return connect_through_linked_relays(node_id, std::move(done));
}

void NodeCore::link_named_relay(RelayHint relay, std::string node_id, ConnectDone done) {
  connect(
      relay.host, relay.port,
      [self = shared_from_this(), node_id, done = std::move(done), relay](const std::string&,
                                                                          const std::string& error) {
        if (error.empty()) {
          self->count_event("named_relays_linked");
        } else {
          self->count_event("named_relays_failed");
          self->relay_hints_.forget(node_id, relay.relay_id);
          self->log_->debug("relay {} named for {} not reached: {}", relay.relay_id.substr(0, 8), node_id.substr(0, 8),
                            error);
        }
        if (!self->connect_through_linked_relays(node_id, done))
          done("", error.empty() ? "no relay among the peers reaches it" : "its relay: " + error);
      },
      relay.relay_id);
}

bool NodeCore::connect_through_linked_relays(const std::string& node_id, ConnectDone done) {
  if (stopping_) return false;
  std::vector<std::shared_ptr<Connection>> relays;
  {
    std::lock_guard lock(reservation_mutex_);
    const auto now = std::chrono::steady_clock::now();
    for (const auto& peer : established_peers()) {
      if (peer->relayed() || peer->closing() || peer->hello().port == 0 || peer->peer_id() == node_id) continue;
      if (refusing(peer->peer_id(), now)) continue;  // its service is off
      if (peer->hello().has_feature(wire::kRelayFeature)) relays.push_back(peer);
    }
  }
  if (relays.empty()) return false;
  // The relays named for the node are the likeliest to hold its place.
  auto named = relay_hints_.of(node_id);
  std::stable_partition(relays.begin(), relays.end(), [&](const std::shared_ptr<Connection>& relay) {
    return std::any_of(named.begin(), named.end(),
                       [&](const RelayHint& hint) { return hint.relay_id == relay->peer_id(); });
  });
  if (relays.size() > kMaxRelaysTried) relays.resize(kMaxRelaysTried);
  // Reversal costs the relays one frame each; a circuit carries every byte.
  if (wants_reversal() &&
      ask_reversal(relays, node_id,
                   [self = shared_from_this(), relays, node_id, done](bool arrived, const std::string& why_not) {
                     if (arrived) return done(node_id, "");
                     self->count_event("reversals_failed");
                     self->log_->debug("{} did not dial back: {}", node_id.substr(0, 8), why_not);
                     self->try_relays(relays, 0, node_id, "", done);
                   }))
    return true;
  try_relays(std::move(relays), 0, node_id, "", std::move(done));
  return true;
}

void NodeCore::try_relays(std::vector<std::shared_ptr<Connection>> relays, size_t index, std::string node_id,
                          std::string errors, ConnectDone done) {
  if (index == relays.size()) return done("", errors);
  auto relay = relays[index];
  open_circuit(relay, {wire::RelayOpening::Kind::connect, node_id, ""}, false,
               [self = shared_from_this(), relays, index, node_id, errors, done, relay_id = relay->peer_id()](
                   const std::string& peer_id, const std::string& error) mutable {
                 if (error.empty()) return done(peer_id, "");
                 errors += (errors.empty() ? "" : "; ") + fmt::format("{}: {}", relay_id.substr(0, 8), error);
                 self->try_relays(std::move(relays), index + 1, std::move(node_id), std::move(errors), std::move(done));
               });
}

void NodeCore::open_circuit(const std::shared_ptr<Connection>& relay, const wire::RelayOpening& opening, bool inbound,
                            ConnectDone done) {
  const std::string relay_id = relay->peer_id();
  const std::string expected = opening.target_id;
  dial_socket(
      relay->remote_address(), relay->hello().port,
      [self = shared_from_this(), relay_id, expected, inbound, done, line = wire::encode_relay_opening(opening)](
          std::shared_ptr<asio::ip::tcp::socket> socket, const std::string& error) {
        if (!socket) return done("", "cannot reach the relay: " + error);
        // The relay waits for the far end to come; twice the handshake
        // time covers its dial and ours.
        auto deadline = close_after(socket, 2 * self->config_.handshake_timeout);
        write_relay_line(
            socket, line, [self, socket, deadline, relay_id, expected, inbound, done](const std::error_code& e) {
              if (e) {
                deadline->cancel();
                return done("", "the relay closed: " + e.message());
              }
              read_relay_line(socket, [self, socket, deadline, relay_id, expected, inbound, done](
                                          const std::error_code& e, const std::string& answer_line) {
                deadline->cancel();
                if (e)
                  return done("", e == asio::error::operation_aborted ? "the relay did not answer in time"
                                                                      : "the relay closed: " + e.message());
                auto answer = wire::parse_relay_answer(answer_line);
                if (!answer) return done("", "the relay's answer is malformed");
                if (!answer->linked) return done("", answer->reason);
                self->count_event(inbound ? "relay_circuits_taken" : "relay_circuits_opened");
                // A circuit this node opened is where hole punching starts;
                // the caller hears of the link once that has run its course.
                auto punch_then_done = [self, done](const std::string& peer_id, const std::string& error) {
                  if (!error.empty() || !self->start_punch(peer_id, done)) done(peer_id, error);
                };
                self->adopt(std::move(*socket), inbound, inbound ? done : punch_then_done, expected, false, relay_id,
                            answer->peer_host);
              });
            });
      });
}

}  // namespace p2pnet
