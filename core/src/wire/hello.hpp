// The first frame each way: who the node is, where it listens, which protocol
// version it speaks, which message types it handles and where it sees the
// other side coming from. "bye" is the last
// frame of an orderly close and may carry a reason.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace p2pnet::wire {

constexpr int kProtocolVersion = 1;
constexpr size_t kMaxAdvertisedTypes = 256;
constexpr size_t kMaxReasonLength = 200;
// At most `max` bytes of a peer's text, cut before a UTF-8 continuation byte
// (half a character would make the text invalid to encode again), control
// bytes as ?.
std::string clipped_text(std::string_view text, size_t max);
constexpr size_t kMaxObservedHostLength = 64;  // the longest IPv6 text with a zone is shorter

struct Hello {
  int protocol = kProtocolVersion;
  std::string id;
  uint16_t port = 0;
  std::vector<std::string> types;
  std::string agent;
  uint32_t max_header_bytes = 0;  // the largest frame parts this node accepts
  uint32_t max_body_bytes = 0;
  std::string network_proof;  // hex HMAC proving the private network's key; empty without one
  // Where the sender sees this connection come from (numeric host, port), so
  // a node behind a NAT learns its external address; empty from older nodes.
  std::string observed_host;
  uint16_t observed_port = 0;
  // A dial-back probe (see kDialbackRequestType): the dialer proves it
  // reached this node's listen address and closes; it never becomes a peer.
  bool dialback = false;
  // What the node's core can do beyond protocol 1's minimum, so that a peer
  // sends only what it understands: "dialback" (answers p2pnet.dialback).
  std::vector<std::string> features;
  bool has_feature(std::string_view name) const {
    for (const auto& feature : features)
      if (feature == name) return true;
    return false;
  }
};
constexpr size_t kMaxFeatures = 16;
constexpr size_t kMaxFeatureLength = 32;
constexpr std::string_view kDialbackFeature = "dialback";

std::string encode_hello(const Hello& hello);
std::string encode_bye(std::string_view reason);

struct HelloParse {
  std::optional<Hello> hello;
  std::string error;  // names the field that is wrong
};

HelloParse parse_hello(std::string_view header);

// Sent to every peer when the set of types this node handles changes after
// the hello (a plugin loaded or unloaded): the full new list, bounded like
// the hello's. A node that does not know the type drops it.
constexpr std::string_view kTypesUpdateType = "p2pnet.types";

std::string encode_types_update(const std::vector<std::string>& types);

struct TypesUpdateParse {
  std::optional<std::vector<std::string>> types;
  std::string error;
};

TypesUpdateParse parse_types_update(std::string_view header);

// A peer asks this node to dial back the address the request came from, at
// the peer's listen port (from its hello; never an address named in the
// request, so nobody can aim the dial elsewhere), and to say whether that
// worked: how a node behind a NAT learns it cannot be reached.
constexpr std::string_view kDialbackRequestType = "p2pnet.dialback";
constexpr std::string_view kDialbackResultType = "p2pnet.dialback.result";

std::string encode_dialback_request();
// reached: the dial-back's handshake proved this node's id at that address.
// refused: the peer would not try now (busy, or asked too often): no verdict.
struct DialbackResult {
  bool reached = false;
  bool refused = false;
  std::string reason;  // why not reached or refused, bounded
};
std::string encode_dialback_result(const DialbackResult& result);
std::optional<DialbackResult> parse_dialback_result(std::string_view header);

// The reason a "bye" header gives, bounded and stripped of control characters.
std::string parse_bye_reason(std::string_view header);

}  // namespace p2pnet::wire
