// RecentRecords with a second cap per address group: when a group already
// holds its share, its own least recently touched entry makes room, never
// another group's. One operator with many keys on one network can then only
// churn its own entries, not flush everyone else's.
#pragma once

#include "recent_records.hpp"

#include <algorithm>
#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace p2pnet {

template <class Value>
class GroupCappedRecords {
 public:
  using Entry = std::pair<std::string, Value>;

  GroupCappedRecords(size_t capacity, size_t per_group) : records_(capacity), per_group_(per_group) {}

  // Stores `value` under `key` in `group` (empty: no group cap) as the
  // newest entry; returns what went to make room (at most two entries).
  std::vector<Entry> put(const std::string& key, const std::string& group, Value value) {
    std::vector<Entry> evicted;
    forget_group_of(key);
    if (!group.empty()) {
      auto& members = groups_[group];
      if (members.size() >= per_group_ && !members.empty()) {
        std::string oldest = members.front();
        if (auto* old = records_.find(oldest)) evicted.emplace_back(oldest, *old);
        erase(oldest);
        ++group_evictions_;
      }
      groups_[group].push_back(key);
      group_of_[key] = group;
    }
    if (auto dropped = records_.put(key, std::move(value))) {
      forget_group_of(dropped->first);
      evicted.push_back(std::move(*dropped));
    }
    return evicted;
  }

  bool erase(const std::string& key) {
    forget_group_of(key);
    return records_.erase(key);
  }

  Value* find(const std::string& key) { return records_.find(key); }
  const Value* find(const std::string& key) const { return records_.find(key); }
  size_t size() const { return records_.size(); }
  // Entries that made room within their own full group.
  uint64_t group_evictions() const { return group_evictions_; }
  template <class Visit>
  void for_each(Visit visit) const {
    records_.for_each(visit);
  }

 private:
  void forget_group_of(const std::string& key) {
    auto it = group_of_.find(key);
    if (it == group_of_.end()) return;
    auto group = groups_.find(it->second);
    auto& members = group->second;
    members.erase(std::find(members.begin(), members.end(), key));
    if (members.empty()) groups_.erase(group);
    group_of_.erase(it);
  }

  RecentRecords<Value> records_;
  size_t per_group_;
  uint64_t group_evictions_ = 0;
  std::unordered_map<std::string, std::deque<std::string>> groups_;  // touched longest ago first
  std::unordered_map<std::string, std::string> group_of_;
};

}  // namespace p2pnet
