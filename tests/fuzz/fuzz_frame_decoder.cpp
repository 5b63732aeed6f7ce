// Fuzzes what a node does with the bytes of a connection before any plugin
// sees them: frame decoding, header validation and the hello.
#include "wire/frame.hpp"
#include "wire/header_scan.hpp"
#include "wire/hello.hpp"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace p2pnet::wire;
  const FrameLimits limits{64 * 1024, 1024 * 1024};
  std::span<const std::byte> rest(reinterpret_cast<const std::byte*>(data), size);
  while (!rest.empty()) {
    auto result = decode_frame(rest, limits);
    if (result.status != DecodeResult::Status::frame) break;
    auto scan = scan_header(result.frame.header);
    if (scan.ok && scan.type == "hello") {
      auto hello = parse_hello(result.frame.header);
      if (hello.hello) (void)encode_hello(*hello.hello);
    }
    if (scan.ok && scan.type == "bye") (void)parse_bye_reason(result.frame.header);
    rest = rest.subspan(result.frame_size);
  }
  return 0;
}
