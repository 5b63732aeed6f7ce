#include "peer_table.hpp"

#include "address_group.hpp"

namespace p2pnet {

PeerTable::Admission PeerTable::admit(const std::shared_ptr<Connection>& connection, const SlotLimits& limits,
                                      ConnectDone done) {
  Admission admission;
  std::lock_guard lock(mutex_);
  if (stopping_) {
    admission.refusal = "node is stopping";
    return admission;
  }
  std::vector<SlotHolder> holders;
  std::map<uint64_t, std::shared_ptr<Connection>> by_serial;
  auto add = [&](const std::shared_ptr<Connection>& holder) {
    if (evicting_.count(holder->serial())) return;
    by_serial[holder->serial()] = holder;
    holders.push_back({holder->inbound(),
                       {holder->serial(), holder->remote_address(), address_group(holder->remote_address()),
                        holder->connected_at(), holder->last_useful_traffic()}});
  };
  for (const auto& [id, holder] : peers_) add(holder);
  for (const auto& [serial, holder] : handshaking_) add(holder);
  auto decision = decide_slot(holders, connection->inbound(), connection->remote_address(), limits);
  if (decision.kind == SlotDecision::Kind::refuse) {
    admission.refusal = decision.reason;
    admission.counter = decision.counter;
    return admission;
  }
  if (decision.kind == SlotDecision::Kind::admit_after_evicting) {
    admission.evicted = by_serial.at(decision.evict_serial);
    evicting_.insert(decision.evict_serial);
  }
  handshaking_[connection->serial()] = connection;
  if (done) waiters_[connection->serial()] = std::move(done);
  return admission;
}

PeerTable::Establishment PeerTable::establish(const std::shared_ptr<Connection>& connection, const std::string& peer_id,
                                              const std::function<std::string()>& verify) {
  using Outcome = Establishment::Outcome;
  Establishment result;
  std::lock_guard lock(mutex_);
  handshaking_.erase(connection->serial());
  changed_.notify_all();
  if (auto node = waiters_.extract(connection->serial())) result.waiter = std::move(node.mapped());
  if (stopping_) {
    result.outcome = Outcome::stopping;
    return result;
  }
  if (auto refusal = verify(); !refusal.empty()) {
    result.outcome = Outcome::refused;
    result.refusal = refusal;
    return result;
  }
  if (peer_id == own_id_) {
    result.outcome = Outcome::itself;
    return result;
  }
  auto existing = peers_.find(peer_id);
  if (existing == peers_.end()) {
    peers_.emplace(peer_id, connection);
    result.outcome = Outcome::added;
    return result;
  }
  const auto& old = existing->second;
  auto initiator = [&](const Connection& c) { return c.inbound() ? peer_id : own_id_; };
  // A link already closing here gives way. Otherwise a direct link beats
  // a relayed one, so a punched or reversed link replaces the circuit;
  // between two of a kind, a node's new dial replaces its old link (it
  // dials again because it let that one go, whose bye may still be on its
  // way), and of two dials crossing, the lower id's stays. Both ends see
  // the same pair and agree.
  const bool same_path = old->relayed() == connection->relayed();
  bool keep_new = old->closing() || (same_path ? initiator(*connection) <= initiator(*old) : old->relayed());
  // Two ends that dial each other at once connect from the same address.
  if (same_path && keep_new && !connection->encrypted() && connection->remote_address() != old->remote_address()) {
    result.outcome = Outcome::unproven_duplicate;
    result.replaced = old;  // not replaced: the caller names where the id is connected from
    return result;
  }
  if (!keep_new) {
    result.outcome = Outcome::duplicate;
    return result;
  }
  result.outcome = Outcome::replaced;
  result.replaced = old;
  existing->second = connection;
  return result;
}

PeerTable::ConnectDone PeerTable::end_handshake(const std::shared_ptr<Connection>& connection) {
  std::lock_guard lock(mutex_);
  handshaking_.erase(connection->serial());
  changed_.notify_all();
  auto node = waiters_.extract(connection->serial());
  return node ? std::move(node.mapped()) : ConnectDone{};
}

PeerTable::Removal PeerTable::remove(const std::shared_ptr<Connection>& connection) {
  Removal removal;
  std::lock_guard lock(mutex_);
  removal.was_handshaking = handshaking_.erase(connection->serial()) > 0;
  evicting_.erase(connection->serial());
  if (connection->established()) {
    auto it = peers_.find(connection->peer_id());
    if (it != peers_.end() && it->second == connection) {
      peers_.erase(it);
      removal.was_peer = true;
      ++closes_being_reported_;  // stop() waits for the report and the plugins' notice too
    }
  }
  if (auto node = waiters_.extract(connection->serial())) removal.waiter = std::move(node.mapped());
  const auto& counters = connection->counters();
  retired_.messages_in += counters.messages_in;
  retired_.messages_out += counters.messages_out;
  retired_.bytes_in += counters.bytes_in;
  retired_.bytes_out += counters.bytes_out;
  retired_.errors += counters.errors;
  changed_.notify_all();
  return removal;
}

void PeerTable::reported() {
  std::lock_guard lock(mutex_);
  --closes_being_reported_;
  changed_.notify_all();
}

std::shared_ptr<Connection> PeerTable::peer(const std::string& peer_id) const {
  std::lock_guard lock(mutex_);
  auto it = peers_.find(peer_id);
  return it == peers_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<Connection>> PeerTable::peers() const {
  std::lock_guard lock(mutex_);
  std::vector<std::shared_ptr<Connection>> out;
  out.reserve(peers_.size());
  for (const auto& [id, connection] : peers_) out.push_back(connection);
  return out;
}

std::vector<std::shared_ptr<Connection>> PeerTable::all() const {
  std::lock_guard lock(mutex_);
  std::vector<std::shared_ptr<Connection>> out;
  out.reserve(peers_.size() + handshaking_.size());
  for (const auto& [id, connection] : peers_) out.push_back(connection);
  for (const auto& [serial, connection] : handshaking_) out.push_back(connection);
  return out;
}

std::optional<std::string> PeerTable::resolve(const std::string& id_or_prefix) const {
  if (id_or_prefix.empty()) return std::nullopt;
  std::lock_guard lock(mutex_);
  std::optional<std::string> match;
  for (const auto& [id, connection] : peers_) {
    if (id.compare(0, id_or_prefix.size(), id_or_prefix) != 0) continue;
    if (match) return std::nullopt;  // ambiguous
    match = id;
  }
  return match;
}

size_t PeerTable::wait_until_empty(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, timeout,
                    [this] { return peers_.empty() && handshaking_.empty() && closes_being_reported_ == 0; });
  return peers_.size() + handshaking_.size() + closes_being_reported_;
}

TrafficCounters PeerTable::traffic_outside_peers() const {
  std::lock_guard lock(mutex_);
  TrafficCounters total = retired_;
  for (const auto& [serial, connection] : handshaking_) {
    const auto& c = connection->counters();
    total.bytes_in += c.bytes_in;
    total.bytes_out += c.bytes_out;
    total.errors += c.errors;
  }
  return total;
}

}  // namespace p2pnet
