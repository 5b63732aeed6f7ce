#include "network_address.hpp"

#include <asio/ip/address.hpp>

#include <algorithm>
#include <optional>

#include <ifaddrs.h>
#include <netinet/in.h>

namespace p2pnet {
namespace {

bool is_site_local(const asio::ip::address& address) {
  if (address.is_v4()) {
    auto bytes = address.to_v4().to_bytes();
    return bytes[0] == 10 || (bytes[0] == 172 && (bytes[1] & 0xF0) == 16) || (bytes[0] == 192 && bytes[1] == 168) ||
           (bytes[0] == 100 && (bytes[1] & 0xC0) == 64) || (bytes[0] == 169 && bytes[1] == 254);
  }
  auto bytes = address.to_v6().to_bytes();
  return (bytes[0] & 0xFE) == 0xFC || address.to_v6().is_link_local();
}

LocalScopes scopes_of(const asio::ip::address& address) {
  return {address.is_loopback(), address.is_loopback() || is_site_local(address)};
}

}  // namespace

bool is_site_local_address(const std::string& host) {
  std::error_code error;
  auto address = asio::ip::make_address(host, error);
  return !error && is_site_local(address);
}

LocalScopes local_scopes_of(const std::string& listen_host) {
  std::error_code error;
  auto listen = asio::ip::make_address(listen_host, error);
  if (error) return {};
  if (!listen.is_unspecified()) return scopes_of(listen);
  LocalScopes scopes;
  ifaddrs* interfaces = nullptr;
  if (getifaddrs(&interfaces) != 0) return scopes;
  for (auto* entry = interfaces; entry; entry = entry->ifa_next) {
    if (!entry->ifa_addr) continue;
    std::optional<asio::ip::address> address;
    if (entry->ifa_addr->sa_family == AF_INET) {
      auto* v4 = reinterpret_cast<const sockaddr_in*>(entry->ifa_addr);
      address = asio::ip::address_v4(ntohl(v4->sin_addr.s_addr));
    } else if (entry->ifa_addr->sa_family == AF_INET6) {
      auto* v6 = reinterpret_cast<const sockaddr_in6*>(entry->ifa_addr);
      asio::ip::address_v6::bytes_type bytes;
      std::copy(std::begin(v6->sin6_addr.s6_addr), std::end(v6->sin6_addr.s6_addr), bytes.begin());
      address = asio::ip::address_v6(bytes);
    }
    if (!address) continue;
    // Loopback stays out: a node listening on every interface may have
    // peers anywhere, so one on this machine is not its usual company.
    scopes.site_local |= !address->is_loopback() && is_site_local(*address);
  }
  freeifaddrs(interfaces);
  return scopes;
}

std::string unusable_network_address(const std::string& host, LocalScopes allowed) {
  std::error_code error;
  auto address = asio::ip::make_address(host, error);
  if (error) return "not a numeric IP address";
  if (address.is_unspecified()) return "unspecified address";
  if (address.is_multicast()) return "multicast address";
  if (address.is_v4() && address.to_v4().to_bytes()[0] == 255) return "broadcast address";
  if (address.is_v6() && address.to_v6().is_v4_mapped()) return "IPv4-mapped IPv6 address";
  if (address.is_loopback() && !allowed.loopback) return "loopback address";
  if (is_site_local(address) && !allowed.site_local) return "private or link-local address";
  return "";
}

bool is_loopback_address(const std::string& host) {
  std::error_code error;
  auto address = asio::ip::make_address(host, error);
  return !error && address.is_loopback();
}

}  // namespace p2pnet
