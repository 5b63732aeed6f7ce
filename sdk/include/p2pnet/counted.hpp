// "1 result", "2 results": a count with its noun in the right number, for
// console lines that scripts and people read.
#pragma once

#include <string>
#include <string_view>

namespace p2pnet {

// `plural` defaults to the noun with an "s".
inline std::string counted(long long count, std::string_view noun, std::string_view plural = {}) {
  std::string out = std::to_string(count) + " ";
  if (count == 1) return out.append(noun);
  if (!plural.empty()) return out.append(plural);
  return out.append(noun).append("s");
}

}  // namespace p2pnet
