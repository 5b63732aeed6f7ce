// The relay service's switch: relay_service from node.toml, which `reload`
// may change while the node runs, and what happens when the service turns
// off (so, or "auto" and the node no longer finds itself public): the
// places it held are withdrawn and each holder is told, so that it looks
// for another relay instead of believing in a place no circuit reaches.
#include "node_core.hpp"

#include <p2pnet/counted.hpp>

#include <fmt/core.h>

#include <algorithm>

namespace p2pnet {
namespace {

constexpr const char* kWithdrawnReason = "the relay service turned off";

// As node.toml spells the value.
const char* switch_name(Switch value) {
  switch (value) {
    case Switch::off:
      return "off";
    case Switch::on:
      return "on";
    case Switch::automatic:
      return "auto";
  }
  return "?";
}

}  // namespace

bool NodeCore::relay_service_on() const {
  const Switch service = relay_service_switch_.load();
  if (service == Switch::automatic) return reachability_.summary().status == Reachability::Status::reachable;
  return service == Switch::on;
}

void NodeCore::apply_relay_service(Switch fresh, const OutputSink& out) {
  const Switch before = relay_service_switch_.exchange(fresh);
  if (before == fresh) return;
  {
    // New peers hear whether to ask this node for places; peers linked
    // before keep the hello they had (a node that is off refuses them).
    std::lock_guard lock(hello_mutex_);
    auto& features = hello_template_.features;
    features.erase(std::remove(features.begin(), features.end(), wire::kRelayFeature), features.end());
    if (fresh != Switch::off) features.push_back(std::string(wire::kRelayFeature));
  }
  out(fmt::format(
          "relay_service: {} -> {}{}", switch_name(before), switch_name(fresh),
          fresh == Switch::automatic ? fmt::format(" (the service is {} now)", relay_service_on() ? "on" : "off") : ""),
      false);
  if (auto withdrawn = withdraw_relay_places_if_off(); withdrawn > 0)
    out(fmt::format("relay service: {} withdrawn", counted(static_cast<long long>(withdrawn), "reservation")), false);
}

size_t NodeCore::withdraw_relay_places_if_off() {
  if (relay_service_on()) return 0;
  const auto holders = relay_service_->withdraw_all();
  if (holders.empty()) return 0;
  const auto refusal = wire::make_frame(wire::encode_relay_reserved({false, kWithdrawnReason}));
  for (const auto& holder : holders) {
    count_event("relay_reservations_withdrawn");
    if (auto link = peer(holder); link && !link->closing()) link->send(refusal);
  }
  log_->info("relay: {}; {} withdrawn, each holder told", kWithdrawnReason,
             counted(static_cast<long long>(holders.size()), "reservation"));
  return holders.size();
}

}  // namespace p2pnet
