// A map by string key that remembers which entry was touched longest ago,
// so that making room costs O(1) instead of a scan of every entry.
#pragma once

#include <list>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

namespace p2pnet {

template <class Value>
class RecentRecords {
 public:
  explicit RecentRecords(size_t capacity) : capacity_(capacity) {}

  Value* find(const std::string& key) {
    auto it = index_.find(key);
    return it == index_.end() ? nullptr : &it->second->second;
  }
  const Value* find(const std::string& key) const {
    auto it = index_.find(key);
    return it == index_.end() ? nullptr : &it->second->second;
  }

  // Stores `value` under `key` as the newest entry; when that needs room,
  // the entry touched longest ago goes and is returned.
  std::optional<std::pair<std::string, Value>> put(const std::string& key, Value value) {
    if (auto it = index_.find(key); it != index_.end()) {
      it->second->second = std::move(value);
      order_.splice(order_.end(), order_, it->second);
      return std::nullopt;
    }
    std::optional<std::pair<std::string, Value>> evicted;
    if (capacity_ > 0 && order_.size() >= capacity_) {
      evicted = std::move(order_.front());
      index_.erase(evicted->first);
      order_.pop_front();
    }
    order_.emplace_back(key, std::move(value));
    index_[key] = std::prev(order_.end());
    return evicted;
  }

  bool erase(const std::string& key) {
    auto it = index_.find(key);
    if (it == index_.end()) return false;
    order_.erase(it->second);
    index_.erase(it);
    return true;
  }

  size_t size() const { return order_.size(); }
  template <class Visit>
  void for_each(Visit visit) const {
    for (const auto& [key, value] : order_) visit(key, value);
  }

 private:
  using Entries = std::list<std::pair<std::string, Value>>;
  size_t capacity_;
  Entries order_;  // touched longest ago first
  std::unordered_map<std::string, typename Entries::iterator> index_;
};

}  // namespace p2pnet
