#include "relay_hints.hpp"

#include <algorithm>

namespace p2pnet {

void RelayHints::remember(const std::string& node_id, RelayHint hint) {
  std::lock_guard lock(mutex_);
  std::vector<RelayHint> relays;
  if (const auto* known = nodes_.find(node_id)) relays = *known;
  std::erase_if(relays, [&](const RelayHint& old) { return old.relay_id == hint.relay_id; });
  relays.insert(relays.begin(), std::move(hint));
  if (relays.size() > kRelaysPerNode) relays.resize(kRelaysPerNode);
  nodes_.put(node_id, std::move(relays));
}

void RelayHints::forget(const std::string& node_id, const std::string& relay_id) {
  std::lock_guard lock(mutex_);
  auto* known = nodes_.find(node_id);
  if (!known) return;
  std::erase_if(*known, [&](const RelayHint& hint) { return hint.relay_id == relay_id; });
  if (known->empty()) nodes_.erase(node_id);
}

std::vector<RelayHint> RelayHints::of(const std::string& node_id) const {
  std::lock_guard lock(mutex_);
  const auto* known = nodes_.find(node_id);
  return known ? *known : std::vector<RelayHint>{};
}

}  // namespace p2pnet
