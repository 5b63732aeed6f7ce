// The secret a TCP control client must send with every request. A Unix
// socket is guarded by its file mode; a TCP port on localhost is open to
// every user and every program of the machine (a browser page included), so
// there the token is the guard.
#pragma once

#include <filesystem>
#include <string>

namespace p2pnet {

// Why `token` cannot be a control token (too short, too long, characters
// outside [A-Za-z0-9_-]), or "".
std::string unusable_control_token(const std::string& token);

// Reads `file`, or creates it (mode 0600) with 256 random bits in hex.
// Throws StartupError when the file is readable by others or holds no
// usable token.
std::string load_or_create_control_token(const std::filesystem::path& file);

// Constant time in the content: a client learns nothing from how long a
// refusal took.
bool control_tokens_equal(const std::string& expected, const std::string& given);

}  // namespace p2pnet
