#include "eviction.hpp"

#include <algorithm>
#include <map>
#include <set>

namespace p2pnet {
namespace {

using Candidates = std::vector<EvictionCandidate>;

// Keeps those for which `keep` is false.
template <class Predicate>
void drop_if(Candidates& candidates, Predicate keep) {
  candidates.erase(std::remove_if(candidates.begin(), candidates.end(), keep), candidates.end());
}

void protect_rare_groups(Candidates& candidates, size_t count) {
  std::map<std::string, size_t> group_sizes;
  for (const auto& candidate : candidates) ++group_sizes[candidate.group];
  std::vector<std::pair<size_t, std::string>> groups;
  for (const auto& [group, size] : group_sizes) groups.emplace_back(size, group);
  std::sort(groups.begin(), groups.end());
  std::set<uint64_t> protected_serials;
  for (size_t i = 0; i < groups.size() && i < count; ++i) {
    const EvictionCandidate* oldest = nullptr;
    for (const auto& candidate : candidates)
      if (candidate.group == groups[i].second && (!oldest || candidate.connected_at < oldest->connected_at))
        oldest = &candidate;
    protected_serials.insert(oldest->serial);
  }
  drop_if(candidates, [&](const EvictionCandidate& c) { return protected_serials.count(c.serial) > 0; });
}

void protect_recently_useful(Candidates& candidates, size_t count) {
  Candidates useful;
  for (const auto& candidate : candidates)
    if (candidate.last_useful) useful.push_back(candidate);
  std::sort(useful.begin(), useful.end(), [](const auto& a, const auto& b) { return *a.last_useful > *b.last_useful; });
  useful.resize(std::min(count, useful.size()));
  drop_if(candidates, [&](const EvictionCandidate& c) {
    return std::any_of(useful.begin(), useful.end(), [&](const auto& u) { return u.serial == c.serial; });
  });
}

void protect_oldest_half(Candidates& candidates) {
  std::sort(candidates.begin(), candidates.end(),
            [](const auto& a, const auto& b) { return a.connected_at < b.connected_at; });
  candidates.erase(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(candidates.size() / 2));
}

}  // namespace

std::optional<uint64_t> select_peer_to_evict(Candidates candidates, const EvictionProtection& protection) {
  protect_rare_groups(candidates, protection.by_group);
  protect_recently_useful(candidates, protection.by_useful);
  if (candidates.size() > 1) protect_oldest_half(candidates);
  if (candidates.empty()) return std::nullopt;

  std::map<std::string, size_t> group_sizes, address_sizes;
  for (const auto& candidate : candidates) {
    ++group_sizes[candidate.group];
    ++address_sizes[candidate.address];
  }
  auto loses_to = [&](const EvictionCandidate& a, const EvictionCandidate& b) {  // a is evicted before b
    if (group_sizes[a.group] != group_sizes[b.group]) return group_sizes[a.group] > group_sizes[b.group];
    if (address_sizes[a.address] != address_sizes[b.address])
      return address_sizes[a.address] > address_sizes[b.address];
    return a.connected_at > b.connected_at;
  };
  return std::min_element(candidates.begin(), candidates.end(), loses_to)->serial;
}

}  // namespace p2pnet
