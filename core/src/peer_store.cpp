#include "peer_store.hpp"

#include "address_group.hpp"
#include "network_address.hpp"

#include <algorithm>
#include <chrono>

namespace p2pnet {
namespace {

std::string address_key(const std::string& host, uint16_t port) { return host + " " + std::to_string(port); }

}  // namespace

int64_t unix_millis_now() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// Bad marks are few and short-lived; as many as verified records is plenty.
PeerStore::PeerStore(size_t verified_capacity, size_t hearsay_capacity, size_t per_group, bool cap_loopback)
    : cap_loopback_(cap_loopback),
      verified_(verified_capacity, per_group),
      hearsay_(hearsay_capacity, per_group),
      bad_(verified_capacity) {}

std::string PeerStore::group_of(const std::string& host) const {
  if (!cap_loopback_ && is_loopback_address(host)) return "";
  return address_group(host);
}

void PeerStore::remember_verified(const std::string& id, const std::string& host, uint16_t port) {
  std::lock_guard lock(mutex_);
  erase_hearsay_locked(id);
  bad_.erase(id);
  evictions_ += verified_.put(id, group_of(host), KnownNodeRecord{id, host, port, unix_millis_now(), true}).size();
}

PeerStore::Hearsay PeerStore::remember_hearsay(const std::string& id, const std::string& host, uint16_t port) {
  std::lock_guard lock(mutex_);
  if (verified_.find(id)) return Hearsay::verified_kept;
  if (marked_bad_locked(id, host, port)) return Hearsay::marked_bad;
  erase_hearsay_locked(id);
  auto key = address_key(host, port);
  if (auto other = hearsay_by_address_.find(key); other != hearsay_by_address_.end())
    erase_hearsay_locked(std::string(other->second));
  auto evicted = hearsay_.put(id, group_of(host), KnownNodeRecord{id, host, port, unix_millis_now(), false});
  for (const auto& entry : evicted) hearsay_by_address_.erase(address_key(entry.second.host, entry.second.port));
  evictions_ += evicted.size();
  hearsay_by_address_[key] = id;
  return Hearsay::stored;
}

std::optional<KnownNodeRecord> PeerStore::find(const std::string& id) const {
  std::lock_guard lock(mutex_);
  for (const auto* table : {&verified_, &hearsay_})
    if (const auto* record = table->find(id); record && !marked_bad_locked(id, record->host, record->port))
      return *record;
  return std::nullopt;
}

void PeerStore::mark_bad(const std::string& id, const std::string& host, uint16_t port, int64_t until_ms) {
  std::lock_guard lock(mutex_);
  if (const auto* record = verified_.find(id); record && record->host == host && record->port == port)
    verified_.erase(id);
  if (const auto* record = hearsay_.find(id); record && record->host == host && record->port == port)
    erase_hearsay_locked(id);
  bad_.put(id, BadAddress{host, port, until_ms});
}

std::vector<KnownNodeRecord> PeerStore::list() const {
  std::vector<KnownNodeRecord> out;
  {
    std::lock_guard lock(mutex_);
    out.reserve(verified_.size() + hearsay_.size());
    auto add = [&](const std::string&, const KnownNodeRecord& record) { out.push_back(record); };
    verified_.for_each(add);
    hearsay_.for_each(add);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.last_seen_ms != b.last_seen_ms ? a.last_seen_ms > b.last_seen_ms : a.id < b.id;
  });
  return out;
}

size_t PeerStore::size() const {
  std::lock_guard lock(mutex_);
  return verified_.size() + hearsay_.size();
}

uint64_t PeerStore::evictions() const {
  std::lock_guard lock(mutex_);
  return evictions_;
}

uint64_t PeerStore::group_evictions() const {
  std::lock_guard lock(mutex_);
  return verified_.group_evictions() + hearsay_.group_evictions();
}

bool PeerStore::marked_bad_locked(const std::string& id, const std::string& host, uint16_t port) const {
  const auto* mark = bad_.find(id);
  return mark && mark->host == host && mark->port == port && mark->until_ms > unix_millis_now();
}

void PeerStore::erase_hearsay_locked(const std::string& id) {
  const auto* record = hearsay_.find(id);
  if (!record) return;
  auto key = address_key(record->host, record->port);
  if (auto it = hearsay_by_address_.find(key); it != hearsay_by_address_.end() && it->second == id)
    hearsay_by_address_.erase(it);
  hearsay_.erase(id);
}

}  // namespace p2pnet
