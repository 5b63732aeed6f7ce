#include "query.hpp"

#include "names.hpp"

#include <p2pnet/hex.hpp>

namespace p2pnet::search {
namespace {

constexpr std::string_view kShaPrefix = "sha256:";

// Bytes in the UTF-8 character that starts with `lead` (1 for stray bytes).
size_t char_length(char lead) {
  auto byte = static_cast<unsigned char>(lead);
  if ((byte & 0xE0) == 0xC0) return 2;
  if ((byte & 0xF0) == 0xE0) return 3;
  if ((byte & 0xF8) == 0xF0) return 4;
  return 1;
}

std::optional<Query> reject(std::string* error, std::string reason) {
  if (error) *error = std::move(reason);
  return std::nullopt;
}

}  // namespace

bool glob_match(std::string_view pattern, std::string_view text) {
  size_t p = 0, t = 0;
  size_t star = std::string_view::npos, resume = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '?') {
      ++p;
      t += char_length(text[t]);
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      // Let the last '*' swallow one more character and try again from there.
      p = star + 1;
      resume += char_length(text[resume]);
      t = resume;
    } else {
      return false;
    }
  }
  if (t > text.size()) return false;  // a '?' ran past a truncated character
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

std::optional<Query> Query::parse(std::string_view text, size_t max_length, std::string* error) {
  if (text.empty()) return reject(error, "empty query");
  if (text.size() > max_length) return reject(error, "query longer than " + std::to_string(max_length) + " bytes");
  if (!is_valid_utf8(text)) return reject(error, "query is not UTF-8");
  for (char c : text)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) return reject(error, "query has control characters");
  std::string lower = fold_case(text);
  if (lower.starts_with(kShaPrefix)) {
    std::string hex = lower.substr(kShaPrefix.size());
    if (!is_sha256_hex(hex)) return reject(error, "sha256: needs 64 hex digits");
    return Query(Kind::sha256, std::string(text), std::move(hex));
  }
  bool glob = lower.find_first_of("*?") != std::string::npos;
  return Query(glob ? Kind::glob : Kind::substring, std::string(text), std::move(lower));
}

bool Query::matches(std::string_view name, std::string_view sha256) const {
  switch (kind_) {
    case Kind::sha256:
      return sha256 == pattern_;
    case Kind::substring:
      return fold_case(name).find(pattern_) != std::string::npos;
    case Kind::glob:
      return glob_match(pattern_, fold_case(name));
  }
  return false;
}

}  // namespace p2pnet::search
