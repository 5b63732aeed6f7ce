#include "wire/opening.hpp"

#include "wire/relay.hpp"

#include <p2pnet/printable.hpp>

#include <algorithm>
#include <string_view>

namespace p2pnet::wire {

Opening classify_opening(std::byte first) {
  if (first == std::byte{0x16}) return Opening::tls;
  if (first == kRelayOpeningByte) return Opening::relay;
  auto byte = std::to_integer<unsigned>(first);
  // Text: JSON, HTTP, SSH banners, p2pnetwork's messages. Other bytes are
  // left to the frame decoder, which names the length that is wrong.
  if ((byte >= 0x20 && byte <= 0x7E) || byte == '\t' || byte == '\r' || byte == '\n') return Opening::foreign;
  return Opening::frame;
}

std::string foreign_peer_reason(std::span<const std::byte> bytes) {
  // Bytes, not characters: a cut inside a UTF-8 sequence shows as \xNN.
  std::string_view text(reinterpret_cast<const char*>(bytes.data()), std::min(bytes.size(), kShownBytes));
  return "not a p2pnet peer (first bytes look like '" + printable(text) + (bytes.size() > kShownBytes ? "...')" : "')");
}

}  // namespace p2pnet::wire
