// The secret every API request and the events socket must carry: any program
// or web page on the machine can reach a port on loopback, so the token, not
// the port, is the guard (as for the node's TCP control endpoint).
#pragma once

#include <filesystem>
#include <string>

namespace webui {

// Why `token` cannot be a token (length outside 16..256, characters outside
// [A-Za-z0-9_-]), or "".
std::string unusable_token(const std::string& token);

// Reads `file`, or creates it (mode 0600) with 256 random bits in hex.
// Throws std::runtime_error when the file is readable by others, is not a
// regular file or holds no usable token.
std::string load_or_create_token(const std::filesystem::path& file);

}  // namespace webui
