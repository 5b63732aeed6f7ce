#pragma once

#include <string_view>

namespace p2pnet {

// A node id is 256 bits written as 64 lowercase hex characters.
inline bool is_valid_node_id(std::string_view id) {
  if (id.size() != 64) return false;
  for (char c : id)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace p2pnet
