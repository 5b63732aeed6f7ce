// Who may use the web page and its API. Any web site the user visits can make
// the browser send requests to 127.0.0.1, and a DNS name rebound to
// 127.0.0.1 makes them same-origin: so the Host header must name this
// server, an Origin (sent by browsers on cross-site and on API requests)
// must be this server's own, and every API request must carry the token.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace webui {

struct ListenAddress {
  std::string host;  // numeric, without brackets
  uint16_t port = 0;
};

inline bool is_ipv4_loopback(std::string_view host) {
  // 127.0.0.0/8 in dotted decimal, four numbers of at most 255.
  if (host.substr(0, 4) != "127.") return false;
  int parts = 0;
  size_t i = 0;
  while (i <= host.size()) {
    size_t end = host.find('.', i);
    if (end == std::string_view::npos) end = host.size();
    auto part = host.substr(i, end - i);
    if (part.empty() || part.size() > 3) return false;
    int value = 0;
    for (char c : part) {
      if (c < '0' || c > '9') return false;
      value = value * 10 + (c - '0');
    }
    if (value > 255) return false;
    ++parts;
    i = end + 1;
  }
  return parts == 4;
}

// Splits "HOST:PORT" or "[V6]:PORT". Port 0 is allowed (the OS picks one).
inline std::optional<ListenAddress> parse_listen_address(std::string_view text) {
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon + 1 >= text.size() || colon + 6 < text.size()) return std::nullopt;
  std::string_view host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  uint32_t port = 0;
  for (char c : text.substr(colon + 1)) {
    if (c < '0' || c > '9') return std::nullopt;
    port = port * 10 + static_cast<uint32_t>(c - '0');
  }
  if (host.empty() || port > 65535) return std::nullopt;
  return ListenAddress{std::string(host), static_cast<uint16_t>(port)};
}

// Why the page may not listen on `text`, or "".
inline std::string unusable_listen_address(std::string_view text) {
  auto address = parse_listen_address(text);
  if (!address) return "expected HOST:PORT, for example 127.0.0.1:7102";
  if (address->host != "::1" && !is_ipv4_loopback(address->host))
    return "must be a loopback address (127.0.0.1 or ::1): the token travels in clear; "
           "use an SSH tunnel to reach the page from elsewhere";
  return "";
}

// What a browser sends as Host for this server (with the port; without it
// for port 80), and so what Origin may be, after "http://".
inline std::vector<std::string> own_hosts(const ListenAddress& listen) {
  std::string host = listen.host.find(':') == std::string::npos ? listen.host : "[" + listen.host + "]";
  std::string port = std::to_string(listen.port);
  std::vector<std::string> hosts{host + ":" + port, "localhost:" + port};
  if (listen.port == 80) {
    hosts.push_back(host);
    hosts.push_back("localhost");
  }
  return hosts;
}

inline bool ascii_equal_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

inline bool host_allowed(std::string_view host_header, const ListenAddress& listen) {
  for (const auto& own : own_hosts(listen))
    if (ascii_equal_ignoring_case(host_header, own)) return true;
  return false;
}

// No Origin at all is a client that is not a browser page (curl, a script):
// the token still guards it. A present Origin must be this server's.
inline bool origin_allowed(std::string_view origin, const ListenAddress& listen) {
  if (origin.empty()) return true;
  for (const auto& own : own_hosts(listen))
    if (ascii_equal_ignoring_case(origin, "http://" + own)) return true;
  return false;
}

// Constant time in the content and in where the two differ: a client learns
// nothing from how long a refusal took. (Only the length of what the client
// itself sent changes the time.)
inline bool tokens_equal(std::string_view expected, std::string_view given) {
  if (expected.empty()) return false;
  unsigned char difference = expected.size() == given.size() ? 0 : 1;
  for (size_t i = 0; i < given.size(); ++i)
    difference |= static_cast<unsigned char>(given[i] ^ expected[i % expected.size()]);
  return difference == 0;
}

// "Bearer TOKEN" -> TOKEN, else "".
inline std::string bearer_token(std::string_view authorization) {
  constexpr std::string_view scheme = "Bearer ";
  if (authorization.size() <= scheme.size() || !ascii_equal_ignoring_case(authorization.substr(0, 7), scheme))
    return "";
  return std::string(authorization.substr(scheme.size()));
}

// The path of a request target, without its query.
inline std::string_view target_path(std::string_view target) { return target.substr(0, target.find('?')); }

// The value of `name` in the target's query (tokens are [A-Za-z0-9_-], so
// they need no percent-decoding), else "".
inline std::string query_value(std::string_view target, std::string_view name) {
  size_t question = target.find('?');
  if (question == std::string_view::npos) return "";
  std::string_view query = target.substr(question + 1);
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    if (pair.size() > name.size() && pair.substr(0, name.size()) == name && pair[name.size()] == '=')
      return std::string(pair.substr(name.size() + 1));
    if (amp == std::string_view::npos) break;
    query = query.substr(amp + 1);
  }
  return "";
}

}  // namespace webui
