#include "connection_slots.hpp"

#include "address_group.hpp"

#include <fmt/core.h>
#include <asio/ip/address.hpp>

#include <algorithm>

namespace p2pnet {

SlotDecision decide_slot(const std::vector<SlotHolder>& holders, bool inbound, const std::string& address,
                         const SlotLimits& limits) {
  const std::string full = fmt::format("node is full (max_connections {})", limits.max_connections);
  if (!inbound) {
    if (holders.size() >= limits.max_connections) return {SlotDecision::Kind::refuse, 0, full, "refused_outbound"};
    return {SlotDecision::Kind::admit, 0, "", ""};
  }
  const std::string group = address_group(address);
  size_t same_address = 0, same_group = 0;
  std::vector<EvictionCandidate> inbound_peers;
  for (const auto& holder : holders) {
    if (!holder.inbound) continue;
    inbound_peers.push_back(holder.candidate);
    if (holder.candidate.address == address) ++same_address;
    if (holder.candidate.group == group) ++same_group;
  }
  std::error_code error;
  const bool loopback = asio::ip::make_address(address, error).is_loopback() && !error;
  const bool capped = limits.cap_loopback || !loopback;
  if (capped && same_address >= limits.max_inbound_per_address)
    return {SlotDecision::Kind::refuse, 0,
            fmt::format("too many connections from {} (max_inbound_per_address {})", address,
                        limits.max_inbound_per_address),
            "refused_per_address"};
  if (capped && same_group >= limits.max_inbound_per_group)
    return {SlotDecision::Kind::refuse, 0,
            fmt::format("too many connections from the network of {} (max_inbound_per_group {})", address,
                        limits.max_inbound_per_group),
            "refused_per_group"};
  const size_t reserved = std::min(limits.outbound_reserved, limits.max_connections - 1);
  const size_t inbound_capacity = limits.max_connections - reserved;
  if (inbound_peers.size() < inbound_capacity && holders.size() < limits.max_connections)
    return {SlotDecision::Kind::admit, 0, "", ""};
  if (auto evicted = select_peer_to_evict(std::move(inbound_peers)))
    return {SlotDecision::Kind::admit_after_evicting, *evicted, "", ""};
  return {SlotDecision::Kind::refuse, 0, full, "refused_inbound_full"};
}

}  // namespace p2pnet
