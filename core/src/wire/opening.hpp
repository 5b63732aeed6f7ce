// What the first byte of a connection says about the peer. A p2pnet frame
// opens with the top byte of its header length, 0x00 or 0x01 (headers are at
// most 16 MiB); TLS with a handshake record, 0x16. Text (JSON, an HTTP
// request, the Python p2pnetwork's 0x04-terminated messages) comes from a
// program that is not a p2pnet node, and is told apart from a node whose
// encryption setting differs. Other binary bytes count as a frame, so the
// frame decoder names what is wrong with it (a length over the limit).
#pragma once

#include <cstddef>
#include <span>
#include <string>

namespace p2pnet::wire {

// relay: the opening line of a relay circuit (wire/relay.hpp).
enum class Opening { frame, tls, foreign, relay };

Opening classify_opening(std::byte first);

// "not a p2pnet peer (first bytes look like '...')": at most kShownBytes of
// `bytes`, escaped.
inline constexpr size_t kShownBytes = 24;
std::string foreign_peer_reason(std::span<const std::byte> bytes);

}  // namespace p2pnet::wire
