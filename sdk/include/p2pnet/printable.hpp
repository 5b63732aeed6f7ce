// Text from the network made safe for a terminal or a log: control bytes
// (C0, DEL, C1), bidirectional overrides and bytes that are not UTF-8 become
// visible escapes, so a peer cannot move the cursor, retitle the window,
// clear the screen or reorder what the user reads.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

namespace p2pnet {

namespace printable_detail {

inline void append_hex(std::string& out, const char* prefix, unsigned value, int digits) {
  char text[16];
  std::snprintf(text, sizeof text, "%s%0*X", prefix, digits, value);
  out += text;
}

// Length of the well-formed UTF-8 sequence at text[at], or 0.
inline size_t utf8_length(std::string_view text, size_t at, unsigned& code_point) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  unsigned lead = byte(at);
  size_t length = lead >= 0xF0 && lead <= 0xF4   ? 4
                  : lead >= 0xE0 && lead <= 0xEF ? 3
                  : lead >= 0xC2 && lead <= 0xDF ? 2
                                                 : 0;
  if (length == 0 || at + length > text.size()) return 0;
  code_point = lead & (length == 2 ? 0x1F : length == 3 ? 0x0F : 0x07);
  for (size_t i = 1; i < length; ++i) {
    if ((byte(at + i) & 0xC0) != 0x80) return 0;
    code_point = (code_point << 6) | (byte(at + i) & 0x3F);
  }
  bool overlong = (length == 3 && code_point < 0x800) || (length == 4 && code_point < 0x10000);
  bool surrogate = code_point >= 0xD800 && code_point <= 0xDFFF;
  if (overlong || surrogate || code_point > 0x10FFFF) return 0;
  return length;
}

inline bool is_bidi_control(unsigned code_point) {
  return (code_point >= 0x202A && code_point <= 0x202E) || (code_point >= 0x2066 && code_point <= 0x2069) ||
         code_point == 0x200E || code_point == 0x200F || code_point == 0x061C;
}

}  // namespace printable_detail

// The first character of `text` that printable() would escape, for code that
// refuses such text (a file name from a peer) rather than showing it escaped.
struct Unprintable {
  enum Kind { none, not_utf8, control, bidi_control } kind = none;
  unsigned code_point = 0;  // the character (control, bidi_control) or the byte (not_utf8)
};

inline Unprintable first_unprintable(std::string_view text) {
  using namespace printable_detail;
  for (size_t at = 0; at < text.size();) {
    auto byte = static_cast<unsigned char>(text[at]);
    if (byte < 0x20 || byte == 0x7F) return {Unprintable::control, byte};
    if (byte < 0x80) {
      ++at;
      continue;
    }
    unsigned code_point = 0;
    size_t length = utf8_length(text, at, code_point);
    if (length == 0) return {Unprintable::not_utf8, byte};
    if (code_point <= 0x9F) return {Unprintable::control, code_point};
    if (is_bidi_control(code_point)) return {Unprintable::bidi_control, code_point};
    at += length;
  }
  return {};
}

// What first_unprintable() found, said for a user: "holds the control
// character U+001B", ...; "" for none.
inline std::string describe(const Unprintable& found) {
  char code[16];
  std::snprintf(code, sizeof code, "U+%04X", found.code_point);
  switch (found.kind) {
    case Unprintable::none:
      return "";
    case Unprintable::not_utf8:
      return "is not valid UTF-8";
    case Unprintable::control:
      return std::string("holds the control character ") + code;
    case Unprintable::bidi_control:
      return std::string("holds the bidirectional control ") + code + ", which reorders what is shown";
  }
  return "";
}

// `text` with every byte a terminal would act on written as \xNN (single
// bytes) or \u{NNNN} (C1 controls, bidi controls); a backslash doubles so
// the escapes stay unambiguous. Printable UTF-8 passes unchanged.
inline std::string printable(std::string_view text) {
  using namespace printable_detail;
  std::string out;
  out.reserve(text.size());
  for (size_t at = 0; at < text.size();) {
    auto byte = static_cast<unsigned char>(text[at]);
    if (byte == '\\') {
      out += "\\\\";
      ++at;
    } else if (byte < 0x20 || byte == 0x7F) {
      append_hex(out, "\\x", byte, 2);
      ++at;
    } else if (byte < 0x80) {
      out += static_cast<char>(byte);
      ++at;
    } else {
      unsigned code_point = 0;
      size_t length = utf8_length(text, at, code_point);
      if (length == 0) {
        append_hex(out, "\\x", byte, 2);
        ++at;
      } else if ((code_point >= 0x80 && code_point <= 0x9F) || is_bidi_control(code_point)) {
        append_hex(out, "\\u{", code_point, 4);
        out += '}';
        at += length;
      } else {
        out.append(text.substr(at, length));
        at += length;
      }
    }
  }
  return out;
}

// printable(), cut after `max_characters` characters with "..." appended:
// for echoing what a user or peer typed without repeating a 10 KB line back.
// The cut falls between characters, never inside a UTF-8 sequence.
inline std::string printable_excerpt(std::string_view text, size_t max_characters = 80) {
  size_t at = 0;
  for (size_t characters = 0; at < text.size() && characters < max_characters; ++characters) {
    unsigned code_point = 0;
    size_t length = printable_detail::utf8_length(text, at, code_point);
    at += length == 0 ? 1 : length;
  }
  if (at >= text.size()) return printable(text);
  return printable(text.substr(0, at)) + "...";
}

}  // namespace p2pnet
