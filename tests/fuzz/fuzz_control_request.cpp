// Fuzzes the control endpoint's request parser: any line gives a request or
// a refusal, and a request holds nothing a console line could not.
#include "control_request.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto parsed = p2pnet::control::parse_request(std::string_view(reinterpret_cast<const char*>(data), size));
  if (auto* request = std::get_if<p2pnet::control::Request>(&parsed))
    for (unsigned char c : request->command)
      if (c == '\n' || c == '\r') std::abort();
  return 0;
}
