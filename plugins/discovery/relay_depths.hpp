// The remaining depth with which this node took on each depth-limited
// request. A copy can arrive first over a longer path, with less depth left
// than the direct copy that follows; remembering the depth lets the node pass
// the request on once more with the larger depth, so `discover N` reaches
// exactly the nodes within N hops whatever order copies arrive in.
//
// Entries are kept in the order they were added, which is the order the
// seen-id table (a FloodTable) forgets ids in, so pruning the front against
// that table keeps this one within the same bounds.
#pragma once

#include <deque>
#include <optional>
#include <string>
#include <unordered_map>

namespace p2pnet::discovery {

class RelayDepths {
 public:
  void add(const std::string& id, int depth) {
    if (depths_.emplace(id, depth).second) order_.push_back(id);
  }

  // Raises the depth recorded for id; true if `depth` is more than it was.
  bool raise(const std::string& id, int depth) {
    auto it = depths_.find(id);
    if (it == depths_.end() || depth <= it->second) return false;
    it->second = depth;
    return true;
  }

  // Drops the oldest entries for as long as `still_known(id)` says the
  // seen-id table has forgotten them.
  template <class StillKnown>
  void prune(StillKnown&& still_known) {
    while (!order_.empty() && !still_known(order_.front())) {
      depths_.erase(order_.front());
      order_.pop_front();
    }
  }

  size_t size() const { return depths_.size(); }

 private:
  std::unordered_map<std::string, int> depths_;
  std::deque<std::string> order_;
};

}  // namespace p2pnet::discovery
