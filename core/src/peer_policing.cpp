// What the node holds its peers to: at the handshake, that each is who it
// says in the network this node is in; afterwards, that it reads what it is
// sent and, when inbound, uses its slot for more than keep-alives.
#include "node_core.hpp"

#include "tls_identity.hpp"

#include <fmt/core.h>

#include <algorithm>

namespace p2pnet {
namespace {

constexpr auto kMaxSweepInterval = std::chrono::milliseconds(1000);
constexpr auto kMinSweepInterval = std::chrono::milliseconds(50);
// How long an address that proved to be another node is not dialed for the
// id it was stored under.
constexpr int64_t kBadAddressMs = 10 * 60 * 1000;

}  // namespace

// Whether the peer is who it says, in the network we are in, and the one the
// caller asked for. Returns why not, or nothing. Never logs the network key.
std::string NodeCore::check_identity(const Connection& connection, const wire::Hello& hello) {
  if (connection.encrypted() && hello.id != connection.peer_key_id()) {
    count_event("spoofed_ids");
    log_->warn("rejecting {}: it claims id {} but its key proves id {}", connection.describe(), hello.id,
               connection.peer_key_id());
    return "the claimed id does not match the key";
  }
  if (!config_.network_key.empty() &&
      !proofs_equal(hello.network_proof, connection.network_proof(config_.network_key, false))) {
    count_event("network_key_rejected");
    log_->warn("rejecting {} ({}): it does not hold this private network's key", connection.describe(),
               hello.id.substr(0, 12));
    return "network key required: this is a private network";
  }
  if (config_.network_key.empty() && !hello.network_proof.empty()) {
    count_event("network_key_rejected");
    log_->warn("rejecting {} ({}): it belongs to a private network (network_key) and this node has no key",
               connection.describe(), hello.id.substr(0, 12));
    return "the peer is in a private network and this node has no network key";
  }
  if (!connection.expected_peer_id().empty() && hello.id != connection.expected_peer_id())
    return on_pinned_mismatch(connection, hello.id);
  return "";
}

// Under TLS the connection finds this before any hello (from the key), in
// plaintext check_identity does (from the hello): either way the address is
// not dialed for that id again for a while.
std::string NodeCore::on_pinned_mismatch(const Connection& connection, const std::string& actual_id) {
  count_event("pinned_id_mismatch");
  log_->warn("refusing {}: its id is {}, not the expected {}; that address is not dialed for {} again for {} s",
             connection.describe(), actual_id, connection.expected_peer_id(), connection.expected_peer_id(),
             kBadAddressMs / 1000);
  peer_store_.mark_bad(connection.expected_peer_id(), connection.remote_address(), connection.remote_port(),
                       unix_millis_now() + kBadAddressMs);
  return fmt::format("the peer's id is {}, not the expected {}", actual_id, connection.expected_peer_id());
}

// --- Sweeping stalled and idle connections ----------------------------------

void NodeCore::schedule_sweep() {
  auto interval =
      std::clamp(std::min(config_.write_stall_timeout, config_.inbound_idle_timeout) / 4,
                 std::chrono::milliseconds(kMinSweepInterval), std::chrono::milliseconds(kMaxSweepInterval));
  sweep_timer_->expires_after(interval);
  sweep_timer_->async_wait([weak = weak_from_this()](const std::error_code& error) {
    auto self = weak.lock();
    if (error || !self || self->stopping_) return;
    self->sweep_connections();
    self->schedule_sweep();
  });
}

// A peer that does not read holds its queue (and the node-wide budget) until
// it is dropped; an inbound peer that only keeps itself alive holds a slot
// an honest peer could use.
void NodeCore::sweep_connections() {
  const auto now = std::chrono::steady_clock::now();
  for (const auto& connection : peers_.all()) {
    if (connection->closing()) continue;
    if (connection->write_stalled_for(now) >= config_.write_stall_timeout) {
      count_event("write_stalls");
      log_->warn("dropping {}: {} bytes queued and none written for {} ms (it does not read)", connection->describe(),
                 connection->queued_bytes(), config_.write_stall_timeout.count());
      connection->close(fmt::format("not reading: nothing written for {} ms", config_.write_stall_timeout.count()),
                        false);
      continue;
    }
    if (!connection->inbound() || !connection->established()) continue;
    if (relay_service_->holds(connection->peer_id())) continue;  // a reservation is kept by its link
    auto last = connection->last_useful_traffic().value_or(connection->connected_at());
    if (now - last >= config_.inbound_idle_timeout) {
      count_event("inbound_idle_timeouts");
      log_->info("dropping inbound {}: nothing but keep-alives for {} ms", connection->describe(),
                 config_.inbound_idle_timeout.count());
      connection->close(fmt::format("idle for {} ms", config_.inbound_idle_timeout.count()), true);
    }
  }
  // A place granted while the service was turning off is withdrawn here.
  withdraw_relay_places_if_off();
  maintain_reservation();  // a refused or lost reservation is tried again here
}

}  // namespace p2pnet
