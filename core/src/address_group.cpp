#include "address_group.hpp"

#include <fmt/core.h>
#include <asio/ip/address.hpp>

namespace p2pnet {

std::string address_group(const std::string& address) {
  std::error_code error;
  auto parsed = asio::ip::make_address(address, error);
  if (error) return address;
  if (parsed.is_v6() && parsed.to_v6().is_v4_mapped())
    parsed = asio::ip::make_address_v4(asio::ip::v4_mapped, parsed.to_v6());
  if (parsed.is_v4()) {
    auto bytes = parsed.to_v4().to_bytes();
    return fmt::format("v4:{}.{}.{}", bytes[0], bytes[1], bytes[2]);
  }
  auto bytes = parsed.to_v6().to_bytes();
  std::string group = "v6:";
  for (size_t i = 0; i < 8; ++i) group += fmt::format("{:02x}", bytes[i]);
  return group;
}

}  // namespace p2pnet
