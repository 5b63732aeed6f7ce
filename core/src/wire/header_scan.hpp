// Validates a frame header without building a JSON tree: it must be one JSON
// object, nested at most kMaxHeaderDepth deep, with exactly one top-level
// string "type" that is a valid message type name.
#pragma once

#include <string>
#include <string_view>

namespace p2pnet::wire {

constexpr int kMaxHeaderDepth = 32;
constexpr size_t kMaxTypeLength = 64;

struct HeaderScan {
  bool ok = false;
  std::string type;
  std::string error;  // why it was rejected
};

HeaderScan scan_header(std::string_view header);

// Letters, digits, '_', '-', '.', ':'; 1 to kMaxTypeLength characters.
bool is_valid_type_name(std::string_view type);

}  // namespace p2pnet::wire
