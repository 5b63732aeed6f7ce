// Rules for file names and relative paths that the search plugin shares,
// caches and accepts from the network: what may appear on a console, in JSON
// and on another node's disk.
#pragma once

#include <string>
#include <string_view>

namespace p2pnet::search {

constexpr size_t kMaxNameBytes = 255;   // one path component, as on Linux
constexpr size_t kMaxPathBytes = 4096;  // a whole relative path

// True for well-formed UTF-8 (no overlong forms, no surrogates).
bool is_valid_utf8(std::string_view text);

// One path component: non-empty, at most kMaxNameBytes, valid UTF-8, no '/',
// no C0 or C1 control characters or DEL, no bidirectional controls
// (U+202A-U+202E, U+2066-U+2069), not "." or "..".
bool is_safe_name(std::string_view name);
// Why is_safe_name refuses `name`, for the user ("" if it does not).
std::string name_refusal(std::string_view name);

// A relative path of safe names joined by '/': never absolute, never "..".
bool is_safe_relative_path(std::string_view path);

// Unfinished downloads: NAME.part (data) and NAME.part.json (chunk record).
bool is_partial_download(std::string_view name);

// The last component of a '/'-separated relative path.
std::string_view base_name(std::string_view path);

// ASCII lower case; other bytes (UTF-8 sequences) are kept as they are.
std::string ascii_lower(std::string_view text);

// Unicode case folding (ICU, full folding: "RÉSUMÉ" and "résumé" match, "ß"
// matches "ss"), for comparing names without regard to case. Bytes that are
// not UTF-8 become U+FFFD.
std::string fold_case(std::string_view text);

}  // namespace p2pnet::search
