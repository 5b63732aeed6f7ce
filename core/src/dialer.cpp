#include "dialer.hpp"

#include <fmt/core.h>

#include <algorithm>

namespace p2pnet {

Dialer::Dialer(const NodeConfig& config, asio::io_context& io, PeerStore& peer_store, std::shared_ptr<Logger> log,
               Node node)
    : reconnect_initial_(config.reconnect_initial),
      reconnect_max_(config.reconnect_max),
      max_known_dials_per_s_(config.max_known_dials_per_s),
      peer_store_(peer_store),
      log_(std::move(log)),
      node_(std::move(node)),
      known_dials_(config.max_known_dials_per_s) {
  for (const auto& peer : config.peers)
    configured_.push_back(ConfiguredPeer{peer, reconnect_initial_, "", std::make_shared<asio::steady_timer>(io)});
}

void Dialer::start() {
  size_t count;
  {
    std::lock_guard lock(mutex_);
    count = configured_.size();
  }
  for (size_t i = 0; i < count; ++i) dial(i);
}

void Dialer::stop() {
  std::lock_guard lock(mutex_);
  stopped_ = true;
  for (auto& peer : configured_) peer.timer->cancel();
}

void Dialer::peer_lost(const std::string& peer_id) {
  std::lock_guard lock(mutex_);
  for (size_t i = 0; i < configured_.size(); ++i)
    if (configured_[i].peer_id == peer_id) {
      configured_[i].peer_id.clear();
      retry_locked(i);
    }
}

bool Dialer::dial_known(const std::string& node_id, ConnectDone done) {
  if (node_.connected(node_id)) {
    done(node_id, "");
    return true;
  }
  auto record = peer_store_.find(node_id);
  if (!known_dials_.take()) {
    node_.count("known_dials_throttled");
    log_->debug("not dialing {}: more than max_known_dials_per_s ({}) dials by id this second", node_id,
                max_known_dials_per_s_);
    done("", "too many dials by id this second (max_known_dials_per_s); try again shortly");
    return true;
  }
  if (!record) return node_.connect_through_relays(node_id, std::move(done));
  // Pinned: whoever answers at that address must prove this id, so a forged
  // record can neither impersonate the node nor be reached under its name.
  auto dial_address = [node = node_, node_id, host = record->host, port = record->port](ConnectDone then) {
    node.connect(host, port, std::move(then), node_id);
  };
  if (!record->verified && node_.behind_relay(node_id)) {
    // A node that named its relay is reached there first (reversal, a
    // circuit, a punch), its own address last; an address a handshake
    // proved is still dialed first.
    auto relays_then_address = [dial_address, done](const std::string& peer_id, const std::string& error) {
      if (error.empty()) return done(peer_id, "");
      dial_address([done, relay_error = error](const std::string& direct_id, const std::string& direct_error) {
        if (direct_error.empty()) return done(direct_id, "");
        done("", "through a relay: " + relay_error + "; direct: " + direct_error);
      });
    };
    if (node_.connect_through_relays(node_id, relays_then_address)) return true;
  }
  // A node behind a router answers no dial: then a relay may reach it.
  dial_address([node = node_, node_id, done = std::move(done)](const std::string& peer_id, const std::string& error) {
    if (error.empty()) return done(peer_id, error);
    auto direct_error = error;
    bool asked = node.connect_through_relays(
        node_id, [done, direct_error](const std::string& relayed_id, const std::string& relay_error) {
          if (relay_error.empty()) return done(relayed_id, "");
          done("", direct_error + "; through a relay: " + relay_error);
        });
    if (!asked) done(peer_id, error);
  });
  return true;
}

void Dialer::dial(size_t index) {
  PeerAddress address;
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    address = configured_[index].address;
  }
  node_.connect(
      address.host, address.port,
      [weak = weak_from_this(), index, address](const std::string& peer_id, const std::string& error) {
        auto self = weak.lock();
        if (!self) return;
        std::lock_guard lock(self->mutex_);
        auto& peer = self->configured_[index];
        if (error.empty()) {
          peer.peer_id = peer_id;
          peer.backoff = self->reconnect_initial_;
          return;
        }
        self->log_->info("configured peer {}:{} unreachable: {}{}", address.host, address.port, error,
                         address.persistent ? fmt::format("; retrying in {} ms", peer.backoff.count()) : "");
        self->retry_locked(index);
      },
      "");
}

void Dialer::retry_locked(size_t index) {
  auto& peer = configured_[index];
  if (!peer.address.persistent || stopped_) return;
  peer.timer->expires_after(peer.backoff);
  peer.backoff = std::min(peer.backoff * 2, reconnect_max_);
  peer.timer->async_wait([weak = weak_from_this(), index](const std::error_code& error) {
    auto self = weak.lock();
    if (!error && self) self->dial(index);
  });
}

}  // namespace p2pnet
