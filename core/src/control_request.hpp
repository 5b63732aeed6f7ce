// One request line of the control endpoint, checked before anything acts on
// it: a client is any program that can open the socket or port.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace p2pnet::control {

struct Request {
  enum class Kind { command, subscribe };
  Kind kind = Kind::command;
  int64_t id = 0;
  std::string command;               // for Kind::command: one console line
  std::optional<std::string> token;  // as sent; checked by the server on TCP
};

// The request on `line`, or why it is none (one line, for the client).
std::variant<Request, std::string> parse_request(std::string_view line);

}  // namespace p2pnet::control
