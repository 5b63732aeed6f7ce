#include "reachability.hpp"

#include "address_group.hpp"
#include "network_address.hpp"

#include <algorithm>

namespace p2pnet {

bool Reachability::vote(const std::string& peer_address, bool reached) {
  if (is_loopback_address(peer_address) || is_site_local_address(peer_address)) return false;
  std::lock_guard lock(mutex_);
  auto network = address_group(peer_address);
  if (!votes_.count(network) && votes_.size() >= kMaxVotingNetworks) {
    auto oldest = std::min_element(votes_.begin(), votes_.end(),
                                   [](const auto& a, const auto& b) { return a.second.sequence < b.second.sequence; });
    votes_.erase(oldest);
  }
  votes_[network] = {reached, next_sequence_++};
  return true;
}

Reachability::Summary Reachability::summary() const {
  Summary summary;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [network, vote] : votes_) ++(vote.reached ? summary.reached : summary.not_reached);
  }
  if (summary.reached >= kPublicNetworks && summary.reached > summary.not_reached)
    summary.status = Status::reachable;
  else if (summary.not_reached > summary.reached)
    summary.status = Status::unreachable;
  return summary;
}

const char* reachability_name(Reachability::Status status) {
  switch (status) {
    case Reachability::Status::reachable:
      return "public";
    case Reachability::Status::unreachable:
      return "private";
    case Reachability::Status::unknown:
      return "unknown";
  }
  return "unknown";
}

}  // namespace p2pnet
