// "HOST:PORT" as users write it on the command line and in node.toml. The
// last colon ends the host, so "::1:7001" works; "[::1]:7001" too.
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace p2pnet {

inline std::optional<std::pair<std::string, uint16_t>> split_host_port(std::string_view text,
                                                                       bool allow_port_zero = false) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  std::string_view host = text.substr(0, colon), port_text = text.substr(colon + 1);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return std::nullopt;
    host = host.substr(1, host.size() - 2);
  }
  unsigned port = 0;
  auto [end, error] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (error != std::errc{} || end != port_text.data() + port_text.size() || port_text.empty() || port > 65535 ||
      (port == 0 && !allow_port_zero))
    return std::nullopt;
  return std::make_pair(std::string(host), static_cast<uint16_t>(port));
}

// The other way: "[::1]:7001" for an IPv6 host, so that split_host_port reads it back.
inline std::string join_host_port(const std::string& host, uint16_t port) {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

}  // namespace p2pnet
