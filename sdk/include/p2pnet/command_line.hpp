// Splits a console line into arguments: whitespace separates them, "double
// quotes" keep spaces inside one argument. The node and plugins agree on it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace p2pnet {

inline std::vector<std::string> split_command_line(std::string_view line) {
  std::vector<std::string> out;
  size_t i = 0;
  auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (i < line.size()) {
    while (i < line.size() && blank(line[i])) ++i;
    if (i >= line.size()) break;
    std::string arg;
    if (line[i] == '"') {
      ++i;
      while (i < line.size() && line[i] != '"') arg += line[i++];
      ++i;
    } else {
      while (i < line.size() && !blank(line[i])) arg += line[i++];
    }
    out.push_back(std::move(arg));
  }
  return out;
}

// Where a double quote opens that nothing closes, if one does: such a line is
// refused rather than read as if the quote closed at the end.
inline std::optional<size_t> unterminated_quote(std::string_view line) {
  auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && blank(line[i])) ++i;
    if (i >= line.size()) break;
    if (line[i] == '"') {
      size_t close = line.find('"', i + 1);
      if (close == std::string_view::npos) return i;
      i = close + 1;
    } else {
      while (i < line.size() && !blank(line[i])) ++i;
    }
  }
  return std::nullopt;
}

}  // namespace p2pnet
