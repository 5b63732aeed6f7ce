// The relay's wire: frames on an established link between a node and its
// relay (reserve a place, hear of an incoming circuit), and the one line a
// fresh TCP connection to the relay opens with before any TLS, which says
// whether it wants to reach a reserved node or accept a circuit for one.
// After the relay's answer line the connection carries the two ends' own
// bytes (their TLS, hello and frames) untouched.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace p2pnet::wire {

// Hello feature of a node that runs the relay protocol (it may still refuse
// while its service is off).
constexpr std::string_view kRelayFeature = "relay";

constexpr std::string_view kRelayReserveType = "p2pnet.relay.reserve";    // node -> relay
constexpr std::string_view kRelayReservedType = "p2pnet.relay.reserved";  // relay -> node: granted or refused
constexpr std::string_view kRelayIncomingType = "p2pnet.relay.incoming";  // relay -> node: a circuit waits
// Connection reversal: a node asks a relay to have one of the nodes it
// holds places for dial the asking node back directly (Gnutella's PUSH).
constexpr std::string_view kRelayReverseType = "p2pnet.relay.reverse";           // node -> relay
constexpr std::string_view kRelayReversalType = "p2pnet.relay.reversal";         // relay -> node: passed on or not
constexpr std::string_view kRelayConnectBackType = "p2pnet.relay.connect_back";  // relay -> reserved node

// The frames about the link itself (dial-backs and the relay's), which only
// a direct link may carry.
bool is_link_control_type(std::string_view type);

struct RelayReserved {
  bool granted = false;
  std::string reason;  // why not
};
std::string encode_relay_reserve();
std::string encode_relay_reserved(const RelayReserved& answer);
std::optional<RelayReserved> parse_relay_reserved(std::string_view header);

// A circuit's token: 32 hex characters of randomness, known only to the
// relay and the node it sent them to over their link.
constexpr size_t kRelayTokenLength = 32;
std::string encode_relay_incoming(const std::string& token);
std::optional<std::string> parse_relay_incoming(std::string_view header);

// Reversal: the asking node names the node it wants; the relay answers
// whether it passed the request on, and tells the reserved node who asks and
// where the asking node's link to the relay comes from, with the port its
// hello says it listens on (never an address the asking node chose).
std::string encode_relay_reverse(const std::string& target_id);
std::optional<std::string> parse_relay_reverse(std::string_view header);  // the target id

struct RelayReversal {
  std::string target_id;
  bool passed_on = false;
  std::string reason;  // why not
};
std::string encode_relay_reversal(const RelayReversal& answer);
std::optional<RelayReversal> parse_relay_reversal(std::string_view header);

struct RelayConnectBack {
  std::string node_id;  // who asks, as the relay verified it
  std::string host;     // an IP literal
  uint16_t port = 0;
};
std::string encode_relay_connect_back(const RelayConnectBack& request);
std::optional<RelayConnectBack> parse_relay_connect_back(std::string_view header);

// The opening: kRelayOpeningByte, then a JSON object, then '\n', at most
// kMaxRelayLineBytes in all. The first byte is neither a frame's (0x00,
// 0x01), TLS's (0x16) nor text, so a listener tells it apart at a peek.
constexpr std::byte kRelayOpeningByte{0x05};
constexpr size_t kMaxRelayLineBytes = 512;

struct RelayOpening {
  enum class Kind { connect, accept } kind = Kind::connect;
  std::string target_id;  // connect: the reserved node to reach
  std::string token;      // accept: from the relay's incoming frame
};
std::string encode_relay_opening(const RelayOpening& opening);
// `line` without the opening byte and the newline.
std::optional<RelayOpening> parse_relay_opening(std::string_view line);

// The relay's answer line, '\n'-terminated. A "linked" answer names the
// address the relay sees the far end's connection come from: the one
// address hole punching may dial (the peer cannot choose another).
struct RelayAnswer {
  bool linked = false;
  std::string reason;     // why not
  std::string peer_host;  // linked: an IP literal, or "" when the relay named none
};
std::string encode_relay_answer(const std::string& refusal, const std::string& peer_host = "");
std::optional<RelayAnswer> parse_relay_answer(std::string_view line);

// Hole punching, on a relayed link only (after DCUtR's CONNECT and SYNC):
// the end that opened the circuit sends punch.connect, the other answers
// with its own when it will punch; the opener sends punch.sync and dials,
// the other end dials on reading it. Both dial from their listen port to
// the address the relay named and the port the other's hello listens on,
// so their SYNs open each NAT for the other (hole_punch.cpp).
constexpr std::string_view kPunchFeature = "punch";
constexpr std::string_view kPunchConnectType = "p2pnet.punch.connect";
constexpr std::string_view kPunchSyncType = "p2pnet.punch.sync";
bool is_punch_type(std::string_view type);
std::string encode_punch(std::string_view type);

}  // namespace p2pnet::wire
