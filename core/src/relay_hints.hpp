// What peers said about where nodes behind routers hold their places: for
// each node the relays named most recently, so that a node reached by id
// goes through its relay even when that relay is not among our peers. It
// is hearsay, bounded in nodes and in relays per node, and never trusted
// further than a dial: the relay must prove its id and the node its own.
#pragma once

#include "recent_records.hpp"

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace p2pnet {

struct RelayHint {
  std::string relay_id;
  std::string host;  // an IP literal
  uint16_t port = 0;
};

class RelayHints {
 public:
  // A few relays per node: a false one named after the true one costs a
  // failed dial before the true one is tried, and a dial to a relay that
  // cannot prove its id ends there.
  static constexpr size_t kRelaysPerNode = 3;

  explicit RelayHints(size_t max_nodes) : nodes_(max_nodes) {}

  // The newest hint comes first; the same relay named again moves to the front.
  void remember(const std::string& node_id, RelayHint hint);
  std::vector<RelayHint> of(const std::string& node_id) const;
  // A relay that could not be reached, or could not prove its id, is no hint.
  void forget(const std::string& node_id, const std::string& relay_id);

 private:
  mutable std::mutex mutex_;
  RecentRecords<std::vector<RelayHint>> nodes_;
};

}  // namespace p2pnet
