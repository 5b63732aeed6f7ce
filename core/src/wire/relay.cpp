#include "wire/relay.hpp"

#include "node_id.hpp"
#include "wire/hello.hpp"

#include <asio/ip/address.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>

namespace p2pnet::wire {
namespace {

using json = nlohmann::json;

bool is_token(const std::string& text) {
  return text.size() == kRelayTokenLength &&
         std::all_of(text.begin(), text.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// Every frame and line here is a JSON object; anything else is no message.
std::optional<json> parse_object(std::string_view text) {
  json j = json::parse(text, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  return j;
}

std::optional<std::string> string_field(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

std::optional<bool> bool_field(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_boolean()) return std::nullopt;
  return it->get<bool>();
}

std::optional<std::string> node_id_field(const json& j, const char* name) {
  auto id = string_field(j, name);
  if (!id || !is_valid_node_id(*id)) return std::nullopt;
  return id;
}

// A refusal's reason as the far end gave it, clipped; "" when it gave none.
std::string reason_field(const json& j) {
  auto reason = string_field(j, "reason");
  return reason ? clipped_text(*reason, kMaxReasonLength) : "";
}

// An IP literal, written the one way this node writes it; a host name is no address.
std::optional<std::string> address_field(const json& j, const char* name) {
  auto host = string_field(j, name);
  if (!host) return std::nullopt;
  std::error_code error;
  auto address = asio::ip::make_address(*host, error);
  if (error) return std::nullopt;
  return address.to_string();
}

}  // namespace

bool is_link_control_type(std::string_view type) {
  return type == kDialbackRequestType || type == kDialbackResultType || type == kRelayReserveType ||
         type == kRelayReservedType || type == kRelayIncomingType || type == kRelayReverseType ||
         type == kRelayReversalType || type == kRelayConnectBackType;
}

std::string encode_relay_reserve() { return json{{"type", kRelayReserveType}}.dump(); }

std::string encode_relay_reserved(const RelayReserved& answer) {
  json j = {{"type", kRelayReservedType}, {"granted", answer.granted}};
  if (!answer.reason.empty()) j["reason"] = clipped_text(answer.reason, kMaxReasonLength);
  return j.dump();
}

std::optional<RelayReserved> parse_relay_reserved(std::string_view header) {
  auto j = parse_object(header);
  auto granted = j ? bool_field(*j, "granted") : std::nullopt;
  if (!granted) return std::nullopt;
  return RelayReserved{*granted, reason_field(*j)};
}

std::string encode_relay_incoming(const std::string& token) {
  return json{{"type", kRelayIncomingType}, {"token", token}}.dump();
}

std::optional<std::string> parse_relay_incoming(std::string_view header) {
  auto j = parse_object(header);
  auto token = j ? string_field(*j, "token") : std::nullopt;
  if (!token || !is_token(*token)) return std::nullopt;
  return token;
}

std::string encode_relay_reverse(const std::string& target_id) {
  return json{{"type", kRelayReverseType}, {"to", target_id}}.dump();
}

std::optional<std::string> parse_relay_reverse(std::string_view header) {
  auto j = parse_object(header);
  return j ? node_id_field(*j, "to") : std::nullopt;
}

std::string encode_relay_reversal(const RelayReversal& answer) {
  json j = {{"type", kRelayReversalType}, {"to", answer.target_id}, {"passed_on", answer.passed_on}};
  if (!answer.reason.empty()) j["reason"] = clipped_text(answer.reason, kMaxReasonLength);
  return j.dump();
}

std::optional<RelayReversal> parse_relay_reversal(std::string_view header) {
  auto j = parse_object(header);
  if (!j) return std::nullopt;
  auto to = node_id_field(*j, "to");
  auto passed_on = bool_field(*j, "passed_on");
  if (!to || !passed_on) return std::nullopt;
  return RelayReversal{*to, *passed_on, reason_field(*j)};
}

std::string encode_relay_connect_back(const RelayConnectBack& request) {
  return json{{"type", kRelayConnectBackType}, {"id", request.node_id}, {"host", request.host}, {"port", request.port}}
      .dump();
}

std::optional<RelayConnectBack> parse_relay_connect_back(std::string_view header) {
  auto j = parse_object(header);
  if (!j) return std::nullopt;
  auto id = node_id_field(*j, "id");
  auto host = address_field(*j, "host");
  auto port = j->find("port");
  if (!id || !host || port == j->end() || !port->is_number_unsigned()) return std::nullopt;
  if (port->get<uint64_t>() == 0 || port->get<uint64_t>() > 65535) return std::nullopt;
  return RelayConnectBack{*id, *host, static_cast<uint16_t>(port->get<uint64_t>())};
}

std::string encode_relay_opening(const RelayOpening& opening) {
  json j = opening.kind == RelayOpening::Kind::connect ? json{{"relay", "connect"}, {"to", opening.target_id}}
                                                       : json{{"relay", "accept"}, {"token", opening.token}};
  std::string line(1, static_cast<char>(kRelayOpeningByte));
  return line + j.dump() + "\n";
}

std::optional<RelayOpening> parse_relay_opening(std::string_view line) {
  if (line.size() >= kMaxRelayLineBytes) return std::nullopt;
  auto j = parse_object(line);
  auto kind = j ? string_field(*j, "relay") : std::nullopt;
  if (!kind) return std::nullopt;
  RelayOpening opening;
  if (*kind == "connect") {
    auto to = node_id_field(*j, "to");
    if (!to) return std::nullopt;
    opening.kind = RelayOpening::Kind::connect;
    opening.target_id = *to;
    return opening;
  }
  if (*kind == "accept") {
    auto token = string_field(*j, "token");
    if (!token || !is_token(*token)) return std::nullopt;
    opening.kind = RelayOpening::Kind::accept;
    opening.token = *token;
    return opening;
  }
  return std::nullopt;
}

std::string encode_relay_answer(const std::string& refusal, const std::string& peer_host) {
  json j = refusal.empty() ? json{{"linked", true}}
                           : json{{"linked", false}, {"reason", clipped_text(refusal, kMaxReasonLength)}};
  if (refusal.empty() && !peer_host.empty()) j["peer_host"] = peer_host;
  return j.dump() + "\n";
}

std::optional<RelayAnswer> parse_relay_answer(std::string_view line) {
  if (line.size() >= kMaxRelayLineBytes) return std::nullopt;
  auto j = parse_object(line);
  auto linked = j ? bool_field(*j, "linked") : std::nullopt;
  if (!linked) return std::nullopt;
  RelayAnswer answer;
  answer.linked = *linked;
  if (!answer.linked) {
    answer.reason = reason_field(*j);
    if (answer.reason.empty()) answer.reason = "refused";
    return answer;
  }
  if (j->contains("peer_host")) {
    auto host = address_field(*j, "peer_host");
    if (!host) return std::nullopt;
    answer.peer_host = *host;
  }
  return answer;
}

bool is_punch_type(std::string_view type) { return type == kPunchConnectType || type == kPunchSyncType; }

std::string encode_punch(std::string_view type) { return json{{"type", type}}.dump(); }

}  // namespace p2pnet::wire
