#include "external_address.hpp"

#include "address_group.hpp"
#include "network_address.hpp"

#include <asio/ip/address.hpp>

#include <algorithm>

namespace p2pnet {
namespace {

bool says_something_about_the_internet(const std::string& host) {
  std::error_code error;
  auto address = asio::ip::make_address(host, error);
  if (error || address.is_unspecified() || address.is_loopback() || address.is_multicast()) return false;
  return !is_site_local_address(host);
}

}  // namespace

std::optional<std::string> ExternalAddress::observe(const std::string& peer_address, const std::string& observed_host,
                                                    uint16_t observed_port) {
  if (is_loopback_address(peer_address) || !says_something_about_the_internet(observed_host)) return std::nullopt;
  std::lock_guard lock(mutex_);
  auto network = address_group(peer_address);
  if (!votes_.count(network) && votes_.size() >= kMaxVotingNetworks) {
    auto oldest = std::min_element(votes_.begin(), votes_.end(),
                                   [](const auto& a, const auto& b) { return a.second.sequence < b.second.sequence; });
    votes_.erase(oldest);
  }
  votes_[network] = {observed_host, observed_port, next_sequence_++};
  // A confirmed address stays until another one is confirmed: a voter that
  // changes its mind alone says little, and a NAT's address rarely changes.
  auto leading = leading_locked();
  if (leading.networks < kConfirmingNetworks || leading.host == confirmed_) return std::nullopt;
  confirmed_ = leading.host;
  return confirmed_;
}

std::optional<ExternalAddress::Observation> ExternalAddress::confirmed() const {
  std::lock_guard lock(mutex_);
  if (confirmed_.empty()) return std::nullopt;
  return Observation{confirmed_, latest_port_locked(confirmed_), support_locked(confirmed_)};
}

size_t ExternalAddress::support_locked(const std::string& host) const {
  return static_cast<size_t>(
      std::count_if(votes_.begin(), votes_.end(), [&](const auto& vote) { return vote.second.host == host; }));
}

ExternalAddress::Observation ExternalAddress::leading() const {
  std::lock_guard lock(mutex_);
  return leading_locked();
}

ExternalAddress::Observation ExternalAddress::leading_locked() const {
  std::map<std::string, size_t> support;
  for (const auto& [network, vote] : votes_) ++support[vote.host];
  Observation best;
  for (const auto& [host, networks] : support)
    if (networks > best.networks) best = {host, latest_port_locked(host), networks};
  return best;
}

uint16_t ExternalAddress::latest_port_locked(const std::string& host) const {
  const Vote* latest = nullptr;
  for (const auto& [network, vote] : votes_)
    if (vote.host == host && (!latest || vote.sequence > latest->sequence)) latest = &vote;
  return latest ? latest->port : 0;
}

}  // namespace p2pnet
