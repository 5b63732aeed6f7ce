#include "network_address.hpp"

#include <asio/ip/address.hpp>

namespace p2pnet {

std::string unusable_network_address(const std::string& host, bool loopback_allowed) {
  std::error_code error;
  auto address = asio::ip::make_address(host, error);
  if (error) return "not a numeric IP address";
  if (address.is_unspecified()) return "unspecified address";
  if (address.is_multicast()) return "multicast address";
  if (address.is_v4() && address.to_v4().to_bytes()[0] == 255) return "broadcast address";
  if (address.is_v6() && address.to_v6().is_v4_mapped()) return "IPv4-mapped IPv6 address";
  if (address.is_loopback() && !loopback_allowed) return "loopback address";
  return "";
}

bool is_loopback_address(const std::string& host) {
  std::error_code error;
  auto address = asio::ip::make_address(host, error);
  return !error && address.is_loopback();
}

}  // namespace p2pnet
