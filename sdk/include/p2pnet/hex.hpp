// Lowercase hex, the one form in which p2pnet writes 256-bit values (node
// ids, files' SHA-256) and the only one it accepts from peers, the bus and
// node.toml: one spelling per value, so a string compare is an identity check.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace p2pnet {

inline std::string to_hex(const unsigned char* data, size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(size * 2, '0');
  for (size_t i = 0; i < size; ++i) {
    out[2 * i] = kDigits[data[i] >> 4];
    out[2 * i + 1] = kDigits[data[i] & 0x0f];
  }
  return out;
}

// 64 lowercase hex digits: a SHA-256 as p2pnet writes it (a node id is one too).
inline bool is_sha256_hex(std::string_view text) {
  if (text.size() != 64) return false;
  for (char c : text)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace p2pnet
