#include "control_request.hpp"

#include <nlohmann/json.hpp>

namespace p2pnet::control {

std::variant<Request, std::string> parse_request(std::string_view line) {
  static const std::string kExpected =
      R"(expected one JSON object per line: {"id": 1, "command": "peers"} or {"subscribe": "events"})";
  auto json = nlohmann::json::parse(line, nullptr, false);
  if (!json.is_object()) return kExpected;
  Request request;
  auto command = json.find("command");
  auto subscribe = json.find("subscribe");
  if (command != json.end() && command->is_string() && subscribe == json.end()) {
    request.kind = Request::Kind::command;
    request.command = command->get<std::string>();
    // A command is what one console line holds: a line break or a control
    // character inside it would reach the command parser and the log as is.
    for (unsigned char c : request.command)
      if ((c < 0x20 && c != '\t') || c == 0x7f) return "a command holds no control characters (one console line)";
  } else if (subscribe != json.end() && *subscribe == "events" && command == json.end()) {
    request.kind = Request::Kind::subscribe;
  } else {
    return kExpected;
  }
  if (auto id = json.find("id"); id != json.end()) {
    if (!id->is_number_integer()) return R"("id" is an integer)";
    request.id = id->get<int64_t>();
  }
  if (auto token = json.find("token"); token != json.end()) {
    if (!token->is_string()) return R"("token" is a string)";
    request.token = token->get<std::string>();
  }
  return request;
}

}  // namespace p2pnet::control
