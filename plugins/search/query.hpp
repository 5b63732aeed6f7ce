// What a search asks for: a case-insensitive substring of a file name, a
// glob with * (any run of characters) and ? (one character), or one exact
// file as sha256:HEX. Case-insensitivity covers ASCII letters only.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace p2pnet::search {

class Query {
 public:
  enum class Kind { substring, glob, sha256 };

  // The query, or nothing with the reason in *error.
  static std::optional<Query> parse(std::string_view text, size_t max_length, std::string* error = nullptr);

  // name: a file name (no directories); sha256: its 64 lowercase hex digits.
  bool matches(std::string_view name, std::string_view sha256) const;

  Kind kind() const { return kind_; }
  const std::string& text() const { return text_; }  // as the user wrote it, sent on the wire

 private:
  Query(Kind kind, std::string text, std::string pattern)
      : kind_(kind), text_(std::move(text)), pattern_(std::move(pattern)) {}

  Kind kind_;
  std::string text_;
  std::string pattern_;  // lower case; for sha256 the hex digits
};

// Glob over UTF-8 text: '*' matches any run of characters, '?' exactly one
// character, everything else itself. Runs in O(|pattern| * |text|) at worst.
bool glob_match(std::string_view pattern, std::string_view text);

}  // namespace p2pnet::search
