// Nodes this node knows how to reach (id, host, listen port, last seen),
// thread-safe. Two kinds, bounded apart: verified records, made by a
// handshake this node completed, and hearsay, named by other peers (for
// example in discovery answers). Hearsay never replaces a verified record,
// and a record whose address proved to be another node is not offered for
// dialing again for a while. Each table holds at most `per_group` records
// of one /24 or /64, so one network with many keys cannot flush the others.
#pragma once

#include "group_capped_records.hpp"
#include "recent_records.hpp"

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace p2pnet {

struct KnownNodeRecord {
  std::string id;
  std::string host;
  uint16_t port = 0;
  int64_t last_seen_ms = 0;
  bool verified = false;  // from a completed handshake, not from hearsay
};

class PeerStore {
 public:
  // Loopback addresses are not capped per group unless `cap_loopback` (as
  // for connection slots: every peer of a test or a local proxy is there).
  PeerStore(size_t verified_capacity, size_t hearsay_capacity, size_t per_group = SIZE_MAX, bool cap_loopback = false);

  // A node this node completed a handshake with; any hearsay about it goes.
  void remember_verified(const std::string& id, const std::string& host, uint16_t port);

  enum class Hearsay { stored, verified_kept, marked_bad };
  // A node some peer named. One id per address: a newer claim for the same
  // address replaces the older one.
  Hearsay remember_hearsay(const std::string& id, const std::string& host, uint16_t port);

  // Where to dial `id`: the verified record first; nothing while the record
  // is marked bad.
  std::optional<KnownNodeRecord> find(const std::string& id) const;
  // The node at host:port proved to be someone else: forget that address
  // for `id`, and ignore hearsay repeating it until `until_ms`.
  void mark_bad(const std::string& id, const std::string& host, uint16_t port, int64_t until_ms);

  std::vector<KnownNodeRecord> list() const;  // most recently seen first
  size_t size() const;
  // Nodes dropped to make room since the store was created.
  uint64_t evictions() const;
  // Of those, the ones that made room within a full address group.
  uint64_t group_evictions() const;

 private:
  struct BadAddress {
    std::string host;
    uint16_t port = 0;
    int64_t until_ms = 0;
  };
  bool marked_bad_locked(const std::string& id, const std::string& host, uint16_t port) const;
  void erase_hearsay_locked(const std::string& id);
  std::string group_of(const std::string& host) const;

  mutable std::mutex mutex_;
  uint64_t evictions_ = 0;
  bool cap_loopback_;
  GroupCappedRecords<KnownNodeRecord> verified_;
  GroupCappedRecords<KnownNodeRecord> hearsay_;
  std::unordered_map<std::string, std::string> hearsay_by_address_;  // "host port" -> id
  RecentRecords<BadAddress> bad_;
};

int64_t unix_millis_now();

}  // namespace p2pnet
