#pragma once

#include <p2pnet/hex.hpp>

#include <string_view>

namespace p2pnet {

// A node id is 256 bits written as plugins see them: 64 lowercase hex characters.
inline bool is_valid_node_id(std::string_view id) { return is_sha256_hex(id); }

}  // namespace p2pnet
