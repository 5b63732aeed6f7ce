#include "file_names.hpp"

#include <cstdint>
#include <cstdio>

namespace p2pnet::download {

namespace {

// Decodes the UTF-8 sequence at text[i]; its code point and length, or length 0 if malformed.
struct Decoded {
  uint32_t code = 0;
  size_t length = 0;
};

Decoded decode(std::string_view text, size_t i) {
  auto byte = static_cast<unsigned char>(text[i]);
  if (byte < 0x80) return {byte, 1};
  size_t length = (byte & 0xE0) == 0xC0 ? 2 : (byte & 0xF0) == 0xE0 ? 3 : (byte & 0xF8) == 0xF0 ? 4 : 0;
  if (length == 0 || i + length > text.size()) return {};
  uint32_t code = byte & (0x7F >> length);
  for (size_t k = 1; k < length; ++k) {
    auto next = static_cast<unsigned char>(text[i + k]);
    if ((next & 0xC0) != 0x80) return {};
    code = (code << 6) | (next & 0x3F);
  }
  static constexpr uint32_t kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};
  if (code < kSmallest[length] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return {};
  return {code, length};
}

bool is_control(uint32_t code) { return code < 0x20 || code == 0x7F || (code >= 0x80 && code <= 0x9F); }
bool is_bidi_control(uint32_t code) { return (code >= 0x202A && code <= 0x202E) || (code >= 0x2066 && code <= 0x2069); }

std::string code_point(uint32_t code) {
  char text[16];
  std::snprintf(text, sizeof text, "U+%04X", static_cast<unsigned>(code));
  return text;
}

}  // namespace

std::string name_refusal(std::string_view name) {
  for (size_t i = 0; i < name.size();) {
    auto decoded = decode(name, i);
    if (decoded.length == 0) return "it is not valid UTF-8";
    if (is_control(decoded.code)) return "it holds the control character " + code_point(decoded.code);
    if (is_bidi_control(decoded.code))
      return "it holds the bidirectional control " + code_point(decoded.code) + ", which reorders what is shown";
    i += decoded.length;
  }
  return "";
}

std::string escape_peer_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    auto decoded = decode(text, i);
    char buffer[16];
    if (decoded.length == 0) {
      std::snprintf(buffer, sizeof buffer, "\\x%02x", static_cast<unsigned>(static_cast<unsigned char>(text[i])));
      out += buffer;
      ++i;
      continue;
    }
    if (is_control(decoded.code) || is_bidi_control(decoded.code)) {
      if (decoded.code < 0x80)
        std::snprintf(buffer, sizeof buffer, "\\x%02x", static_cast<unsigned>(decoded.code));
      else
        std::snprintf(buffer, sizeof buffer, "\\u{%04x}", static_cast<unsigned>(decoded.code));
      out += buffer;
    } else if (decoded.code == '\\') {
      out += "\\\\";
    } else {
      out.append(text.substr(i, decoded.length));
    }
    i += decoded.length;
  }
  return out;
}

}  // namespace p2pnet::download
