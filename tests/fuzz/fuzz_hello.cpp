// Fuzzes header validation and the core's own headers on raw text: hello,
// bye, the "p2pnet.types" update and the relay's frames; and the relay's
// opening and answer lines, which arrive before any frame.
#include "wire/header_scan.hpp"
#include "wire/hello.hpp"
#include "wire/relay.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view header(reinterpret_cast<const char*>(data), size);
  if (auto opening = p2pnet::wire::parse_relay_opening(header)) {
    auto line = p2pnet::wire::encode_relay_opening(*opening);
    auto again = p2pnet::wire::parse_relay_opening(std::string_view(line).substr(1, line.size() - 2));
    if (!again || again->target_id != opening->target_id || again->token != opening->token) __builtin_trap();
  }
  (void)p2pnet::wire::parse_relay_answer(header);
  auto scan = p2pnet::wire::scan_header(header);
  if (!scan.ok) return 0;  // the node closes the connection before parsing further
  auto hello = p2pnet::wire::parse_hello(header);
  if (hello.hello) {
    auto again = p2pnet::wire::parse_hello(p2pnet::wire::encode_hello(*hello.hello));
    if (!again.hello || again.hello->id != hello.hello->id) __builtin_trap();  // must round-trip
  }
  (void)p2pnet::wire::parse_bye_reason(header);
  auto update = p2pnet::wire::parse_types_update(header);
  if (update.types) {
    auto again = p2pnet::wire::parse_types_update(p2pnet::wire::encode_types_update(*update.types));
    if (!again.types || *again.types != *update.types) __builtin_trap();  // must round-trip
  }
  (void)p2pnet::wire::parse_relay_reserved(header);
  (void)p2pnet::wire::parse_relay_incoming(header);
  (void)p2pnet::wire::parse_relay_reverse(header);
  (void)p2pnet::wire::parse_relay_reversal(header);
  if (auto back = p2pnet::wire::parse_relay_connect_back(header)) {
    // What a node would dial must survive its own encoding unchanged.
    auto again = p2pnet::wire::parse_relay_connect_back(p2pnet::wire::encode_relay_connect_back(*back));
    if (!again || again->host != back->host || again->port != back->port) __builtin_trap();
  }
  return 0;
}
