// Fuzzes node.toml parsing: any text gives a config or a ConfigError.
#include "p2pnet/config.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    (void)p2pnet::parse_config(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.toml");
  } catch (const p2pnet::ConfigError&) {
  }
  return 0;
}
